//! Wire types: the `status_list` claim (§4.2), the Status List Token claims
//! (§5.1) and the Referenced Token's `status` claim (§6.1, §6.2) —
//! draft-ietf-oauth-status-list.
//!
//! <https://datatracker.ietf.org/doc/html/draft-ietf-oauth-status-list#section-5.1>
//!
//! [`StatusListTokenClaims`] is read through a JSON object by hand, not by
//! a derived `Deserialize`, so that a missing or malformed claim is reported
//! by name ([`ClaimsError`]); [`StatusClaim`] likewise, to refuse an object
//! that references no status mechanism.

use std::num::NonZeroU64;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::encoding::{DecodeError, DecodeLimits};
use super::list::{Bits, StatusIndex, StatusList};

/// The `status_list` member of a Status List Token: a Status List in JSON
/// format (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaim {
    /// Bits per Referenced Token.
    pub bits: Bits,
    /// The compressed byte array, base64url-encoded (see
    /// [`StatusList::encode`]).
    pub lst: String,
    /// Where to fetch the Status List Aggregation (§9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_uri: Option<String>,
}

impl StatusListClaim {
    /// Decodes `lst` into a [`StatusList`] of `bits` bits per entry.
    ///
    /// # Errors
    ///
    /// As for [`StatusList::decode`].
    pub fn decode(&self, limits: DecodeLimits) -> Result<StatusList, DecodeError> {
        StatusList::decode(self.bits, &self.lst, limits)
    }
}

impl From<&StatusList> for StatusListClaim {
    /// Encodes the list, without an `aggregation_uri`.
    fn from(list: &StatusList) -> Self {
        StatusListClaim {
            bits: list.bits(),
            lst: list.encode(),
            aggregation_uri: None,
        }
    }
}

/// The `status_list` member of a Referenced Token's `status` claim (§6.2):
/// which entry of which Status List Token holds the token's status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusListReference {
    /// The index of the token's entry.
    pub idx: StatusIndex,
    /// The URI of the Status List Token; equal to that token's `sub`.
    pub uri: String,
}

/// A Referenced Token's `status` claim (§6.1, §6.2): references to one or
/// more status mechanisms.
///
/// Open: mechanisms other than `status_list` are kept in `other`. An empty
/// object is rejected, since the claim must reference at least one
/// mechanism.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusClaim {
    /// The Token Status List reference, when that mechanism is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_list: Option<StatusListReference>,
    /// Members for other status mechanisms.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl From<StatusListReference> for StatusClaim {
    fn from(reference: StatusListReference) -> Self {
        StatusClaim {
            status_list: Some(reference),
            other: Map::new(),
        }
    }
}

impl StatusClaim {
    /// Reads a `status` claim where it sits in a credential's claims, as
    /// its `Deserialize` does (same result, same refusals) but without
    /// first copying the whole object: only members other than
    /// `status_list` are copied.
    pub fn read(value: &Value) -> Result<Self, serde_json::Error> {
        use serde::de::Error as _;
        let Value::Object(members) = value else {
            return Err(serde_json::Error::custom("`status` must be an object"));
        };
        if members.is_empty() {
            return Err(serde_json::Error::custom(
                "`status` must reference at least one status mechanism",
            ));
        }
        let status_list = match members.get("status_list") {
            None | Some(Value::Null) => None,
            Some(reference) => Some(StatusListReference::deserialize(reference)?),
        };
        let other = members
            .iter()
            .filter(|(name, _)| *name != "status_list")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Ok(StatusClaim { status_list, other })
    }
}

impl<'de> Deserialize<'de> for StatusClaim {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut other = Map::deserialize(deserializer)?;
        if other.is_empty() {
            return Err(D::Error::custom(
                "`status` must reference at least one status mechanism",
            ));
        }
        let status_list = take(&mut other, "status_list").map_err(D::Error::custom)?;
        Ok(StatusClaim { status_list, other })
    }
}

/// The claims of a Status List Token in JWT format (§5.1).
///
/// Open: claims the draft does not name are kept in `extra`. Times are
/// seconds since the Unix epoch (RFC 7519 NumericDate, whole seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusListTokenClaims {
    /// `iss`: who issued the Status List Token (RFC 7519 §4.1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `sub`: the URI of this Status List Token. Required.
    pub sub: String,
    /// `iat`: when the token was issued. Required.
    pub iat: i64,
    /// `exp`: when the token expires. Recommended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// `nbf`: the token is not valid before this time (RFC 7519 §4.1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// `ttl`: how many seconds a consumer may cache the token. Recommended;
    /// must be positive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<NonZeroU64>,
    /// `status_list`: the Status List. Required.
    pub status_list: StatusListClaim,
    /// Any other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StatusListTokenClaims {
    /// The required claims only: `sub`, `iat` and `status_list`.
    pub fn new(sub: impl Into<String>, iat: i64, status_list: StatusListClaim) -> Self {
        StatusListTokenClaims {
            iss: None,
            sub: sub.into(),
            iat,
            exp: None,
            nbf: None,
            ttl: None,
            status_list,
            extra: Map::new(),
        }
    }
}

/// Why a JSON object is not a valid Status List Token claim set.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    /// A claim that §5.1 requires is absent.
    #[error("status list token lacks the required `{0}` claim")]
    Missing(&'static str),
    /// A claim has the wrong JSON type or a value out of range.
    #[error("status list token claim `{claim}` is invalid: {source}")]
    Invalid {
        /// The claim's name.
        claim: &'static str,
        /// What the JSON reader said.
        source: serde_json::Error,
    },
}

impl TryFrom<Map<String, Value>> for StatusListTokenClaims {
    type Error = ClaimsError;

    fn try_from(mut claims: Map<String, Value>) -> Result<Self, Self::Error> {
        Ok(StatusListTokenClaims {
            iss: take(&mut claims, "iss")?,
            sub: required(&mut claims, "sub")?,
            iat: required(&mut claims, "iat")?,
            exp: take(&mut claims, "exp")?,
            nbf: take(&mut claims, "nbf")?,
            ttl: take(&mut claims, "ttl")?,
            status_list: required(&mut claims, "status_list")?,
            extra: claims,
        })
    }
}

impl<'de> Deserialize<'de> for StatusListTokenClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let claims = Map::deserialize(deserializer)?;
        StatusListTokenClaims::try_from(claims).map_err(D::Error::custom)
    }
}

/// Like [`take`], for a claim that must be present.
fn required<T: DeserializeOwned>(
    object: &mut Map<String, Value>,
    claim: &'static str,
) -> Result<T, ClaimsError> {
    take(object, claim)?.ok_or(ClaimsError::Missing(claim))
}

/// Removes `claim` from `object` and reads it as a `T`; `null` counts as
/// absent.
fn take<T: DeserializeOwned>(
    object: &mut Map<String, Value>,
    claim: &'static str,
) -> Result<Option<T>, ClaimsError> {
    match object.remove(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|source| ClaimsError::Invalid { claim, source }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn token_claims() -> Value {
        json!({
            "exp": 2291720170u64,
            "iat": 1686920170,
            "iss": "https://example.com",
            "status_list": { "bits": 1, "lst": "eNrbuRgAAhcBXQ" },
            "sub": "https://example.com/statuslists/1",
            "ttl": 43200,
            "x-extra": { "n": 12.5 }
        })
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn token_claims_read_typed_and_extra() {
        let claims: StatusListTokenClaims = serde_json::from_value(token_claims()).unwrap();
        assert_eq!(claims.sub, "https://example.com/statuslists/1");
        assert_eq!(claims.iat, 1686920170);
        assert_eq!(claims.exp, Some(2291720170));
        assert_eq!(claims.ttl, NonZeroU64::new(43200));
        assert_eq!(claims.iss.as_deref(), Some("https://example.com"));
        assert_eq!(claims.status_list.bits, Bits::One);
        assert_eq!(claims.extra.len(), 1);
        assert_eq!(claims.extra["x-extra"]["n"].as_f64(), Some(12.5));
    }

    #[test]
    fn token_claims_round_trip() {
        let claims: StatusListTokenClaims = serde_json::from_value(token_claims()).unwrap();
        let again: StatusListTokenClaims =
            serde_json::from_value(serde_json::to_value(&claims).unwrap()).unwrap();
        assert_eq!(again, claims);
    }

    #[test]
    fn new_token_claims_serialize_only_what_is_set() {
        let list = StatusList::new(Bits::Two, 4);
        let claims = StatusListTokenClaims::new("https://example.com/sl/1", 10, (&list).into());
        let value = serde_json::to_value(&claims).unwrap();
        let mut keys: Vec<String> = object(value.clone()).keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["iat", "status_list", "sub"], "{value}");
        assert_eq!(value["status_list"]["bits"], json!(2));
        assert!(value["status_list"].get("aggregation_uri").is_none());
    }

    #[test]
    fn token_claims_missing_required_is_rejected() {
        for claim in ["sub", "iat", "status_list"] {
            let mut map = object(token_claims());
            map.remove(claim);
            let err = StatusListTokenClaims::try_from(map).unwrap_err();
            assert!(
                matches!(err, ClaimsError::Missing(c) if c == claim),
                "{err}"
            );
        }
    }

    #[test]
    fn token_claims_invalid_is_rejected() {
        for (claim, bad) in [
            ("sub", json!(5)),
            ("iat", json!("yesterday")),
            ("exp", json!(true)),
            ("ttl", json!(0)),
            ("ttl", json!(-5)),
            ("status_list", json!({ "bits": 3, "lst": "eNrbuRgAAhcBXQ" })),
            ("status_list", json!({ "bits": 1 })),
        ] {
            let mut map = object(token_claims());
            map.insert(claim.to_owned(), bad.clone());
            let err = StatusListTokenClaims::try_from(map).unwrap_err();
            assert!(
                matches!(&err, ClaimsError::Invalid { claim: c, .. } if *c == claim),
                "{claim} = {bad}: {err}"
            );
        }
    }

    #[test]
    fn token_claims_deserialize_reports_the_claim() {
        let mut value = token_claims();
        value["ttl"] = json!(0);
        let err = serde_json::from_value::<StatusListTokenClaims>(value).unwrap_err();
        assert!(err.to_string().contains("`ttl`"), "{err}");
    }

    #[test]
    fn status_claim_reads_reference_and_other_mechanisms() {
        let claim: StatusClaim = serde_json::from_value(json!({
            "status_list": { "idx": 0, "uri": "https://example.com/statuslists/1" },
            "other_mechanism": { "id": 7 }
        }))
        .unwrap();
        let reference = claim.status_list.as_ref().unwrap();
        assert_eq!(reference.idx.value(), 0);
        assert_eq!(reference.uri, "https://example.com/statuslists/1");
        assert_eq!(claim.other["other_mechanism"]["id"].as_u64(), Some(7));
        let again: StatusClaim =
            serde_json::from_value(serde_json::to_value(&claim).unwrap()).unwrap();
        assert_eq!(again, claim);
    }

    #[test]
    fn status_claim_without_any_mechanism_is_rejected() {
        let err = serde_json::from_value::<StatusClaim>(json!({})).unwrap_err();
        assert!(err.to_string().contains("at least one"), "{err}");
    }

    #[test]
    fn status_claim_with_bad_reference_is_rejected() {
        for bad in [
            json!({ "status_list": { "idx": -1, "uri": "https://e.com/1" } }),
            json!({ "status_list": { "idx": 1 } }),
            json!({ "status_list": "https://e.com/1" }),
        ] {
            assert!(
                serde_json::from_value::<StatusClaim>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn status_list_claim_decodes() {
        let claim: StatusListClaim = serde_json::from_value(
            json!({ "bits": 2, "lst": "eNo76fITAAPfAgc", "aggregation_uri": "https://e.com/agg" }),
        )
        .unwrap();
        assert_eq!(claim.aggregation_uri.as_deref(), Some("https://e.com/agg"));
        let list = claim.decode(DecodeLimits::default()).unwrap();
        assert_eq!(list.as_bytes(), &[0xc9, 0x44, 0xf9]);
    }

    #[test]
    fn reading_a_status_claim_in_place_agrees_with_deserialize() {
        for value in [
            json!({ "status_list": { "idx": 7, "uri": "https://e.com/1" } }),
            json!({ "status_list": { "idx": 7, "uri": "https://e.com/1" }, "x-other": [1] }),
            json!({ "x-other": { "a": 1 } }),
            json!({ "status_list": null, "x-other": 1 }),
            json!({ "status_list": { "idx": -1, "uri": "https://e.com/1" } }),
            json!({ "status_list": { "idx": 7 } }),
            json!({ "status_list": "https://e.com/1" }),
            json!({}),
            json!([]),
            json!("status"),
        ] {
            let derived = serde_json::from_value::<StatusClaim>(value.clone()).ok();
            assert_eq!(StatusClaim::read(&value).ok(), derived, "{value}");
        }
    }
}
