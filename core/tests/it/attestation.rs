//! Wallet attestation (draft-ietf-oauth-attestation-based-client-auth-07
//! §5) and key attestation (OpenID4VCI 1.0 Appendix D): every check has
//! its error, over chains made with rcgen (HAIP 1.0 §4.3.1, §4.5.1).

use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey, sign_compact};
use intyg_core::oauth::client_attestation::{
    self, AttestationExpectations, Audience, ClientAttestationClaims, ClientAttestationError as E,
    ClientAttestationPopClaims, JwkConfirmation, create_attestation, create_pop,
};
use intyg_core::oid4vci::KeyAttestationsRequired;
use intyg_core::oid4vci::key_attestation::{
    KeyAttestationClaims, KeyAttestationError as K, create_key_attestation, verify_key_attestation,
};
use intyg_core::trust::{Certificate, TrustAnchors, X509Error};
use rcgen::{CertificateParams, DnType, Issuer};
use serde_json::Map;

use crate::trust::{Ca, NOW, P256Public, anchors, ca, leaf};

const ISSUER: &str = "https://issuer.example";
const CLIENT: &str = "wallet-instance-1";

struct Provider {
    ca: Ca,
    key: SigningKey,
    x5c: Vec<String>,
}

fn provider(name: &str) -> Provider {
    let ca = ca(name);
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &[], &[], (2025, 2030));
    Provider {
        x5c: vec![cert.to_x5c()],
        ca,
        key,
    }
}

fn claims(instance: &SigningKey) -> ClientAttestationClaims {
    ClientAttestationClaims {
        iss: "https://wallet-provider.example".into(),
        sub: CLIENT.into(),
        exp: NOW + 3600,
        iat: Some(NOW - 10),
        nbf: None,
        cnf: JwkConfirmation {
            jwk: instance.public_jwk(),
        },
        status: None,
        extra: Map::new(),
    }
}

fn pop_claims() -> ClientAttestationPopClaims {
    ClientAttestationPopClaims {
        aud: Audience::One(ISSUER.into()),
        jti: "pop-1".into(),
        iat: NOW,
        iss: None,
        exp: None,
        challenge: None,
        nonce: None,
    }
}

fn expect(anchors: &TrustAnchors) -> AttestationExpectations<'_> {
    AttestationExpectations {
        anchors,
        client_id: Some(CLIENT),
        issuer: ISSUER,
        now: NOW,
        pop_max_age: 300,
        leeway: 30,
        challenge: None,
    }
}

#[test]
fn attestation_based_client_auth_07_accepts_a_valid_pair() {
    let p = provider("Wallet provider");
    let instance = SigningKey::generate().unwrap();
    let attestation = create_attestation(&p.key, p.x5c.clone(), &claims(&instance)).unwrap();
    let mut pop = pop_claims();
    pop.iss = Some(CLIENT.into());
    pop.aud = Audience::Many(vec!["https://other.example".into(), ISSUER.into()]);
    let pop = create_pop(&instance, &pop).unwrap();
    let anchors = anchors(&p.ca);
    let verified = client_attestation::verify(&attestation, &pop, &expect(&anchors)).unwrap();
    assert_eq!(verified.client_id, CLIENT);
    assert_eq!(verified.instance_key, instance.public_jwk());
    assert_eq!(verified.pop_jti, "pop-1");
    assert!(verified.pop_valid_until > NOW + 300);
    // No client_id in the request: the attestation's sub is the client.
    let mut anonymous = expect(&anchors);
    anonymous.client_id = None;
    client_attestation::verify(&attestation, &pop, &anonymous).unwrap();
}

#[test]
fn attestation_based_client_auth_07_every_check_has_its_error() {
    let p = provider("Wallet provider");
    let stranger = provider("Unknown provider");
    let instance = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let anchors = anchors(&p.ca);
    let good_pop = create_pop(&instance, &pop_claims()).unwrap();
    let check = |attestation: &str, pop: &str| {
        client_attestation::verify(attestation, pop, &expect(&anchors)).unwrap_err()
    };
    let attest = |claims: &ClientAttestationClaims| {
        create_attestation(&p.key, p.x5c.clone(), claims).unwrap()
    };
    let good = attest(&claims(&instance));

    assert!(matches!(check("x.y", &good_pop), E::Malformed(_)));
    let mut header = Header::new(Algorithm::ES256).typ("JWT");
    header.x5c = Some(p.x5c.clone());
    let wrong_typ = sign_compact(
        &header,
        &serde_json::to_vec(&claims(&instance)).unwrap(),
        &p.key,
    )
    .unwrap();
    assert_eq!(
        check(&wrong_typ, &good_pop),
        E::WrongTyp(Some("JWT".into()))
    );
    let no_x5c = sign_compact(
        &Header::new(Algorithm::ES256).typ(client_attestation::ATTESTATION_TYP),
        &serde_json::to_vec(&claims(&instance)).unwrap(),
        &p.key,
    )
    .unwrap();
    assert_eq!(check(&no_x5c, &good_pop), E::MissingX5c);
    let untrusted =
        create_attestation(&stranger.key, stranger.x5c.clone(), &claims(&instance)).unwrap();
    assert_eq!(
        check(&untrusted, &good_pop),
        E::Untrusted(X509Error::UnknownIssuer)
    );
    let with_root = create_attestation(
        &p.key,
        vec![p.x5c[0].clone(), p.ca.cert.to_x5c()],
        &claims(&instance),
    )
    .unwrap();
    assert_eq!(
        check(&with_root, &good_pop),
        E::Untrusted(X509Error::RootInChain(1))
    );
    // A leaf whose issuer name is its own subject name.
    let self_issued = {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Wallet provider");
        let VerifyingKey::P256(point) = VerifyingKey::from_jwk(&p.key.public_jwk()).unwrap() else {
            unreachable!()
        };
        let cert = params
            .signed_by(
                &P256Public(point.to_vec()),
                &Issuer::from_params(&p.ca.params, &p.ca.key),
            )
            .unwrap();
        Certificate::from_der(cert.der().to_vec(), 0).unwrap()
    };
    let self_signed =
        create_attestation(&p.key, vec![self_issued.to_x5c()], &claims(&instance)).unwrap();
    assert_eq!(
        check(&self_signed, &good_pop),
        E::Untrusted(X509Error::SelfSignedLeaf)
    );
    let forged = create_attestation(&other, p.x5c.clone(), &claims(&instance)).unwrap();
    assert_eq!(check(&forged, &good_pop), E::BadSignature);
    let mut private = claims(&instance);
    private.cnf.jwk = instance.to_private_jwk().unwrap();
    assert_eq!(check(&attest(&private), &good_pop), E::BadInstanceKey);
    let mut expired = claims(&instance);
    expired.exp = NOW - 31;
    assert_eq!(
        check(&attest(&expired), &good_pop),
        E::Expired {
            exp: NOW - 31,
            now: NOW
        }
    );
    let mut future = claims(&instance);
    future.iat = Some(NOW + 31);
    assert_eq!(
        check(&attest(&future), &good_pop),
        E::NotYetValid {
            at: NOW + 31,
            now: NOW
        }
    );
    let mut someone_else = claims(&instance);
    someone_else.sub = "another-wallet".into();
    assert!(matches!(
        check(&attest(&someone_else), &good_pop),
        E::SubjectMismatch { .. }
    ));
    let no_cnf = {
        let mut header = Header::new(Algorithm::ES256).typ(client_attestation::ATTESTATION_TYP);
        header.x5c = Some(p.x5c.clone());
        let body = serde_json::json!({"iss": "x", "sub": CLIENT, "exp": NOW + 60});
        sign_compact(&header, body.to_string().as_bytes(), &p.key).unwrap()
    };
    assert!(matches!(check(&no_cnf, &good_pop), E::MalformedClaims(_)));

    // The PoP.
    assert!(matches!(check(&good, "x"), E::PopMalformed(_)));
    let pop_typ = sign_compact(
        &Header::new(Algorithm::ES256).typ("JWT"),
        &serde_json::to_vec(&pop_claims()).unwrap(),
        &instance,
    )
    .unwrap();
    assert_eq!(check(&good, &pop_typ), E::PopWrongTyp(Some("JWT".into())));
    assert_eq!(
        check(&good, &create_pop(&other, &pop_claims()).unwrap()),
        E::PopBadSignature
    );
    let pop = |edit: fn(&mut ClientAttestationPopClaims)| {
        let mut claims = pop_claims();
        edit(&mut claims);
        create_pop(&instance, &claims).unwrap()
    };
    assert_eq!(
        check(
            &good,
            &pop(|c| c.aud = Audience::One("https://evil.example".into()))
        ),
        E::PopWrongAudience(ISSUER.into())
    );
    assert_eq!(
        check(&good, &pop(|c| c.iss = Some("someone".into()))),
        E::PopIssuerMismatch("someone".into())
    );
    assert_eq!(
        check(&good, &pop(|c| c.iat = NOW - 331)),
        E::PopStale {
            iat: NOW - 331,
            now: NOW
        }
    );
    assert_eq!(
        check(&good, &pop(|c| c.iat = NOW + 31)),
        E::PopStale {
            iat: NOW + 31,
            now: NOW
        }
    );
    assert_eq!(
        check(&good, &pop(|c| c.exp = Some(NOW - 31))),
        E::PopStale { iat: NOW, now: NOW }
    );
    assert!(matches!(
        check(&good, &pop(|c| c.jti = String::new())),
        E::PopMalformedClaims(_)
    ));
    let mut challenged = expect(&anchors);
    challenged.challenge = Some("ch-1");
    assert_eq!(
        client_attestation::verify(&good, &good_pop, &challenged).unwrap_err(),
        E::PopWrongChallenge
    );
    client_attestation::verify(
        &good,
        &pop(|c| c.challenge = Some("ch-1".into())),
        &challenged,
    )
    .unwrap();
    client_attestation::verify(&good, &pop(|c| c.nonce = Some("ch-1".into())), &challenged)
        .unwrap();
}

fn key_claims(keys: &[&SigningKey]) -> KeyAttestationClaims {
    KeyAttestationClaims {
        iss: None,
        iat: NOW - 10,
        exp: Some(NOW + 3600),
        attested_keys: keys.iter().map(|k| k.public_jwk()).collect(),
        key_storage: Some(vec!["iso_18045_high".into()]),
        user_authentication: Some(vec!["iso_18045_moderate".into()]),
        certification: None,
        nonce: Some("c-1".into()),
        status: None,
        extra: Map::new(),
    }
}

#[test]
fn openid4vci_appendix_d_key_attestation_checks() {
    let p = provider("Wallet provider");
    let stranger = provider("Unknown provider");
    let anchors = anchors(&p.ca);
    let holder = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let make = |claims: &KeyAttestationClaims| {
        create_key_attestation(&p.key, p.x5c.clone(), claims).unwrap()
    };
    let check = |jwt: &str| verify_key_attestation(jwt, &anchors, NOW, 30);

    let verified = check(&make(&key_claims(&[&holder]))).unwrap();
    verified.covers(&holder.public_jwk()).unwrap();
    assert_eq!(verified.covers(&other.public_jwk()), Err(K::KeyNotAttested));
    assert_eq!(verified.claims.nonce.as_deref(), Some("c-1"));
    verified.meets(&KeyAttestationsRequired::default()).unwrap();
    let strict = KeyAttestationsRequired {
        key_storage: Some(vec!["iso_18045_high".into()]),
        user_authentication: Some(vec!["iso_18045_high".into()]),
        extra: Map::new(),
    };
    assert!(matches!(
        verified.meets(&strict),
        Err(K::UserAuthentication { .. })
    ));
    let storage = KeyAttestationsRequired {
        key_storage: Some(vec!["iso_18045_enhanced-basic".into()]),
        ..KeyAttestationsRequired::default()
    };
    assert!(matches!(
        verified.meets(&storage),
        Err(K::KeyStorage { .. })
    ));

    assert!(matches!(check("a.b"), Err(K::Malformed(_))));
    let mut header = Header::new(Algorithm::ES256).typ("JWT");
    header.x5c = Some(p.x5c.clone());
    let typ = sign_compact(
        &header,
        &serde_json::to_vec(&key_claims(&[&holder])).unwrap(),
        &p.key,
    )
    .unwrap();
    assert_eq!(check(&typ), Err(K::WrongTyp(Some("JWT".into()))));
    let bare = sign_compact(
        &Header::new(Algorithm::ES256).typ("key-attestation+jwt"),
        &serde_json::to_vec(&key_claims(&[&holder])).unwrap(),
        &p.key,
    )
    .unwrap();
    assert_eq!(check(&bare), Err(K::MissingX5c));
    let untrusted =
        create_key_attestation(&stranger.key, stranger.x5c.clone(), &key_claims(&[&holder]))
            .unwrap();
    assert_eq!(
        check(&untrusted),
        Err(K::Untrusted(X509Error::UnknownIssuer))
    );
    let forged = create_key_attestation(&other, p.x5c.clone(), &key_claims(&[&holder])).unwrap();
    assert_eq!(check(&forged), Err(K::BadSignature));
    assert!(matches!(
        check(&make(&key_claims(&[]))),
        Err(K::MalformedClaims(_))
    ));
    let mut expired = key_claims(&[&holder]);
    expired.exp = Some(NOW - 31);
    assert_eq!(
        check(&make(&expired)),
        Err(K::Expired {
            exp: NOW - 31,
            now: NOW
        })
    );
    let mut future = key_claims(&[&holder]);
    future.iat = NOW + 31;
    assert_eq!(
        check(&make(&future)),
        Err(K::IssuedInFuture {
            iat: NOW + 31,
            now: NOW
        })
    );
    let mut private = key_claims(&[&holder]);
    private.attested_keys = vec![holder.to_private_jwk().unwrap()];
    assert!(matches!(check(&make(&private)), Err(K::MalformedClaims(_))));
}
