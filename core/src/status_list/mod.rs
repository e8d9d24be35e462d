//! Token Status List — draft-ietf-oauth-status-list (-18 and later).
//!
//! <https://datatracker.ietf.org/doc/draft-ietf-oauth-status-list/>
//!
//! An issuer gives every credential an index in a Status List: a byte array
//! with 1, 2, 4 or 8 bits per credential, compressed and published inside a
//! signed Status List Token. A verifier follows the credential's `status`
//! claim to the token, checks it and reads the entry.
//!
//! | spec | Rust |
//! |---|---|
//! | §4.1 compressed byte array, `bits` | [`StatusList`], [`Bits`], [`StatusIndex`] |
//! | §4.2 Status List in JSON (`bits`, `lst`, `aggregation_uri`) | [`StatusListClaim`] |
//! | §5.1 Status List Token in JWT format | [`StatusListTokenClaims`], [`StatusListToken`] |
//! | §6.1, §6.2 `status` claim of a Referenced Token | [`StatusClaim`], [`StatusListReference`] |
//! | §7.1 Status Type values | [`StatusType`] |
//! | §8.3 validation rules | [`StatusListToken::verify`] |
//!
//! CBOR forms (§4.3, §5.2, §6.3) are out of scope: Intyg publishes and
//! consumes the JWT form only.
//!
//! Issuer side, then verifier side:
//!
//! ```
//! use intyg_core::jose::SigningKey;
//! use intyg_core::status_list::{
//!     Bits, DecodeLimits, StatusIndex, StatusList, StatusListClaim, StatusListToken,
//!     StatusListTokenClaims, StatusType,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let uri = "https://issuer.example/statuslists/1";
//! let mut list = StatusList::new(Bits::Two, 100_000);
//! list.set(StatusIndex::from(42u32), StatusType::Suspended)?;
//!
//! let mut claims = StatusListTokenClaims::new(uri, 1_700_000_000, StatusListClaim::from(&list));
//! claims.exp = Some(1_700_086_400);
//! let key = SigningKey::generate()?;
//! let jws = StatusListToken::sign(&claims, &key, Some("status-key-1"))?;
//!
//! let token = StatusListToken::verify(
//!     &jws,
//!     &key.public_jwk(),
//!     uri,
//!     1_700_000_100,
//!     DecodeLimits::default(),
//! )?;
//! assert_eq!(token.status(StatusIndex::from(42u32))?, StatusType::Suspended);
//! # Ok(())
//! # }
//! ```

mod claims;
mod encoding;
mod list;
mod token;

pub use claims::{
    ClaimsError, StatusClaim, StatusListClaim, StatusListReference, StatusListTokenClaims,
};
pub use encoding::{DecodeError, DecodeLimits};
pub use list::{
    Bits, BitsError, LookupError, StatusIndex, StatusIndexError, StatusList, StatusType,
    UpdateError,
};
pub use token::{StatusListToken, ValidationError, VerifyError};
