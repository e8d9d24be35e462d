//! Sign-in throttling with growing delays instead of a lockout.
//!
//! Every sign-in attempt is counted, when it starts, against three
//! buckets ([`limits`]):
//!
//! | bucket | free attempts | one failure forgiven every | longest delay |
//! |---|---|---|---|
//! | the account from this address | 5 | 5 minutes | 15 minutes |
//! | this address, any account | 30 | 1 minute | 15 minutes |
//! | the account, any address | 100 | 10 seconds | 30 seconds |
//!
//! Past its free attempts a bucket makes the next attempt wait 1 s, then
//! 2, 4, 8 … seconds, up to its longest delay; failures are forgiven one
//! at a time as time passes. A successful sign-in forgets the account's
//! bucket for that address and forgives the attempt in the other two. So
//! an attacker guessing from one address slows down only that address:
//! the real user signing in from another address is never held up by
//! them, and a distributed attack on one account costs the user at most
//! 30 seconds, never a lockout. IPv6 addresses count per /64 (one host
//! usually holds a whole /64).
//!
//! Buckets are stored under the SHA-256 of their label, so a password
//! typed into the username field is never stored in clear. The arithmetic
//! lives here; a [`super::SessionStore`] only keeps the buckets and
//! applies [`Bucket::admit`] and [`Bucket::forgive`] atomically.

use std::net::IpAddr;

/// How one kind of bucket fills and drains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Attempts without any delay.
    pub free: u32,
    /// One failure is forgiven per this many seconds.
    pub forgive_seconds: i64,
    /// The longest delay between attempts.
    pub cap_seconds: i64,
}

/// The account from one address.
pub const ACCOUNT_FROM_ADDRESS: Rule = Rule {
    free: 5,
    forgive_seconds: 300,
    cap_seconds: 900,
};
/// One address, whatever the account.
pub const ADDRESS: Rule = Rule {
    free: 30,
    forgive_seconds: 60,
    cap_seconds: 900,
};
/// One account, whatever the address.
pub const ACCOUNT: Rule = Rule {
    free: 100,
    forgive_seconds: 10,
    cap_seconds: 30,
};

/// A bucket as a store keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Attempts not yet forgiven.
    pub failures: u32,
    /// Seconds since the epoch before which no attempt is admitted.
    pub blocked_until: i64,
    /// Seconds since the epoch from which forgiveness is counted.
    pub last: i64,
}

impl Bucket {
    /// The bucket at `now`, with the failures time has forgiven.
    fn drained(mut self, rule: Rule, now: i64) -> Self {
        let elapsed = now.saturating_sub(self.last).max(0);
        let steps = elapsed / rule.forgive_seconds.max(1);
        let forgiven = u32::try_from(steps).unwrap_or(u32::MAX).min(self.failures);
        self.failures -= forgiven;
        self.last = if self.failures == 0 {
            now
        } else {
            self.last + i64::from(forgiven) * rule.forgive_seconds.max(1)
        };
        self
    }

    /// Counts an attempt at `now`: the new bucket, or, while it is blocked,
    /// the time the next attempt is admitted (nothing counted).
    pub fn admit(self, rule: Rule, now: i64) -> Result<Self, i64> {
        let mut bucket = self.drained(rule, now);
        if bucket.blocked_until > now {
            return Err(bucket.blocked_until);
        }
        bucket.failures = bucket.failures.saturating_add(1);
        if bucket.failures >= rule.free {
            let doublings = (bucket.failures - rule.free).min(30);
            let delay = (1_i64 << doublings).min(rule.cap_seconds);
            bucket.blocked_until = now + delay;
        }
        Ok(bucket)
    }

    /// Forgives one attempt (it succeeded); below the free attempts the
    /// block is lifted.
    pub fn forgive(mut self, rule: Rule) -> Self {
        self.failures = self.failures.saturating_sub(1);
        if self.failures < rule.free {
            self.blocked_until = 0;
        }
        self
    }

    /// Whether the bucket holds nothing any more at `now` (a sweep may
    /// remove it).
    pub fn idle(self, rule: Rule, now: i64) -> bool {
        let bucket = self.drained(rule, now);
        bucket.failures == 0 && bucket.blocked_until <= now
    }
}

/// One bucket an attempt counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// SHA-256 (hex) of the bucket's label.
    pub key: String,
    /// How it fills and drains.
    pub rule: Rule,
    /// Whether a successful sign-in forgets the bucket (else it forgives
    /// one attempt).
    pub cleared_on_success: bool,
}

/// The buckets of an attempt on `username` from `address` (`None` when
/// the address is unknown: such attempts share one address bucket).
pub fn limits(username: &str, address: Option<IpAddr>) -> [Limit; 3] {
    let address = address.map_or_else(|| "unknown".to_owned(), |a| network(a).to_string());
    [
        Limit {
            key: super::digest(&format!("account-from\n{username}\n{address}")),
            rule: ACCOUNT_FROM_ADDRESS,
            cleared_on_success: true,
        },
        Limit {
            key: super::digest(&format!("address\n{address}")),
            rule: ADDRESS,
            cleared_on_success: false,
        },
        Limit {
            key: super::digest(&format!("account\n{username}")),
            rule: ACCOUNT,
            cleared_on_success: false,
        },
    ]
}

/// An IPv4 address as is, an IPv6 address as its /64 (an IPv4-mapped one
/// as the IPv4 address).
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The client's address: the peer's, or, when the peer is one of the
/// `trusted_proxies`, the right-most `X-Forwarded-For` entry that is not a
/// trusted proxy itself. With no trusted proxies (the default) the header
/// is ignored, so a client cannot choose its own address.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut hops = header.split(',').rev().map(str::trim);
    for hop in hops.by_ref() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted_proxies.contains(&address) => continue,
            Ok(address) => return Some(address),
            // A hop that is no address: nothing left of it can be trusted.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(rule: Rule, bucket: &mut Bucket, now: i64, n: u32) {
        for _ in 0..n {
            *bucket = bucket.admit(rule, now).unwrap();
        }
    }

    #[test]
    fn delays_double_past_the_free_attempts_and_stop_at_the_cap() {
        // Nothing forgiven during the test, to see the doubling alone.
        let rule = Rule {
            forgive_seconds: 1_000_000,
            ..ACCOUNT_FROM_ADDRESS
        };
        let mut b = Bucket::default();
        attempts(rule, &mut b, 1000, 4);
        assert_eq!(b.blocked_until, 0);
        attempts(rule, &mut b, 1000, 1);
        assert_eq!(b.admit(rule, 1000), Err(1001));
        let mut now = 1001;
        for delay in [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900] {
            b = b.admit(rule, now).unwrap();
            assert_eq!(b.blocked_until, now + delay);
            assert_eq!(b.admit(rule, now + delay - 1), Err(now + delay));
            now += delay;
        }
    }

    #[test]
    fn failures_are_forgiven_as_time_passes() {
        let rule = ACCOUNT_FROM_ADDRESS;
        let mut b = Bucket::default();
        attempts(rule, &mut b, 0, 5);
        // Two failures forgiven after ten minutes: two free attempts again.
        let later = b.admit(rule, 600).unwrap();
        assert_eq!(later.failures, 4);
        assert!(later.blocked_until <= 600);
        assert!(!later.idle(rule, 600 + 3 * 300));
        assert!(later.idle(rule, 600 + 4 * 300));
    }

    #[test]
    fn a_success_forgives_and_unblocks() {
        let rule = ADDRESS;
        let mut b = Bucket::default();
        attempts(rule, &mut b, 0, 30);
        assert!(b.blocked_until > 0);
        let b = b.forgive(rule);
        assert_eq!((b.failures, b.blocked_until), (29, 0));
    }

    #[test]
    fn the_three_buckets_have_distinct_keys_per_account_and_address() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let [pair_a, addr_a, account_a] = limits("anna", Some(a));
        let [pair_b, addr_b, account_b] = limits("anna", Some(b));
        assert_ne!(pair_a.key, pair_b.key);
        assert_ne!(addr_a.key, addr_b.key);
        assert_eq!(account_a.key, account_b.key);
        assert!(!pair_a.key.contains("anna"));
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limits("x", Some(one))[1], limits("x", Some(two))[1]);
        assert_ne!(limits("x", Some(one))[1], limits("x", Some(other))[1]);
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(limits("x", Some(mapped))[1], limits("x", Some(v4))[1]);
    }

    #[test]
    fn forwarded_for_is_only_read_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let header = Some("203.0.113.9, 192.0.2.7, 10.0.0.1");
        assert_eq!(client_address(Some(proxy), header, &[]), Some(proxy));
        assert_eq!(client_address(Some(proxy), header, &[proxy]), Some(client));
        assert_eq!(client_address(Some(client), header, &[proxy]), Some(client));
        assert_eq!(
            client_address(Some(proxy), Some("junk, 10.0.0.1"), &[proxy]),
            Some(proxy)
        );
        assert_eq!(client_address(None, header, &[proxy]), None);
    }
}
