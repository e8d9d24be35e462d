//! `intyg trust-list make|verify|show`: ETSI TS 119 602 Lists of Trusted
//! Entities (JSON form, compact JWS) for scheme operators, tests and the
//! demo. Errors carry the stable codes of `intyg_core::trust::lote`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use intyg_core::jose::{CompactJws, SigningKey, VerifyingKey};
use intyg_core::trust::lote::{
    self, ListAndSchemeInformation, ListState, Lote, LoteDocument, LotePolicy, MultiLangString,
    OtherLotePointer, PkiObject, ServiceDigitalIdentity, ServiceInformation, ServiceType,
    TrustedEntity, TrustedEntityInformation, TrustedEntityService, VerifiedLote,
};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{Certificate, TrustAnchors};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Coded, print_json, read_input, unix_now};

#[derive(Debug, Subcommand)]
pub(crate) enum TrustListCommand {
    /// Build and sign a list from a JSON description (file or stdin) and
    /// print the compact JWS. Sign with --key and --chain, or with
    /// --dev-operator DIR (a development scheme operator, made in DIR on
    /// first use: operator-ca.pem is what verifiers pin).
    Make {
        /// The description (default: stdin).
        description: Option<PathBuf>,
        /// The operator's private P-256 JWK.
        #[arg(long, requires = "chain", conflicts_with = "dev_operator")]
        key: Option<PathBuf>,
        /// PEM: the operator's signing certificate, then intermediates.
        #[arg(long, requires = "key")]
        chain: Option<PathBuf>,
        /// Development: the operator kept in this directory.
        #[arg(long, value_name = "DIR")]
        dev_operator: Option<PathBuf>,
    },
    /// Verify a list (compact JWS on stdin) against the pinned signer and
    /// print the scheme information and each entity with its services.
    Verify {
        /// PEM: the operator's CA or its signing certificate (pinned).
        #[arg(long, value_name = "FILE.pem")]
        signer: PathBuf,
        /// The last good list: a lower LoTESequenceNumber is a rollback.
        #[arg(long, value_name = "FILE.jws")]
        previous: Option<PathBuf>,
        /// Days a list is still used after NextUpdate.
        #[arg(long, default_value_t = 7)]
        grace_days: i64,
    },
    /// Print a list's payload (compact JWS on stdin) without verifying it.
    Show,
}

pub(crate) fn run(command: TrustListCommand) -> anyhow::Result<()> {
    match command {
        TrustListCommand::Make {
            description,
            key,
            chain,
            dev_operator,
        } => make(description.as_deref(), key, chain, dev_operator),
        TrustListCommand::Verify {
            signer,
            previous,
            grace_days,
        } => verify(&signer, previous.as_deref(), grace_days),
        TrustListCommand::Show => show(),
    }
}

/// The description `make` reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Description {
    /// A list profile (`PIDProvidersList`, `PubEAAProvidersList`, ...,
    /// with or without `EU`) or a full `LoTEType` URI.
    #[serde(rename = "type")]
    lote_type: String,
    /// `EU` or a country code.
    territory: String,
    operator: String,
    #[serde(default)]
    scheme_name: Option<String>,
    sequence_number: u64,
    /// RFC 3339; default now.
    #[serde(default)]
    issued_at: Option<String>,
    /// RFC 3339; default `issued_at` + `valid_days`.
    #[serde(default)]
    next_update: Option<String>,
    #[serde(default = "default_valid_days")]
    valid_days: i64,
    #[serde(default)]
    entities: Vec<EntityDescription>,
    #[serde(default)]
    pointers: Vec<PointerDescription>,
}

fn default_valid_days() -> i64 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityDescription {
    name: String,
    services: Vec<ServiceDescription>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDescription {
    /// `PID/Issuance`, `PubEAA/Issuance`, ... or a full URI.
    #[serde(rename = "type")]
    service_type: String,
    /// PEM files (relative to the description) or PEM text.
    certificates: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointerDescription {
    location: String,
    signers: Vec<String>,
}

fn malformed(message: impl Into<String>) -> anyhow::Error {
    Coded {
        code: "invalid_input",
        message: message.into(),
    }
    .into()
}

fn certificates(entry: &str, base: &Path) -> anyhow::Result<Vec<Certificate>> {
    let text = if entry.trim_start().starts_with("-----BEGIN") {
        entry.to_owned()
    } else {
        let path = base.join(entry);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
    };
    Certificate::from_pem(&text).map_err(|e| malformed(format!("{entry}: {e}")))
}

fn english(value: &str) -> Vec<MultiLangString> {
    vec![MultiLangString {
        lang: "en".into(),
        value: value.to_owned(),
    }]
}

/// RFC 3339 UTC text of a Unix time.
fn rfc3339(at: i64) -> anyhow::Result<String> {
    let datetime = time::OffsetDateTime::from_unix_timestamp(at).context("time out of range")?;
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    Ok(datetime.format(&format)?)
}

fn document(description: Description, base: &Path) -> anyhow::Result<LoteDocument> {
    let lote_type = if description.lote_type.starts_with("http") {
        description.lote_type.clone()
    } else {
        format!("{}{}", lote::LOTE_TYPE_PREFIX, description.lote_type)
    };
    let now = unix_now()?;
    let issued_at = match description.issued_at {
        Some(text) => text,
        None => rfc3339(now)?,
    };
    let next_update = match description.next_update {
        Some(text) => text,
        None => rfc3339(now + description.valid_days * 86_400)?,
    };
    let mut entities = Vec::new();
    for entity in description.entities {
        let mut services = Vec::new();
        for service in entity.services {
            let uri = if service.service_type.starts_with("http") {
                service.service_type.clone()
            } else {
                format!("http://uri.etsi.org/19602/SvcType/{}", service.service_type)
            };
            let mut objects = Vec::new();
            for entry in &service.certificates {
                objects.extend(
                    certificates(entry, base)?
                        .iter()
                        .map(PkiObject::certificate),
                );
            }
            services.push(TrustedEntityService {
                service_information: ServiceInformation {
                    service_name: service.name.as_deref().map(english),
                    service_type_identifier: ServiceType::from(uri).uri(),
                    service_status: service.status,
                    service_digital_identity: ServiceDigitalIdentity {
                        x509_certificates: objects,
                        extra: Map::new(),
                    },
                    extra: Map::new(),
                },
                extra: Map::new(),
            });
        }
        entities.push(TrustedEntity {
            trusted_entity_information: TrustedEntityInformation {
                te_name: english(&entity.name),
                extra: Map::new(),
            },
            trusted_entity_services: services,
        });
    }
    let mut pointers = Vec::new();
    for pointer in description.pointers {
        let mut objects = Vec::new();
        for entry in &pointer.signers {
            objects.extend(
                certificates(entry, base)?
                    .iter()
                    .map(PkiObject::certificate),
            );
        }
        pointers.push(OtherLotePointer {
            lote_location: pointer.location,
            service_digital_identities: vec![ServiceDigitalIdentity {
                x509_certificates: objects,
                extra: Map::new(),
            }],
            extra: Map::new(),
        });
    }
    Ok(LoteDocument {
        lote: Lote {
            list_and_scheme_information: ListAndSchemeInformation {
                version: 1,
                sequence_number: description.sequence_number,
                lote_type,
                scheme_operator_name: english(&description.operator),
                scheme_name: description.scheme_name.as_deref().map(english),
                scheme_territory: description.territory,
                pointers_to_other_lote: pointers,
                list_issue_date_time: issued_at,
                next_update,
                extra: Map::new(),
            },
            trusted_entities_list: entities,
        },
    })
}

fn make(
    description: Option<&Path>,
    key: Option<PathBuf>,
    chain: Option<PathBuf>,
    dev_operator: Option<PathBuf>,
) -> anyhow::Result<()> {
    let text = read_input(description)?;
    let parsed: Description =
        serde_json::from_str(&text).map_err(|e| malformed(format!("description: {e}")))?;
    let base = description
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let (key_path, chain_path) = match (key, chain, dev_operator) {
        (Some(key), Some(chain), _) => (key, chain),
        (_, _, Some(dir)) => dev_operator_files(&dir, &parsed.operator)?,
        _ => return Err(malformed("give --key and --chain, or --dev-operator DIR")),
    };
    let document = document(parsed, &base)?;
    let jwk = crate::read_jwk(&key_path)?;
    let key = SigningKey::from_jwk(&jwk)
        .with_context(|| format!("{} is not a private P-256 JWK", key_path.display()))?;
    let chain_text = std::fs::read_to_string(&chain_path)
        .with_context(|| format!("reading {}", chain_path.display()))?;
    let chain = Certificate::from_pem(&chain_text)
        .map_err(|e| malformed(format!("{}: {e}", chain_path.display())))?;
    let jws = lote::sign(
        &document,
        &key,
        chain.iter().map(Certificate::to_x5c).collect(),
    )?;
    crate::emit(&jws)
}

/// The development operator in `dir`: made on first use (CA certificate
/// `operator-ca.pem`, the CA key never written; signing key and chain).
fn dev_operator_files(dir: &Path, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let key_path = dir.join("operator-key.jwk");
    let chain_path = dir.join("operator-chain.pem");
    let ca_path = dir.join("operator-ca.pem");
    if key_path.exists() && chain_path.exists() && ca_path.exists() {
        return Ok((key_path, chain_path));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca =
        LocalCa::generate(&Subject::new(format!("{name} development list CA")).organization(name))?;
    let key = SigningKey::generate()?;
    let public = VerifyingKey::from_jwk(&key.public_jwk())?;
    let leaf = ca.issue(
        &public,
        &LeafProfile {
            subject: Subject::new(format!("{name} list signer")).organization(name),
            ..LeafProfile::default()
        },
    )?;
    std::fs::write(&ca_path, ca.certificate().to_pem())?;
    std::fs::write(&chain_path, leaf.to_pem())?;
    write_private(
        &key_path,
        &serde_json::to_string_pretty(&key.to_private_jwk()?)?,
    )?;
    Ok((key_path, chain_path))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn coded(error: &lote::LoteError) -> anyhow::Error {
    Coded {
        code: error.code(),
        message: error.to_string(),
    }
    .into()
}

fn verify(signer: &Path, previous: Option<&Path>, grace_days: i64) -> anyhow::Result<()> {
    let pem =
        std::fs::read_to_string(signer).with_context(|| format!("reading {}", signer.display()))?;
    let pin = TrustAnchors::from_pem(&pem)
        .map_err(|e| malformed(format!("{}: {e}", signer.display())))?;
    let policy = LotePolicy {
        grace_seconds: grace_days.saturating_mul(86_400),
        ..LotePolicy::default()
    };
    let now = unix_now()?;
    let mut state = ListState::default();
    if let Some(path) = previous {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        // The last good list is taken as it was: only its number matters.
        let good = lote::verify(
            &bytes,
            &pin,
            now,
            &LotePolicy {
                grace_seconds: i64::MAX / 2,
                ..policy.clone()
            },
        )
        .map_err(|e| coded(&e))?;
        state.offer(Ok(good), now);
    }
    let input = read_input(None)?;
    let candidate = lote::verify(input.as_bytes(), &pin, now, &policy);
    if !state.offer(candidate, now)
        && let Some((error, _)) = &state.last_error
    {
        return Err(coded(error));
    }
    let Some(list) = &state.good else {
        return Err(malformed("no list"));
    };
    print_json(&summary(list))
}

/// The scheme information and each entity with its names and services.
fn summary(list: &VerifiedLote) -> Value {
    let entities: Vec<Value> = list
        .document
        .lote
        .trusted_entities_list
        .iter()
        .map(|entity| {
            let services: Vec<Value> = entity
                .trusted_entity_services
                .iter()
                .map(|service| {
                    let information = &service.service_information;
                    let in_force = list.services().iter().any(|listed| {
                        listed.service_type.uri() == information.service_type_identifier
                            && information
                                .service_digital_identity
                                .x509_certificates
                                .iter()
                                .all(|o| listed.certificates.iter().any(|c| c.to_x5c() == o.val))
                    });
                    json!({
                        "type": information.service_type_identifier,
                        "status": information.service_status,
                        "in_force": in_force,
                        "certificates": information
                            .service_digital_identity
                            .x509_certificates
                            .len(),
                    })
                })
                .collect();
            json!({
                "names": entity.trusted_entity_information.te_name,
                "services": services,
            })
        })
        .collect();
    json!({
        "name": list.name(),
        "profile": list.profile,
        "stale": list.stale,
        "scheme": list.document.lote.list_and_scheme_information,
        "entities": entities,
        "pointers": list.pointers().iter().map(|p| p.location.clone()).collect::<Vec<_>>(),
    })
}

fn show() -> anyhow::Result<()> {
    let input = read_input(None)?;
    let jws = CompactJws::parse(input.trim()).map_err(|e| Coded {
        code: "lote_malformed",
        message: e.to_string(),
    })?;
    let payload: Value = jws.payload_json().map_err(|e| Coded {
        code: "lote_malformed",
        message: e.to_string(),
    })?;
    print_json(&json!({
        "verified": false,
        "header": jws.header,
        "payload": payload,
    }))
}
