//! Identifiers and free text that arrive from people and peers, on
//! untrusted input. The first byte picks what the rest is:
//!
//! - `0`: a Swedish personal identity or coordination number, in any
//!   written form, typed on 2026-12-04;
//! - `1`: a DID or DID URL (`did:key`, `did:jwk`, `did:web`), resolved to a
//!   key or a `did.json` URL;
//! - `2`: protocol identifiers (OpenID4VCI ids and codes, OpenID4VP
//!   `nonce`/`state`, `wallet_nonce`, SD-JWT VC `vct`);
//! - otherwise: free text, checked for control characters and escaped for
//!   a terminal.
//!
//! Whatever is read must print and read back the same.

#![no_main]

use std::fmt::Debug;
use std::str::FromStr;

use intyg_core::did::DidUrl;
use intyg_core::identity_number::PersonalIdentityNumber;
use intyg_core::oid4vci::{
    AccessToken, AuthorizationCode, CredentialConfigurationId, IssuerState, PreAuthorizedCode,
    TxCode,
};
use intyg_core::oid4vp::{Nonce, State, WalletNonce};
use intyg_core::text::{self, Lines};
use intyg_core::vc::Vct;
use intyg_fuzz::text as utf8;
use jiff::civil::date;
use libfuzzer_sys::fuzz_target;

/// Parses `text` as `T`; what parses must read back the same from `print`.
fn round_trip<T: FromStr + PartialEq + Debug>(text: &str, print: impl Fn(&T) -> String)
where
    T::Err: Debug,
{
    if let Ok(value) = text.parse::<T>() {
        let again: T = print(&value).parse().expect("a printed identifier parses");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = utf8(rest) else { return };
    match selector {
        0 => {
            let today = date(2026, 12, 4);
            if let Ok(number) = PersonalIdentityNumber::parse(text, today) {
                assert_eq!(number.as_str().len(), 12);
                assert!(number.birthdate() <= today);
                let again: PersonalIdentityNumber =
                    number.as_str().parse().expect("the canonical form parses");
                assert_eq!(again, number);
                let reparsed = PersonalIdentityNumber::parse(&number.to_string(), today)
                    .expect("the printed form parses");
                assert_eq!(reparsed, number);
            }
            round_trip::<PersonalIdentityNumber>(text, ToString::to_string);
        }
        1 => {
            if let Ok(did) = text.parse::<DidUrl>() {
                let again: DidUrl = did.to_string().parse().expect("a printed DID URL parses");
                assert_eq!(again, did);
                assert!(did.did().starts_with("did:"));
                let _ = did.resolve_key();
                let _ = did.web_document_url();
            }
        }
        2 => {
            round_trip::<CredentialConfigurationId>(text, |v| v.as_str().to_owned());
            round_trip::<PreAuthorizedCode>(text, |v| v.as_str().to_owned());
            round_trip::<TxCode>(text, |v| v.as_str().to_owned());
            round_trip::<AuthorizationCode>(text, |v| v.as_str().to_owned());
            round_trip::<AccessToken>(text, |v| v.as_str().to_owned());
            round_trip::<IssuerState>(text, |v| v.as_str().to_owned());
            round_trip::<Nonce>(text, ToString::to_string);
            round_trip::<State>(text, ToString::to_string);
            round_trip::<WalletNonce>(text, |v| v.as_str().to_owned());
            if let Ok(vct) = Vct::try_from(text.to_owned()) {
                assert_eq!(Vct::try_from(vct.to_string()).ok(), Some(vct));
            }
        }
        _ => {
            let escaped = text::for_terminal(text);
            text::check(&escaped, Lines::Single).expect("escaped text has no control character");
            if text::check(text, Lines::Single).is_ok() {
                assert_eq!(escaped, text);
                text::check(text, Lines::Multi).expect("one line is also several");
            }
        }
    }
});
