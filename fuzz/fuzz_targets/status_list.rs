//! Status list decoding (draft-ietf-oauth-status-list §4.2, §5.1) on
//! untrusted input. The first byte picks what the rest is:
//!
//! - `0`: `bits` (next byte) and an `lst` string;
//! - `1`: `bits` (next byte) and raw ZLIB bytes;
//! - otherwise: a Status List Token payload (JSON), plus the `status` claim
//!   of a Referenced Token.
//!
//! Decoded lists must respect the cap, survive a re-encode round trip and
//! answer lookups at their edges.

#![no_main]

use intyg_core::status_list::{
    Bits, DecodeLimits, StatusClaim, StatusIndex, StatusList, StatusListToken,
    StatusListTokenClaims,
};
use libfuzzer_sys::fuzz_target;

const LIMITS: DecodeLimits = DecodeLimits {
    max_decompressed_bytes: 1024 * 1024,
};

fuzz_target!(|data: &[u8]| {
    match data {
        [0, bits, rest @ ..] => {
            if let Ok(bits) = Bits::try_from(*bits) {
                let lst = String::from_utf8_lossy(rest);
                if let Ok(list) = StatusList::decode(bits, &lst, LIMITS) {
                    check(&list);
                }
            }
        }
        [1, bits, rest @ ..] => {
            if let Ok(bits) = Bits::try_from(*bits) {
                if let Ok(list) = StatusList::decompress(bits, rest, LIMITS) {
                    check(&list);
                }
            }
        }
        [_, rest @ ..] => {
            if let Ok(token) = StatusListToken::validate(
                Some(StatusListToken::TYP),
                rest,
                "https://example.com/statuslists/1",
                1_700_000_000,
                LIMITS,
            ) {
                check(token.list());
            }
            if let Ok(claims) = serde_json::from_slice::<StatusListTokenClaims>(rest) {
                let again = serde_json::to_vec(&claims).expect("claims serialize");
                let reread: StatusListTokenClaims =
                    serde_json::from_slice(&again).expect("serialized claims parse");
                assert_eq!(reread, claims);
            }
            let _ = serde_json::from_slice::<StatusClaim>(rest);
        }
        [] => {}
    }
});

fn check(list: &StatusList) {
    assert!(list.as_bytes().len() <= LIMITS.max_decompressed_bytes);
    assert_eq!(
        list.len(),
        list.as_bytes().len() * list.bits().entries_per_byte()
    );
    let len = list.len() as u64;
    assert!(list.get(StatusIndex::from(len)).is_err());
    if len > 0 {
        assert!(list.get(StatusIndex::from(len - 1)).is_ok());
    }
    // Re-encoding at best compression is slow; keep it to small lists.
    if list.as_bytes().len() <= 64 * 1024 {
        let decoded = StatusList::decode(list.bits(), &list.encode(), LIMITS)
            .expect("a re-encoded list decodes");
        assert_eq!(&decoded, list);
    }
}
