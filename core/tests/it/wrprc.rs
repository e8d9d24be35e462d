//! `wrprc`: registration certificates (ETSI TS 119 475 V1.2.1 §5.2) signed
//! by a provider CA made with rcgen, verified, bound to an access
//! certificate, and compared with DCQL queries.

use intyg_core::dcql::{ClaimsPath, DcqlQuery};
use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::trust::{Certificate, CertificateChain, ValidatedLeaf};
use intyg_core::wrprc::{self, RegistrationClaims, RegistrationError};
use rcgen::{CertificateParams, DnType, DnValue, Issuer, date_time_ymd};
use serde_json::json;

use crate::trust::{Ca, NOW, P256Public, anchors, ca, leaf};
use crate::vector_json;

/// A leaf for `key` signed by `ca` whose subject names `org_id` as
/// `organizationIdentifier` (2.5.4.97).
fn access_leaf(ca: &Ca, key: &SigningKey, org_id: Option<&str>) -> Certificate {
    let mut params = CertificateParams::new(vec!["verifier.example".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Verifier");
    if let Some(org_id) = org_id {
        params.distinguished_name.push(
            DnType::CustomDnType(vec![2, 5, 4, 97]),
            DnValue::Utf8String(org_id.to_owned()),
        );
    }
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2030, 1, 1);
    let VerifyingKey::P256(point) = VerifyingKey::from_jwk(&key.public_jwk()).unwrap() else {
        unreachable!()
    };
    let cert = params
        .signed_by(
            &P256Public(point.to_vec()),
            &Issuer::from_params(&ca.params, &ca.key),
        )
        .unwrap();
    Certificate::from_der(cert.der().to_vec(), 0).unwrap()
}

fn validated(ca: &Ca, cert: &Certificate) -> ValidatedLeaf {
    CertificateChain::new(vec![cert.clone()])
        .unwrap()
        .validate(&anchors(ca), NOW)
        .unwrap()
}

struct Provider {
    ca: Ca,
    key: SigningKey,
    chain: CertificateChain,
}

fn provider() -> Provider {
    let ca = ca("WRPRC provider");
    let key = SigningKey::generate().unwrap();
    let cert = leaf(&ca, &key, &[], &[], (2025, 2030));
    Provider {
        chain: CertificateChain::new(vec![cert]).unwrap(),
        ca,
        key,
    }
}

fn claims(sub: &str) -> RegistrationClaims {
    let mut claims: RegistrationClaims =
        serde_json::from_value(vector_json("wrprc/payload.json")).unwrap();
    claims.sub = sub.to_owned();
    claims.iat = NOW - 3600;
    claims.exp = Some(NOW + 30 * 24 * 3600);
    claims
}

fn query(claims: &[&str], vct: &str) -> DcqlQuery {
    serde_json::from_value(json!({"credentials": [{
        "id": "address", "format": "dc+sd-jwt", "meta": {"vct_values": [vct]},
        "claims": claims.iter().map(|c| json!({"path": c.split('.').collect::<Vec<_>>()})).collect::<Vec<_>>()
    }]}))
    .unwrap()
}

const VCT: &str = "https://credentials.invalid/address-credential";

#[test]
fn ts119475_table7_payload_round_trips() {
    let value = vector_json("wrprc/payload.json");
    let claims: RegistrationClaims = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(claims.sub, "LEIXG-743700EB2QF2J1WRO915");
    assert_eq!(
        claims.support_uri.as_deref(),
        Some("https://webshop.invalid/data-deletion")
    );
    assert_eq!(claims.credentials.as_ref().unwrap()[0].vct_values(), [VCT]);
    assert_eq!(serde_json::to_value(&claims).unwrap(), value);
    let purpose = claims.purpose.as_deref().unwrap();
    assert_eq!(
        wrprc::localized(purpose, "sv"),
        Some("Required for sending parcels.")
    );
}

#[test]
fn ts119475_5_2_signed_certificate_verifies_and_binds() {
    let provider = provider();
    let jwt = wrprc::sign(&claims("NTRSE-5560000001"), &provider.key, &provider.chain).unwrap();
    let header = intyg_core::jose::CompactJws::parse(&jwt).unwrap().header;
    assert_eq!(header.typ.as_deref(), Some("rc-wrp+jwt"));
    assert!(header.extra.contains_key("iat"));
    let verified = wrprc::verify(&jwt, &anchors(&provider.ca), NOW).unwrap();
    assert_eq!(verified.claims.sub, "NTRSE-5560000001");

    let access_ca = ca("Access CA");
    let key = SigningKey::generate().unwrap();
    let mine = access_leaf(&access_ca, &key, Some("NTRSE-5560000001"));
    verified.check_bound(&validated(&access_ca, &mine)).unwrap();
    let other = access_leaf(&access_ca, &key, Some("NTRSE-5560000002"));
    let error = verified
        .check_bound(&validated(&access_ca, &other))
        .unwrap_err();
    assert!(matches!(error, RegistrationError::OtherRelyingParty { .. }));
    assert_eq!(error.code(), "other_verifier");
    let unnamed = access_leaf(&access_ca, &key, None);
    assert!(matches!(
        verified.check_bound(&validated(&access_ca, &unnamed)),
        Err(RegistrationError::UnboundAccessCertificate)
    ));
}

#[test]
fn ts119475_5_2_refusals_are_distinct() {
    let provider = provider();
    let good = claims("NTRSE-5560000001");
    let roots = anchors(&provider.ca);

    // Another provider's root.
    let jwt = wrprc::sign(&good, &provider.key, &provider.chain).unwrap();
    let stranger = ca("Stranger");
    let error = wrprc::verify(&jwt, &anchors(&stranger), NOW).unwrap_err();
    assert_eq!(error.code(), "untrusted_provider");

    // Forged: the payload changed after signing.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut forged = good.clone();
    forged.credentials = None;
    parts[1] = intyg_core::jose::b64url_encode(serde_json::to_vec(&forged).unwrap());
    let error = wrprc::verify(&parts.join("."), &roots, NOW).unwrap_err();
    assert!(matches!(error, RegistrationError::BadSignature), "{error}");

    // Signed by a key the chain does not certify.
    let other_key = SigningKey::generate().unwrap();
    let jwt = wrprc::sign(&good, &other_key, &provider.chain).unwrap();
    assert_eq!(
        wrprc::verify(&jwt, &roots, NOW).unwrap_err().code(),
        "bad_signature"
    );

    // Expired.
    let mut expired = good.clone();
    expired.iat = NOW - 100 * 24 * 3600;
    expired.exp = Some(NOW - 3600);
    let jwt = wrprc::sign(&expired, &provider.key, &provider.chain).unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::Expired(_))
    ));

    // No expiry, or longer than 12 months.
    let mut open = good.clone();
    open.exp = None;
    let jwt = wrprc::sign(&open, &provider.key, &provider.chain).unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::MissingExpiry)
    ));
    let mut long = good.clone();
    long.exp = Some(good.iat + 400 * 24 * 3600);
    let jwt = wrprc::sign(&long, &provider.key, &provider.chain).unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::TooLong)
    ));

    // Issued in the future.
    let mut future = good.clone();
    future.iat = NOW + 3600;
    future.exp = Some(NOW + 7200);
    let jwt = wrprc::sign(&future, &provider.key, &provider.chain).unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::NotYetValid(_))
    ));

    // No entitlement.
    let mut bare = good.clone();
    bare.entitlements.clear();
    let jwt = wrprc::sign(&bare, &provider.key, &provider.chain).unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::NoEntitlement)
    ));

    // A request object is not a registration certificate.
    let header = intyg_core::jose::Header::new(intyg_core::jose::Algorithm::ES256)
        .typ("oauth-authz-req+jwt");
    let jwt =
        intyg_core::jose::sign_compact(&header, &serde_json::to_vec(&good).unwrap(), &provider.key)
            .unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::WrongType(_))
    ));
    let header =
        intyg_core::jose::Header::new(intyg_core::jose::Algorithm::ES256).typ("rc-wrp+jwt");
    let jwt =
        intyg_core::jose::sign_compact(&header, &serde_json::to_vec(&good).unwrap(), &provider.key)
            .unwrap();
    assert!(matches!(
        wrprc::verify(&jwt, &roots, NOW),
        Err(RegistrationError::MissingX5c)
    ));
    assert_eq!(
        wrprc::verify("not.a.jwt", &roots, NOW).unwrap_err().code(),
        "malformed"
    );
}

#[test]
fn ts119475_table9_overasking_names_each_unregistered_claim() {
    let provider = provider();
    let jwt = wrprc::sign(&claims("NTRSE-5560000001"), &provider.key, &provider.chain).unwrap();
    let verified = wrprc::verify(&jwt, &anchors(&provider.ca), NOW).unwrap();

    // Within the registration, including below a registered path.
    let within = query(&["given_name", "address.locality"], VCT);
    assert!(verified.claims.overasked(&within).is_empty());

    // One claim too many.
    let over = query(&["given_name", "birthdate"], VCT);
    let overasked = verified.claims.overasked(&over);
    assert_eq!(overasked.0.len(), 1);
    assert!(!overasked.0[0].credential);
    let birthdate: ClaimsPath = serde_json::from_value(json!(["birthdate"])).unwrap();
    assert_eq!(
        overasked.claims("address"),
        std::slice::from_ref(&birthdate)
    );
    assert!(overasked.contains("address", &birthdate));
    let given: ClaimsPath = serde_json::from_value(json!(["given_name"])).unwrap();
    assert!(!overasked.contains("address", &given));

    // A credential type never registered: the whole query.
    let other = query(&["given_name"], "https://credentials.invalid/other");
    let overasked = verified.claims.overasked(&other);
    assert!(overasked.0[0].credential);
    assert_eq!(overasked.claims("address"), [given]);

    // The whole credential, no claims named.
    let whole: DcqlQuery = serde_json::from_value(json!({"credentials": [{
        "id": "address", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}
    }]}))
    .unwrap();
    assert_eq!(
        verified.claims.overasked(&whole).claims("address"),
        [ClaimsPath(Vec::new())]
    );
}
