//! Employer sign-in and sessions (the officer portal's scheme, see
//! `issuer/src/portal/session.rs`).
//!
//! - Passwords are checked against argon2id PHC hashes from the
//!   configuration. An unknown username is checked against a dummy hash of
//!   the same cost, so the answer takes as long whether the account exists or
//!   not.
//! - After [`MAX_ATTEMPTS`] attempts without success a username is locked
//!   for [`LOCKOUT_SECONDS`], whether the account exists or not. Attempts
//!   are counted when they start, so parallel guesses cannot overtake the
//!   count.
//! - Sessions live in memory (a restart signs every employer out); the
//!   cookie holds a random id, the server keys the session by its SHA-256.
//!   Each session has a CSRF token that every POST form carries. The sign-in
//!   form, before any session, uses a double-submit cookie instead.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use sha2::Digest as _;

use crate::config::{Employer, PortalConfig};
use crate::error::ApiError;
use crate::random_token;

/// Attempts a username gets before it is locked.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a locked username stays locked.
pub const LOCKOUT_SECONDS: i64 = 60;
/// How many usernames the limiter remembers before it forgets idle ones.
const LIMITER_CAPACITY: usize = 10_000;

/// An argon2id hash (default cost: m=19456, t=2, p=1) of a password nobody
/// has, checked when the username is unknown so that the work is the same.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Y2JhYF9eXVxbWllYV1ZVVA$rGO5OISkogfFwREGlajdPC5tXXPF/pcQZuGTm5MWclg";

/// The employer a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInEmployer {
    /// Username.
    pub username: String,
    /// Full name.
    pub name: String,
}

/// A signed-in employer's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub employer: SignedInEmployer,
    /// The token every POST form of this session carries.
    pub csrf: String,
    /// Seconds since the epoch after which the session is gone.
    pub expires_at: i64,
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// Wrong username or password (which one is not said).
    WrongCredentials,
    /// Too many attempts for this username.
    Locked,
}

#[derive(Debug)]
struct Attempts {
    count: u32,
    locked_until: i64,
    last: i64,
}

/// Accounts, the attempt limiter and the sessions.
#[derive(Debug)]
pub struct Sessions {
    employers: HashMap<String, Employer>,
    attempts: Mutex<HashMap<String, Attempts>>,
    sessions: Mutex<HashMap<String, Session>>,
    lifetime: i64,
}

impl Sessions {
    /// Accounts from the configuration. An account whose hash is not a
    /// valid PHC string cannot sign in; that is logged (its username only).
    pub fn new(config: &PortalConfig) -> Self {
        let employers = config
            .employers
            .iter()
            .filter(
                |employer| match PasswordHash::new(&employer.password_hash) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::error!(username = %employer.username, error = %e,
                        "employer account disabled: password_hash is not a PHC string");
                        false
                    }
                },
            )
            .map(|employer| (employer.username.clone(), employer.clone()))
            .collect();
        Self {
            employers,
            attempts: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            lifetime: config.session_lifetime_seconds.max(60),
        }
    }

    /// Checks a username and password, with the lockout. Runs argon2 on a
    /// blocking thread; the error is that thread failing.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        now: i64,
    ) -> Result<Result<SignedInEmployer, SignInFailure>, tokio::task::JoinError> {
        let username = username.trim();
        if !self.begin_attempt(username, now) {
            return Ok(Err(SignInFailure::Locked));
        }
        let employer = self.employers.get(username);
        let hash = employer
            .map_or(DUMMY_HASH, |e| e.password_hash.as_str())
            .to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        })
        .await?;
        match employer {
            Some(employer) if matches => {
                lock(&self.attempts).remove(username);
                Ok(Ok(SignedInEmployer {
                    username: employer.username.clone(),
                    name: employer.name.clone(),
                }))
            }
            _ => Ok(Err(SignInFailure::WrongCredentials)),
        }
    }

    /// Counts an attempt; false when the username is locked.
    fn begin_attempt(&self, username: &str, now: i64) -> bool {
        let mut attempts = lock(&self.attempts);
        if attempts.len() >= LIMITER_CAPACITY {
            attempts.retain(|_, a| a.locked_until > now || now - a.last < 15 * 60);
        }
        let entry = attempts.entry(username.to_owned()).or_insert(Attempts {
            count: 0,
            locked_until: 0,
            last: now,
        });
        if entry.locked_until > now {
            return false;
        }
        entry.last = now;
        entry.count += 1;
        if entry.count >= MAX_ATTEMPTS {
            entry.count = 0;
            entry.locked_until = now + LOCKOUT_SECONDS;
        }
        true
    }

    /// Starts a session; returns its id (for the cookie).
    pub fn create(&self, employer: SignedInEmployer, now: i64) -> Result<String, ApiError> {
        let id = random_token(32)?;
        let session = Session {
            employer,
            csrf: random_token(32)?,
            expires_at: now + self.lifetime,
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(digest(&id), session);
        Ok(id)
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        lock(&self.sessions)
            .get(&digest(id))
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        lock(&self.sessions).remove(&digest(id));
    }

    /// The session's lifetime, for the cookie's Max-Age.
    pub fn lifetime(&self) -> i64 {
        self.lifetime
    }
}

/// A poisoned lock still holds consistent maps: every critical section
/// above leaves them whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn digest(id: &str) -> String {
    intyg_core::jose::b64url_encode(sha2::Sha256::digest(id.as_bytes()))
}

/// Whether a presented CSRF token equals the expected one (constant time).
pub fn csrf_matches(presented: Option<&str>, expected: &str) -> bool {
    presented.is_some_and(|p| {
        aws_lc_rs::constant_time::verify_slices_are_equal(p.as_bytes(), expected.as_bytes()).is_ok()
    })
}

/// The PHC hash of a password with argon2id's default cost and a random salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    use argon2::PasswordHasher as _;
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(&PortalConfig {
            employers: vec![Employer {
                username: "anna".into(),
                password_hash: hash_password("rätt lösen").unwrap(),
                name: "Anna A".into(),
            }],
            session_lifetime_seconds: 3600,
            ..PortalConfig::default()
        })
    }

    #[tokio::test]
    async fn sign_in_checks_the_password() {
        let s = sessions();
        let ok = s.sign_in("anna", "rätt lösen".into(), 0).await.unwrap();
        assert_eq!(ok.unwrap().name, "Anna A");
        let wrong = s.sign_in("anna", "fel".into(), 0).await.unwrap();
        assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        let nobody = s.sign_in("nobody", "rätt lösen".into(), 0).await.unwrap();
        assert_eq!(nobody, Err(SignInFailure::WrongCredentials));
    }

    #[test]
    fn lockout_after_max_attempts_for_any_username() {
        let s = sessions();
        for name in ["anna", "nobody"] {
            for _ in 0..MAX_ATTEMPTS {
                assert!(s.begin_attempt(name, 100));
            }
            assert!(!s.begin_attempt(name, 100));
            assert!(!s.begin_attempt(name, 100 + LOCKOUT_SECONDS - 1));
            assert!(s.begin_attempt(name, 100 + LOCKOUT_SECONDS));
        }
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn sessions_expire() {
        let s = sessions();
        let employer = SignedInEmployer {
            username: "anna".into(),
            name: "Anna A".into(),
        };
        let id = s.create(employer, 0).unwrap();
        assert!(s.get(&id, 3599).is_some());
        assert!(s.get(&id, 3600).is_none());
        s.remove(&id);
        assert!(s.get(&id, 1).is_none());
    }
}
