//! Employer sign-in and sessions: the shared scheme of
//! `intyg_service::session` (argon2id with a dummy hash for unknown
//! usernames, throttling with growing delays per address and account, sessions with a CSRF token each in the stores'
//! `SessionStore`), with the employer accounts of the configuration.

use std::sync::Arc;

use intyg_service::session::SessionStore;
pub use intyg_service::session::{SignInFailure, csrf_matches, hash_password};

use crate::config::PortalConfig;

/// A signed-in employer's session; it remembers nothing more.
pub type Session = intyg_service::session::Session<()>;
/// Employer accounts, the attempt limiter and the sessions.
pub type Sessions = intyg_service::session::Sessions<()>;

/// The employer accounts of the configuration. An account whose hash is not
/// a valid PHC string cannot sign in; that is logged (its username only).
/// Sessions live in `store`.
pub fn sessions(config: &PortalConfig, store: Arc<dyn SessionStore>) -> Sessions {
    let accounts = config
        .employers
        .iter()
        .map(|employer| intyg_service::session::Account {
            username: employer.username.clone(),
            password_hash: employer.password_hash.clone(),
            name: employer.name.clone(),
        });
    Sessions::new("employer", accounts, config.session_lifetime_seconds, store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Employer;

    #[tokio::test]
    async fn employers_from_the_configuration_sign_in() {
        let s = sessions(
            &PortalConfig {
                employers: vec![Employer {
                    username: "anna".into(),
                    password_hash: hash_password("rätt lösen").unwrap(),
                    name: "Anna A".into(),
                }],
                session_lifetime_seconds: 3600,
                ..PortalConfig::default()
            },
            Arc::new(intyg_service::session::MemorySessions::default()),
        );
        let ok = s
            .sign_in("anna", "rätt lösen".into(), None, 0)
            .await
            .unwrap();
        assert_eq!(ok.unwrap().name, "Anna A");
        let wrong = s.sign_in("anna", "fel".into(), None, 0).await.unwrap();
        assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        assert_eq!(s.lifetime(), 3600);
    }
}
