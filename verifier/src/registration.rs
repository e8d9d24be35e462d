//! The verifier's registration certificates (ETSI TS 119 475 WRPRC,
//! `rc-wrp+jwt`), sent in every Request Object's `verifier_info`
//! (OpenID4VP 1.0 §5.1) as `{"format": "registration_cert", "data": JWT}`.
//!
//! Production reads them from the configured `registration_files` (one
//! compact JWT per file, issued by a registrar). In development, unless
//! `dev_registration = false`, the first start generates a local WRPRC
//! provider in the data directory: a CA (`wrprc-ca.pem`, for wallets to
//! trust; its private key is never written) and a provider leaf
//! (`wrprc-provider-chain.pem`, key in `wrprc-provider-key.jwk`, mode
//! 0600); every start then signs a fresh certificate covering every
//! template (and so every posting, which uses one): the credential types
//! and claims they ask for, the purpose in Swedish and English, the
//! privacy policy and the erasure endpoint, bound to the access
//! certificate's `organizationIdentifier`.
//!
//! The development registration carries a `status` (Token Status List
//! reference, as TS 119 475 gives a WRPRC): index 0 of the list the
//! provider publishes at `GET /registration/status-list`
//! ([`status_list`]), a `statuslist+jwt` signed by the provider key with
//! its `x5c`; `dev_registration_revoked` marks it revoked.

use std::collections::BTreeMap;
use std::path::Path;

use intyg_core::dcql::ClaimsPath;
use intyg_core::jose::{Jwk, SigningKey, VerifyingKey};
use intyg_core::oid4vp::VerifierInfo;
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{Certificate, CertificateChain};
use intyg_core::wrprc::{
    self, MultiLangString, RegisteredClaim, RegisteredCredential, RegistrationClaims,
};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use intyg_core::status_list::{
    Bits, StatusClaim, StatusIndex, StatusList, StatusListClaim, StatusListReference,
    StatusListToken, StatusListTokenClaims, StatusType,
};

use crate::AppState;
use crate::config::Config;
use crate::error::ApiError;
use crate::identity::{Identity, IdentityError, write_private};
use crate::templates;

/// How long a development registration is valid: 180 days.
const DEV_LIFETIME_SECONDS: i64 = 180 * 24 * 3600;

/// Where the development registration's status is published.
pub const STATUS_LIST_PATH: &str = "/registration/status-list";

/// How long a wallet may cache the registration status list: 5 minutes.
const STATUS_TTL_SECONDS: u64 = 300;

/// The registration certificates the verifier sends.
#[derive(Debug, Clone, Default)]
pub struct Registrations {
    /// Compact JWTs, in order.
    pub certificates: Vec<String>,
    /// The development provider's status list, when it signed one.
    pub status: Option<DevStatus>,
}

/// The development WRPRC provider's status list of its one registration.
#[derive(Debug, Clone)]
pub struct DevStatus {
    key: std::sync::Arc<SigningKey>,
    chain: CertificateChain,
    uri: String,
    revoked: bool,
}

/// `GET /registration/status-list`: the development provider's Token
/// Status List (`statuslist+jwt`, `x5c` of the provider), signed now.
pub async fn status_list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(status) = &state.registrations.status else {
        return Err(ApiError::not_found("registration status list"));
    };
    let mut list = StatusList::new(Bits::One, 8);
    let entry = if status.revoked {
        StatusType::Invalid
    } else {
        StatusType::Valid
    };
    // Invariant: index 0 of an 8-entry 1-bit list takes VALID and INVALID.
    list.set(StatusIndex::from(0u32), entry)
        .expect("index 0 of an 8-entry 1-bit list");
    let now = crate::now();
    let mut claims = StatusListTokenClaims::new(&status.uri, now, StatusListClaim::from(&list));
    claims.exp = Some(now + 86_400);
    claims.ttl = std::num::NonZeroU64::new(STATUS_TTL_SECONDS);
    let jwt = StatusListToken::sign_with_chain(
        &claims,
        status.key.as_ref(),
        None,
        Some(status.chain.to_x5c()),
    )?;
    Ok(([(header::CONTENT_TYPE, "application/statuslist+jwt")], jwt).into_response())
}

impl Registrations {
    /// Loads the configured certificates, or in development signs one with
    /// the local provider (generating it on first start).
    pub fn load(config: &Config, identity: &Identity, now: i64) -> Result<Self, IdentityError> {
        let mut certificates = Vec::new();
        for path in &config.registration_files {
            let text = std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let jwt = text.trim().to_owned();
            if jwt.split('.').count() != 3 {
                return Err(IdentityError::Invalid {
                    path: path.display().to_string(),
                    reason: "not a compact JWT".into(),
                });
            }
            certificates.push(jwt);
        }
        let mut status = None;
        if certificates.is_empty() && config.dev && config.dev_registration {
            let (key, chain) = dev_provider(&config.data_dir)?;
            let dev = DevStatus {
                key: std::sync::Arc::new(key),
                chain,
                uri: format!("{}{STATUS_LIST_PATH}", config.public_url),
                revoked: config.dev_registration_revoked,
            };
            certificates.push(dev_certificate(config, identity, &dev, now)?);
            status = Some(dev);
        }
        Ok(Self {
            certificates,
            status,
        })
    }

    /// The `verifier_info` entries; `None` when there is none.
    pub fn verifier_info(&self) -> Option<Vec<VerifierInfo>> {
        (!self.certificates.is_empty()).then(|| {
            self.certificates
                .iter()
                .map(|jwt| VerifierInfo {
                    format: wrprc::VERIFIER_INFO_FORMAT.to_owned(),
                    data: jwt.clone().into(),
                    credential_ids: None,
                })
                .collect()
        })
    }
}

/// What the verifier registers: every credential type its templates ask
/// for, with the union of the claims.
pub fn registered_credentials() -> Vec<RegisteredCredential> {
    let mut by_vct: BTreeMap<String, Vec<ClaimsPath>> = BTreeMap::new();
    for name in templates::TEMPLATES {
        let Ok(Some(template)) = templates::template(name) else {
            continue;
        };
        for query in &template.query.query().credentials {
            for vct in query.meta.vct_values.iter().flatten() {
                let paths = by_vct.entry(vct.clone()).or_default();
                for claim in query.claims.iter().flatten() {
                    if !paths.contains(&claim.path) {
                        paths.push(claim.path.clone());
                    }
                }
            }
        }
    }
    by_vct
        .into_iter()
        .map(|(vct, paths)| {
            let mut meta = serde_json::Map::new();
            meta.insert("vct_values".into(), vec![vct].into());
            RegisteredCredential {
                format: "dc+sd-jwt".into(),
                meta,
                claim: Some(
                    paths
                        .into_iter()
                        .map(|path| RegisteredClaim { path, values: None })
                        .collect(),
                ),
            }
        })
        .collect()
}

/// The development provider's key and chain, generated on first start.
fn dev_provider(dir: &Path) -> Result<(SigningKey, CertificateChain), IdentityError> {
    let key_path = dir.join("wrprc-provider-key.jwk");
    let chain_path = dir.join("wrprc-provider-chain.pem");
    if !key_path.exists() || !chain_path.exists() {
        generate_dev_provider(dir)?;
    }
    let invalid = |path: &Path, reason: String| IdentityError::Invalid {
        path: path.display().to_string(),
        reason,
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    let jwk: Jwk =
        serde_json::from_str(&read(&key_path)?).map_err(|e| invalid(&key_path, e.to_string()))?;
    let key = SigningKey::from_jwk(&jwk).map_err(|e| invalid(&key_path, e.to_string()))?;
    let chain = Certificate::from_pem(&read(&chain_path)?)
        .and_then(CertificateChain::new)
        .map_err(|e| invalid(&chain_path, e.to_string()))?;
    Ok((key, chain))
}

fn generate_dev_provider(dir: &Path) -> Result<(), IdentityError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| IdentityError::Io { path, source }
    };
    let invalid = |reason: String| IdentityError::Invalid {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let ca = LocalCa::generate(&Subject::new("Intyg development WRPRC provider CA"))?;
    let key = SigningKey::generate().map_err(|e| invalid(e.to_string()))?;
    let public = VerifyingKey::from_jwk(&key.public_jwk()).map_err(|e| invalid(e.to_string()))?;
    let leaf = ca.issue(
        &public,
        &LeafProfile {
            subject: Subject::new("Intyg development WRPRC provider"),
            ..LeafProfile::default()
        },
    )?;

    let ca_path = dir.join("wrprc-ca.pem");
    std::fs::write(&ca_path, ca.certificate().to_pem()).map_err(io(&ca_path))?;
    let chain_path = dir.join("wrprc-provider-chain.pem");
    std::fs::write(&chain_path, leaf.to_pem()).map_err(io(&chain_path))?;
    let key_path = dir.join("wrprc-provider-key.jwk");
    let jwk = key.to_private_jwk().map_err(|e| invalid(e.to_string()))?;
    let text = serde_json::to_string_pretty(&jwk).map_err(|e| invalid(e.to_string()))?;
    write_private(&key_path, text.as_bytes()).map_err(io(&key_path))?;
    Ok(())
}

/// The development registration: signed now by the local provider.
fn dev_certificate(
    config: &Config,
    identity: &Identity,
    provider: &DevStatus,
    now: i64,
) -> Result<String, IdentityError> {
    let text = |sv: &str, en: &str| {
        vec![
            MultiLangString {
                lang: "sv".into(),
                value: sv.into(),
            },
            MultiLangString {
                lang: "en".into(),
                value: en.into(),
            },
        ]
    };
    let sub = wrprc::access_identifier(identity.chain.leaf().der())
        .unwrap_or_else(|| config.organization_identifier.clone());
    let claims = RegistrationClaims {
        name: config.name.clone(),
        sub_ln: Some(config.name.clone()),
        sub,
        country: "SE".into(),
        registry_uri: format!("{}/registry", config.public_url),
        srv_description: Some(text(
            "Rekrytering till arbetspraktik",
            "Recruitment for internships",
        )),
        entitlements: vec![wrprc::SERVICE_PROVIDER.into()],
        privacy_policy: config.privacy_policy_url.clone(),
        info_uri: Some(config.public_url.clone()),
        support_uri: Some(format!("{}/erasure", config.public_url)),
        supervisory_authority: Some(wrprc::SupervisoryAuthority {
            email: Some("imy@imy.se".into()),
            phone: None,
            uri: Some("https://www.imy.se/".into()),
        }),
        policy_id: None,
        certificate_policy: None,
        jti: None,
        iat: now,
        exp: Some(now + DEV_LIFETIME_SECONDS),
        status: Some(StatusClaim {
            status_list: Some(StatusListReference {
                idx: StatusIndex::from(0u32),
                uri: provider.uri.clone(),
            }),
            other: serde_json::Map::new(),
        }),
        purpose: Some(text(
            "Pröva ansökningar om arbetspraktik: inskrivning hos Arbetsförmedlingen, behörighet och utbildning",
            "Assess internship applications: registration with the Public Employment Service, eligibility and education",
        )),
        credentials: Some(registered_credentials()),
        intended_use_id: Some("internship-recruitment".into()),
        public_body: Some(false),
        extra: serde_json::Map::new(),
    };
    wrprc::sign(&claims, provider.key.as_ref(), &provider.chain).map_err(|e| {
        IdentityError::Invalid {
            path: config.data_dir.display().to_string(),
            reason: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registration_covers_every_template() {
        let registered = RegistrationClaims {
            credentials: Some(registered_credentials()),
            ..serde_json::from_value(serde_json::json!({
                "name": "n", "sub": "s", "country": "SE", "registry_uri": "https://r",
                "entitlements": [wrprc::SERVICE_PROVIDER], "iat": 0
            }))
            .unwrap()
        };
        for name in templates::TEMPLATES {
            let template = templates::template(name).unwrap().unwrap();
            let overasked = registered.overasked(template.query.query());
            assert!(overasked.is_empty(), "{name}: {overasked:?}");
        }
        // A query outside the templates is over-asked.
        let query: intyg_core::dcql::DcqlQuery = serde_json::from_value(serde_json::json!({
            "credentials": [{"id": "r", "format": "dc+sd-jwt",
                "meta": {"vct_values": [templates::REGISTRATION_VCT]},
                "claims": [{"path": ["personal_identity_number"]}]}]
        }))
        .unwrap();
        assert_eq!(registered.overasked(&query).0.len(), 1);
    }
}
