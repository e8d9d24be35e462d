//! Wallet-Relying Party Registration Certificates (WRPRC) in JWT form —
//! ETSI TS 119 475 V1.2.1 §5.2 (`typ: rc-wrp+jwt`), carried in the
//! `verifier_info` Authorization Request parameter of OpenID4VP 1.0 §5.1
//! as `{"format": "registration_cert", "data": "<JWT>"}`.
//!
//! <https://www.etsi.org/deliver/etsi_ts/119400_119499/119475/01.02.01_60/ts_119475v010201p.pdf>
//!
//! A registrar (the WRPRC provider) signs what a relying party registered:
//! who it is (`sub`, the semantic identifier of its access certificate),
//! why it asks (`purpose`, in several languages), which credentials and
//! claims it may request (`credentials`, DCQL-shaped), its privacy policy
//! and where a data subject asks for deletion (`support_uri`).
//!
//! The pipeline, as types: [`RegistrationClaims`] → [`sign`] (the
//! provider) → compact JWT in [`VerifierInfo`](crate::oid4vp::VerifierInfo)
//! → [`verify`] against the provider roots at the caller's time →
//! [`VerifiedRegistration`] → [`VerifiedRegistration::check_bound`] to the
//! Verifier's validated access certificate → [`RegistrationClaims::overasked`]
//! compares a DCQL query with what was registered ([`scope`]). Only
//! [`verify`] makes a `VerifiedRegistration`. A `status` reference is for
//! the caller to fetch (this crate does no I/O); its decision goes back in
//! through [`crate::status_list`].
//!
//! | spec element (TS 119 475 Table 7–10) | Rust |
//! |---|---|
//! | payload | [`RegistrationClaims`] |
//! | `MultiLangString` (B.2.6) | [`MultiLangString`] |
//! | `Credential` (B.2.9), `claim` | [`RegisteredCredential`], [`RegisteredClaim`] |
//! | `supervisory_authority` | [`SupervisoryAuthority`] |
//! | `status` | [`crate::status_list::StatusClaim`] |
//! | header (Table 5) | [`crate::jose::Header`] with [`TYP`] and `x5c` |

pub mod scope;
mod verify;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use scope::{Overasked, OveraskedCredential};
pub use verify::{RegistrationError, VerifiedRegistration, access_identifier, sign, verify};

use crate::dcql::ClaimsPath;
use crate::status_list::StatusClaim;

/// The JOSE `typ` of a WRPRC in JWT form (TS 119 475 §5.2.2, Table 5).
pub const TYP: &str = "rc-wrp+jwt";

/// The `verifier_info` `format` that carries a registration certificate
/// (the value the EUDI ecosystem uses with OpenID4VP 1.0 §5.1).
pub const VERIFIER_INFO_FORMAT: &str = "registration_cert";

/// The entitlement of a relying party that requests attestations
/// (TS 119 475 Annex A.2).
pub const SERVICE_PROVIDER: &str = "https://uri.etsi.org/19475/Entitlement/Service_Provider";

/// The longest lifetime `exp - iat` a certificate may have: 12 months
/// (GEN-5.2.4-08), counted as 366 days.
pub const MAX_LIFETIME_SECONDS: i64 = 366 * 24 * 60 * 60;

/// A text in one language (TS 119 475 B.2.6 `MultiLangString`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiLangString {
    /// BCP 47 language tag, e.g. `sv` or `en-GB`.
    pub lang: String,
    /// The text.
    pub value: String,
}

/// Picks the text for `locale` from a list of translations: the same
/// primary language first, then English, then the first one.
pub fn localized<'a>(texts: &'a [MultiLangString], locale: &str) -> Option<&'a str> {
    let primary = |tag: &str| {
        tag.split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let wanted = primary(locale);
    texts
        .iter()
        .find(|t| primary(&t.lang) == wanted)
        .or_else(|| texts.iter().find(|t| primary(&t.lang) == "en"))
        .or_else(|| texts.first())
        .map(|t| t.value.as_str())
}

/// One registered claim (TS 119 475 B.2.10 `Claim`): a DCQL claims path
/// pointer (OpenID4VP 1.0 §7) and, optionally, the values it may be
/// asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredClaim {
    /// `path`: the claim within the credential.
    pub path: ClaimsPath,
    /// `values`: the expected values, if restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// One registered credential (TS 119 475 B.2.9 `Credential`): the format
/// and DCQL `meta` of a credential the relying party may request, and the
/// claims of it. The array is named `claim` in V1.2.1 (Tables 8, 9); the
/// anticipated correction `claims` is read too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredCredential {
    /// `format`: a Credential Format Identifier, e.g. `dc+sd-jwt`.
    pub format: String,
    /// `meta`: the format's DCQL metadata, e.g. `vct_values`.
    #[serde(default)]
    pub meta: Map<String, Value>,
    /// `claim`: the claims that may be requested; absent means the whole
    /// credential.
    #[serde(default, alias = "claims", skip_serializing_if = "Option::is_none")]
    pub claim: Option<Vec<RegisteredClaim>>,
}

impl RegisteredCredential {
    /// The registered `vct_values` (SD-JWT VC).
    pub fn vct_values(&self) -> Vec<&str> {
        self.meta
            .get("vct_values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// The Data Protection Authority supervising the relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisoryAuthority {
    /// Its e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Its telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Its complaint web form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// The payload of a registration certificate (TS 119 475 §5.2.4, Tables
/// 7–10). Open: members not typed here are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationClaims {
    /// `name`: the relying party's trade name.
    pub name: String,
    /// `sub_ln`: its legal name (a legal person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_ln: Option<String>,
    /// `sub`: its semantic identifier (ETSI EN 319 412-1, e.g.
    /// `NTRSE-5560000000`), the one its access certificate names.
    pub sub: String,
    /// `country`: ISO 3166-1 alpha-2.
    pub country: String,
    /// `registry_uri`: the national register's API.
    pub registry_uri: String,
    /// `srv_description`: what its service is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srv_description: Option<Vec<MultiLangString>>,
    /// `entitlements`: Annex A.2 URIs; at least one.
    pub entitlements: Vec<String>,
    /// `privacy_policy`: URL of its privacy policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_policy: Option<String>,
    /// `info_uri`: a general web address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_uri: Option<String>,
    /// `support_uri`: where a data subject asks for deletion or
    /// portability of its data (the erasure endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_uri: Option<String>,
    /// `supervisory_authority`: its Data Protection Authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisory_authority: Option<SupervisoryAuthority>,
    /// `policy_id`: certificate policy OIDs (§6.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<Vec<String>>,
    /// `certificate_policy`: URL of the provider's policy and practice
    /// statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_policy: Option<String>,
    /// `jti`: an identifier of this certificate (RFC 7519).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `iat`: when it was issued.
    pub iat: i64,
    /// `exp`: when it expires; at most 12 months after `iat`. Intyg
    /// requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// `status`: where its revocation status is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusClaim>,
    /// `purpose`: why it processes the data, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Vec<MultiLangString>>,
    /// `credentials`: what it may request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<RegisteredCredential>>,
    /// `intended_use_id`: the register's identifier of this intended use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_use_id: Option<String>,
    /// `public_body`: whether it is a public sector body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_body: Option<bool>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
