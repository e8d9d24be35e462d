//! `trust`: x5c chains validated to roots made with rcgen (RFC 5280),
//! client identifier authentication (OpenID4VP 1.0 §5.9.3) and the
//! verifier's trust list.

use intyg_core::dcql::ValidatedQuery;
use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey};
use intyg_core::oid4vp::{
    AuthorizationRequest, ClientId, Nonce, RequestObjectError, ResponseMode, sign_request_object,
};
use intyg_core::trust::{
    Certificate, CertificateChain, IssuerJwks, RequestAuthError, TrustAnchors, TrustError,
    TrustList, TrustListDocument, TrustedIssuer, TrustedIssuerEntry, X509Error,
    authenticate_request_object,
};
use rcgen::{
    BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, PublicKeyData, SanType,
    date_time_ymd,
};

/// 2026-06-01.
pub(crate) const NOW: i64 = 1_780_272_000;
const VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";

pub(crate) struct Ca {
    pub(crate) params: CertificateParams,
    pub(crate) key: KeyPair,
    pub(crate) cert: Certificate,
}

pub(crate) fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        params,
        key,
        cert: Certificate::from_der(cert.der().to_vec(), 0).unwrap(),
    }
}

/// A leaf for `key`, signed by `ca`, with DNS and URI SANs.
pub(crate) fn leaf(
    ca: &Ca,
    key: &SigningKey,
    dns: &[&str],
    uris: &[&str],
    valid: (i32, i32),
) -> Certificate {
    let mut params =
        CertificateParams::new(dns.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>()).unwrap();
    for uri in uris {
        params
            .subject_alt_names
            .push(SanType::URI((*uri).try_into().unwrap()));
    }
    params.not_before = date_time_ymd(valid.0, 1, 1);
    params.not_after = date_time_ymd(valid.1, 1, 1);
    let VerifyingKey::P256(point) = VerifyingKey::from_jwk(&key.public_jwk()).unwrap() else {
        unreachable!()
    };
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let cert = params
        .signed_by(&P256Public(point.to_vec()), &issuer)
        .unwrap();
    Certificate::from_der(cert.der().to_vec(), 0).unwrap()
}

/// Our P-256 public key, for rcgen.
pub(crate) struct P256Public(pub(crate) Vec<u8>);

impl PublicKeyData for P256Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

pub(crate) fn anchors(ca: &Ca) -> TrustAnchors {
    TrustAnchors::new(vec![ca.cert.clone()]).unwrap()
}

#[test]
fn rfc5280_chain_validates_and_yields_the_leaf_key() {
    let ca = ca("Intyg test CA");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &["verifier.example"], &[], (2025, 2030));
    let chain = CertificateChain::from_x5c(&[cert.to_x5c()]).unwrap();
    let validated = chain.validate(&anchors(&ca), NOW).unwrap();
    assert_eq!(
        validated.key,
        VerifyingKey::from_jwk(&key.public_jwk()).unwrap()
    );
    assert_eq!(validated.dns_names, ["verifier.example"]);
    assert_eq!(validated.x509_hash(), cert.x509_hash());
    assert_eq!(validated.client_id(), ClientId::x509_hash(cert.der()));
    // PEM round trip of the root.
    let from_pem = TrustAnchors::from_pem(&ca.cert.to_pem()).unwrap();
    assert_eq!(from_pem.roots(), anchors(&ca).roots());
}

#[test]
fn rfc5280_chain_failures_are_distinct() {
    let ca_a = ca("A");
    let ca_b = ca("B");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca_a, &key, &["verifier.example"], &[], (2025, 2030));
    let chain = CertificateChain::from_x5c(&[cert.to_x5c()]).unwrap();
    assert_eq!(
        chain.validate(&anchors(&ca_b), NOW).unwrap_err(),
        X509Error::UnknownIssuer
    );
    assert_eq!(
        chain.validate(&TrustAnchors::default(), NOW).unwrap_err(),
        X509Error::NoTrustAnchors
    );
    let old = leaf(&ca_a, &key, &["verifier.example"], &[], (2020, 2021));
    assert_eq!(
        CertificateChain::new(vec![old])
            .unwrap()
            .validate(&anchors(&ca_a), NOW)
            .unwrap_err(),
        X509Error::Expired
    );
    let future = leaf(&ca_a, &key, &["verifier.example"], &[], (2030, 2031));
    assert_eq!(
        CertificateChain::new(vec![future])
            .unwrap()
            .validate(&anchors(&ca_a), NOW)
            .unwrap_err(),
        X509Error::NotYetValid
    );
    // A CA certificate used as the leaf of its own chain is no end entity.
    let self_chain = CertificateChain::new(vec![ca_a.cert.clone()]).unwrap();
    assert!(self_chain.validate(&anchors(&ca_a), NOW).is_err());
}

#[test]
fn openid4vp_5_9_3_client_id_authentication() {
    let ca = ca("CA");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &["verifier.example"], &[], (2025, 2030));
    let validated = CertificateChain::new(vec![cert.clone()])
        .unwrap()
        .validate(&anchors(&ca), NOW)
        .unwrap();
    validated
        .authenticates(&ClientId::x509_hash(cert.der()))
        .unwrap();
    validated
        .authenticates(&"x509_san_dns:verifier.example".parse().unwrap())
        .unwrap();
    assert_eq!(
        validated
            .authenticates(&"x509_san_dns:other.example".parse().unwrap())
            .unwrap_err(),
        X509Error::NameMismatch("other.example".into())
    );
    assert!(matches!(
        validated
            .authenticates(&ClientId::x509_hash(b"another certificate"))
            .unwrap_err(),
        X509Error::HashMismatch { .. }
    ));
    assert!(matches!(
        validated
            .authenticates(&"redirect_uri:https://v.example/cb".parse().unwrap())
            .unwrap_err(),
        X509Error::NotX509ClientId(_)
    ));
}

fn signed_request(key: &SigningKey, client_id: &ClientId, x5c: Vec<String>) -> String {
    let query = ValidatedQuery::from_json(
        r#"{"credentials":[{"id":"reg","format":"dc+sd-jwt","meta":{"vct_values":["https://intyg.se/credentials/registration-certificate/v1"]}}]}"#,
    )
    .unwrap();
    let mut request =
        AuthorizationRequest::new(client_id.clone(), "n-1".parse::<Nonce>().unwrap(), query);
    request.response_mode = Some(ResponseMode::DirectPost);
    request.response_uri = Some("https://verifier.example/response/1".into());
    sign_request_object(&request, key, x5c, NOW, NOW + 300).unwrap()
}

#[test]
fn openid4vp_5_9_3_request_object_is_authenticated_by_x5c() {
    let ca = ca("CA");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &["verifier.example"], &[], (2025, 2030));
    let client_id = ClientId::x509_hash(cert.der());
    let jwt = signed_request(&key, &client_id, vec![cert.to_x5c()]);
    let authenticated =
        authenticate_request_object(&jwt, &client_id, &anchors(&ca), None, NOW).unwrap();
    assert_eq!(authenticated.request.nonce.as_str(), "n-1");

    // Signed by another key than the certificate's.
    let other = SigningKey::generate().unwrap();
    let forged = signed_request(&other, &client_id, vec![cert.to_x5c()]);
    assert!(matches!(
        authenticate_request_object(&forged, &client_id, &anchors(&ca), None, NOW).unwrap_err(),
        RequestAuthError::RequestObject(RequestObjectError::Jose(_))
    ));
    // No x5c at all.
    let bare = signed_request(&key, &client_id, Vec::new());
    assert!(matches!(
        authenticate_request_object(&bare, &client_id, &anchors(&ca), None, NOW).unwrap_err(),
        RequestAuthError::MissingX5c
    ));
    // A chain to a root the wallet does not trust.
    assert!(matches!(
        authenticate_request_object(&jwt, &client_id, &anchors(&self::ca("X")), None, NOW)
            .unwrap_err(),
        RequestAuthError::X509(X509Error::UnknownIssuer)
    ));
}

fn kid_header(kid: Option<&str>) -> Header {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    header
}

#[test]
fn trust_list_finds_issuer_keys_by_kid() {
    let key = SigningKey::generate().unwrap();
    let mut jwk = key.public_jwk();
    jwk.key_id = Some("k1".into());
    let mut list = TrustList::new();
    list.trust(
        VCT,
        TrustedIssuer::with_keys("https://af.example", vec![jwk.clone()]),
    );
    let expected = VerifyingKey::from_jwk(&jwk).unwrap();
    let found = list
        .issuer_key(
            VCT,
            Some("https://af.example"),
            &kid_header(Some("k1")),
            NOW,
        )
        .unwrap();
    assert_eq!(found, expected);
    // The only key is used when there is no kid.
    assert_eq!(
        list.issuer_key(VCT, Some("https://af.example"), &kid_header(None), NOW)
            .unwrap(),
        expected
    );
    assert_eq!(
        list.issuer_key(
            VCT,
            Some("https://af.example"),
            &kid_header(Some("k2")),
            NOW
        )
        .unwrap_err(),
        TrustError::UnknownKey {
            iss: "https://af.example".into(),
            kid: Some("k2".into())
        }
    );
    assert_eq!(
        list.issuer_key(
            VCT,
            Some("https://evil.example"),
            &kid_header(Some("k1")),
            NOW
        )
        .unwrap_err(),
        TrustError::UntrustedIssuer {
            vct: VCT.into(),
            iss: Some("https://evil.example".into())
        }
    );
    assert_eq!(
        list.issuer_key(
            "https://other/vct",
            Some("https://af.example"),
            &kid_header(None),
            NOW
        )
        .unwrap_err(),
        TrustError::UntrustedType("https://other/vct".into())
    );
    // A key in the header is never trusted: without iss there is no issuer.
    let mut embedded = kid_header(None);
    embedded.jwk = Some(jwk);
    assert!(matches!(
        list.issuer_key(VCT, None, &embedded, NOW).unwrap_err(),
        TrustError::UntrustedIssuer { .. }
    ));
}

#[test]
fn trust_list_validates_issuer_x5c() {
    let ca = ca("Issuer CA");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &["af.example"], &[], (2025, 2030));
    let mut list = TrustList::new();
    list.trust(
        VCT,
        TrustedIssuer::with_roots("https://af.example", anchors(&ca)),
    );
    let mut header = kid_header(None);
    header.x5c = Some(vec![cert.to_x5c()]);
    let expected = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
    assert_eq!(
        list.issuer_key(VCT, Some("https://af.example"), &header, NOW)
            .unwrap(),
        expected
    );
    // Without iss, the chain alone identifies the issuer.
    assert_eq!(list.issuer_key(VCT, None, &header, NOW).unwrap(), expected);
    // The leaf must name the issuer.
    let mut wrong = TrustList::new();
    wrong.trust(
        VCT,
        TrustedIssuer::with_roots("https://other.example", anchors(&ca)),
    );
    assert_eq!(
        wrong
            .issuer_key(VCT, Some("https://other.example"), &header, NOW)
            .unwrap_err(),
        TrustError::X509(X509Error::NameMismatch("other.example".into()))
    );
    // A key-only issuer does not accept x5c without a kid naming its key.
    let mut keys_only = TrustList::new();
    let mut named = key.public_jwk();
    named.key_id = Some("k1".into());
    keys_only.trust(
        VCT,
        TrustedIssuer::with_keys("https://af.example", vec![named]),
    );
    assert_eq!(
        keys_only
            .issuer_key(VCT, Some("https://af.example"), &header, NOW)
            .unwrap_err(),
        TrustError::NoRoots("https://af.example".into())
    );
    // With the kid of its key, the key verifies (x5c is then not used).
    let mut with_kid = header.clone();
    with_kid.kid = Some("k1".into());
    assert_eq!(
        keys_only
            .issuer_key(VCT, Some("https://af.example"), &with_kid, NOW)
            .unwrap(),
        expected
    );
    // A chain to another root.
    let stranger = self::ca("Stranger");
    let foreign = leaf(&stranger, &key, &["af.example"], &[], (2025, 2030));
    header.x5c = Some(vec![foreign.to_x5c()]);
    assert_eq!(
        list.issuer_key(VCT, Some("https://af.example"), &header, NOW)
            .unwrap_err(),
        TrustError::X509(X509Error::UnknownIssuer)
    );
}

#[test]
fn trust_list_document_round_trips() {
    let ca = ca("Doc CA");
    let key = SigningKey::generate().unwrap();
    let mut jwk = key.public_jwk();
    jwk.key_id = Some("k1".into());
    let document = TrustListDocument {
        issuers: vec![
            TrustedIssuerEntry {
                iss: "https://af.example".into(),
                vct: vec![VCT.into()],
                jwks: Some(IssuerJwks { keys: vec![jwk] }),
                x5c_roots: Vec::new(),
            },
            TrustedIssuerEntry {
                iss: "https://school.example".into(),
                vct: vec!["https://intyg.se/credentials/education-diploma/v1".into()],
                jwks: None,
                x5c_roots: vec![ca.cert.to_pem()],
            },
        ],
    };
    let json = serde_json::to_string(&document).unwrap();
    let list =
        TrustList::try_from(serde_json::from_str::<TrustListDocument>(&json).unwrap()).unwrap();
    assert_eq!(list.types().count(), 2);
    assert_eq!(list.issuers(VCT)[0].iss, "https://af.example");

    let empty = TrustListDocument {
        issuers: vec![TrustedIssuerEntry {
            iss: "https://nobody.example".into(),
            vct: vec![VCT.into()],
            jwks: None,
            x5c_roots: Vec::new(),
        }],
    };
    assert!(matches!(
        TrustList::try_from(empty).unwrap_err(),
        TrustError::Document(_)
    ));
}
