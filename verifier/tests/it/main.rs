//! The verifier over a real loopback socket, with a real sled store in a
//! temporary directory, a test issuer (key + status list served over
//! loopback) and a test holder built on `intyg_core`.

mod abandoned;
mod audit;
mod backup;
mod erasure;
mod events;
mod failures;
mod flow;
mod hygiene;
mod identity;
mod issuer;
mod multi;
mod oidc;
mod pkcs11;
mod portal;
mod request_uri_post;
mod status_age;
mod stores;
mod trust_lists;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;

use intyg_core::dcql::{ClaimsPath, PathElement};
use intyg_core::jose::SigningKey;
use intyg_core::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, DirectPostBody, Invocation, Presentation,
    RequestObjectSource, ResponseEncryption, VpToken,
};
use intyg_core::sd_jwt::{KeyBindingInput, SdJwt};
use intyg_core::status_list::{
    Bits, StatusIndex, StatusList, StatusListClaim, StatusListReference, StatusListToken,
    StatusListTokenClaims, StatusType,
};
use intyg_core::trust::{TrustAnchors, TrustedIssuer, authenticate_request_object};
use intyg_core::vc::{self, IssueParams, metadata::CredentialType};
use intyg_verifier::config::Config;
use intyg_verifier::{AppState, app, now};
use serde_json::{Value, json};

pub(crate) const API_KEY: &str = "verifier-test-key-0123456789";
pub(crate) const REGISTRATION: &str = "https://intyg.se/credentials/registration-certificate/v1";
pub(crate) const ELIGIBILITY: &str = "https://intyg.se/credentials/internship-eligibility/v1";
pub(crate) const DIPLOMA: &str = "https://intyg.se/credentials/education-diploma/v1";

/// A directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("intyg-verifier-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running verifier.
pub(crate) struct Verifier {
    pub(crate) url: String,
    pub(crate) state: AppState,
    pub(crate) http: reqwest::Client,
    pub(crate) dir: TempDir,
}

impl Verifier {
    pub(crate) async fn start(name: &str, edit: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(TempDir::new(name), edit).await
    }

    /// A verifier on `dir` (whose dev identity may exist already).
    pub(crate) async fn start_in(dir: TempDir, edit: impl FnOnce(&mut Config)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.0.clone(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        edit(&mut config);
        let state = AppState::open(config).await.unwrap();
        let router =
            app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            dir,
        }
    }

    /// Trusts `issuer` for the three Intyg types.
    pub(crate) fn trust(&self, issuer: &TestIssuer) {
        let mut jwk = issuer.key.public_jwk();
        jwk.key_id = Some(issuer.kid.clone());
        let mut current = self.state.trust.write().unwrap();
        let trust = std::sync::Arc::make_mut(&mut current);
        for vct in [REGISTRATION, ELIGIBILITY, DIPLOMA] {
            trust.trust(
                vct,
                TrustedIssuer::with_keys(&issuer.iss, vec![jwk.clone()]),
            );
        }
    }

    /// `POST /api/presentations`.
    pub(crate) async fn create(&self, body: Value) -> reqwest::Response {
        self.post_json("/api/presentations", &body).await
    }

    /// `GET /api/presentations/{id}`.
    pub(crate) async fn show(&self, id: &str) -> Value {
        self.get_json(&format!("/api/presentations/{id}")).await
    }

    /// `GET {path}` of the HR API (with the key), as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `POST {path}` of the HR API (with the key) with a JSON body.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(API_KEY)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The wallet's side of a request: create it from the template, fetch
    /// and authenticate the request object against `DIR/ca.pem`.
    pub(crate) async fn session(&self) -> Session {
        let created: Value = self
            .create(json!({"template": "internship-application"}))
            .await
            .json()
            .await
            .unwrap();
        assert!(created.get("qr_svg").is_none(), "no QR code unless asked");
        self.session_of(
            created["request_uri"].as_str().unwrap(),
            created["id"].as_str().unwrap(),
        )
        .await
    }

    /// The wallet's side of the request behind invocation URI `uri`.
    pub(crate) async fn session_of(&self, uri: &str, id: &str) -> Session {
        self.session_via(uri, id, None).await
    }

    /// As [`Verifier::session_of`], the request object fetched from
    /// `origin` instead of the public URL (another instance behind the
    /// same public URL).
    pub(crate) async fn session_via(&self, uri: &str, id: &str, origin: Option<&str>) -> Session {
        assert!(
            uri.starts_with("openid4vp://?") || uri.starts_with("haip-vp://?"),
            "{uri}"
        );
        let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(uri).unwrap()
        else {
            panic!("requests go by reference");
        };
        let RequestObjectSource::Uri { request_uri, .. } = &reference.source else {
            panic!("request_uri expected");
        };
        let request_uri = match origin {
            Some(origin) => request_uri
                .as_str()
                .replacen(&self.state.config.public_url, origin, 1),
            None => request_uri.to_string(),
        };
        let response = self.http.get(request_uri).send().await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/oauth-authz-req+jwt"
        );
        let jwt = response.text().await.unwrap();
        let anchors = TrustAnchors::from_pem(
            &std::fs::read_to_string(self.state.config.data_dir.join("ca.pem")).unwrap(),
        )
        .unwrap();
        let authenticated =
            authenticate_request_object(&jwt, &reference.client_id, &anchors, None, now()).unwrap();
        Session {
            id: id.to_owned(),
            request: authenticated.request,
        }
    }

    /// Posts a form body to the request's response URI.
    pub(crate) async fn post(&self, session: &Session, form: String) -> reqwest::Response {
        self.http
            .post(session.request.response_uri.clone().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
    }
}

/// One presentation request as the wallet sees it.
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) request: AuthorizationRequest,
}

impl Session {
    pub(crate) fn client_id(&self) -> String {
        self.request.client_id.as_ref().unwrap().to_string()
    }

    pub(crate) fn nonce(&self) -> String {
        self.request.nonce.to_string()
    }

    /// The encrypted `direct_post.jwt` body for a VP Token.
    pub(crate) fn encrypted(&self, vp_token: VpToken) -> String {
        let metadata = self.request.client_metadata.as_ref().unwrap();
        let encryption = ResponseEncryption::select(metadata).unwrap();
        let response = AuthorizationResponse::new(vp_token, self.request.state.clone());
        DirectPostBody::Encrypted(response.encrypt(&encryption).unwrap()).to_form()
    }
}

/// A VP Token from `(query id, presentation)` pairs.
pub(crate) fn vp_token(entries: &[(&str, String)]) -> VpToken {
    let mut token = VpToken::default();
    for (id, presentation) in entries {
        token
            .0
            .entry((*id).to_owned())
            .or_default()
            .push(Presentation::Compact(presentation.clone()));
    }
    token
}

/// A claims path as a JSON pointer.
pub(crate) fn pointer(path: &ClaimsPath) -> String {
    path.0
        .iter()
        .map(|element| match element {
            PathElement::Key(key) => format!("/{key}"),
            PathElement::Index(index) => format!("/{index}"),
            PathElement::AllElements => String::new(),
        })
        .collect()
}

/// A credential type from `specs/credentials/<kind>/`.
pub(crate) fn credential_type(kind: &str) -> CredentialType {
    let dir = format!("{}/../specs/credentials/{kind}", env!("CARGO_MANIFEST_DIR"));
    let read = |file: &str| std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
    CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json")).unwrap()
}

/// The example claims of a credential type.
pub(crate) fn example(kind: &str) -> serde_json::Map<String, Value> {
    let path = format!(
        "{}/../specs/credentials/{kind}/example.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Status list entries of the test issuer.
pub(crate) const VALID: u32 = 0;
pub(crate) const REVOKED: u32 = 1;
pub(crate) const SUSPENDED: u32 = 2;

/// An issuer signing with a test key, publishing one status list over
/// loopback (entry 1 revoked, entry 2 suspended).
pub(crate) struct TestIssuer {
    pub(crate) iss: String,
    pub(crate) key: SigningKey,
    pub(crate) kid: String,
}

impl TestIssuer {
    pub(crate) async fn start() -> Self {
        Self::start_answering_after(std::time::Duration::ZERO).await
    }

    /// An issuer whose server waits `delay` before each answer (its
    /// status list and metadata): a slow dependency of the verifier.
    pub(crate) async fn start_answering_after(delay: std::time::Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let iss = format!("http://{}", listener.local_addr().unwrap());
        let key = SigningKey::generate().unwrap();
        let kid = "test-issuer-1".to_owned();
        let mut list = StatusList::new(Bits::Two, 1024);
        list.set(StatusIndex::from(REVOKED), StatusType::Invalid)
            .unwrap();
        list.set(StatusIndex::from(SUSPENDED), StatusType::Suspended)
            .unwrap();
        let mut claims = StatusListTokenClaims::new(
            format!("{iss}/status/1"),
            now(),
            StatusListClaim::from(&list),
        );
        claims.ttl = std::num::NonZeroU64::new(300);
        let token = StatusListToken::sign(&claims, &key, Some(&kid)).unwrap();
        // Its display name, as credential issuer metadata gives it.
        let metadata = serde_json::json!({
            "credential_issuer": iss,
            "credential_endpoint": format!("{iss}/credential"),
            "credential_configurations_supported": {},
            "display": [
                {"name": "Arbetsförmedlingen (test)", "locale": "sv"},
                {"name": "Swedish Public Employment Service (test)", "locale": "en"}
            ]
        });
        let router = intyg_testkit::status_and_metadata_routes(token, metadata).layer(
            axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                    tokio::time::sleep(delay).await;
                    next.run(request).await
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { iss, key, kid }
    }

    /// Issues a credential of `kind` to `holder`, with status entry `idx`,
    /// after letting `edit` change the parameters.
    pub(crate) fn issue(
        &self,
        kind: &str,
        claims: serde_json::Map<String, Value>,
        holder: &SigningKey,
        idx: u32,
        edit: impl FnOnce(&mut IssueParams),
    ) -> String {
        let now = now();
        let mut params = IssueParams::new(self.iss.clone(), now - 10);
        params.expires_at = Some(now + 3600);
        params.holder_key = Some(holder.public_jwk());
        params.kid = Some(self.kid.clone());
        params.status = Some(StatusListReference {
            idx: StatusIndex::from(idx),
            uri: format!("{}/status/1", self.iss),
        });
        edit(&mut params);
        vc::issue(&credential_type(kind), claims, &params, &self.key)
            .unwrap()
            .to_string()
    }
}

/// Presents `credential` disclosing `pointers`, bound to `aud` and `nonce`.
pub(crate) fn present(
    credential: &str,
    pointers: &[&str],
    holder: &SigningKey,
    aud: &str,
    nonce: &str,
) -> String {
    let disclosed = SdJwt::parse(credential).unwrap().disclose().unwrap();
    disclosed
        .present(
            pointers,
            Some(KeyBindingInput {
                key: holder,
                aud: aud.to_owned(),
                nonce: nonce.to_owned(),
                iat: now(),
            }),
        )
        .unwrap()
}
