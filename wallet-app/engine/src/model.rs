//! What the wallet keeps: credentials (an index entry and the batch
//! copies), holder keys and the history log. Every one of these is sealed
//! before it reaches the store.

use std::collections::BTreeMap;

use intyg_core::dcql::{Candidate, ClaimsPath, CredentialFormat};
use intyg_core::vc::metadata::TypeMetadata;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A held credential as the wallet lists and matches it: everything but
/// the copies and keys. Loaded at unlock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialEntry {
    /// Random identifier, unrelated to the content.
    pub id: String,
    /// The credential issuer (`iss`, or the OpenID4VCI `credential_issuer`).
    pub issuer: String,
    /// The issuer's display name, when its metadata gives one.
    pub issuer_name: Option<String>,
    /// `vct`.
    pub vct: String,
    /// The format: `dc+sd-jwt`.
    pub format: String,
    /// The OpenID4VCI credential configuration it was issued under.
    pub configuration_id: Option<String>,
    /// Names, colours and claim labels, when the issuer or the type says.
    pub display: Display,
    /// Every claim with every disclosure revealed (the holder's view),
    /// registered claims included: what DCQL matches against.
    pub claims: Map<String, Value>,
    /// When the wallet received it (Unix seconds).
    pub received_at: i64,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
    /// How many copies there are, and how many were presented.
    pub copies: usize,
    /// Copies presented at least once.
    pub copies_used: usize,
    /// What the issuer's status list said when last asked.
    #[serde(default)]
    pub status: StatusCheck,
    /// The name of a trust list in force whose providers issued it (its
    /// `x5c` chains to a listed PID or attestation provider): "issued by
    /// a provider on <list>". Set on receipt, re-derived when lists change.
    #[serde(default)]
    pub listed_on: Option<String>,
}

impl CredentialEntry {
    /// The DCQL view of this credential.
    pub fn candidate(&self) -> Candidate {
        Candidate {
            id: self.id.clone(),
            format: CredentialFormat::from(self.format.as_str()),
            vct: Some(self.vct.clone()),
            doctype: None,
            claims: Value::Object(self.claims.clone()),
            holder_binding: true,
            authorities: None,
        }
    }

    /// The claims without the registered JWT and SD-JWT VC ones.
    pub fn subject_claims(&self) -> Map<String, Value> {
        self.claims
            .iter()
            .filter(|(name, _)| !REGISTERED.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// Whether it may be presented: not revoked or suspended as far as the
    /// wallet knows.
    pub fn presentable(&self) -> bool {
        !matches!(
            self.status.status,
            CredentialStatus::Invalid | CredentialStatus::Suspended
        )
    }

    /// A display name: `locale` if there is one, else English, else the
    /// first, else the `vct`.
    pub fn name(&self, locale: &str) -> String {
        pick(&self.display.names, locale).unwrap_or_else(|| self.vct.clone())
    }
}

/// A credential's status as its issuer's Token Status List gives it
/// (draft-ietf-oauth-status-list §7.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// `VALID`.
    Valid,
    /// `INVALID`: revoked. Proposed only when nothing else satisfies a
    /// request, marked so.
    Invalid,
    /// `SUSPENDED`: not valid for now. Proposed as `Invalid` is.
    Suspended,
    /// Never checked, no status list, or an application-specific value.
    #[default]
    Unknown,
}

impl CredentialStatus {
    /// The wallet's reading of a status list entry.
    pub fn from_listed(listed: intyg_core::status_list::StatusType) -> Self {
        use intyg_core::status_list::StatusType;
        match listed {
            StatusType::Valid => Self::Valid,
            StatusType::Invalid => Self::Invalid,
            StatusType::Suspended => Self::Suspended,
            StatusType::ApplicationSpecific(_) | StatusType::Reserved(_) => Self::Unknown,
        }
    }

    /// `valid`, `invalid`, `suspended` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Suspended => "suspended",
            Self::Unknown => "unknown",
        }
    }
}

/// The longest a status list answer is reused, in seconds, whatever `ttl`
/// the list gives: a day.
pub const MAX_STATUS_TTL: i64 = 24 * 3600;

impl StatusCheck {
    /// The status `listed` by a list token with `ttl`, learned at `at`.
    pub fn learned(status: CredentialStatus, at: i64, ttl: Option<std::num::NonZeroU64>) -> Self {
        Self {
            status,
            checked_at: Some(at),
            fresh_until: ttl.map(|ttl| {
                at.saturating_add(
                    i64::try_from(ttl.get()).map_or(MAX_STATUS_TTL, |t| t.min(MAX_STATUS_TTL)),
                )
            }),
        }
    }

    /// Whether the list must be asked again at `now`.
    pub fn stale(&self, now: i64) -> bool {
        self.fresh_until.is_none_or(|until| now >= until)
    }
}

/// The last status the wallet learned, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCheck {
    /// The status.
    pub status: CredentialStatus,
    /// When the status list last answered (Unix seconds); `None` if never.
    pub checked_at: Option<i64>,
    /// Until when the answer may be reused without asking the list again:
    /// `checked_at` plus the list token's `ttl` (at most [`MAX_STATUS_TTL`]);
    /// `None` when the list gave no `ttl`.
    #[serde(default)]
    pub fresh_until: Option<i64>,
}

/// The registered claims (RFC 7519, SD-JWT VC) that are not the subject's.
pub(crate) const REGISTERED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "iat",
    "nbf",
    "exp",
    "jti",
    "vct",
    "vct#integrity",
    "cnf",
    "status",
];

/// Display metadata in several locales.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// Credential names by locale (`""` when the locale is not given).
    pub names: BTreeMap<String, String>,
    /// Descriptions by locale.
    pub descriptions: BTreeMap<String, String>,
    /// Background colour (CSS).
    pub background_color: Option<String>,
    /// Text colour (CSS).
    pub text_color: Option<String>,
    /// The type's logo, when it is one the app may show ([`Logo::checked`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// Claim labels.
    pub claims: Vec<ClaimLabel>,
}

/// A logo the app shows on a card: a `data:` URI of a raster image whose
/// bytes are what its media type says. The wallet never hands the webview a
/// remote address (the app's CSP allows images from `data:` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logo {
    /// `data:image/…;base64,…`.
    pub uri: String,
    /// Alternative text from the metadata.
    pub alt_text: Option<String>,
}

/// The largest logo the wallet keeps, decoded (a card shows it small).
pub const MAX_LOGO_BYTES: usize = 64 * 1024;

impl Logo {
    /// The logo at `uri` when it is a base64 `data:` URI of a PNG, JPEG,
    /// GIF or WebP image of at most [`MAX_LOGO_BYTES`] whose bytes start as
    /// that format does; `None` for anything else (remote addresses, SVG,
    /// which can carry scripts, or bytes that are not the image they claim).
    pub fn checked(uri: &str, alt_text: Option<&str>) -> Option<Logo> {
        use base64::Engine as _;
        let rest = uri.strip_prefix("data:image/")?;
        let (media, data) = rest.split_once(";base64,")?;
        if data.len() > MAX_LOGO_BYTES * 4 / 3 + 4 {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?;
        let fits = match media {
            "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "jpeg" => bytes.starts_with(&[0xff, 0xd8, 0xff]),
            "gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            "webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
            _ => false,
        };
        (fits && bytes.len() <= MAX_LOGO_BYTES).then(|| Logo {
            uri: uri.to_owned(),
            alt_text: alt_text.map(str::to_owned),
        })
    }
}

/// The labels of one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimLabel {
    /// Claims path (`null` for every array element).
    pub path: Vec<Value>,
    /// Labels by locale.
    pub labels: BTreeMap<String, String>,
    /// The claim's values in words (the type metadata's Intyg extension
    /// `intyg_value_display`): value, then labels by locale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<(Value, BTreeMap<String, String>)>,
}

impl Display {
    /// The label of the claim at `path` in `locale` (falling back as
    /// [`CredentialEntry::name`] does), if any.
    pub fn label(&self, path: &ClaimsPath, locale: &str) -> Option<String> {
        let wanted = serde_json::to_value(path).ok()?;
        self.claims
            .iter()
            .find(|claim| Value::Array(claim.path.clone()) == wanted)
            .and_then(|claim| pick(&claim.labels, locale))
    }

    /// `value` of the claim at `path` in words in `locale`, when the type
    /// gives them; show the value as it is otherwise.
    pub fn value_label(&self, path: &ClaimsPath, value: &Value, locale: &str) -> Option<String> {
        let wanted = serde_json::to_value(path).ok()?;
        self.claims
            .iter()
            .find(|claim| Value::Array(claim.path.clone()) == wanted)?
            .values
            .iter()
            .find(|(v, _)| v == value)
            .and_then(|(_, labels)| pick(labels, locale))
    }

    /// Adds what type metadata says, over what the issuer metadata said.
    pub(crate) fn merge_type_metadata(&mut self, metadata: &TypeMetadata) {
        for display in &metadata.display {
            self.names
                .insert(display.locale.clone(), display.name.clone());
            if let Some(description) = &display.description {
                self.descriptions
                    .insert(display.locale.clone(), description.clone());
            }
            if let Some(simple) = display.rendering.as_ref().and_then(|r| r.simple.as_ref()) {
                self.background_color = simple
                    .background_color
                    .clone()
                    .or(self.background_color.take());
                self.text_color = simple.text_color.clone().or(self.text_color.take());
                if let Some(logo) = simple
                    .logo
                    .as_ref()
                    .and_then(|l| Logo::checked(&l.uri, l.alt_text.as_deref()))
                {
                    self.logo = Some(logo);
                }
            }
        }
        for claim in &metadata.claims {
            let Ok(Value::Array(path)) = serde_json::to_value(&claim.path) else {
                continue;
            };
            let labels = claim
                .display
                .iter()
                .map(|d| (d.locale.clone(), d.label.clone()))
                .collect();
            let values: Vec<(Value, BTreeMap<String, String>)> = claim
                .value_display
                .iter()
                .map(|v| {
                    let labels = v
                        .display
                        .iter()
                        .map(|d| (d.locale.clone(), d.label.clone()))
                        .collect();
                    (v.value.clone(), labels)
                })
                .collect();
            match self.claims.iter_mut().find(|c| c.path == path) {
                Some(existing) => {
                    existing.labels = labels;
                    existing.values = values;
                }
                None => self.claims.push(ClaimLabel {
                    path,
                    labels,
                    values,
                }),
            }
        }
    }
}

fn pick(by_locale: &BTreeMap<String, String>, locale: &str) -> Option<String> {
    by_locale
        .get(locale)
        .or_else(|| by_locale.get("en"))
        .or_else(|| by_locale.values().next())
        .cloned()
}

/// One copy of a batch-issued credential, with its own holder key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialCopy {
    /// The compact SD-JWT as issued (every disclosure).
    pub sd_jwt: String,
    /// The id of its holder key in the key tree.
    pub key_id: String,
    /// How many times it was presented.
    pub presentations: u32,
}

/// A held credential in full: the entry and its copies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// What is listed and matched.
    pub entry: CredentialEntry,
    /// The copies.
    pub copies: Vec<CredentialCopy>,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Credentials were received from an issuer.
    Issuance,
    /// Credentials were presented to a verifier.
    Presentation,
    /// The person (or the wallet, lacking credentials) declined a request.
    Denial,
}

/// One credential in a history entry: which, and which claims (names,
/// never values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryCredential {
    /// The wallet's credential id.
    pub credential_id: Option<String>,
    /// `vct`.
    pub vct: String,
    /// The claims paths disclosed (for a presentation) or received.
    pub claims: Vec<ClaimsPath>,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EventResult {
    /// It went through.
    Success,
    /// It failed; `code` is stable.
    Failure {
        /// A stable code.
        code: String,
        /// What failed.
        message: String,
    },
}

/// One line of the history log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Random id.
    pub id: String,
    /// When (Unix seconds).
    pub at: i64,
    /// What.
    pub kind: EventKind,
    /// Who: the credential issuer URL, or the verifier's client_id.
    pub counterparty: String,
    /// Its display name, when known (issuer metadata, certificate).
    pub counterparty_name: Option<String>,
    /// The stated purpose, if the request gave one.
    pub purpose: Option<String>,
    /// Which credentials and claims.
    pub credentials: Vec<HistoryCredential>,
    /// How it ended.
    pub result: EventResult,
    /// The signed Request Object that was answered (for a report to the
    /// data protection authority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object: Option<String>,
    /// The verifier's certificate chain (`x5c`) that authenticated the
    /// request: it checks the verifier's later answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifier_x5c: Vec<String>,
    /// The wallet's ids of the holder keys that signed the KB-JWTs: an
    /// erasure request is signed with the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holder_key_ids: Vec<String>,
    /// The verifier's signed receipt (Intyg extension), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptRecord>,
    /// The erasure request and the verifier's answer, once asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<ErasureRecord>,
    /// The relying party's registration as checked when the request came
    /// (presentations and denials of a request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<HistoryRegistration>,
}

/// A verifier's presentation receipt as the wallet checked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// Whether the signature (the request's verified access certificate),
    /// `iss`, `nonce`, `vp_token_hash` and the claims received all
    /// checked out.
    pub verified: bool,
    /// What failed, when not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The verifier's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// When the verifier received the presentation (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<i64>,
    /// Until when it keeps the claims (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_until: Option<i64>,
    /// Where erasure requests go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_endpoint: Option<String>,
    /// What it says it received: claim paths per credential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub received: Vec<intyg_core::rights::ReceivedCredential>,
    /// The receipt JWT as received.
    pub jwt: String,
}

/// Where an erasure request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureState {
    /// The verifier erased the data.
    Erased,
    /// The verifier keeps the data under the legal basis it named.
    Refused,
}

/// An erasure request and the verifier's signed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// `erased` or `refused`.
    pub status: ErasureState,
    /// Whether the answer's signature (the verifier's certificate,
    /// validated again), `iss` and `txn` checked out.
    pub verified: bool,
    /// When the request was sent (Unix seconds).
    pub requested_at: i64,
    /// When the verifier erased the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
    /// The legal basis named in a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// The signed answer as received.
    pub answer: String,
}

/// A history entry's registration check: whether the verifier's
/// registration certificate was valid, and what it over-asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRegistration {
    /// Whether a registration certificate was valid and bound.
    pub valid: bool,
    /// Why not, when not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The registered trade name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The registered purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Claims requested beyond the registration (`query_id.claim`).
    #[serde(default)]
    pub overasked: Vec<String>,
    /// Of those, the ones the person chose to share anyway.
    #[serde(default)]
    pub overasked_shared: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 8-byte PNG signature and an IHDR chunk's start, base64.
    const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==";

    #[test]
    fn a_data_uri_png_logo_is_kept() {
        let logo = Logo::checked(PNG, Some("Arbetsförmedlingen")).unwrap();
        assert_eq!(logo.uri, PNG);
        assert_eq!(logo.alt_text.as_deref(), Some("Arbetsförmedlingen"));
    }

    #[test]
    fn a_remote_logo_is_refused() {
        assert_eq!(Logo::checked("https://issuer.example/logo.png", None), None);
    }

    #[test]
    fn an_svg_logo_is_refused() {
        // `<svg>` base64: SVG can carry scripts.
        assert_eq!(
            Logo::checked("data:image/svg+xml;base64,PHN2Zz4=", None),
            None
        );
    }

    #[test]
    fn a_logo_whose_bytes_are_not_its_type_is_refused() {
        // "<b>" labelled as PNG.
        assert_eq!(Logo::checked("data:image/png;base64,PGI+", None), None);
        assert_eq!(
            Logo::checked("data:image/png;base64,not base64!", None),
            None
        );
    }

    #[test]
    fn an_oversized_logo_is_refused() {
        use base64::Engine as _;
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(MAX_LOGO_BYTES + 1, 0);
        let uri = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        assert_eq!(Logo::checked(&uri, None), None);
        bytes.truncate(MAX_LOGO_BYTES);
        let uri = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        assert!(Logo::checked(&uri, None).is_some());
    }

    #[test]
    fn type_metadata_gives_colours_and_a_checked_logo() {
        let metadata: TypeMetadata = serde_json::from_value(serde_json::json!({
            "vct": "https://intyg.example/vct/x",
            "display": [{
                "locale": "en",
                "name": "X",
                "rendering": {"simple": {
                    "background_color": "#1f5b3a",
                    "text_color": "#ffffff",
                    "logo": {"uri": PNG, "alt_text": "X logo"}
                }}
            }]
        }))
        .unwrap();
        let mut display = Display::default();
        display.merge_type_metadata(&metadata);
        assert_eq!(display.background_color.as_deref(), Some("#1f5b3a"));
        assert_eq!(display.text_color.as_deref(), Some("#ffffff"));
        assert_eq!(display.logo.unwrap().alt_text.as_deref(), Some("X logo"));

        let remote: TypeMetadata = serde_json::from_value(serde_json::json!({
            "vct": "https://intyg.example/vct/x",
            "display": [{"locale": "en", "name": "X",
                "rendering": {"simple": {"logo": {"uri": "https://tracker.example/l.png"}}}}]
        }))
        .unwrap();
        let mut display = Display::default();
        display.merge_type_metadata(&remote);
        assert_eq!(display.logo, None);
    }

    #[test]
    fn a_stored_display_without_a_logo_still_reads() {
        let display: Display = serde_json::from_value(serde_json::json!({
            "names": {}, "descriptions": {}, "background_color": null,
            "text_color": null, "claims": []
        }))
        .unwrap();
        assert_eq!(display.logo, None);
    }
}
