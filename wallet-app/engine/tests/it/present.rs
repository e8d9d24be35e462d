//! OpenID4VP against a test verifier built from `intyg-core`: a signed
//! Request Object with an x5c chain to a root the wallet trusts, DCQL with
//! an optional credential set, an encrypted `direct_post.jwt` response;
//! then a denial; then requests the wallet must refuse.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use intyg_core::dcql::ValidatedQuery;
use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::oid4vp::{
    AuthorizationErrorResponse, AuthorizationRequest, AuthorizationResponse, ClientId,
    ClientMetadata, DirectPostBody, EncryptedResponse, ErrorCode, HAIP_VP_SCHEME, Invocation, Jwks,
    Presentation, RequestObjectError, RequestObjectSource, RequestReference, RequestUriMethod,
    RequestUriPost, ResponseMode, sign_request_object,
};
use intyg_core::sd_jwt::{KeyBindingCheck, SdJwt, VerifyOptions};
use intyg_core::trust::{Certificate, spki_der};
use intyg_core::vc;
use intyg_testkit::{TempDir, TestIssuer};
use intyg_wallet::present::{Decision, Outcome, PresentError};
use intyg_wallet::{EventKind, EventResult};
use rcgen::{
    BasicConstraints, CertificateParams, IsCa, Issuer as CaIssuer, KeyPair, SubjectPublicKeyInfo,
};
use serde_json::json;

use crate::{new_wallet, production_wallet, wallet_with_credential};

/// The published request object and the bodies received.
type Shared = (Arc<Mutex<String>>, Arc<Mutex<Vec<String>>>);

const VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";

/// What the verifier puts in `wallet_nonce` when a wallet POSTs to the
/// request URI (OpenID4VP 1.0 §5.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Echo {
    /// The nonce the wallet sent, as the spec says.
    Sent,
    /// Another nonce: a replayed or forged request object.
    Other,
    /// None at all.
    Nothing,
}

/// A wallet's POST to the request URI: its `Accept` header and body.
type Posted = (Option<String>, String);

/// The request signed on each POST, how to echo, and the POSTs received.
#[derive(Clone)]
struct PostSide {
    signing: Arc<SigningKey>,
    x5c: String,
    request: Arc<Mutex<Option<AuthorizationRequest>>>,
    echo: Arc<Mutex<Echo>>,
    posts: Arc<Mutex<Vec<Posted>>>,
}

impl PostSide {
    fn answer(&self, accept: Option<String>, body: String) -> String {
        let post = RequestUriPost::from_form(&body).unwrap();
        self.posts.lock().unwrap().push((accept, body));
        let mut request = self.request.lock().unwrap().clone().unwrap();
        request.wallet_nonce = match *self.echo.lock().unwrap() {
            Echo::Sent => post.wallet_nonce.map(String::from),
            Echo::Other => Some("not-the-wallets-nonce".into()),
            Echo::Nothing => None,
        };
        let now = intyg_issuer::now();
        sign_request_object(
            &request,
            &self.signing,
            vec![self.x5c.clone()],
            now,
            now + 300,
        )
        .unwrap()
    }
}

/// Whether the verifier answers an accepted response with a receipt
/// (Intyg extension), and whether that receipt is tampered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReceiptMode {
    None,
    Signed,
    Tampered,
}

/// A receipt for a `direct_post.jwt` body, signed by `signing`.
fn receipt_for(
    body: &str,
    request_jwt: &str,
    signing: &SigningKey,
    encryption: &intyg_core::jose::Jwk,
    client_id: &str,
    mode: ReceiptMode,
) -> Option<String> {
    if mode == ReceiptMode::None {
        return None;
    }
    let DirectPostBody::Encrypted(jwe) = DirectPostBody::from_form(body).ok()? else {
        return None;
    };
    let (_, EncryptedResponse::Response(response)) =
        EncryptedResponse::decrypt(&jwe, encryption).ok()?
    else {
        return None;
    };
    let request: serde_json::Value = intyg_core::jose::CompactJws::parse(request_jwt)
        .ok()?
        .payload_json()
        .ok()?;
    let now = intyg_issuer::now();
    let receipt = intyg_core::rights::Receipt {
        iss: client_id.to_owned(),
        verifier_name: Some("Praktik AB".into()),
        txn: "txn-1".into(),
        nonce: request["nonce"].as_str()?.to_owned(),
        purpose: "Internship application (arbetspraktik)".into(),
        iat: now,
        received: Vec::new(),
        vp_token_hash: intyg_core::rights::vp_token_hash(&response.vp_token),
        retention_seconds: 3600,
        retention_until: now + 3600,
        erasure_endpoint: "http://localhost:1/erasure".into(),
    };
    let jwt = receipt.sign(signing, Vec::new()).ok()?;
    if mode == ReceiptMode::Signed {
        return Some(jwt);
    }
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut longer = receipt;
    longer.retention_seconds *= 100;
    longer.retention_until = longer.iat + longer.retention_seconds;
    parts[1] = intyg_core::jose::b64url_encode(serde_json::to_vec(&longer).ok()?);
    Some(parts.join("."))
}

/// A verifier: its CA (the wallet's trusted root), certificate and keys,
/// and what it received.
struct Verifier {
    receipt_mode: Arc<Mutex<ReceiptMode>>,
    base: String,
    ca_pem: String,
    leaf: Certificate,
    signing: Arc<SigningKey>,
    encryption: SigningKey,
    request: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<String>>>,
    post_side: PostSide,
}

impl Verifier {
    async fn start() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test verifier CA");
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let signing = SigningKey::generate().unwrap();
        let leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let public = VerifyingKey::from_jwk(&signing.public_jwk()).unwrap();
        let spki = SubjectPublicKeyInfo::from_der(&spki_der(&public)).unwrap();
        let leaf = leaf_params
            .signed_by(&spki, &CaIssuer::from_params(&ca_params, &ca_key))
            .unwrap();
        let request = Arc::new(Mutex::new(String::new()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let signing = Arc::new(signing);
        let leaf = Certificate::from_der(leaf.der().to_vec(), 0).unwrap();
        let post_side = PostSide {
            signing: signing.clone(),
            x5c: leaf.to_x5c(),
            request: Arc::default(),
            echo: Arc::new(Mutex::new(Echo::Sent)),
            posts: Arc::default(),
        };
        let answer = post_side.clone();
        let receipt_mode = Arc::new(Mutex::new(ReceiptMode::None));
        let encryption = SigningKey::generate().unwrap();
        let receipt_side = (
            receipt_mode.clone(),
            signing.clone(),
            encryption.to_private_jwk().unwrap(),
            ClientId::x509_hash(leaf.der()).to_string(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://localhost:{port}");
        let done = format!("{base}/done");
        let router =
            axum::Router::new()
                .route(
                    "/request",
                    get(|State((request, _)): State<Shared>| async move {
                        request.lock().unwrap().clone()
                    })
                    .post(move |headers: HeaderMap, body: String| {
                        let answer = answer.clone();
                        async move {
                            let accept = headers
                                .get("accept")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            (
                                [("content-type", "application/oauth-authz-req+jwt")],
                                answer.answer(accept, body),
                            )
                        }
                    }),
                )
                .route(
                    "/response",
                    post(
                        move |State((request, received)): State<Shared>, body: String| {
                            let done = done.clone();
                            let (mode, signing, encryption, client_id) = receipt_side.clone();
                            async move {
                                let mode = *mode.lock().unwrap();
                                let request = request.lock().unwrap().clone();
                                let receipt = receipt_for(
                                    &body,
                                    &request,
                                    &signing,
                                    &encryption,
                                    &client_id,
                                    mode,
                                );
                                received.lock().unwrap().push(body);
                                let mut answer = json!({"redirect_uri": done});
                                if let Some(receipt) = receipt {
                                    answer["intyg_receipt"] = receipt.into();
                                }
                                axum::Json(answer)
                            }
                        },
                    ),
                )
                .with_state((request.clone(), received.clone()));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            receipt_mode,
            base,
            ca_pem: ca_cert.pem(),
            leaf,
            signing,
            encryption,
            request,
            received,
            post_side,
        }
    }

    fn client_id(&self) -> ClientId {
        ClientId::x509_hash(self.leaf.der())
    }

    /// Publishes a new request to be signed when a wallet POSTs to the
    /// request URI; returns its `haip-vp://` link with
    /// `request_uri_method=post`.
    fn publish_post(&self, nonce: &str, state: &str, echo: Echo) -> String {
        let get_link = self.publish(nonce, state);
        let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(&get_link).unwrap()
        else {
            panic!("by reference")
        };
        let jwt = self.request.lock().unwrap().clone();
        let request = intyg_core::oid4vp::parse_request_object(
            &jwt,
            &self.client_id(),
            &VerifyingKey::from_jwk(&self.signing.public_jwk()).unwrap(),
            intyg_issuer::now(),
        )
        .unwrap()
        .1;
        *self.post_side.request.lock().unwrap() = Some(request);
        *self.post_side.echo.lock().unwrap() = echo;
        Invocation::ByReference(RequestReference {
            source: RequestObjectSource::Uri {
                request_uri: format!("{}/request", self.base),
                method: Some(RequestUriMethod::Post),
            },
            ..reference
        })
        .to_uri(HAIP_VP_SCHEME)
    }

    /// Publishes a new signed request; returns its invocation link.
    fn publish(&self, nonce: &str, state: &str) -> String {
        let query = ValidatedQuery::from_json(
            json!({
                "credentials": [
                    {"id": "registration", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                     "claims": [{"path": ["registration_status"]}, {"path": ["registered_since"]}]},
                    {"id": "name", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                     "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}]}
                ],
                "credential_sets": [
                    {"options": [["registration"]]},
                    {"options": [["name"]], "required": false}
                ]
            })
            .to_string(),
        )
        .unwrap();
        let mut request =
            AuthorizationRequest::new(self.client_id(), nonce.parse().unwrap(), query);
        request.response_mode = Some(ResponseMode::DirectPostJwt);
        request.response_uri = Some(format!("{}/response", self.base));
        request.state = Some(state.parse().unwrap());
        let mut key = serde_json::to_value(self.encryption.public_jwk()).unwrap();
        key["kid"] = "enc-1".into();
        key["alg"] = "ECDH-ES".into();
        key["use"] = "enc".into();
        let mut metadata = ClientMetadata {
            jwks: Some(Jwks {
                keys: vec![key.as_object().unwrap().clone()],
            }),
            encrypted_response_enc_values_supported: Some(vec!["A128GCM".into()]),
            ..ClientMetadata::default()
        };
        metadata
            .extra
            .insert("client_name".into(), "Praktik AB".into());
        request.client_metadata = Some(metadata);
        request.extra.insert(
            "purpose".into(),
            "Internship application (arbetspraktik)".into(),
        );
        let now = intyg_issuer::now();
        let jwt = sign_request_object(
            &request,
            &self.signing,
            vec![self.leaf.to_x5c()],
            now,
            now + 300,
        )
        .unwrap();
        *self.request.lock().unwrap() = jwt;
        Invocation::ByReference(RequestReference {
            client_id: self.client_id(),
            source: RequestObjectSource::Uri {
                request_uri: format!("{}/request", self.base),
                method: None,
            },
            extra: Default::default(),
        })
        .to_uri("openid4vp://")
    }

    fn last(&self) -> DirectPostBody {
        DirectPostBody::from_form(self.received.lock().unwrap().last().unwrap()).unwrap()
    }

    /// The last body received, which must be an error response, plain or
    /// (in `direct_post.jwt`) encrypted; says which.
    fn last_error(&self) -> (AuthorizationErrorResponse, bool) {
        match self.last() {
            DirectPostBody::Error(error) => (error, false),
            DirectPostBody::Encrypted(jwe) => {
                let private = self.encryption.to_private_jwk().unwrap();
                let (_, EncryptedResponse::Error(error)) =
                    EncryptedResponse::decrypt(&jwe, &private).unwrap()
                else {
                    panic!("expected an encrypted error response")
                };
                (error, true)
            }
            DirectPostBody::Plain(_) => panic!("expected an error response"),
        }
    }
}

#[tokio::test]
async fn consent_then_encrypted_presentation_then_denial() {
    let issuer = TestIssuer::start("present").await;
    let verifier = Verifier::start().await;
    let dir = TempDir::new("present");
    let mut wallet = wallet_with_credential(&dir, &issuer).await;
    wallet.add_verifier_roots(&verifier.ca_pem).unwrap();

    let link = verifier.publish("nonce-1", "state-1");
    let proposal = wallet.prepare(&link).await.unwrap();
    assert!(proposal.verifier.authenticated);
    assert_eq!(proposal.verifier.name.as_deref(), Some("Praktik AB"));
    assert_eq!(proposal.verifier.dns_names, vec!["localhost".to_owned()]);
    assert_eq!(
        proposal.purpose.as_deref(),
        Some("Internship application (arbetspraktik)")
    );
    assert!(proposal.encrypted && proposal.satisfiable());
    let required = &proposal.credentials[0];
    assert!(required.required && required.query_id == "registration");
    assert_eq!(required.claims.len(), 2);
    assert!(required.claims.iter().all(|c| c.label.is_some()));
    let optional = &proposal.credentials[1];
    assert!(!optional.required && optional.query_id == "name");
    assert!(matches!(
        wallet
            .respond(
                proposal.clone(),
                Decision::Approve {
                    include: vec!["shoe_size".into()]
                }
            )
            .await,
        Err(PresentError::UnknownSelection(_))
    ));

    let outcome = wallet
        .respond(
            proposal,
            Decision::Approve {
                include: vec!["given_name".into()],
            },
        )
        .await
        .unwrap();
    let Outcome::Shared { redirect_uri, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(redirect_uri, Some(format!("{}/done", verifier.base)));

    // The verifier decrypts and verifies: signature, KB-JWT aud and nonce,
    // and exactly the chosen claims.
    let DirectPostBody::Encrypted(jwe) = verifier.last() else {
        panic!("expected direct_post.jwt")
    };
    let private = verifier.encryption.to_private_jwk().unwrap();
    let (_, response) = AuthorizationResponse::decrypt(&jwe, &private).unwrap();
    assert_eq!(response.state.as_ref().unwrap().as_str(), "state-1");
    let key = issuer.published_key().await;
    let options = VerifyOptions::at(intyg_issuer::now()).key_binding(KeyBindingCheck::new(
        verifier.client_id().as_str(),
        "nonce-1",
    ));
    let check = |id: &str| {
        let [Presentation::Compact(presentation)] = response.vp_token.presentations(id).unwrap()
        else {
            panic!("one compact presentation for {id}")
        };
        vc::verify(SdJwt::parse(presentation).unwrap(), &key, &options, None)
            .unwrap()
            .subject_claims()
    };
    let registration = check("registration");
    assert_eq!(registration["registration_status"], "in_programme");
    assert!(registration.get("personal_identity_number").is_none());
    assert!(registration.get("given_name").is_none());
    let name = check("name");
    assert_eq!(name["given_name"], "Karin Elisabet");
    assert!(name.get("family_name").is_none(), "left out by the person");

    // Copies: the two presentations used two different copies.
    let id = wallet.credentials()[0].id.clone();
    assert_eq!(wallet.credentials()[0].copies_used, 2);
    assert_eq!(
        wallet
            .credential(&id)
            .unwrap()
            .copies
            .iter()
            .map(|c| c.presentations)
            .sum::<u32>(),
        2
    );

    // A second request, declined.
    let link = verifier.publish("nonce-2", "state-2");
    let proposal = wallet.prepare(&link).await.unwrap();
    let outcome = wallet.respond(proposal, Decision::Deny).await.unwrap();
    assert!(matches!(
        outcome,
        Outcome::Denied {
            no_matching_credentials: false,
            ..
        }
    ));
    let (error, encrypted) = verifier.last_error();
    assert!(encrypted, "the request asked for direct_post.jwt");
    assert_eq!(error.error, ErrorCode::AccessDenied);
    assert_eq!(error.state.as_ref().unwrap().as_str(), "state-2");

    let history = wallet.history().unwrap();
    let kinds: Vec<EventKind> = history.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Issuance,
            EventKind::Presentation,
            EventKind::Denial
        ]
    );
    let shared = &history[1];
    assert_eq!(shared.counterparty, verifier.client_id().as_str());
    assert_eq!(shared.counterparty_name.as_deref(), Some("Praktik AB"));
    assert_eq!(
        shared.purpose.as_deref(),
        Some("Internship application (arbetspraktik)")
    );
    assert_eq!(shared.result, EventResult::Success);
    let claims: Vec<String> = shared
        .credentials
        .iter()
        .flat_map(|c| c.claims.iter().map(|p| serde_json::to_string(p).unwrap()))
        .collect();
    assert_eq!(
        claims,
        [
            r#"["registration_status"]"#,
            r#"["registered_since"]"#,
            r#"["given_name"]"#
        ]
    );
}

#[tokio::test]
async fn an_empty_wallet_answers_access_denied() {
    let verifier = Verifier::start().await;
    let dir = TempDir::new("empty");
    let mut wallet = new_wallet(&dir);
    wallet.add_verifier_roots(&verifier.ca_pem).unwrap();
    let proposal = wallet
        .prepare(&verifier.publish("n-3", "s-3"))
        .await
        .unwrap();
    assert!(!proposal.satisfiable());
    let outcome = wallet
        .respond(
            proposal,
            Decision::Approve {
                include: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        Outcome::Denied {
            no_matching_credentials: true,
            ..
        }
    ));
    let (error, encrypted) = verifier.last_error();
    assert!(encrypted);
    assert_eq!(error.error, ErrorCode::AccessDenied);
    // Not "declined": the verifier learns which credential was missing.
    assert_eq!(
        error.error_description.as_deref(),
        Some("no matching credential: registration")
    );
}

#[tokio::test]
async fn untrusted_or_unsigned_requests_are_refused() {
    let verifier = Verifier::start().await;
    let dir = TempDir::new("untrusted");
    let mut wallet = new_wallet(&dir);
    let link = verifier.publish("n-4", "s-4");
    assert!(matches!(
        wallet.prepare(&link).await,
        Err(PresentError::NoVerifierRoots)
    ));
    // A root of another CA.
    let other = Verifier::start().await;
    wallet.add_verifier_roots(&other.ca_pem).unwrap();
    assert!(matches!(
        wallet.prepare(&link).await,
        Err(PresentError::Authentication(_))
    ));
    // Unsigned (redirect_uri:) requests by value: only in dev mode.
    let unsigned = "openid4vp://?response_type=vp_token&client_id=redirect_uri%3Ahttp%3A%2F%2Flocalhost%3A9%2Fr&response_mode=direct_post&response_uri=http%3A%2F%2Flocalhost%3A9%2Fr&nonce=n&state=s&dcql_query=%7B%22credentials%22%3A%5B%7B%22id%22%3A%22a%22%2C%22format%22%3A%22dc%2Bsd-jwt%22%2C%22meta%22%3A%7B%22vct_values%22%3A%5B%22x%22%5D%7D%7D%5D%7D";
    let proposal = wallet.prepare(unsigned).await.unwrap();
    assert!(!proposal.verifier.authenticated);
    // No registration certificate: marked, nothing over-asked.
    assert!(!proposal.registration.valid);
    assert_eq!(proposal.registration.reason.as_deref(), Some("missing"));
    assert!(proposal.overasked().is_empty());
    // Two registration certificates: which one would bind is unclear.
    let two = format!(
        "{unsigned}&verifier_info=%5B%7B%22format%22%3A%22registration_cert%22%2C%22data%22%3A%22a.b.c%22%7D%2C%7B%22format%22%3A%22registration_cert%22%2C%22data%22%3A%22d.e.f%22%7D%5D"
    );
    let proposal = wallet.prepare(&two).await.unwrap();
    assert_eq!(proposal.registration.reason.as_deref(), Some("ambiguous"));
    // One, but the wallet trusts no WRPRC provider.
    let one = format!(
        "{unsigned}&verifier_info=%5B%7B%22format%22%3A%22registration_cert%22%2C%22data%22%3A%22a.b.c%22%7D%5D"
    );
    let proposal = wallet.prepare(&one).await.unwrap();
    assert_eq!(
        proposal.registration.reason.as_deref(),
        Some("untrusted_provider")
    );
    drop(wallet);
    let production = TempDir::new("production-present");
    let mut wallet = production_wallet(&production);
    assert!(matches!(
        wallet.prepare(unsigned).await,
        Err(PresentError::UnsignedRequest)
    ));
    assert!(wallet.history().unwrap().is_empty());
}

#[tokio::test]
async fn request_uri_method_post_sends_wallet_metadata_and_checks_the_echoed_nonce() {
    let issuer = TestIssuer::start("present-post").await;
    let verifier = Verifier::start().await;
    let dir = TempDir::new("present-post");
    let mut wallet = wallet_with_credential(&dir, &issuer).await;
    wallet.add_verifier_roots(&verifier.ca_pem).unwrap();

    let link = verifier.publish_post("n-post", "s-post", Echo::Sent);
    assert!(link.starts_with("haip-vp://?") && link.contains("request_uri_method=post"));
    let proposal = wallet.prepare(&link).await.unwrap();
    assert!(proposal.verifier.authenticated && proposal.satisfiable());
    let (accept, body) = verifier.post_side.posts.lock().unwrap()[0].clone();
    assert_eq!(accept.as_deref(), Some("application/oauth-authz-req+jwt"));
    let post = RequestUriPost::from_form(&body).unwrap();
    let nonce = post.wallet_nonce.expect("a wallet_nonce");
    // 128 bits, base64url.
    assert_eq!(nonce.as_str().len(), 22);
    let metadata = post.wallet_metadata.expect("wallet_metadata");
    assert_eq!(
        metadata.vp_formats_supported.unwrap()["dc+sd-jwt"]["kb-jwt_alg_values"],
        json!(["ES256"])
    );
    assert_eq!(
        metadata.client_id_prefixes_supported.unwrap(),
        ["x509_san_dns", "x509_hash"]
    );
    assert_eq!(
        metadata
            .request_object_signing_alg_values_supported
            .unwrap(),
        ["ES256"]
    );
    // A fresh nonce each time.
    wallet.prepare(&link).await.unwrap();
    let second = RequestUriPost::from_form(&verifier.post_side.posts.lock().unwrap()[1].1)
        .unwrap()
        .wallet_nonce
        .unwrap();
    assert_ne!(second, nonce);

    // §5.10.1: a request object that does not echo the nonce is refused.
    for echo in [Echo::Other, Echo::Nothing] {
        let link = verifier.publish_post("n-bad", "s-bad", echo);
        let error = wallet.prepare(&link).await.unwrap_err();
        assert!(
            matches!(
                &error,
                PresentError::Authentication(intyg_wallet::trust::AuthenticationError::Request(
                    intyg_core::trust::RequestAuthError::RequestObject(
                        RequestObjectError::WalletNonceMismatch { .. }
                    )
                ))
            ),
            "{echo:?}: {error}"
        );
        assert_eq!(error.code(), "verifier_not_authenticated");
    }
    // Nothing was sent to the response URI.
    assert!(verifier.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_signed_receipt_is_kept_verified_and_a_tampered_one_marked_unverified() {
    let issuer = TestIssuer::start("receipts").await;
    let verifier = Verifier::start().await;
    let dir = TempDir::new("receipts");
    let mut wallet = wallet_with_credential(&dir, &issuer).await;
    wallet.add_verifier_roots(&verifier.ca_pem).unwrap();
    let approve = || Decision::Approve {
        include: Vec::new(),
    };
    for (mode, nonce) in [
        (ReceiptMode::Signed, "n-r1"),
        (ReceiptMode::Tampered, "n-r2"),
    ] {
        *verifier.receipt_mode.lock().unwrap() = mode;
        let proposal = wallet
            .prepare(&verifier.publish(nonce, "s-r"))
            .await
            .unwrap();
        let outcome = wallet.respond(proposal, approve()).await.unwrap();
        assert!(matches!(outcome, Outcome::Shared { .. }));
    }
    let history = wallet.history().unwrap();
    let shares: Vec<_> = history
        .iter()
        .filter(|e| e.kind == EventKind::Presentation)
        .collect();
    let signed = shares[0].receipt.as_ref().unwrap();
    assert!(signed.verified, "{:?}", signed.error);
    assert_eq!(signed.transaction.as_deref(), Some("txn-1"));
    assert!(signed.retention_until.is_some());
    assert_eq!(shares[0].holder_key_ids.len(), 1);
    assert!(shares[0].request_object.is_some());
    let tampered = shares[1].receipt.as_ref().unwrap();
    assert!(!tampered.verified);
    assert!(
        tampered.error.as_deref().unwrap().contains("signature"),
        "{:?}",
        tampered.error
    );
    assert_eq!(tampered.retention_until, None);
    // No verified receipt, no erasure endpoint to ask.
    let refused = wallet.erase(&shares[1].id).await.unwrap_err();
    assert_eq!(refused.code(), "no_receipt");
}
