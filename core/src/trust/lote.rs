//! Lists of Trusted Entities (LoTE) — ETSI TS 119 602 V1.1.1, JSON form
//! (Annex with the JSON schema `1960201_json_schema`), signed as a compact
//! JWS by the scheme operator.
//!
//! <https://www.etsi.org/deliver/etsi_ts/119600_119699/119602/01.01.01_60/ts_119602v010101p.pdf>
//!
//! The pipeline: [`verify`] (bytes of a compact JWS, the pinned
//! [`TrustAnchors`] of the operator, now, a [`LotePolicy`]) → the `x5c`
//! chain checked to the pin (the operator's CA, or its signing certificate
//! itself), then the ES256 signature with the chain's leaf, then the
//! payload: `LoTEVersionIdentifier`, `LoTEType` (one of the standard's
//! list profiles, EU or member state), `SchemeTerritory`,
//! `ListIssueDateTime`/`NextUpdate` (stale after `NextUpdate`, refused
//! after the grace period), each service's type (it must fit the list's
//! profile) and certificates → [`VerifiedLote`]: anchors per
//! [`ServiceType`] of the services whose status is not withdrawn, and
//! the pointers to other lists with their own pinned signers
//! ([`VerifiedLote::pointers`]; the caller follows them one level).
//!
//! [`ListState`] keeps the last good list: a candidate that fails a check
//! or goes back in `LoTESequenceNumber` never replaces it; both are
//! reported. [`sign`] makes a list (scheme operators, tests, the demo).
//!
//! The XML form of TS 119 602 is out of scope.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::x509::{Certificate, CertificateChain, TrustAnchors, X509Error};
use crate::jose::{Algorithm, CompactJws, Header, JoseError, Signer, sign_compact};

/// The prefix of every `LoTEType` (TS 119 602 Annexes D–I).
pub const LOTE_TYPE_PREFIX: &str = "http://uri.etsi.org/19602/LoTEType/";
/// The largest list accepted, in bytes (a country's list is tens of kB).
pub const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;
/// The default grace period after `NextUpdate`: seven days.
pub const DEFAULT_GRACE_SECONDS: i64 = 7 * 86_400;

/// The JSON document: `{"LoTE": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoteDocument {
    /// The list.
    #[serde(rename = "LoTE")]
    pub lote: Lote,
}

/// A List of Trusted Entities (§6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lote {
    /// §6.3: the list and its scheme.
    pub list_and_scheme_information: ListAndSchemeInformation,
    /// §6.5: the entities (absent in a list that only points elsewhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_entities_list: Vec<TrustedEntity>,
}

/// A string in one language (§6.1 `MultiLangString`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiLangString {
    /// BCP 47 language tag.
    pub lang: String,
    /// The text.
    pub value: String,
}

/// `ListAndSchemeInformation` (§6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListAndSchemeInformation {
    /// §6.3.1: the syntax version; 1 for V1.1.1.
    #[serde(rename = "LoTEVersionIdentifier")]
    pub version: u32,
    /// §6.3.2: grows with every issue of the list; never goes back.
    #[serde(rename = "LoTESequenceNumber")]
    pub sequence_number: u64,
    /// §6.3.3: the list profile (a URI under [`LOTE_TYPE_PREFIX`]).
    #[serde(rename = "LoTEType")]
    pub lote_type: String,
    /// §6.3.4: who operates the scheme.
    #[serde(rename = "SchemeOperatorName")]
    pub scheme_operator_name: Vec<MultiLangString>,
    /// §6.3.7: the scheme's name.
    #[serde(
        rename = "SchemeName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub scheme_name: Option<Vec<MultiLangString>>,
    /// §6.3.11: `EU` or an ISO 3166-1 alpha-2 code.
    #[serde(rename = "SchemeTerritory")]
    pub scheme_territory: String,
    /// §6.3.14: pointers to other lists, each with its signer's identity.
    #[serde(
        rename = "PointersToOtherLoTE",
        alias = "PointerToOtherLoTE",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pointers_to_other_lote: Vec<OtherLotePointer>,
    /// §6.3.15: when this list was issued (RFC 3339, UTC).
    #[serde(rename = "ListIssueDateTime")]
    pub list_issue_date_time: String,
    /// §6.3.16: when the next list is due (RFC 3339, UTC).
    #[serde(rename = "NextUpdate")]
    pub next_update: String,
    /// Other members (§6.3.5–6.3.13, 6.3.17–18), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A pointer to another list (§6.3.14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OtherLotePointer {
    /// Where the other list is published.
    #[serde(rename = "LoTELocation")]
    pub lote_location: String,
    /// The identities that may sign it: its own pinned signers.
    pub service_digital_identities: Vec<ServiceDigitalIdentity>,
    /// Other members (`LoTEQualifiers`), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One trusted entity (§6.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustedEntity {
    /// §6.5.1.
    pub trusted_entity_information: TrustedEntityInformation,
    /// §6.5.2: its services.
    pub trusted_entity_services: Vec<TrustedEntityService>,
}

/// `TrustedEntityInformation` (§6.5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustedEntityInformation {
    /// The entity's legal name(s).
    #[serde(rename = "TEName")]
    pub te_name: Vec<MultiLangString>,
    /// Other members (`TETradeName`, `TEAddress`, `TEInformationURI`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One service of an entity (§6.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustedEntityService {
    /// §6.6.1.
    pub service_information: ServiceInformation,
    /// Other members (`ServiceHistory`), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ServiceInformation` (§6.6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceInformation {
    /// The service's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<Vec<MultiLangString>>,
    /// What the service is (a URI; see [`ServiceType`]).
    pub service_type_identifier: String,
    /// Its status; absent means in force (the EU lists' profiles leave it
    /// out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_status: Option<String>,
    /// The keys or certificates of the service.
    pub service_digital_identity: ServiceDigitalIdentity,
    /// Other members (`StatusStartingTime`, `ServiceSupplyPoints`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ServiceDigitalIdentity` (§6.6.1.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceDigitalIdentity {
    /// X.509 certificates (the anchors of this service).
    #[serde(rename = "X509Certificates", default)]
    pub x509_certificates: Vec<PkiObject>,
    /// Other members (`X509SubjectNames`, `PublicKeyValues`, `X509SKIs`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A PKI object: base64 DER in `val` (§6.1 `PKIObject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkiObject {
    /// Standard base64 of the DER.
    pub val: String,
    /// Other members (`encoding`, `specRef`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PkiObject {
    /// The object for a certificate.
    pub fn certificate(certificate: &Certificate) -> Self {
        Self {
            val: certificate.to_x5c(),
            extra: Map::new(),
        }
    }
}

/// Service types a relying party acts on (TS 119 602 Annexes D–I, and the
/// TS 119 612 CA type that access CAs use). Others are kept as they came
/// and give no anchor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum ServiceType {
    /// `http://uri.etsi.org/19602/SvcType/PID/Issuance`.
    PidIssuance,
    /// `.../PID/Revocation`.
    PidRevocation,
    /// `.../PubEAA/Issuance`: public bodies attesting from authentic sources.
    PubEaaIssuance,
    /// `.../PubEAA/Revocation`.
    PubEaaRevocation,
    /// `.../QEAA/Issuance`.
    QeaaIssuance,
    /// `.../EAA/Issuance`.
    EaaIssuance,
    /// `.../WalletSolution/Issuance`: wallet providers.
    WalletSolutionIssuance,
    /// `.../WalletSolution/Revocation`.
    WalletSolutionRevocation,
    /// `.../WRPRC/Issuance`: registration certificate providers.
    WrprcIssuance,
    /// `.../WRPAC/Issuance`: access certificate providers.
    WrpacIssuance,
    /// `http://uri.etsi.org/TrstSvc/Svctype/CA/PKC`: a CA of public key
    /// certificates (relying-party access CAs in lists seen in the field).
    CaPkc,
    /// Anything else.
    Other(String),
}

const SVC: &str = "http://uri.etsi.org/19602/SvcType/";
const CA_PKC: &str = "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC";

impl From<String> for ServiceType {
    fn from(uri: String) -> Self {
        match uri.strip_prefix(SVC) {
            Some("PID/Issuance") => Self::PidIssuance,
            Some("PID/Revocation") => Self::PidRevocation,
            Some("PubEAA/Issuance") => Self::PubEaaIssuance,
            Some("PubEAA/Revocation") => Self::PubEaaRevocation,
            Some("QEAA/Issuance") => Self::QeaaIssuance,
            Some("EAA/Issuance") => Self::EaaIssuance,
            Some("WalletSolution/Issuance") => Self::WalletSolutionIssuance,
            Some("WalletSolution/Revocation") => Self::WalletSolutionRevocation,
            Some("WRPRC/Issuance") => Self::WrprcIssuance,
            Some("WRPAC/Issuance") => Self::WrpacIssuance,
            _ if uri == CA_PKC => Self::CaPkc,
            _ => Self::Other(uri),
        }
    }
}

impl From<ServiceType> for String {
    fn from(service: ServiceType) -> Self {
        service.uri()
    }
}

impl ServiceType {
    /// The URI.
    pub fn uri(&self) -> String {
        let tail = match self {
            Self::PidIssuance => "PID/Issuance",
            Self::PidRevocation => "PID/Revocation",
            Self::PubEaaIssuance => "PubEAA/Issuance",
            Self::PubEaaRevocation => "PubEAA/Revocation",
            Self::QeaaIssuance => "QEAA/Issuance",
            Self::EaaIssuance => "EAA/Issuance",
            Self::WalletSolutionIssuance => "WalletSolution/Issuance",
            Self::WalletSolutionRevocation => "WalletSolution/Revocation",
            Self::WrprcIssuance => "WRPRC/Issuance",
            Self::WrpacIssuance => "WRPAC/Issuance",
            Self::CaPkc => return CA_PKC.to_owned(),
            Self::Other(uri) => return uri.clone(),
        };
        format!("{SVC}{tail}")
    }

    /// Whether credentials from this service's providers are attestations
    /// of attributes (Pub-EAA, QEAA, EAA issuance).
    pub fn issues_attestations(&self) -> bool {
        matches!(
            self,
            Self::PubEaaIssuance | Self::QeaaIssuance | Self::EaaIssuance
        )
    }
}

/// The list profiles of TS 119 602 Annexes D–I that we accept, each with
/// the service types it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ListProfile {
    /// PID providers.
    PidProviders,
    /// Wallet providers.
    WalletProviders,
    /// Providers of relying-party access certificates.
    WrpacProviders,
    /// Providers of relying-party registration certificates.
    WrprcProviders,
    /// Public-sector EAA providers.
    PubEaaProviders,
    /// (Q)EAA providers.
    EaaProviders,
}

impl ListProfile {
    /// Reads a `LoTEType`: the EU form (`EUPIDProvidersList`) or a member
    /// state's (`PIDProvidersList`).
    pub fn from_lote_type(lote_type: &str) -> Option<Self> {
        let name = lote_type.strip_prefix(LOTE_TYPE_PREFIX)?;
        let name = name.strip_prefix("EU").unwrap_or(name);
        Some(match name {
            "PIDProvidersList" => Self::PidProviders,
            "WalletProvidersList" => Self::WalletProviders,
            "WRPACProvidersList" => Self::WrpacProviders,
            "WRPRCProvidersList" => Self::WrprcProviders,
            "PubEAAProvidersList" => Self::PubEaaProviders,
            "EAAProvidersList" | "QEAAProvidersList" => Self::EaaProviders,
            _ => return None,
        })
    }

    /// The `LoTEType` URI, EU form when `eu`.
    pub fn lote_type(self, eu: bool) -> String {
        let name = match self {
            Self::PidProviders => "PIDProvidersList",
            Self::WalletProviders => "WalletProvidersList",
            Self::WrpacProviders => "WRPACProvidersList",
            Self::WrprcProviders => "WRPRCProvidersList",
            Self::PubEaaProviders => "PubEAAProvidersList",
            Self::EaaProviders => "EAAProvidersList",
        };
        format!("{LOTE_TYPE_PREFIX}{}{name}", if eu { "EU" } else { "" })
    }

    /// Whether a list of this profile may carry `service`. Unknown
    /// service types are allowed (and give no anchor).
    pub fn carries(self, service: &ServiceType) -> bool {
        use ServiceType as S;
        match service {
            S::PidIssuance | S::PidRevocation => self == Self::PidProviders,
            S::WalletSolutionIssuance | S::WalletSolutionRevocation => {
                self == Self::WalletProviders
            }
            S::WrpacIssuance | S::CaPkc => self == Self::WrpacProviders,
            S::WrprcIssuance => self == Self::WrprcProviders,
            S::PubEaaIssuance | S::PubEaaRevocation => self == Self::PubEaaProviders,
            S::QeaaIssuance | S::EaaIssuance => self == Self::EaaProviders,
            S::Other(_) => true,
        }
    }
}

/// What a list may be, and how late it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotePolicy {
    /// Seconds after `NextUpdate` a list is still used (stale, warned
    /// about); after that it is refused. Default seven days.
    pub grace_seconds: i64,
    /// Clock skew allowed on `ListIssueDateTime`.
    pub skew_seconds: i64,
}

impl Default for LotePolicy {
    fn default() -> Self {
        Self {
            grace_seconds: DEFAULT_GRACE_SECONDS,
            skew_seconds: 300,
        }
    }
}

/// Why a list was refused. Each variant has a stable [`LoteError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoteError {
    /// Not a compact JWS, a header we refuse (`alg`, `typ`, `crit`), or a
    /// payload that is not a LoTE.
    #[error("malformed list: {0}")]
    Malformed(String),
    /// The list is larger than [`MAX_LIST_BYTES`].
    #[error("the list is larger than {MAX_LIST_BYTES} bytes")]
    TooLarge,
    /// The JWS has no `x5c`, or its chain does not lead to the pinned
    /// signer (or is expired).
    #[error("the list's signer is not the pinned one: {0}")]
    UntrustedSigner(String),
    /// The signature does not verify with the leaf of `x5c`.
    #[error("the list's signature does not verify")]
    SignatureInvalid,
    /// `LoTEType` is none of the accepted list profiles.
    #[error("LoTEType `{0}` is not an accepted list profile")]
    UnsupportedType(String),
    /// A service type that does not belong in this list's profile.
    #[error("service type `{service}` does not belong in a {profile:?} list")]
    ServiceType {
        /// The list's profile.
        profile: ListProfile,
        /// The service type.
        service: String,
    },
    /// `SchemeTerritory` is neither `EU` nor a two-letter country code.
    #[error("SchemeTerritory `{0}` is neither EU nor a country code")]
    Territory(String),
    /// `LoTEVersionIdentifier` is not 1.
    #[error("LoTEVersionIdentifier {0} is not supported")]
    Version(u32),
    /// A date-time is not RFC 3339.
    #[error("{field} is not an RFC 3339 date-time")]
    DateTime {
        /// The member.
        field: &'static str,
    },
    /// `ListIssueDateTime` is in the future.
    #[error("the list is issued in the future")]
    NotYetValid,
    /// Past `NextUpdate` plus the grace period.
    #[error("the list is past NextUpdate ({next_update}) and its grace period")]
    Expired {
        /// The list's `NextUpdate`.
        next_update: String,
    },
    /// `LoTESequenceNumber` lower than the last good list's.
    #[error("LoTESequenceNumber {found} is lower than the last good list's {known}")]
    Rollback {
        /// The last good list's number.
        known: u64,
        /// The candidate's.
        found: u64,
    },
    /// A service's certificate does not parse.
    #[error("entity {entity}: certificate {index} does not parse: {reason}")]
    Certificate {
        /// The entity's name.
        entity: String,
        /// Position among the service's certificates.
        index: usize,
        /// Why.
        reason: String,
    },
}

impl LoteError {
    /// The stable code (CLI stderr, `/healthz`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) | Self::DateTime { .. } | Self::Certificate { .. } => {
                "lote_malformed"
            }
            Self::TooLarge => "lote_too_large",
            Self::UntrustedSigner(_) => "lote_untrusted_signer",
            Self::SignatureInvalid => "lote_signature_invalid",
            Self::UnsupportedType(_) => "lote_type_unsupported",
            Self::ServiceType { .. } => "lote_service_type",
            Self::Territory(_) => "lote_territory",
            Self::Version(_) => "lote_version",
            Self::NotYetValid => "lote_not_yet_valid",
            Self::Expired { .. } => "lote_expired",
            Self::Rollback { .. } => "lote_rollback",
        }
    }
}

/// An entity's anchors for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedService {
    /// The entity's name (first `TEName`, English preferred).
    pub entity: String,
    /// The service type.
    pub service_type: ServiceType,
    /// Its certificates (trust anchors for what it signs).
    pub certificates: Vec<Certificate>,
}

/// A pointer to another list, with the signers pinned for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointedList {
    /// Where it is published.
    pub location: String,
    /// Its pinned signers.
    pub signers: TrustAnchors,
}

/// A list whose signature, signer and contents were checked. Only
/// [`verify`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedLote {
    /// The list as published.
    pub document: LoteDocument,
    /// Its profile.
    pub profile: ListProfile,
    /// `ListIssueDateTime`, seconds since the epoch.
    pub issued_at: i64,
    /// `NextUpdate`, seconds since the epoch.
    pub next_update: i64,
    /// Whether it was past `NextUpdate` (within the grace period) when
    /// verified.
    pub stale: bool,
    services: Vec<ListedService>,
    pointers: Vec<PointedList>,
}

impl VerifiedLote {
    /// `LoTESequenceNumber`.
    pub fn sequence_number(&self) -> u64 {
        self.document
            .lote
            .list_and_scheme_information
            .sequence_number
    }

    /// The list's name: `SchemeName` (English preferred), else the
    /// operator's name.
    pub fn name(&self) -> String {
        let info = &self.document.lote.list_and_scheme_information;
        info.scheme_name
            .as_deref()
            .and_then(preferred)
            .or_else(|| preferred(&info.scheme_operator_name))
            .unwrap_or_default()
    }

    /// Every service in force, with its anchors.
    pub fn services(&self) -> &[ListedService] {
        &self.services
    }

    /// The services in force of type `service_type`.
    pub fn services_of<'a>(
        &'a self,
        service_type: &'a ServiceType,
    ) -> impl Iterator<Item = &'a ListedService> + 'a {
        self.services
            .iter()
            .filter(move |s| &s.service_type == service_type)
    }

    /// The lists this one points to, with their pinned signers.
    pub fn pointers(&self) -> &[PointedList] {
        &self.pointers
    }

    /// Whether it is past `NextUpdate` plus `grace_seconds` at `now`.
    pub fn expired_at(&self, now: i64, grace_seconds: i64) -> bool {
        now > self.next_update.saturating_add(grace_seconds)
    }
}

fn preferred(names: &[MultiLangString]) -> Option<String> {
    names
        .iter()
        .find(|n| n.lang.eq_ignore_ascii_case("en"))
        .or_else(|| names.first())
        .map(|n| n.value.clone())
}

/// Service statuses that mean in force (TS 119 602 leaves status to the
/// scheme; TS 119 612's granted/recognised, and `notified` of the EU lists).
fn in_force(status: Option<&str>) -> bool {
    let Some(status) = status else {
        return true;
    };
    let last = status.rsplit('/').next().unwrap_or(status);
    matches!(
        last.to_ascii_lowercase().as_str(),
        "granted" | "recognisedatnationallevel" | "notified" | "accredited" | "undersupervision"
    )
}

/// Reads an RFC 3339 date-time.
fn timestamp(text: &str, field: &'static str) -> Result<i64, LoteError> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| LoteError::DateTime { field })
}

/// Verifies a compact JWS list against the pinned `signers` at `now`.
pub fn verify(
    jws: &[u8],
    signers: &TrustAnchors,
    now: i64,
    policy: &LotePolicy,
) -> Result<VerifiedLote, LoteError> {
    if jws.len() > MAX_LIST_BYTES {
        return Err(LoteError::TooLarge);
    }
    let text = std::str::from_utf8(jws)
        .map_err(|_| LoteError::Malformed("not UTF-8".into()))?
        .trim();
    let jws = CompactJws::parse(text).map_err(|e| LoteError::Malformed(e.to_string()))?;
    if jws.header.alg != Algorithm::ES256 {
        return Err(LoteError::Malformed(format!(
            "alg {} is not ES256",
            jws.header.alg.as_str()
        )));
    }
    match jws.header.typ.as_deref() {
        None | Some("JWT" | "jwt" | "jose" | "JOSE") => {}
        Some(other) => return Err(LoteError::Malformed(format!("typ `{other}`"))),
    }
    let x5c = jws
        .header
        .x5c
        .as_ref()
        .ok_or_else(|| LoteError::UntrustedSigner("the JWS has no x5c".into()))?;
    let chain =
        CertificateChain::from_x5c(x5c).map_err(|e| LoteError::UntrustedSigner(e.to_string()))?;
    let key = signer_key(&chain, signers, now)?;
    jws.verify_with(&key)
        .map_err(|_| LoteError::SignatureInvalid)?;
    let document: LoteDocument = serde_json::from_slice(&jws.payload)
        .map_err(|e| LoteError::Malformed(format!("payload: {e}")))?;
    check(document, now, policy)
}

/// The leaf key, if the chain leads to a pinned signer; a pinned
/// certificate may also be the leaf itself (then only its validity is
/// checked).
fn signer_key(
    chain: &CertificateChain,
    signers: &TrustAnchors,
    now: i64,
) -> Result<crate::jose::VerifyingKey, LoteError> {
    let leaf = chain.leaf();
    if signers.roots().iter().any(|pin| pin.der() == leaf.der()) {
        let (not_before, not_after) = leaf
            .validity()
            .ok_or_else(|| LoteError::UntrustedSigner("unreadable validity".into()))?;
        if now < not_before || now > not_after {
            return Err(LoteError::UntrustedSigner(X509Error::Expired.to_string()));
        }
        return leaf
            .public_key()
            .map_err(|e| LoteError::UntrustedSigner(e.to_string()));
    }
    chain
        .validate(signers, now)
        .map(|leaf| leaf.key)
        .map_err(|e| LoteError::UntrustedSigner(e.to_string()))
}

fn check(document: LoteDocument, now: i64, policy: &LotePolicy) -> Result<VerifiedLote, LoteError> {
    let info = &document.lote.list_and_scheme_information;
    if info.version != 1 {
        return Err(LoteError::Version(info.version));
    }
    let profile = ListProfile::from_lote_type(&info.lote_type)
        .ok_or_else(|| LoteError::UnsupportedType(info.lote_type.clone()))?;
    let territory = &info.scheme_territory;
    if !(territory.len() == 2 && territory.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(LoteError::Territory(territory.clone()));
    }
    let issued_at = timestamp(&info.list_issue_date_time, "ListIssueDateTime")?;
    let next_update = timestamp(&info.next_update, "NextUpdate")?;
    if issued_at > now.saturating_add(policy.skew_seconds) {
        return Err(LoteError::NotYetValid);
    }
    if now > next_update.saturating_add(policy.grace_seconds) {
        return Err(LoteError::Expired {
            next_update: info.next_update.clone(),
        });
    }
    let mut services = Vec::new();
    for entity in &document.lote.trusted_entities_list {
        let name = preferred(&entity.trusted_entity_information.te_name).unwrap_or_default();
        for service in &entity.trusted_entity_services {
            let information = &service.service_information;
            let service_type = ServiceType::from(information.service_type_identifier.clone());
            if !profile.carries(&service_type) {
                return Err(LoteError::ServiceType {
                    profile,
                    service: information.service_type_identifier.clone(),
                });
            }
            let certificates = certificates(&information.service_digital_identity, &name)?;
            if matches!(service_type, ServiceType::Other(_))
                || !in_force(information.service_status.as_deref())
            {
                continue;
            }
            services.push(ListedService {
                entity: name.clone(),
                service_type,
                certificates,
            });
        }
    }
    let pointers = info
        .pointers_to_other_lote
        .iter()
        .map(|pointer| {
            let pins = pointer
                .service_digital_identities
                .iter()
                .map(|identity| certificates(identity, &pointer.lote_location))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect();
            let signers = TrustAnchors::new(pins).map_err(|e| LoteError::Certificate {
                entity: pointer.lote_location.clone(),
                index: 0,
                reason: e.to_string(),
            })?;
            Ok(PointedList {
                location: pointer.lote_location.clone(),
                signers,
            })
        })
        .collect::<Result<Vec<_>, LoteError>>()?;
    Ok(VerifiedLote {
        profile,
        issued_at,
        next_update,
        stale: now > next_update,
        services,
        pointers,
        document,
    })
}

fn certificates(
    identity: &ServiceDigitalIdentity,
    entity: &str,
) -> Result<Vec<Certificate>, LoteError> {
    identity
        .x509_certificates
        .iter()
        .enumerate()
        .map(|(index, object)| {
            let failed = |reason: String| LoteError::Certificate {
                entity: entity.to_owned(),
                index,
                reason,
            };
            use base64::Engine as _;
            let der = base64::engine::general_purpose::STANDARD
                .decode(object.val.trim())
                .map_err(|e| failed(e.to_string()))?;
            Certificate::from_der(der, index).map_err(|e| failed(e.to_string()))
        })
        .collect()
}

/// Signs a list as a compact JWS (`typ: JWT`, ES256) with `x5c`: the
/// operator's signing certificate, then intermediates (never the root).
pub fn sign(
    document: &LoteDocument,
    signer: &(impl Signer + ?Sized),
    x5c: Vec<String>,
) -> Result<String, JoseError> {
    let mut header = Header::new(Algorithm::ES256).typ("JWT");
    header.x5c = Some(x5c);
    let payload = serde_json::to_vec(document).map_err(|_| JoseError::Signing)?;
    sign_compact(&header, &payload, signer)
}

/// One list's state: the last good list, and the last refusal (kept until
/// a good list comes).
#[derive(Debug, Clone, Default)]
pub struct ListState {
    /// The list in use.
    pub good: Option<VerifiedLote>,
    /// The last candidate refused, and when.
    pub last_error: Option<(LoteError, i64)>,
}

impl ListState {
    /// Takes the outcome of a fetch and check at `now`: a verified list
    /// replaces the good one unless its `LoTESequenceNumber` is lower; a
    /// refusal never replaces it. Returns whether the good list changed.
    pub fn offer(&mut self, candidate: Result<VerifiedLote, LoteError>, now: i64) -> bool {
        let candidate = candidate.and_then(|list| match &self.good {
            Some(good) if list.sequence_number() < good.sequence_number() => {
                Err(LoteError::Rollback {
                    known: good.sequence_number(),
                    found: list.sequence_number(),
                })
            }
            _ => Ok(list),
        });
        match candidate {
            Ok(list) => {
                self.good = Some(list);
                self.last_error = None;
                true
            }
            Err(error) => {
                self.last_error = Some((error, now));
                false
            }
        }
    }

    /// The good list, if it is not past `NextUpdate` plus the grace period.
    pub fn usable(&self, now: i64, grace_seconds: i64) -> Option<&VerifiedLote> {
        self.good
            .as_ref()
            .filter(|list| !list.expired_at(now, grace_seconds))
    }
}
