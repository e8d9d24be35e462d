//! A scheme operator publishing Lists of Trusted Entities (ETSI TS 119
//! 602) over loopback HTTP: [`ListOperator`] makes and signs lists,
//! [`ListServer`] serves whatever was last published at each path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::trust::Certificate;
use intyg_core::trust::lote::{
    self, ListAndSchemeInformation, ListProfile, Lote, LoteDocument, MultiLangString,
    OtherLotePointer, PkiObject, ServiceDigitalIdentity, ServiceInformation, ServiceType,
    TrustedEntity, TrustedEntityInformation, TrustedEntityService,
};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};

/// What a [`ListServer`] serves, by path.
type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Loopback HTTP serving `GET /{path}` from what was published; 404 for
/// anything else.
#[derive(Debug)]
pub struct ListServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    files: Files,
}

impl ListServer {
    /// Starts serving on a fresh loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files: Files = Files::default();
        async fn serve(
            State(files): State<Files>,
            Path(path): Path<String>,
        ) -> axum::response::Response {
            match files.lock().unwrap().get(&path) {
                Some(body) => ([("content-type", "application/jwt")], body.clone()).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        let router = axum::Router::new()
            .route("/{*path}", axum::routing::get(serve))
            .with_state(files.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base, files }
    }

    /// The URL of `path` (no leading slash).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Serves `body` at `path` from now on.
    pub fn publish(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.into());
    }
}

/// A scheme operator: a CA (the pinned signer) and a signing certificate
/// under it, which goes in each list's `x5c`.
#[derive(Debug)]
pub struct ListOperator {
    /// The operator's CA.
    pub ca: LocalCa,
    key: Arc<SigningKey>,
    leaf: Certificate,
}

impl ListOperator {
    /// A fresh operator named `name`.
    pub fn new(name: &str) -> Self {
        Self::certify(name, Arc::new(SigningKey::generate().unwrap()))
    }

    /// Another operator `name` (its own CA) certifying this one's signing
    /// key: its lists carry the right key under a certificate nobody
    /// pinned.
    pub fn same_key_under_another_ca(&self, name: &str) -> Self {
        Self::certify(name, self.key.clone())
    }

    fn certify(name: &str, key: Arc<SigningKey>) -> Self {
        let ca = LocalCa::generate(&Subject::new(format!("{name} CA")).organization(name)).unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let profile = LeafProfile {
            subject: Subject::new(format!("{name} list signer")).organization(name),
            ..LeafProfile::default()
        };
        let leaf = ca.issue(&public, &profile).unwrap();
        Self { ca, key, leaf }
    }

    /// The CA as PEM (what `--trust-list-signer` pins).
    pub fn ca_pem(&self) -> String {
        self.ca.certificate().to_pem()
    }

    /// Writes the CA's PEM to `dir/name` and returns the path.
    pub fn write_ca(&self, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.ca_pem()).unwrap();
        path
    }

    /// Signs `document` as a compact JWS with `x5c` = [signing certificate].
    pub fn sign(&self, document: &LoteDocument) -> String {
        lote::sign(document, self.key.as_ref(), vec![self.leaf.to_x5c()]).unwrap()
    }
}

/// A Pub-EAA provider list of territory SE, number `sequence`, issued now
/// and due `next_update_in` seconds from now (negative: overdue).
pub fn pub_eaa_list(
    sequence: u64,
    next_update_in: i64,
    entities: Vec<TrustedEntity>,
) -> LoteDocument {
    list(
        ListProfile::PubEaaProviders,
        sequence,
        next_update_in,
        entities,
    )
}

/// As [`pub_eaa_list`], of list profile `profile`.
pub fn list(
    profile: ListProfile,
    sequence: u64,
    next_update_in: i64,
    entities: Vec<TrustedEntity>,
) -> LoteDocument {
    let now = jiff::Timestamp::now().as_second();
    let at = |seconds: i64| jiff::Timestamp::from_second(seconds).unwrap().to_string();
    let english = |text: &str| {
        vec![MultiLangString {
            lang: "en".into(),
            value: text.into(),
        }]
    };
    let issued = now.min(now + next_update_in) - 60;
    LoteDocument {
        lote: Lote {
            list_and_scheme_information: ListAndSchemeInformation {
                version: 1,
                sequence_number: sequence,
                lote_type: profile.lote_type(false),
                scheme_operator_name: english("Test scheme operator"),
                scheme_name: Some(english(match profile {
                    ListProfile::PubEaaProviders => "Test Pub-EAA providers",
                    ListProfile::WalletProviders => "Test wallet providers",
                    _ => "Test providers",
                })),
                scheme_territory: "SE".into(),
                pointers_to_other_lote: Vec::new(),
                list_issue_date_time: at(issued),
                next_update: at(now + next_update_in),
                extra: Default::default(),
            },
            trusted_entities_list: entities,
        },
    }
}

/// An entity named `name` with one service of `service_type` anchored at
/// `certificate`, with `status` (`None`: in force, as the EU profiles
/// leave it out).
pub fn entity(
    name: &str,
    service_type: &ServiceType,
    certificate: &Certificate,
    status: Option<&str>,
) -> TrustedEntity {
    TrustedEntity {
        trusted_entity_information: TrustedEntityInformation {
            te_name: vec![MultiLangString {
                lang: "en".into(),
                value: name.into(),
            }],
            extra: Default::default(),
        },
        trusted_entity_services: vec![TrustedEntityService {
            service_information: ServiceInformation {
                service_name: None,
                service_type_identifier: service_type.uri(),
                service_status: status.map(str::to_owned),
                service_digital_identity: ServiceDigitalIdentity {
                    x509_certificates: vec![PkiObject::certificate(certificate)],
                    extra: Default::default(),
                },
                extra: Default::default(),
            },
            extra: Default::default(),
        }],
    }
}

/// A pointer to the list at `location`, signed by `operator`.
pub fn pointer(location: &str, operator: &ListOperator) -> OtherLotePointer {
    OtherLotePointer {
        lote_location: location.to_owned(),
        service_digital_identities: vec![ServiceDigitalIdentity {
            x509_certificates: vec![PkiObject::certificate(operator.ca.certificate())],
            extra: Default::default(),
        }],
        extra: Default::default(),
    }
}
