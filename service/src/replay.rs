//! Single-use identifiers on sled: a tree of `key → expiry` (8 bytes, big
//! endian, seconds since the epoch). Both services keep their used
//! identifiers this way (the issuer its DPoP and attestation `jti`s, the
//! verifier its erasure request `jti`s); on PostgreSQL each service has
//! its own table and statement.

/// Records `key` until `expires_at` unless it is recorded and unexpired
/// at `now`; returns whether it recorded it (false: a replay). Atomic
/// (compare-and-swap): of two concurrent calls one wins.
pub fn insert_if_absent(
    tree: &crate::backup::Tree,
    key: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, sled::Error> {
    let mut current = tree.get(key.as_bytes())?;
    loop {
        let live = current
            .as_ref()
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
            .is_some_and(|bytes| i64::from_be_bytes(bytes) > now);
        if live {
            return Ok(false);
        }
        match tree.compare_and_swap(
            key.as_bytes(),
            current.clone(),
            Some(&expires_at.to_be_bytes()[..]),
        )? {
            Ok(()) => return Ok(true),
            Err(conflict) => current = conflict.current,
        }
    }
}

/// Forgets every entry that expired at or before `now` (and any entry
/// that is not an expiry); returns how many.
pub fn purge_expired(tree: &crate::backup::Tree, now: i64) -> Result<usize, sled::Error> {
    let mut purged = 0;
    for entry in tree.iter() {
        let (key, value) = entry?;
        let expired = <[u8; 8]>::try_from(value.as_ref())
            .map_or(true, |bytes| i64::from_be_bytes(bytes) <= now);
        if expired
            && tree
                .compare_and_swap(&key, Some(value), None::<&[u8]>)?
                .is_ok()
        {
            purged += 1;
        }
    }
    Ok(purged)
}
