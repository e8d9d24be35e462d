//! `intyg_service::pkcs11` against a SoftHSM2 token: each test runs in a
//! child process with a token of its own (`softhsm::SoftHsm::for_test`).

use std::sync::Arc;

use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};
use intyg_core::jose::{Algorithm, CompactJws, Header, Signer, sign_compact};
use intyg_service::pkcs11::{Pkcs11Config, Pkcs11Signer};

use crate::softhsm::{KeyOptions, P384_PARAMS, SOFTHSM_TOKEN, SoftHsm, objects};

#[test]
fn token_key_signs_es256_that_verifies_with_its_public_key() {
    let Some(hsm) =
        SoftHsm::for_test("pkcs11::token_key_signs_es256_that_verifies_with_its_public_key")
    else {
        return;
    };
    let public = hsm.generate_key("issuer");
    let signer = Pkcs11Signer::open(&hsm.config("issuer")).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::ES256);
    assert_eq!(
        intyg_core::jose::VerifyingKey::from_jwk(&signer.public_jwk()).unwrap(),
        public
    );
    let header = Header::new(Algorithm::ES256).typ("JWT");
    let jwt = sign_compact(&header, br#"{"iss":"https://issuer.example"}"#, &signer).unwrap();
    let jws = CompactJws::parse(&jwt).unwrap();
    jws.verify_with(&public).unwrap();
    // ECDSA is randomized: two signatures differ, both verify.
    let again = sign_compact(&header, br#"{"iss":"https://issuer.example"}"#, &signer).unwrap();
    assert_ne!(jwt, again);
    CompactJws::parse(&again)
        .unwrap()
        .verify_with(&public)
        .unwrap();
}

#[test]
fn private_key_never_leaves_the_token() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::private_key_never_leaves_the_token") else {
        return;
    };
    hsm.generate_key("issuer");
    let session = hsm.session();
    let [key] = objects(&session, ObjectClass::PRIVATE_KEY, "issuer")[..] else {
        panic!("one private key");
    };
    // Reading CKA_VALUE (the private scalar) is refused by the token.
    assert!(matches!(
        session
            .get_attribute_info(key, &[AttributeType::Value])
            .unwrap()[..],
        [AttributeInfo::Sensitive]
    ));
    let read = session
        .get_attributes(key, &[AttributeType::Value])
        .unwrap();
    assert!(read.is_empty(), "CKA_VALUE was read: {read:?}");
    let flags = session
        .get_attributes(
            key,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::NeverExtractable,
                AttributeType::Token,
            ],
        )
        .unwrap();
    for expected in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::NeverExtractable(true),
        Attribute::Token(true),
    ] {
        assert!(
            flags
                .iter()
                .any(|a| format!("{a:?}") == format!("{expected:?}")),
            "{expected:?} in {flags:?}"
        );
    }
    // The signer signs with it all the same.
    Pkcs11Signer::open(&hsm.config("issuer"))
        .unwrap()
        .sign(b"payload")
        .unwrap();
}

#[test]
fn concurrent_signatures_each_verify() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::concurrent_signatures_each_verify") else {
        return;
    };
    let public = hsm.generate_key("issuer");
    let signer = Arc::new(Pkcs11Signer::open(&hsm.config("issuer")).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let signer = Arc::clone(&signer);
            let public = public.clone();
            std::thread::spawn(move || {
                for n in 0..25 {
                    let message = format!("thread {thread} message {n}");
                    let signature = signer.sign(message.as_bytes()).unwrap();
                    public
                        .verify(Algorithm::ES256, message.as_bytes(), &signature)
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn signer_logs_in_again_after_the_token_logged_it_out() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::signer_logs_in_again_after_the_token_logged_it_out")
    else {
        return;
    };
    let public = hsm.generate_key("issuer");
    let signer = Pkcs11Signer::open(&hsm.config("issuer")).unwrap();
    signer.sign(b"before").unwrap();
    // Logging out one session logs out every session of this process.
    let session = hsm.session();
    session.logout().unwrap();
    let signature = signer.sign(b"after").unwrap();
    public
        .verify(Algorithm::ES256, b"after", &signature)
        .unwrap();
}

#[test]
fn wrong_pin_missing_token_and_unusable_keys_are_named() {
    let Some(hsm) =
        SoftHsm::for_test("pkcs11::wrong_pin_missing_token_and_unusable_keys_are_named")
    else {
        return;
    };
    hsm.generate_key("issuer");
    let open = |config: Pkcs11Config| Pkcs11Signer::open(&config).unwrap_err();

    let wrong_pin = hsm.pin_file().with_file_name("wrong-pin");
    std::fs::write(&wrong_pin, "0000-not-the-pin\n").unwrap();
    let error = open(Pkcs11Config {
        pin_file: Some(wrong_pin),
        ..hsm.config("issuer")
    });
    assert_eq!(error.code(), "pkcs11_wrong_pin", "{error}");
    assert_eq!(
        error.to_string(),
        format!("wrong PIN for token `{SOFTHSM_TOKEN}`: the token refused the login")
    );

    let error = open(Pkcs11Config {
        pin_file: None,
        ..hsm.config("issuer")
    });
    assert_eq!(error.code(), "pkcs11_pin_missing", "{error}");
    assert!(error.to_string().contains("INTYG_PKCS11_PIN"));

    let error = open(hsm.config("no-such-key"));
    assert_eq!(error.code(), "pkcs11_key_not_found", "{error}");
    assert_eq!(
        error.to_string(),
        format!("no private key labelled `no-such-key` on token `{SOFTHSM_TOKEN}`")
    );

    let error = open(Pkcs11Config {
        token: "no-such-token".into(),
        ..hsm.config("issuer")
    });
    assert_eq!(error.code(), "pkcs11_token_not_found", "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("(tokens present: `{SOFTHSM_TOKEN}`)")),
        "{error}"
    );

    let error = open(Pkcs11Config {
        module: "/usr/lib/no-such-pkcs11.so".into(),
        ..hsm.config("issuer")
    });
    assert_eq!(error.code(), "pkcs11_module_not_found", "{error}");

    let p384 = hsm.generate_key_with(
        "p384",
        KeyOptions {
            curve: &P384_PARAMS,
            ..KeyOptions::default()
        },
    );
    assert!(p384.is_none(), "a P-384 key is no P-256 key");
    let error = open(hsm.config("p384"));
    assert_eq!(error.code(), "pkcs11_not_p256", "{error}");
    assert!(error.to_string().contains("is not an EC P-256 key"));

    let readable = hsm.generate_key_with(
        "readable",
        KeyOptions {
            sensitive: false,
            extractable: true,
            ..KeyOptions::default()
        },
    );
    assert!(readable.is_some(), "a readable key is still on P-256");
    let error = open(hsm.config("readable"));
    assert_eq!(error.code(), "pkcs11_not_sensitive", "{error}");

    hsm.generate_key("twice");
    hsm.generate_key("twice");
    let error = open(hsm.config("twice"));
    assert_eq!(error.code(), "pkcs11_ambiguous_key", "{error}");

    // A public key that belongs to another private key.
    hsm.generate_key("a");
    hsm.generate_key("b");
    let session = hsm.session();
    let [public_a] = objects(&session, ObjectClass::PUBLIC_KEY, "a")[..] else {
        panic!("one public key a");
    };
    let [public_b] = objects(&session, ObjectClass::PUBLIC_KEY, "b")[..] else {
        panic!("one public key b");
    };
    session.destroy_object(public_a).unwrap();
    session
        .update_attributes(public_b, &[Attribute::Label(b"a".to_vec())])
        .unwrap();
    drop(session);
    let error = open(hsm.config("a"));
    assert_eq!(error.code(), "pkcs11_key_pair_mismatch", "{error}");
}
