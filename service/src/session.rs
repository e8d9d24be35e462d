//! Portal sign-in and sessions, shared by the officer portal (issuer) and
//! the employer portal (verifier). Cookie names and paths stay with each
//! portal; this module only knows ids, CSRF tokens and accounts.
//!
//! - Passwords are checked against argon2id PHC hashes from the
//!   configuration. An unknown username is checked against a dummy hash of
//!   the same cost, so the answer takes as long whether the account exists or
//!   not.
//! - After [`MAX_ATTEMPTS`] attempts without success a username is locked
//!   for [`LOCKOUT_SECONDS`], whether the account exists or not. Attempts
//!   are counted when they start, so parallel guesses cannot overtake the
//!   count.
//! - Sessions live in memory (a restart signs everyone out); the cookie
//!   holds a random id, the server keys the session by its SHA-256. Each
//!   session has a CSRF token that every POST form carries. The sign-in
//!   form, before any session, uses a double-submit cookie instead.
//! - A session carries data of the portal's choosing (`D`), for example
//!   the persons an officer looked up.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use base64::Engine as _;
use sha2::Digest as _;

/// Attempts a username gets before it is locked.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a locked username stays locked.
pub const LOCKOUT_SECONDS: i64 = 60;
/// How many usernames the limiter remembers before it forgets idle ones.
const LIMITER_CAPACITY: usize = 10_000;

/// An argon2id hash (default cost: m=19456, t=2, p=1) of a password nobody
/// has, checked when the username is unknown so that the work is the same.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Y2JhYF9eXVxbWllYV1ZVVA$rGO5OISkogfFwREGlajdPC5tXXPF/pcQZuGTm5MWclg";

/// An account that may sign in, as the configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// What the user types to sign in.
    pub username: String,
    /// argon2id hash of the password, as a PHC string.
    pub password_hash: String,
    /// Full name, shown in the portal.
    pub name: String,
}

/// The user a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Username.
    pub username: String,
    /// Full name.
    pub name: String,
}

/// A signed-in user's session.
#[derive(Debug, Clone)]
pub struct Session<D> {
    /// Who.
    pub user: User,
    /// The token every POST form of this session carries.
    pub csrf: String,
    /// Seconds since the epoch after which the session is gone.
    pub expires_at: i64,
    /// What the portal keeps in the session.
    pub data: D,
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// Wrong username or password (which one is not said).
    WrongCredentials,
    /// Too many attempts for this username.
    Locked,
}

/// The system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("system RNG failed")]
pub struct RngFailed;

#[derive(Debug)]
struct Attempts {
    count: u32,
    locked_until: i64,
    last: i64,
}

/// Accounts, the attempt limiter and the sessions.
#[derive(Debug)]
pub struct Sessions<D> {
    accounts: HashMap<String, Account>,
    attempts: Mutex<HashMap<String, Attempts>>,
    sessions: Mutex<HashMap<String, Session<D>>>,
    lifetime: i64,
}

impl<D: Clone + Default> Sessions<D> {
    /// Accounts from the configuration; sessions last `lifetime_seconds`
    /// (at least 60). An account whose hash is not a valid PHC string
    /// cannot sign in; that is logged (its username only), naming the
    /// account as a `role` ("officer", "employer").
    pub fn new(
        role: &str,
        accounts: impl IntoIterator<Item = Account>,
        lifetime_seconds: i64,
    ) -> Self {
        let accounts = accounts
            .into_iter()
            .filter(|account| match PasswordHash::new(&account.password_hash) {
                Ok(_) => true,
                Err(e) => {
                    tracing::error!(username = %account.username, error = %e,
                        "{role} account disabled: password_hash is not a PHC string");
                    false
                }
            })
            .map(|account| (account.username.clone(), account))
            .collect();
        Self {
            accounts,
            attempts: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            lifetime: lifetime_seconds.max(60),
        }
    }

    /// Checks a username and password, with the lockout. Runs argon2 on a
    /// blocking thread; the error is that thread failing.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        now: i64,
    ) -> Result<Result<User, SignInFailure>, tokio::task::JoinError> {
        let username = username.trim();
        if !self.begin_attempt(username, now) {
            return Ok(Err(SignInFailure::Locked));
        }
        let account = self.accounts.get(username);
        let hash = account
            .map_or(DUMMY_HASH, |a| a.password_hash.as_str())
            .to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        })
        .await?;
        match account {
            Some(account) if matches => {
                lock(&self.attempts).remove(username);
                Ok(Ok(User {
                    username: account.username.clone(),
                    name: account.name.clone(),
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
    pub fn create(&self, user: User, now: i64) -> Result<String, RngFailed> {
        let id = random_token(32)?;
        let session = Session {
            user,
            csrf: random_token(32)?,
            expires_at: now + self.lifetime,
            data: D::default(),
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(digest(&id), session);
        Ok(id)
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: i64) -> Option<Session<D>> {
        lock(&self.sessions)
            .get(&digest(id))
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    /// Changes the data of the session with this id; `None` when there is
    /// no such session.
    pub fn update<R>(&self, id: &str, change: impl FnOnce(&mut D) -> R) -> Option<R> {
        lock(&self.sessions)
            .get_mut(&digest(id))
            .map(|session| change(&mut session.data))
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
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// SHA-256 of a session id, hex: the key a session is stored under.
fn digest(id: &str) -> String {
    sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `len` random bytes, base64url without padding.
pub fn random_token(len: usize) -> Result<String, RngFailed> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RngFailed)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
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

    fn sessions() -> Sessions<Vec<String>> {
        let anna = Account {
            username: "anna".into(),
            password_hash: hash_password("rätt lösen").unwrap(),
            name: "Anna A".into(),
        };
        let broken = Account {
            username: "bertil".into(),
            password_hash: "not a PHC string".into(),
            name: "Bertil B".into(),
        };
        Sessions::new("officer", [anna, broken], 3600)
    }

    fn anna() -> User {
        User {
            username: "anna".into(),
            name: "Anna A".into(),
        }
    }

    #[tokio::test]
    async fn sign_in_checks_the_password() {
        let s = sessions();
        let ok = s.sign_in(" anna ", "rätt lösen".into(), 0).await.unwrap();
        assert_eq!(ok, Ok(anna()));
        let wrong = s.sign_in("anna", "fel".into(), 0).await.unwrap();
        assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        let nobody = s.sign_in("nobody", "rätt lösen".into(), 0).await.unwrap();
        assert_eq!(nobody, Err(SignInFailure::WrongCredentials));
    }

    #[tokio::test]
    async fn an_account_with_a_bad_hash_cannot_sign_in() {
        let s = sessions();
        let outcome = s.sign_in("bertil", "not a PHC string".into(), 0).await;
        assert_eq!(outcome.unwrap(), Err(SignInFailure::WrongCredentials));
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

    #[tokio::test]
    async fn a_locked_username_is_refused_even_with_the_right_password() {
        let s = sessions();
        for _ in 0..MAX_ATTEMPTS {
            assert!(s.begin_attempt("anna", 0));
        }
        let locked = s.sign_in("anna", "rätt lösen".into(), 0).await.unwrap();
        assert_eq!(locked, Err(SignInFailure::Locked));
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn sessions_expire() {
        let s = sessions();
        let id = s.create(anna(), 0).unwrap();
        assert!(s.get(&id, 3599).is_some());
        assert!(s.get(&id, 3600).is_none());
        s.remove(&id);
        assert!(s.get(&id, 1).is_none());
    }

    #[test]
    fn the_lifetime_is_at_least_a_minute() {
        let s: Sessions<()> = Sessions::new("employer", [], 5);
        assert_eq!(s.lifetime(), 60);
    }

    #[test]
    fn session_data_is_kept_per_session() {
        let s = sessions();
        let id = s.create(anna(), 0).unwrap();
        assert_eq!(s.update(&id, |data| data.push("x".into())), Some(()));
        assert_eq!(s.get(&id, 1).unwrap().data, vec!["x".to_owned()]);
        assert_eq!(s.update("unknown", |data| data.len()), None);
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(csrf_matches(Some("abc"), "abc"));
        assert!(!csrf_matches(Some("abd"), "abc"));
        assert!(!csrf_matches(None, "abc"));
    }

    #[test]
    fn random_tokens_are_base64url() {
        let token = random_token(32).unwrap();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn rng_failed_message() {
        assert_eq!(RngFailed.to_string(), "system RNG failed");
    }
}
