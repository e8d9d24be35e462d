//! Portal sign-in and sessions, shared by the officer portal (issuer) and
//! the employer portal (verifier). Cookie names and paths stay with each
//! portal; this module only knows ids, CSRF tokens and accounts.
//!
//! - Passwords are checked against argon2id PHC hashes from the
//!   configuration. An unknown username is checked against a dummy hash of
//!   the same cost, so the answer takes as long whether the account exists or
//!   not.
//! - Sign-in attempts are throttled per account and address, per address
//!   and per account with growing delays, never locked out
//!   ([`throttle`]), whether the account exists or not. Attempts are
//!   counted when they start, so parallel guesses cannot overtake the
//!   count.
//! - Sessions and attempt counts live in a [`SessionStore`]: in memory
//!   for a single instance on sled (a restart signs everyone out), in
//!   PostgreSQL when several instances share one database. The cookie
//!   holds a random id, the store keys the session by its SHA-256. Each
//!   session has a CSRF token that every POST form carries. The sign-in
//!   form, before any session, uses a double-submit cookie instead.
//! - A session carries data of the portal's choosing (`D`), for example
//!   the persons an officer looked up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use async_trait::async_trait;
use base64::Engine as _;
use serde::{Serialize, de::DeserializeOwned};
use sha2::Digest as _;

mod pg;
pub mod throttle;
pub use pg::PgSessions;
use throttle::{Bucket, Limit, Rule};

/// How many buckets the in-memory limiter holds before it forgets idle
/// ones.
const LIMITER_CAPACITY: usize = 30_000;

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A session as a [`SessionStore`] keeps it: the portal's data as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Who.
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// Seconds since the epoch after which the session is gone.
    pub expires_at: i64,
    /// The portal's data, JSON.
    pub data: String,
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// Wrong username or password (which one is not said).
    WrongCredentials,
    /// Too many attempts from this address or on this account: the next
    /// one is admitted at `retry_at`.
    Throttled {
        /// Seconds since the epoch.
        retry_at: i64,
    },
}

/// The system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("system RNG failed")]
pub struct RngFailed;

/// A session store failed. Details go to the log; users see a generic page.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A session's data does not decode: written by an incompatible version.
    #[error("stored session does not decode: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] crate::pg::PgError),
}

/// Why a session could not be started or a sign-in not be checked.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The system's random number generator failed.
    #[error(transparent)]
    Rng(#[from] RngFailed),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password check's blocking thread failed.
    #[error("password check did not finish: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Where sessions and sign-in attempts live: keyed by the SHA-256 of the
/// session id and by username. No business logic beyond the atomic
/// attempt count of [`SessionStore::begin_attempt`].
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Counts an attempt against each of `limits` at `now`, atomically
    /// ([`Bucket::admit`]): `Err(retry_at)`, and nothing counted, while
    /// any of them is blocked.
    async fn begin_attempt(
        &self,
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), i64>, StoreError>;
    /// The attempt succeeded: forgets the buckets of `limits` that are
    /// [`Limit::cleared_on_success`] and forgives one attempt in the others
    /// ([`Bucket::forgive`]).
    async fn settle_success(&self, limits: &[Limit]) -> Result<(), StoreError>;
    /// Stores a new session under `key`.
    async fn insert(&self, key: &str, session: &StoredSession) -> Result<(), StoreError>;
    /// The session under `key`, expired or not.
    async fn get(&self, key: &str) -> Result<Option<StoredSession>, StoreError>;
    /// Replaces the data of the session under `key` with `next` if it still
    /// is `current`; returns whether it did.
    async fn swap_data(&self, key: &str, current: &str, next: &str) -> Result<bool, StoreError>;
    /// Removes the session under `key`.
    async fn remove(&self, key: &str) -> Result<(), StoreError>;
    /// Removes sessions expired at `now` and throttling buckets idle at
    /// `now` ([`Bucket::idle`]).
    async fn sweep(&self, now: i64) -> Result<(), StoreError>;
}

/// The in-memory [`SessionStore`] of a single instance (sled deployments):
/// a restart signs everyone out.
#[derive(Debug, Default)]
pub struct MemorySessions {
    buckets: Mutex<HashMap<String, (Bucket, Rule)>>,
    sessions: Mutex<HashMap<String, StoredSession>>,
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn begin_attempt(
        &self,
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), i64>, StoreError> {
        let mut buckets = lock(&self.buckets);
        if buckets.len() >= LIMITER_CAPACITY {
            buckets.retain(|_, (bucket, rule)| !bucket.idle(*rule, now));
        }
        let mut admitted = Vec::with_capacity(limits.len());
        let mut retry_at = None;
        for limit in limits {
            let bucket = buckets
                .get(&limit.key)
                .map_or_else(Bucket::default, |b| b.0);
            match bucket.admit(limit.rule, now) {
                Ok(next) => admitted.push((limit, next)),
                Err(at) => retry_at = retry_at.max(Some(at)),
            }
        }
        if let Some(at) = retry_at {
            return Ok(Err(at));
        }
        for (limit, bucket) in admitted {
            buckets.insert(limit.key.clone(), (bucket, limit.rule));
        }
        Ok(Ok(()))
    }

    async fn settle_success(&self, limits: &[Limit]) -> Result<(), StoreError> {
        let mut buckets = lock(&self.buckets);
        for limit in limits {
            if limit.cleared_on_success {
                buckets.remove(&limit.key);
            } else if let Some((bucket, rule)) = buckets.get_mut(&limit.key) {
                *bucket = bucket.forgive(*rule);
            }
        }
        Ok(())
    }

    async fn insert(&self, key: &str, session: &StoredSession) -> Result<(), StoreError> {
        lock(&self.sessions).insert(key.to_owned(), session.clone());
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<StoredSession>, StoreError> {
        Ok(lock(&self.sessions).get(key).cloned())
    }

    async fn swap_data(&self, key: &str, current: &str, next: &str) -> Result<bool, StoreError> {
        let mut sessions = lock(&self.sessions);
        match sessions.get_mut(key) {
            Some(session) if session.data == current => {
                next.clone_into(&mut session.data);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.sessions).remove(key);
        Ok(())
    }

    async fn sweep(&self, now: i64) -> Result<(), StoreError> {
        lock(&self.sessions).retain(|_, s| s.expires_at > now);
        lock(&self.buckets).retain(|_, (bucket, rule)| !bucket.idle(*rule, now));
        Ok(())
    }
}

/// Accounts, the attempt limiter and the sessions.
pub struct Sessions<D> {
    accounts: HashMap<String, Account>,
    store: Arc<dyn SessionStore>,
    lifetime: i64,
    data: std::marker::PhantomData<fn() -> D>,
}

impl<D> std::fmt::Debug for Sessions<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("accounts", &self.accounts.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl<D: Default + Serialize + DeserializeOwned + Send> Sessions<D> {
    /// Accounts from the configuration, sessions in `store`; sessions last
    /// `lifetime_seconds` (at least 60). An account whose hash is not a
    /// valid PHC string cannot sign in; that is logged (its username only),
    /// naming the account as a `role` ("officer", "employer").
    pub fn new(
        role: &str,
        accounts: impl IntoIterator<Item = Account>,
        lifetime_seconds: i64,
        store: Arc<dyn SessionStore>,
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
            store,
            lifetime: lifetime_seconds.max(60),
            data: std::marker::PhantomData,
        }
    }

    /// Checks a username and password from the client at `address`, with
    /// the throttling of [`throttle`]. Runs argon2 on a blocking thread.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        address: Option<std::net::IpAddr>,
        now: i64,
    ) -> Result<Result<User, SignInFailure>, SessionError> {
        let username = username.trim();
        let limits = throttle::limits(username, address);
        if let Err(retry_at) = self.store.begin_attempt(&limits, now).await? {
            return Ok(Err(SignInFailure::Throttled { retry_at }));
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
                self.store.settle_success(&limits).await?;
                Ok(Ok(User {
                    username: account.username.clone(),
                    name: account.name.clone(),
                }))
            }
            _ => Ok(Err(SignInFailure::WrongCredentials)),
        }
    }

    /// Starts a session; returns its id (for the cookie). Expired sessions
    /// are swept first.
    pub async fn create(&self, user: User, now: i64) -> Result<String, SessionError> {
        let id = random_token(32)?;
        let session = StoredSession {
            user,
            csrf: random_token(32)?,
            expires_at: now + self.lifetime,
            data: serde_json::to_string(&D::default()).map_err(StoreError::from)?,
        };
        self.store.sweep(now).await?;
        self.store.insert(&digest(&id), &session).await?;
        Ok(id)
    }

    /// The live session with this id.
    pub async fn get(&self, id: &str, now: i64) -> Result<Option<Session<D>>, StoreError> {
        let Some(stored) = self.store.get(&digest(id)).await? else {
            return Ok(None);
        };
        if stored.expires_at <= now {
            return Ok(None);
        }
        Ok(Some(Session {
            data: serde_json::from_str(&stored.data)?,
            user: stored.user,
            csrf: stored.csrf,
            expires_at: stored.expires_at,
        }))
    }

    /// Changes the data of the session with this id; `None` when there is
    /// no such session. A change that lost a race with another request of
    /// the same session is made again on the newer data.
    pub async fn update<R>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut D) -> R + Send,
    ) -> Result<Option<R>, StoreError>
    where
        R: Send,
    {
        let key = digest(id);
        loop {
            let Some(stored) = self.store.get(&key).await? else {
                return Ok(None);
            };
            let mut data: D = serde_json::from_str(&stored.data)?;
            let outcome = change(&mut data);
            let next = serde_json::to_string(&data)?;
            if next == stored.data || self.store.swap_data(&key, &stored.data, &next).await? {
                return Ok(Some(outcome));
            }
        }
    }

    /// Ends a session.
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.store.remove(&digest(id)).await
    }

    /// How the audit trail names who tried to sign in as `username`: the
    /// username of a configured account, else `(unknown)` (what was typed
    /// could be a password or anything else).
    pub fn audit_name(&self, username: &str) -> String {
        let username = username.trim();
        if self.accounts.contains_key(username) {
            username.to_owned()
        } else {
            "(unknown)".to_owned()
        }
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
        Sessions::new(
            "officer",
            [anna, broken],
            3600,
            Arc::new(MemorySessions::default()),
        )
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
        let ok = s
            .sign_in(" anna ", "rätt lösen".into(), None, 0)
            .await
            .unwrap();
        assert_eq!(ok, Ok(anna()));
        let wrong = s.sign_in("anna", "fel".into(), None, 0).await.unwrap();
        assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        let nobody = s
            .sign_in("nobody", "rätt lösen".into(), None, 0)
            .await
            .unwrap();
        assert_eq!(nobody, Err(SignInFailure::WrongCredentials));
    }

    #[tokio::test]
    async fn an_account_with_a_bad_hash_cannot_sign_in() {
        let s = sessions();
        let outcome = s
            .sign_in("bertil", "not a PHC string".into(), None, 0)
            .await;
        assert_eq!(outcome.unwrap(), Err(SignInFailure::WrongCredentials));
    }

    fn address(a: &str) -> Option<std::net::IpAddr> {
        Some(a.parse().unwrap())
    }

    #[tokio::test]
    async fn an_attacker_from_one_address_does_not_hold_up_the_user_at_another() {
        let s = sessions();
        let attacker = address("203.0.113.66");
        for _ in 0..throttle::ACCOUNT_FROM_ADDRESS.free {
            let guess = s.sign_in("anna", "gissning".into(), attacker, 100);
            assert_eq!(guess.await.unwrap(), Err(SignInFailure::WrongCredentials));
        }
        let held = s.sign_in("anna", "rätt lösen".into(), attacker, 100).await;
        assert_eq!(
            held.unwrap(),
            Err(SignInFailure::Throttled { retry_at: 101 })
        );
        let user = s.sign_in("anna", "rätt lösen".into(), address("192.0.2.10"), 100);
        assert_eq!(user.await.unwrap(), Ok(anna()));
        // The attacker's next try waits one second, then two.
        let again = s.sign_in("anna", "gissning".into(), attacker, 101).await;
        assert_eq!(again.unwrap(), Err(SignInFailure::WrongCredentials));
        let held = s.sign_in("anna", "gissning".into(), attacker, 102).await;
        assert_eq!(
            held.unwrap(),
            Err(SignInFailure::Throttled { retry_at: 103 })
        );
    }

    #[tokio::test]
    async fn unknown_usernames_are_throttled_like_known_ones() {
        let s = sessions();
        let from = address("198.51.100.1");
        for _ in 0..throttle::ACCOUNT_FROM_ADDRESS.free {
            let guess = s.sign_in("nobody", "x".into(), from, 0).await.unwrap();
            assert_eq!(guess, Err(SignInFailure::WrongCredentials));
        }
        let held = s.sign_in("nobody", "x".into(), from, 0).await.unwrap();
        assert_eq!(held, Err(SignInFailure::Throttled { retry_at: 1 }));
    }

    #[tokio::test]
    async fn a_successful_sign_in_clears_its_account_and_address_bucket() {
        let s = sessions();
        let from = address("198.51.100.2");
        for _ in 0..throttle::ACCOUNT_FROM_ADDRESS.free - 1 {
            let _ = s.sign_in("anna", "fel".into(), from, 0).await.unwrap();
        }
        let ok = s.sign_in("anna", "rätt lösen".into(), from, 0).await;
        assert_eq!(ok.unwrap(), Ok(anna()));
        for _ in 0..throttle::ACCOUNT_FROM_ADDRESS.free {
            let wrong = s.sign_in("anna", "fel".into(), from, 0).await.unwrap();
            assert_eq!(wrong, Err(SignInFailure::WrongCredentials));
        }
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn sessions_expire() {
        let s = sessions();
        let id = s.create(anna(), 0).await.unwrap();
        assert!(s.get(&id, 3599).await.unwrap().is_some());
        assert!(s.get(&id, 3600).await.unwrap().is_none());
        s.remove(&id).await.unwrap();
        assert!(s.get(&id, 1).await.unwrap().is_none());
    }

    #[test]
    fn the_lifetime_is_at_least_a_minute() {
        let s: Sessions<()> = Sessions::new("employer", [], 5, Arc::new(MemorySessions::default()));
        assert_eq!(s.lifetime(), 60);
    }

    #[tokio::test]
    async fn session_data_is_kept_per_session() {
        let s = sessions();
        let id = s.create(anna(), 0).await.unwrap();
        let pushed = s.update(&id, |data| data.push("x".into())).await.unwrap();
        assert_eq!(pushed, Some(()));
        let session = s.get(&id, 1).await.unwrap().unwrap();
        assert_eq!(session.data, vec!["x".to_owned()]);
        assert_eq!(s.update("unknown", |data| data.len()).await.unwrap(), None);
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
