//! Credential Offer — OpenID4VCI 1.0 §4.1.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-credential-offer>
//!
//! The offer travels by value (`?credential_offer=<JSON>`) or by reference
//! (`?credential_offer_uri=<https URL>`) in a link such as
//! `openid-credential-offer://?…`. [`CredentialOffer::from_uri`] reads
//! either form from untrusted input without panicking;
//! [`CredentialOfferRequest::to_uri`] writes them.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::UrlRules;
use super::form::{self, FormError};
use super::id::{CredentialConfigurationId, IssuerState, PreAuthorizedCode, TxCode};
use super::metadata::CredentialIssuerMetadata;

/// The custom scheme wallets register for offers (§4.1).
pub const CREDENTIAL_OFFER_SCHEME: &str = "openid-credential-offer://";
/// `haip-vci://`, the issuance invocation scheme of HAIP 1.0 (§4.1). The
/// query is the same as [`CREDENTIAL_OFFER_SCHEME`]'s.
pub const HAIP_VCI_SCHEME: &str = "haip-vci://";
/// The schemes a wallet answers as credential offers, besides https
/// links: [`CREDENTIAL_OFFER_SCHEME`] and [`HAIP_VCI_SCHEME`].
pub const OFFER_SCHEMES: [&str; 2] = [CREDENTIAL_OFFER_SCHEME, HAIP_VCI_SCHEME];

/// The most characters a `tx_code.description` may have (§4.1.1).
pub const MAX_TX_CODE_DESCRIPTION: usize = 300;

/// The Credential Offer object (§4.1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// `credential_issuer`: the Credential Issuer Identifier (an https URL).
    pub credential_issuer: String,
    /// `credential_configuration_ids`: non-empty, unique keys of the
    /// issuer's `credential_configurations_supported`.
    pub credential_configuration_ids: Vec<CredentialConfigurationId>,
    /// `grants`: the grant types the Authorization Server will accept for
    /// this offer. Absent: the Wallet reads them from metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Grants>,
    /// Parameters this version does not define; the Wallet ignores them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `grants` (§4.1.1). Open: grant types we do not know stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    /// `authorization_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
    /// Other grant types.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Grant type `authorization_code` in an offer (§4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// `issuer_state`: echo it in the Authorization Request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<IssuerState>,
    /// `authorization_server`: which of the metadata's
    /// `authorization_servers` to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
    /// Other parameters.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Grant type `urn:ietf:params:oauth:grant-type:pre-authorized_code` in an
/// offer (§4.1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// `pre-authorized_code`: short-lived, single use.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: PreAuthorizedCode,
    /// `tx_code`: present (even empty) when a Transaction Code is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCodeSpec>,
    /// `authorization_server`: which of the metadata's
    /// `authorization_servers` to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
    /// Other parameters.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tx_code` in a pre-authorized grant (§4.1.1): what the Transaction Code
/// looks like, so the Wallet can render its input screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TxCodeSpec {
    /// `input_mode`: `numeric` (the default) or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<InputMode>,
    /// `length`: how many characters the code has.
    #[serde(
        default,
        deserialize_with = "super::json::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub length: Option<u64>,
    /// `description`: guidance for the End-User, at most 300 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other parameters.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tx_code.input_mode` (§4.1.1). Closed: the spec defines two values and
/// the Wallet's keyboard depends on which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// Digits only.
    #[default]
    Numeric,
    /// Any characters.
    Text,
}

/// Why a typed Transaction Code does not fit the offer's [`TxCodeSpec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxCodeError {
    /// `input_mode` is `numeric` (or absent) but the code has a non-digit.
    #[error("the transaction code must contain digits only")]
    NotNumeric,
    /// The code's length differs from `length`.
    #[error("the transaction code must have {expected} characters, not {actual}")]
    WrongLength {
        /// `length` from the offer.
        expected: u64,
        /// Characters entered.
        actual: usize,
    },
}

impl TxCodeSpec {
    /// The input mode, applying the default (`numeric`).
    pub fn input_mode(&self) -> InputMode {
        self.input_mode.unwrap_or_default()
    }

    /// Checks a code against the input mode and length. The Wallet uses it
    /// before sending; the Authorization Server still compares the value.
    pub fn check(&self, code: &TxCode) -> Result<(), TxCodeError> {
        let text = code.as_str();
        if self.input_mode() == InputMode::Numeric && !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(TxCodeError::NotNumeric);
        }
        let actual = text.chars().count();
        match self.length {
            Some(expected) if u64::try_from(actual).ok() != Some(expected) => {
                Err(TxCodeError::WrongLength { expected, actual })
            }
            _ => Ok(()),
        }
    }
}

/// An offer as carried in a link: by value or by reference (§4.1).
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialOfferRequest {
    /// `credential_offer`: the offer itself.
    ByValue(Box<CredentialOffer>),
    /// `credential_offer_uri`: an https URL the Wallet must GET (with its
    /// own SSRF rules) and parse with [`CredentialOffer::from_json`].
    ByReference(String),
}

/// Why an offer, or a link carrying one, was refused.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    /// The link has no query component (`?…`).
    #[error("the credential offer link has no query")]
    NoQuery,
    /// The query is not valid form encoding (bad `%` escape, not UTF-8, a
    /// repeated parameter).
    #[error("the credential offer link's query is malformed: {0}")]
    Query(#[from] FormError),
    /// Neither `credential_offer` nor `credential_offer_uri` is present.
    #[error("the link has neither `credential_offer` nor `credential_offer_uri`")]
    MissingOffer,
    /// Both `credential_offer` and `credential_offer_uri` are present (§4.1
    /// allows exactly one).
    #[error("the link has both `credential_offer` and `credential_offer_uri`")]
    BothOfferParameters,
    /// `credential_offer_uri` is not an https URL.
    #[error("`credential_offer_uri` must be an https URL, not `{0}`")]
    OfferUriNotHttps(String),
    /// The offer is not JSON, or not an offer object (a field has the wrong
    /// type, a required one is missing, an identifier is empty or blank).
    #[error("the credential offer is malformed: {0}")]
    Malformed(#[source] serde_json::Error),
    /// `credential_issuer` is not an https URL without query or fragment.
    #[error("`credential_issuer` must be an https URL without query or fragment, not `{0}`")]
    IssuerNotHttps(String),
    /// `credential_configuration_ids` is empty.
    #[error("`credential_configuration_ids` must not be empty")]
    NoCredentialConfigurations,
    /// An id appears twice in `credential_configuration_ids`.
    #[error("`credential_configuration_ids` lists `{0}` twice")]
    DuplicateCredentialConfiguration(CredentialConfigurationId),
    /// `tx_code.description` is longer than 300 characters.
    #[error("`tx_code.description` has {0} characters; at most 300 are allowed")]
    TxCodeDescriptionTooLong(usize),
    /// The offer names an issuer other than the metadata's.
    #[error("the offer is for `{offer}` but the metadata is for `{metadata}`")]
    IssuerMismatch {
        /// `credential_issuer` of the offer.
        offer: String,
        /// `credential_issuer` of the metadata.
        metadata: String,
    },
    /// An offered configuration is not in the issuer's
    /// `credential_configurations_supported`.
    #[error("credential configuration `{0}` is not in the issuer's metadata")]
    UnknownCredentialConfiguration(CredentialConfigurationId),
    /// A grant's `authorization_server` is not one of the metadata's
    /// `authorization_servers`.
    #[error("authorization server `{0}` is not listed in the issuer's metadata")]
    UnknownAuthorizationServer(String),
}

impl CredentialOffer {
    /// An offer of `ids` with a pre-authorized code and, if `tx_code` is
    /// given, a Transaction Code requirement.
    pub fn pre_authorized(
        credential_issuer: impl Into<String>,
        ids: Vec<CredentialConfigurationId>,
        code: PreAuthorizedCode,
        tx_code: Option<TxCodeSpec>,
    ) -> Self {
        Self {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids: ids,
            grants: Some(Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code: code,
                    tx_code,
                    authorization_server: None,
                    extra: Map::new(),
                }),
                ..Grants::default()
            }),
            extra: Map::new(),
        }
    }

    /// Parses and [validates](Self::validate) an offer object (the body of
    /// a `credential_offer_uri` response, or the decoded parameter).
    pub fn from_json(json: &str) -> Result<Self, OfferError> {
        Self::from_json_with(json, UrlRules::HttpsOnly)
    }

    /// [`from_json`](Self::from_json) under other URL rules.
    pub fn from_json_with(json: &str, rules: UrlRules) -> Result<Self, OfferError> {
        let offer: Self = serde_json::from_str(json).map_err(OfferError::Malformed)?;
        offer.validate_with(rules)?;
        Ok(offer)
    }

    /// Reads an offer link (`openid-credential-offer://?…`, `haip-vci://?…` or
    /// a Wallet's https Credential Offer Endpoint). The scheme is the
    /// caller's business; this reads the query. Never panics.
    pub fn from_uri(uri: &str) -> Result<CredentialOfferRequest, OfferError> {
        Self::from_uri_with(uri, UrlRules::HttpsOnly)
    }

    /// [`from_uri`](Self::from_uri) under other URL rules.
    pub fn from_uri_with(uri: &str, rules: UrlRules) -> Result<CredentialOfferRequest, OfferError> {
        let without_fragment = uri.split_once('#').map_or(uri, |(before, _)| before);
        let (_, query) = without_fragment
            .split_once('?')
            .ok_or(OfferError::NoQuery)?;
        let mut params = form::parse(query)?;
        match (
            params.remove("credential_offer"),
            params.remove("credential_offer_uri"),
        ) {
            (Some(_), Some(_)) => Err(OfferError::BothOfferParameters),
            (None, None) => Err(OfferError::MissingOffer),
            (Some(json), None) => Ok(CredentialOfferRequest::ByValue(Box::new(
                Self::from_json_with(&json, rules)?,
            ))),
            (None, Some(url)) if rules.allows(&url) => Ok(CredentialOfferRequest::ByReference(url)),
            (None, Some(url)) => Err(OfferError::OfferUriNotHttps(url)),
        }
    }

    /// The checks §4.1.1 makes that serde cannot: an https issuer, a
    /// non-empty list of unique ids, a short enough `tx_code.description`.
    pub fn validate(&self) -> Result<(), OfferError> {
        self.validate_with(UrlRules::HttpsOnly)
    }

    /// [`validate`](Self::validate) under other URL rules.
    pub fn validate_with(&self, rules: UrlRules) -> Result<(), OfferError> {
        if !rules.allows(&self.credential_issuer) || self.credential_issuer.contains(['?', '#']) {
            return Err(OfferError::IssuerNotHttps(self.credential_issuer.clone()));
        }
        if self.credential_configuration_ids.is_empty() {
            return Err(OfferError::NoCredentialConfigurations);
        }
        let mut seen = HashSet::new();
        for id in &self.credential_configuration_ids {
            if !seen.insert(id) {
                return Err(OfferError::DuplicateCredentialConfiguration(id.clone()));
            }
        }
        let description = self
            .pre_authorized_grant()
            .and_then(|grant| grant.tx_code.as_ref())
            .and_then(|tx| tx.description.as_deref());
        if let Some(description) = description {
            let count = description.chars().count();
            if count > MAX_TX_CODE_DESCRIPTION {
                return Err(OfferError::TxCodeDescriptionTooLong(count));
            }
        }
        Ok(())
    }

    /// Checks the offer against the issuer's metadata, as a Wallet must
    /// before acting on it: same issuer, every configuration known, every
    /// named authorization server listed.
    pub fn validate_against(&self, metadata: &CredentialIssuerMetadata) -> Result<(), OfferError> {
        if self.credential_issuer != metadata.credential_issuer {
            return Err(OfferError::IssuerMismatch {
                offer: self.credential_issuer.clone(),
                metadata: metadata.credential_issuer.clone(),
            });
        }
        if let Some(id) = self.credential_configuration_ids.iter().find(|id| {
            !metadata
                .credential_configurations_supported
                .contains_key(*id)
        }) {
            return Err(OfferError::UnknownCredentialConfiguration(id.clone()));
        }
        let named = self.grants.iter().flat_map(|grants| {
            let auth = grants.authorization_code.as_ref();
            let pre = grants.pre_authorized_code.as_ref();
            auth.and_then(|g| g.authorization_server.as_ref())
                .into_iter()
                .chain(pre.and_then(|g| g.authorization_server.as_ref()))
        });
        let listed = metadata
            .authorization_servers
            .as_deref()
            .unwrap_or_default();
        for server in named {
            if !listed.contains(server) {
                return Err(OfferError::UnknownAuthorizationServer(server.clone()));
            }
        }
        Ok(())
    }

    /// The pre-authorized code grant, if offered.
    pub fn pre_authorized_grant(&self) -> Option<&PreAuthorizedCodeGrant> {
        self.grants.as_ref()?.pre_authorized_code.as_ref()
    }

    /// The authorization code grant, if offered.
    pub fn authorization_code_grant(&self) -> Option<&AuthorizationCodeGrant> {
        self.grants.as_ref()?.authorization_code.as_ref()
    }

    /// The offer by value as an `openid-credential-offer://` link.
    pub fn to_uri(&self) -> String {
        CredentialOfferRequest::ByValue(Box::new(self.clone())).to_uri()
    }
}

impl CredentialOfferRequest {
    /// The link with the `openid-credential-offer://` scheme.
    pub fn to_uri(&self) -> String {
        self.to_uri_with_base(CREDENTIAL_OFFER_SCHEME)
    }

    /// The link on another base, e.g. a Wallet's `credential_offer_endpoint`
    /// or [`HAIP_VCI_SCHEME`]. A `?` is added, or `&` if `base` has a query already.
    pub fn to_uri_with_base(&self, base: &str) -> String {
        let param = match self {
            Self::ByValue(offer) => {
                // Serializing plain data structs with string keys cannot
                // fail; an empty object would be refused by any reader.
                let json = serde_json::to_string(offer).unwrap_or_else(|_| "{}".to_owned());
                form::serialize([("credential_offer", json.as_str())])
            }
            Self::ByReference(url) => form::serialize([("credential_offer_uri", url.as_str())]),
        };
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}{param}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> CredentialOffer {
        CredentialOffer::pre_authorized(
            "https://issuer.example",
            vec!["registration-certificate".parse().unwrap()],
            "code-123".parse().unwrap(),
            Some(TxCodeSpec {
                input_mode: Some(InputMode::Numeric),
                length: Some(6),
                description: Some("PIN från handläggaren".into()),
                extra: Map::new(),
            }),
        )
    }

    #[test]
    fn by_value_round_trips_through_the_link() {
        let uri = offer().to_uri();
        assert!(uri.starts_with("openid-credential-offer://?credential_offer=%7B"));
        assert!(!uri.contains(' ') && !uri.contains('+'));
        let CredentialOfferRequest::ByValue(back) = CredentialOffer::from_uri(&uri).unwrap() else {
            panic!("expected by value");
        };
        assert_eq!(*back, offer());
    }

    #[test]
    fn by_reference_round_trips_and_must_be_https() {
        let request = CredentialOfferRequest::ByReference("https://issuer.example/o/1".into());
        let uri = request.to_uri_with_base(HAIP_VCI_SCHEME);
        assert!(uri.starts_with("haip-vci://?credential_offer_uri=https%3A%2F%2F"));
        assert_eq!(CredentialOffer::from_uri(&uri).unwrap(), request);
        assert!(matches!(
            CredentialOffer::from_uri("openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fx"),
            Err(OfferError::OfferUriNotHttps(u)) if u == "http://x"
        ));
        let with_query = request.to_uri_with_base("https://wallet.example/offer?lang=sv");
        assert!(with_query.contains("?lang=sv&credential_offer_uri="));
    }

    #[test]
    fn link_shapes_are_checked() {
        assert!(matches!(
            CredentialOffer::from_uri("openid-credential-offer://"),
            Err(OfferError::NoQuery)
        ));
        assert!(matches!(
            CredentialOffer::from_uri("openid-credential-offer://?x=1"),
            Err(OfferError::MissingOffer)
        ));
        assert!(matches!(
            CredentialOffer::from_uri(
                "x://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa"
            ),
            Err(OfferError::BothOfferParameters)
        ));
        assert!(matches!(
            CredentialOffer::from_uri("x://?credential_offer=%7"),
            Err(OfferError::Query(FormError::BadEscape(_)))
        ));
        assert!(matches!(
            CredentialOffer::from_uri("x://?credential_offer=%7B"),
            Err(OfferError::Malformed(_))
        ));
    }

    #[test]
    fn semantic_checks() {
        let mut o = offer();
        o.credential_issuer = "http://issuer.example".into();
        assert!(matches!(o.validate(), Err(OfferError::IssuerNotHttps(_))));
        let mut o = offer();
        o.credential_configuration_ids.clear();
        assert!(matches!(
            o.validate(),
            Err(OfferError::NoCredentialConfigurations)
        ));
        let mut o = offer();
        o.credential_configuration_ids
            .push("registration-certificate".parse().unwrap());
        assert!(matches!(
            o.validate(),
            Err(OfferError::DuplicateCredentialConfiguration(_))
        ));
        let mut o = offer();
        if let Some(grant) = o
            .grants
            .as_mut()
            .and_then(|g| g.pre_authorized_code.as_mut())
        {
            grant.tx_code.as_mut().unwrap().description = Some("å".repeat(301));
        }
        assert!(matches!(
            o.validate(),
            Err(OfferError::TxCodeDescriptionTooLong(301))
        ));
    }

    #[test]
    fn offer_is_checked_against_metadata() {
        let mut metadata: CredentialIssuerMetadata = serde_json::from_value(serde_json::json!({
            "credential_issuer": "https://issuer.example",
            "authorization_servers": ["https://as.example"],
            "credential_endpoint": "https://issuer.example/credential",
            "credential_configurations_supported": {
                "registration-certificate": {"format": "dc+sd-jwt"}
            }
        }))
        .unwrap();
        let mut o = offer();
        assert!(o.validate_against(&metadata).is_ok());
        if let Some(grant) = o
            .grants
            .as_mut()
            .and_then(|g| g.pre_authorized_code.as_mut())
        {
            grant.authorization_server = Some("https://other-as.example".into());
        }
        assert!(matches!(
            o.validate_against(&metadata),
            Err(OfferError::UnknownAuthorizationServer(s)) if s == "https://other-as.example"
        ));
        metadata.credential_issuer = "https://elsewhere.example".into();
        assert!(matches!(
            offer().validate_against(&metadata),
            Err(OfferError::IssuerMismatch { .. })
        ));
    }

    #[test]
    fn tx_code_is_checked_against_the_spec() {
        let spec = offer()
            .pre_authorized_grant()
            .unwrap()
            .tx_code
            .clone()
            .unwrap();
        assert_eq!(spec.check(&"493536".parse().unwrap()), Ok(()));
        assert_eq!(
            spec.check(&"49353a".parse().unwrap()),
            Err(TxCodeError::NotNumeric)
        );
        assert_eq!(
            spec.check(&"4935".parse().unwrap()),
            Err(TxCodeError::WrongLength {
                expected: 6,
                actual: 4
            })
        );
        let text = TxCodeSpec {
            input_mode: Some(InputMode::Text),
            ..TxCodeSpec::default()
        };
        assert_eq!(text.check(&"abc".parse().unwrap()), Ok(()));
    }

    #[test]
    fn untrusted_links_never_panic() {
        for input in [
            "",
            "?",
            "#?",
            "?&&&",
            "?=",
            "?credential_offer",
            "?credential_offer=",
            "?credential_offer=null",
            "?credential_offer=%5B%5D",
            "?credential_offer=%E2%82",
            "?credential_offer_uri=",
            "\u{0}?\u{0}=\u{0}",
            "?credential_offer=%7B%22credential_issuer%22%3A1%7D",
        ] {
            assert!(CredentialOffer::from_uri(input).is_err(), "{input}");
        }
    }
}
