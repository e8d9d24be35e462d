//! Officer sign-in and sessions: the shared scheme of
//! `intyg_service::session` (argon2id with a dummy hash for unknown
//! usernames, throttling with growing delays per address and account, sessions with a CSRF token each in the stores'
//! `SessionStore`), with the officer accounts of the configuration. An officer's session remembers
//! the persons looked up in it.

use std::collections::HashMap;
use std::sync::Arc;

use intyg_service::session::SessionStore;
pub use intyg_service::session::{SignInFailure, csrf_matches, hash_password};

use crate::config::PortalConfig;
use crate::error::ApiError;
use crate::random_token;

/// What an officer's session remembers.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct OfficerData {
    /// Persons looked up in this session: opaque handle → personal identity
    /// number, so that the number never appears in a URL.
    pub persons: HashMap<String, String>,
}

/// A signed-in officer's session.
pub type Session = intyg_service::session::Session<OfficerData>;
/// Officer accounts, the attempt limiter and the sessions.
pub type Sessions = intyg_service::session::Sessions<OfficerData>;

/// The officer accounts of the configuration. An account whose hash is not
/// a valid PHC string cannot sign in; that is logged (its username only).
/// Sessions live in `store`.
pub fn sessions(config: &PortalConfig, store: Arc<dyn SessionStore>) -> Sessions {
    let accounts = config
        .officers
        .iter()
        .map(|officer| intyg_service::session::Account {
            username: officer.username.clone(),
            password_hash: officer.password_hash.clone(),
            name: officer.name.clone(),
        });
    Sessions::new("officer", accounts, config.session_lifetime_seconds, store)
}

/// Remembers a person in a session and returns the handle for URLs.
pub async fn remember_person(
    sessions: &Sessions,
    id: &str,
    subject: &str,
) -> Result<String, ApiError> {
    let handle = sessions.update(id, |data| {
        if let Some((handle, _)) = data.persons.iter().find(|(_, s)| *s == subject) {
            return Ok(handle.clone());
        }
        let handle = random_token(12)?;
        data.persons.insert(handle.clone(), subject.to_owned());
        Ok(handle)
    });
    handle.await?.unwrap_or_else(|| {
        Err(ApiError::client(
            axum::http::StatusCode::UNAUTHORIZED,
            "session_expired",
            "the session has ended",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Officer;

    fn sessions_with_anna() -> Sessions {
        sessions(
            &PortalConfig {
                officers: vec![Officer {
                    username: "anna".into(),
                    password_hash: hash_password("rätt lösen").unwrap(),
                    name: "Anna A".into(),
                }],
                session_lifetime_seconds: 3600,
                ..PortalConfig::default()
            },
            Arc::new(intyg_service::session::MemorySessions::default()),
        )
    }

    #[tokio::test]
    async fn officers_from_the_configuration_sign_in() {
        let s = sessions_with_anna();
        let ok = s
            .sign_in("anna", "rätt lösen".into(), None, 0)
            .await
            .unwrap();
        assert_eq!(ok.unwrap().name, "Anna A");
        let wrong = s.sign_in("anna", "fel".into(), None, 0).await.unwrap();
        assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        assert_eq!(s.lifetime(), 3600);
    }

    #[tokio::test]
    async fn a_remembered_person_keeps_one_handle() {
        let s = sessions_with_anna();
        let anna = s
            .sign_in("anna", "rätt lösen".into(), None, 0)
            .await
            .unwrap()
            .unwrap();
        let id = s.create(anna, 0).await.unwrap();
        let first = remember_person(&s, &id, "199001012384").await.unwrap();
        assert_eq!(
            remember_person(&s, &id, "199001012384").await.unwrap(),
            first
        );
        let persons = s.get(&id, 1).await.unwrap().unwrap().data.persons;
        assert_eq!(
            persons.get(&first).map(String::as_str),
            Some("199001012384")
        );
        assert!(remember_person(&s, "ended", "199001012384").await.is_err());
    }
}
