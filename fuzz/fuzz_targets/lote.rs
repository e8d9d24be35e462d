//! Trust lists and the certificates in them, on untrusted input: Lists of
//! Trusted Entities (ETSI TS 119 602, JSON in a compact JWS), Intyg's trust
//! list file (`core::trust`), and X.509 certificates and `x5c` chains
//! (RFC 5280, RFC 7515 §4.1.6). The first byte picks what the rest is:
//!
//! - `0`: a signed list as fetched (bytes), verified against the local root;
//! - `1`: a LoTE document (JSON), signed with the fixed key and the leaf
//!   chain, then verified. `LEAF_CERT` and `ROOT_CERT` in it are replaced by
//!   the fixtures' certificates (base64 DER) so that the certificate checks
//!   are passed. A list that verifies must verify again once signed by us;
//! - `2`: a trust list file (JSON), made into a `TrustList` and asked for
//!   an issuer key;
//! - `3`: a certificate (DER bytes), and the input as PEM text;
//! - otherwise: an `x5c` array (JSON), validated against the local root.

#![no_main]

use intyg_core::jose::{Algorithm, Header};
use intyg_core::trust::lote::{self, ListState, LoteDocument, LotePolicy};
use intyg_core::trust::{
    Certificate, CertificateChain, ListedAnchors, TrustList, TrustListDocument,
};
use intyg_fuzz::{NOW, fixtures, sign, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let f = fixtures();
    let policy = LotePolicy::default();
    match selector {
        0 => {
            let verified = lote::verify(rest, &f.anchors, NOW, &policy);
            if let Ok(list) = &verified {
                assert!(!list.expired_at(NOW, policy.grace_seconds));
                let _ = ListedAnchors::from_lote(list);
            }
            let mut state = ListState::default();
            let accepted = state.offer(verified, NOW);
            assert_eq!(accepted, state.usable(NOW, policy.grace_seconds).is_some());
        }
        1 => {
            let Some(text) = text(rest) else { return };
            let text = text
                .replace("LEAF_CERT", &f.chain.leaf().to_x5c())
                .replace("ROOT_CERT", &f.root.to_x5c());
            let jws = sign(Some("JWT"), text.as_bytes(), true);
            if let Ok(list) = lote::verify(jws.as_bytes(), &f.anchors, NOW, &policy) {
                let _ = list.sequence_number();
                let _ = list.name();
                let _ = ListedAnchors::from_lote(&list);
                let again = lote::sign(&list.document, &f.key, f.chain.to_x5c())
                    .expect("signing a verified list");
                let reread = lote::verify(again.as_bytes(), &f.anchors, NOW, &policy)
                    .expect("our own list verifies");
                assert_eq!(reread, list);
            }
            if let Ok(document) = serde_json::from_str::<LoteDocument>(&text) {
                let json = serde_json::to_string(&document).expect("a list serializes");
                let again: LoteDocument = serde_json::from_str(&json).expect("a list parses");
                assert_eq!(again, document);
            }
        }
        2 => {
            let Ok(document) = serde_json::from_slice::<TrustListDocument>(rest) else {
                return;
            };
            let json = serde_json::to_vec(&document).expect("a trust list serializes");
            let again: TrustListDocument = serde_json::from_slice(&json).expect("parses again");
            assert_eq!(again, document);
            if let Ok(list) = TrustList::try_from(document) {
                let mut header = Header::new(Algorithm::ES256).kid("key-1");
                header.x5c = Some(f.chain.to_x5c());
                for vct in list.types().map(str::to_owned).collect::<Vec<_>>() {
                    for issuer in list.issuers(&vct) {
                        let _ = list.issuer_key(&vct, Some(&issuer.iss), &header, NOW);
                    }
                    let _ = list.issuer_key(&vct, None, &header, NOW);
                }
            }
        }
        3 => {
            if let Ok(certificate) = Certificate::from_der(rest.to_vec(), 0) {
                assert_eq!(certificate.der(), rest);
                let _ = certificate.public_key();
                let _ = certificate.organization();
                let _ = certificate.common_name();
                let _ = certificate.validity();
                let _ = certificate.dns_names();
                let _ = intyg_core::wrprc::access_identifier(rest);
                let pem = certificate.to_pem();
                let again = Certificate::from_pem(&pem).expect("our own PEM reads");
                assert_eq!(again, vec![certificate]);
            }
            if let Some(text) = text(rest) {
                let _ = Certificate::from_pem(text);
            }
        }
        _ => {
            let Ok(x5c) = serde_json::from_slice::<Vec<String>>(rest) else {
                return;
            };
            if let Ok(chain) = CertificateChain::from_x5c(&x5c) {
                assert_eq!(chain.to_x5c().len(), x5c.len());
                if let Ok(leaf) = chain.validate(&f.anchors, NOW) {
                    let _ = leaf.has_dns_name(intyg_fuzz::LEAF_DNS);
                    let _ = leaf.authenticates(&leaf.client_id());
                }
                let _ = chain.validate_haip(&f.anchors, NOW);
            }
        }
    }
});
