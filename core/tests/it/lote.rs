//! ETSI TS 119 602 Lists of Trusted Entities: every check of
//! `trust::lote::verify` and of `ListState`, on lists made here.

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::trust::lote::{
    ListAndSchemeInformation, ListProfile, ListState, Lote, LoteDocument, LoteError, LotePolicy,
    MultiLangString, OtherLotePointer, PkiObject, ServiceDigitalIdentity, ServiceInformation,
    ServiceType, TrustedEntity, TrustedEntityInformation, TrustedEntityService, sign, verify,
};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{Certificate, TrustAnchors};
use serde_json::Map;

const NOW: i64 = 1_796_334_757; // 2026-12-03T21:52:37Z

/// A scheme operator: its CA, signing key and certificate.
struct Operator {
    ca: LocalCa,
    key: SigningKey,
    certificate: Certificate,
}

impl Operator {
    fn new(name: &str) -> Self {
        let ca = LocalCa::generate(&Subject::new(format!("{name} CA")).organization(name)).unwrap();
        let key = SigningKey::generate().unwrap();
        let certificate = ca.issue(&public(&key), &signing_profile(name)).unwrap();
        Self {
            ca,
            key,
            certificate,
        }
    }

    fn pin(&self) -> TrustAnchors {
        TrustAnchors::new(vec![self.ca.certificate().clone()]).unwrap()
    }

    fn sign(&self, document: &LoteDocument) -> String {
        sign(document, &self.key, vec![self.certificate.to_x5c()]).unwrap()
    }
}

fn public(key: &SigningKey) -> VerifyingKey {
    VerifyingKey::from_jwk(&key.public_jwk()).unwrap()
}

fn signing_profile(name: &str) -> LeafProfile {
    LeafProfile {
        subject: Subject::new(format!("{name} list signer")).organization(name),
        ..LeafProfile::default()
    }
}

fn text(value: &str) -> Vec<MultiLangString> {
    vec![MultiLangString {
        lang: "en".into(),
        value: value.into(),
    }]
}

fn service(
    service_type: ServiceType,
    anchor: &Certificate,
    status: Option<&str>,
) -> TrustedEntityService {
    TrustedEntityService {
        service_information: ServiceInformation {
            service_name: None,
            service_type_identifier: service_type.uri(),
            service_status: status.map(str::to_owned),
            service_digital_identity: ServiceDigitalIdentity {
                x509_certificates: vec![PkiObject::certificate(anchor)],
                extra: Map::new(),
            },
            extra: Map::new(),
        },
        extra: Map::new(),
    }
}

fn entity(name: &str, services: Vec<TrustedEntityService>) -> TrustedEntity {
    TrustedEntity {
        trusted_entity_information: TrustedEntityInformation {
            te_name: text(name),
            extra: Map::new(),
        },
        trusted_entity_services: services,
    }
}

fn list(profile: ListProfile, sequence: u64, entities: Vec<TrustedEntity>) -> LoteDocument {
    LoteDocument {
        lote: Lote {
            list_and_scheme_information: ListAndSchemeInformation {
                version: 1,
                sequence_number: sequence,
                lote_type: profile.lote_type(false),
                scheme_operator_name: text("Testverket"),
                scheme_name: Some(text("Swedish Pub-EAA providers")),
                scheme_territory: "SE".into(),
                pointers_to_other_lote: Vec::new(),
                list_issue_date_time: "2026-12-01T00:00:00Z".into(),
                next_update: "2026-12-31T00:00:00Z".into(),
                extra: Map::new(),
            },
            trusted_entities_list: entities,
        },
    }
}

fn issuer_ca(name: &str) -> Certificate {
    LocalCa::generate(&Subject::new(format!("{name} CA")).organization(name))
        .unwrap()
        .certificate()
        .clone()
}

#[test]
fn a_signed_list_gives_its_anchors_per_service_type() {
    let operator = Operator::new("Testverket");
    let af = issuer_ca("Arbetsförmedlingen");
    let document = list(
        ListProfile::PubEaaProviders,
        3,
        vec![entity(
            "Arbetsförmedlingen",
            vec![service(ServiceType::PubEaaIssuance, &af, None)],
        )],
    );
    let verified = verify(
        operator.sign(&document).as_bytes(),
        &operator.pin(),
        NOW,
        &LotePolicy::default(),
    )
    .unwrap();
    assert_eq!(verified.sequence_number(), 3);
    assert_eq!(verified.name(), "Swedish Pub-EAA providers");
    assert!(!verified.stale);
    let listed: Vec<_> = verified.services_of(&ServiceType::PubEaaIssuance).collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].entity, "Arbetsförmedlingen");
    assert_eq!(listed[0].certificates, vec![af]);
    assert_eq!(verified.services_of(&ServiceType::PidIssuance).count(), 0);
    // The EU's form of the type and `typ: jose` are accepted too.
    let mut eu = document.clone();
    eu.lote.list_and_scheme_information.lote_type = ListProfile::PubEaaProviders.lote_type(true);
    eu.lote.list_and_scheme_information.scheme_territory = "EU".into();
    assert!(
        verify(
            operator.sign(&eu).as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default()
        )
        .is_ok()
    );
}

#[test]
fn the_pin_may_be_the_signing_certificate_itself() {
    let operator = Operator::new("Testverket");
    let document = list(ListProfile::PidProviders, 1, Vec::new());
    let pin = TrustAnchors::new(vec![operator.certificate.clone()]).unwrap();
    assert!(
        verify(
            operator.sign(&document).as_bytes(),
            &pin,
            NOW,
            &LotePolicy::default()
        )
        .is_ok()
    );
}

#[test]
fn forged_list_signature_is_refused() {
    let operator = Operator::new("Testverket");
    let document = list(ListProfile::PidProviders, 1, Vec::new());
    // The operator's certificate in x5c, but signed by another key.
    let forger = SigningKey::generate().unwrap();
    let forged = sign(&document, &forger, vec![operator.certificate.to_x5c()]).unwrap();
    let error = verify(
        forged.as_bytes(),
        &operator.pin(),
        NOW,
        &LotePolicy::default(),
    )
    .unwrap_err();
    assert_eq!(error, LoteError::SignatureInvalid);
    assert_eq!(error.code(), "lote_signature_invalid");
    // A genuine list whose payload was changed.
    let genuine = operator.sign(&document);
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let mut other = document.clone();
    other.lote.list_and_scheme_information.sequence_number = 99;
    let payload = intyg_core::jose::b64url_encode(serde_json::to_vec(&other).unwrap());
    parts[1] = &payload;
    let tampered = parts.join(".");
    assert_eq!(
        verify(
            tampered.as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default()
        )
        .unwrap_err(),
        LoteError::SignatureInvalid
    );
}

#[test]
fn right_key_with_an_unpinned_certificate_is_refused() {
    let operator = Operator::new("Testverket");
    let document = list(ListProfile::PidProviders, 1, Vec::new());
    // The operator's own key, certified by a CA nobody pinned.
    let rogue = LocalCa::generate(&Subject::new("Rogue CA")).unwrap();
    let unpinned = rogue
        .issue(&public(&operator.key), &signing_profile("Testverket"))
        .unwrap();
    let jws = sign(&document, &operator.key, vec![unpinned.to_x5c()]).unwrap();
    let error = verify(jws.as_bytes(), &operator.pin(), NOW, &LotePolicy::default()).unwrap_err();
    assert!(matches!(error, LoteError::UntrustedSigner(_)), "{error:?}");
    assert_eq!(error.code(), "lote_untrusted_signer");
    // No x5c at all.
    let bare = intyg_core::jose::sign_compact(
        &intyg_core::jose::Header::new(intyg_core::jose::Algorithm::ES256).typ("JWT"),
        &serde_json::to_vec(&document).unwrap(),
        &operator.key,
    )
    .unwrap();
    assert_eq!(
        verify(
            bare.as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default()
        )
        .unwrap_err()
        .code(),
        "lote_untrusted_signer"
    );
}

#[test]
fn expired_list_is_refused_after_the_grace_period_and_stale_before() {
    let operator = Operator::new("Testverket");
    let mut document = list(ListProfile::PidProviders, 1, Vec::new());
    document.lote.list_and_scheme_information.next_update = "2026-12-01T12:00:00Z".into();
    let jws = operator.sign(&document);
    // Two days late, seven days' grace: stale but used.
    let stale = verify(jws.as_bytes(), &operator.pin(), NOW, &LotePolicy::default()).unwrap();
    assert!(stale.stale);
    // One day's grace: refused.
    let strict = LotePolicy {
        grace_seconds: 86_400,
        ..LotePolicy::default()
    };
    let error = verify(jws.as_bytes(), &operator.pin(), NOW, &strict).unwrap_err();
    assert!(matches!(error, LoteError::Expired { .. }));
    assert_eq!(error.code(), "lote_expired");
    // Issued in the future.
    document
        .lote
        .list_and_scheme_information
        .list_issue_date_time = "2027-01-01T00:00:00Z".into();
    document.lote.list_and_scheme_information.next_update = "2027-02-01T00:00:00Z".into();
    assert_eq!(
        verify(
            operator.sign(&document).as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default()
        )
        .unwrap_err(),
        LoteError::NotYetValid
    );
}

#[test]
fn rolled_back_sequence_number_never_replaces_the_good_list() {
    let operator = Operator::new("Testverket");
    let check = |sequence| {
        verify(
            operator
                .sign(&list(ListProfile::PidProviders, sequence, Vec::new()))
                .as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default(),
        )
    };
    let mut state = ListState::default();
    assert!(state.offer(check(5), NOW));
    assert!(!state.offer(check(4), NOW));
    assert_eq!(state.good.as_ref().unwrap().sequence_number(), 5);
    let (error, _) = state.last_error.clone().unwrap();
    assert_eq!(error, LoteError::Rollback { known: 5, found: 4 });
    assert_eq!(error.code(), "lote_rollback");
    // A refused list does not replace it either; both are reported.
    assert!(!state.offer(Err(LoteError::SignatureInvalid), NOW));
    assert_eq!(state.good.as_ref().unwrap().sequence_number(), 5);
    assert_eq!(
        state.last_error.as_ref().unwrap().0,
        LoteError::SignatureInvalid
    );
    // The same number again (a re-fetch) and a newer one are taken.
    assert!(state.offer(check(5), NOW));
    assert!(state.offer(check(6), NOW));
    assert!(state.last_error.is_none());
}

#[test]
fn withdrawn_service_gives_no_anchor() {
    let operator = Operator::new("Testverket");
    let af = issuer_ca("Arbetsförmedlingen");
    let other = issuer_ca("Skolverket");
    let document = list(
        ListProfile::PubEaaProviders,
        1,
        vec![
            entity(
                "Arbetsförmedlingen",
                vec![service(
                    ServiceType::PubEaaIssuance,
                    &af,
                    Some("http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"),
                )],
            ),
            entity(
                "Skolverket",
                vec![service(
                    ServiceType::PubEaaIssuance,
                    &other,
                    Some("http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"),
                )],
            ),
        ],
    );
    let verified = verify(
        operator.sign(&document).as_bytes(),
        &operator.pin(),
        NOW,
        &LotePolicy::default(),
    )
    .unwrap();
    let names: Vec<_> = verified
        .services_of(&ServiceType::PubEaaIssuance)
        .map(|s| s.entity.as_str())
        .collect();
    assert_eq!(names, vec!["Skolverket"]);
}

#[test]
fn type_territory_and_service_types_are_checked() {
    let operator = Operator::new("Testverket");
    let af = issuer_ca("Arbetsförmedlingen");
    let policy = LotePolicy::default();
    let mut document = list(ListProfile::PidProviders, 1, Vec::new());
    document.lote.list_and_scheme_information.lote_type =
        "http://uri.etsi.org/19602/LoTEType/SomethingElse".into();
    assert_eq!(
        verify(
            operator.sign(&document).as_bytes(),
            &operator.pin(),
            NOW,
            &policy
        )
        .unwrap_err()
        .code(),
        "lote_type_unsupported"
    );
    let mut document = list(ListProfile::PidProviders, 1, Vec::new());
    document.lote.list_and_scheme_information.scheme_territory = "Sverige".into();
    assert_eq!(
        verify(
            operator.sign(&document).as_bytes(),
            &operator.pin(),
            NOW,
            &policy
        )
        .unwrap_err()
        .code(),
        "lote_territory"
    );
    // A wallet provider in a PID providers' list.
    let document = list(
        ListProfile::PidProviders,
        1,
        vec![entity(
            "Wallet AB",
            vec![service(ServiceType::WalletSolutionIssuance, &af, None)],
        )],
    );
    assert_eq!(
        verify(
            operator.sign(&document).as_bytes(),
            &operator.pin(),
            NOW,
            &policy
        )
        .unwrap_err()
        .code(),
        "lote_service_type"
    );
    assert_eq!(
        verify(b"not.a.jws", &operator.pin(), NOW, &policy)
            .unwrap_err()
            .code(),
        "lote_malformed"
    );
}

#[test]
fn pointers_carry_their_own_pinned_signers() {
    let operator = Operator::new("Testverket");
    let other = Operator::new("Other operator");
    let mut document = list(ListProfile::PidProviders, 1, Vec::new());
    document
        .lote
        .list_and_scheme_information
        .pointers_to_other_lote
        .push(OtherLotePointer {
            lote_location: "https://lists.example/pid.jws".into(),
            service_digital_identities: vec![ServiceDigitalIdentity {
                x509_certificates: vec![PkiObject::certificate(other.ca.certificate())],
                extra: Map::new(),
            }],
            extra: Map::new(),
        });
    let verified = verify(
        operator.sign(&document).as_bytes(),
        &operator.pin(),
        NOW,
        &LotePolicy::default(),
    )
    .unwrap();
    let pointer = &verified.pointers()[0];
    assert_eq!(pointer.location, "https://lists.example/pid.jws");
    // The pointed list verifies with the pointer's signers, not the first one's.
    let pointed = other.sign(&list(ListProfile::PidProviders, 1, Vec::new()));
    assert!(
        verify(
            pointed.as_bytes(),
            &pointer.signers,
            NOW,
            &LotePolicy::default()
        )
        .is_ok()
    );
    assert_eq!(
        verify(
            pointed.as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default()
        )
        .unwrap_err()
        .code(),
        "lote_untrusted_signer"
    );
}

#[test]
fn listed_issuers_are_trusted_until_a_list_drops_them() {
    use intyg_core::jose::{Algorithm, Header};
    use intyg_core::trust::{ListedAnchors, PID_VCT, TrustError, TrustList};
    let operator = Operator::new("Testverket");
    let af_ca =
        LocalCa::generate(&Subject::new("AF CA").organization("Arbetsförmedlingen")).unwrap();
    let key = SigningKey::generate().unwrap();
    let leaf = af_ca
        .issue(
            &public(&key),
            &LeafProfile {
                subject: Subject::new("AF signing").organization("Arbetsförmedlingen"),
                uris: vec!["https://af.example".into()],
                ..LeafProfile::default()
            },
        )
        .unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.x5c = Some(vec![leaf.to_x5c()]);
    let vct = "https://intyg.se/credentials/registration-certificate/v1";
    let with = |entities| {
        let document = list(ListProfile::PubEaaProviders, 1, entities);
        let verified = verify(
            operator.sign(&document).as_bytes(),
            &operator.pin(),
            NOW,
            &LotePolicy::default(),
        )
        .unwrap();
        ListedAnchors::from_lote(&verified).unwrap()
    };
    let mut trust = TrustList::new();
    trust.set_listed(
        "https://lists.example/pub-eaa.jws",
        with(vec![entity(
            "Arbetsförmedlingen",
            vec![service(
                ServiceType::PubEaaIssuance,
                af_ca.certificate(),
                None,
            )],
        )]),
    );
    assert_eq!(
        trust
            .issuer_key(vct, Some("https://af.example"), &header, NOW)
            .unwrap(),
        public(&key)
    );
    // The leaf must name the iss.
    assert!(matches!(
        trust.issuer_key(vct, Some("https://other.example"), &header, NOW),
        Err(TrustError::UntrustedIssuer { .. })
    ));
    // A Pub-EAA provider is no PID provider.
    assert!(matches!(
        trust.issuer_key(PID_VCT, Some("https://af.example"), &header, NOW),
        Err(TrustError::UntrustedIssuer { .. })
    ));
    // The next list no longer names it.
    trust.set_listed("https://lists.example/pub-eaa.jws", with(Vec::new()));
    assert!(matches!(
        trust.issuer_key(vct, Some("https://af.example"), &header, NOW),
        Err(TrustError::UntrustedIssuer { .. })
    ));
}
