//! `POST /credential` — OpenID4VCI 1.0 §8 (Credential Request, Credential
//! Response, Credential Error Response), and the error codes the Deferred
//! Credential Endpoint (§9.3) adds.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-credential-endpoint>
//!
//! A Credential Request names exactly one of `credential_identifier` and
//! `credential_configuration_id`, and carries key proofs in `proofs`. The
//! singular `proof` of the drafts before 1.0 is refused with
//! [`CredentialRequestError::SingularProof`], whose message tells the
//! Wallet's developer what to send instead: a frequent interop failure.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::id::{CredentialConfigurationId, CredentialIdentifier, NotificationId, TransactionId};
use super::{error_description, has_private_key};
use crate::jose::Jwk;

/// The Credential Request (§8.2).
///
/// Deserializing (also through serde, e.g. a web framework's JSON
/// extractor) applies every check of [`CredentialRequest::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialRequest {
    /// `credential_identifier`: a dataset from the Token Response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_identifier: Option<CredentialIdentifier>,
    /// `credential_configuration_id`: used when the Token Response had no
    /// `credential_identifiers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<CredentialConfigurationId>,
    /// `proofs`: one proof type with one or more proofs, one per key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
    /// `credential_response_encryption`: how to encrypt the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<CredentialResponseEncryption>,
    /// Other parameters; the issuer ignores them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `proofs` (§8.2): exactly one proof type, with a non-empty array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proofs {
    /// `jwt` (Appendix F.1): compact JWTs, see [`super::proof`].
    Jwt(Vec<String>),
    /// `di_vp` (Appendix F.2): W3C Verifiable Presentations.
    DiVp(Vec<Value>),
    /// `attestation` (Appendix F.3): exactly one key attestation JWT.
    Attestation(Vec<String>),
}

impl Proofs {
    /// How many proofs (keys) the request carries.
    pub fn len(&self) -> usize {
        match self {
            Self::Jwt(p) | Self::Attestation(p) => p.len(),
            Self::DiVp(p) => p.len(),
        }
    }

    /// Whether there are none (never true after parsing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `credential_response_encryption` in a request (§8.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialResponseEncryption {
    /// `jwk`: the Wallet's public encryption key.
    pub jwk: Jwk,
    /// `enc`: the JWE content encryption algorithm.
    pub enc: String,
    /// `zip`: the JWE compression algorithm, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// The two ways a request names what to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedCredential<'a> {
    /// By `credential_identifier`.
    Identifier(&'a CredentialIdentifier),
    /// By `credential_configuration_id`.
    Configuration(&'a CredentialConfigurationId),
}

/// Why a Credential Request was refused. Map it to the wire with
/// [`CredentialRequestError::to_response`].
#[derive(Debug, thiserror::Error)]
pub enum CredentialRequestError {
    /// The body is not a JSON object, or a parameter has the wrong type or
    /// an invalid value.
    #[error("malformed credential request: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The request uses the singular `proof` of drafts before 1.0.
    #[error(
        "`proof` is not an OpenID4VCI 1.0 parameter: send `proofs` with one proof type and an array, e.g. {{\"proofs\": {{\"jwt\": [\"<key proof>\"]}}}}"
    )]
    SingularProof,
    /// The request uses `format` (drafts before 1.0) and no identifier.
    #[error(
        "`format` was removed in OpenID4VCI 1.0: name the credential with `credential_configuration_id` or `credential_identifier`"
    )]
    FormatInsteadOfIdentifier,
    /// Neither `credential_identifier` nor `credential_configuration_id`.
    #[error("the request has neither `credential_identifier` nor `credential_configuration_id`")]
    NoIdentifier,
    /// Both `credential_identifier` and `credential_configuration_id`.
    #[error("`credential_identifier` and `credential_configuration_id` must not both be present")]
    BothIdentifiers,
    /// `proofs` is not an object with exactly one member.
    #[error("`proofs` must be an object with exactly one proof type, not {0} members")]
    ProofTypeCount(usize),
    /// `proofs` names a proof type we do not know.
    #[error("unknown proof type `{0}` in `proofs`")]
    UnknownProofType(String),
    /// The proof type's array is empty.
    #[error("the `proofs` array is empty")]
    EmptyProofs,
    /// More proofs than the issuer's `batch_size` (1 without batch
    /// issuance).
    #[error("{count} proofs sent; at most {max} are accepted")]
    TooManyProofs {
        /// Proofs in the request.
        count: usize,
        /// The limit.
        max: u64,
    },
    /// `credential_response_encryption.jwk` holds private key material.
    #[error("`credential_response_encryption.jwk` must be a public key")]
    PrivateEncryptionKey,
}

const PROOF_TYPES: [&str; 3] = ["jwt", "di_vp", "attestation"];

/// The wire fields, read after the shape checks.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    credential_identifier: Option<CredentialIdentifier>,
    #[serde(default)]
    credential_configuration_id: Option<CredentialConfigurationId>,
    #[serde(default)]
    proofs: Option<Proofs>,
    #[serde(default)]
    credential_response_encryption: Option<CredentialResponseEncryption>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl CredentialRequest {
    /// A request by configuration id with `jwt` proofs.
    pub fn for_configuration(id: CredentialConfigurationId, jwt_proofs: Vec<String>) -> Self {
        Self {
            credential_identifier: None,
            credential_configuration_id: Some(id),
            proofs: Some(Proofs::Jwt(jwt_proofs)),
            credential_response_encryption: None,
            extra: Map::new(),
        }
    }

    /// Parses and checks a request body.
    pub fn from_json(body: &[u8]) -> Result<Self, CredentialRequestError> {
        let object: Map<String, Value> =
            serde_json::from_slice(body).map_err(CredentialRequestError::Malformed)?;
        Self::from_object(object)
    }

    fn from_object(mut object: Map<String, Value>) -> Result<Self, CredentialRequestError> {
        use CredentialRequestError as E;
        if object.contains_key("proof") {
            return Err(E::SingularProof);
        }
        let has_id = |key| object.get(key).is_some_and(|v| !v.is_null());
        match (
            has_id("credential_identifier"),
            has_id("credential_configuration_id"),
        ) {
            (true, true) => return Err(E::BothIdentifiers),
            (false, false) if object.contains_key("format") => {
                return Err(E::FormatInsteadOfIdentifier);
            }
            (false, false) => return Err(E::NoIdentifier),
            _ => {}
        }
        match object.get("proofs") {
            None | Some(Value::Null) => {}
            Some(Value::Object(proofs)) => {
                let mut entries = proofs.iter();
                let (Some((name, value)), None) = (entries.next(), entries.next()) else {
                    return Err(E::ProofTypeCount(proofs.len()));
                };
                if !PROOF_TYPES.contains(&name.as_str()) {
                    return Err(E::UnknownProofType(name.clone()));
                }
                if value.as_array().is_some_and(Vec::is_empty) {
                    return Err(E::EmptyProofs);
                }
            }
            Some(_) => {
                object.remove("proofs");
                return Err(E::ProofTypeCount(0));
            }
        }
        let wire: Wire = serde_json::from_value(Value::Object(object)).map_err(E::Malformed)?;
        if wire
            .credential_response_encryption
            .as_ref()
            .is_some_and(|e| has_private_key(&e.jwk))
        {
            return Err(E::PrivateEncryptionKey);
        }
        Ok(Self {
            credential_identifier: wire.credential_identifier,
            credential_configuration_id: wire.credential_configuration_id,
            proofs: wire.proofs,
            credential_response_encryption: wire.credential_response_encryption,
            extra: wire.extra,
        })
    }

    /// What the request asks for. Parsing guarantees exactly one is set;
    /// a hand-built request with neither reads as [`CredentialRequestError::NoIdentifier`].
    pub fn requested(&self) -> Result<RequestedCredential<'_>, CredentialRequestError> {
        match (
            &self.credential_identifier,
            &self.credential_configuration_id,
        ) {
            (Some(id), None) => Ok(RequestedCredential::Identifier(id)),
            (None, Some(id)) => Ok(RequestedCredential::Configuration(id)),
            (Some(_), Some(_)) => Err(CredentialRequestError::BothIdentifiers),
            (None, None) => Err(CredentialRequestError::NoIdentifier),
        }
    }

    /// Checks the number of proofs against the issuer's `batch_size`
    /// (`None`: no batch issuance, so one proof).
    pub fn check_batch_size(&self, batch_size: Option<u64>) -> Result<(), CredentialRequestError> {
        let count = self.proofs.as_ref().map_or(0, Proofs::len);
        let max = batch_size.unwrap_or(1);
        if u64::try_from(count).map_or(true, |c| c > max) {
            return Err(CredentialRequestError::TooManyProofs { count, max });
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for CredentialRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_object(Map::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl CredentialRequestError {
    /// The §8.3.1.2 error code for this failure.
    pub fn error_code(&self) -> CredentialErrorCode {
        match self {
            Self::SingularProof
            | Self::ProofTypeCount(_)
            | Self::UnknownProofType(_)
            | Self::EmptyProofs => CredentialErrorCode::InvalidProof,
            Self::PrivateEncryptionKey => CredentialErrorCode::InvalidEncryptionParameters,
            Self::Malformed(_)
            | Self::FormatInsteadOfIdentifier
            | Self::NoIdentifier
            | Self::BothIdentifiers
            | Self::TooManyProofs { .. } => CredentialErrorCode::InvalidCredentialRequest,
        }
    }

    /// The Credential Error Response for this failure.
    pub fn to_response(&self) -> CredentialErrorResponse {
        CredentialErrorResponse::new(self.error_code(), Some(&self.to_string()))
    }
}

/// The Deferred Credential Request (§9.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeferredCredentialRequest {
    /// `transaction_id`, from a deferred Credential Response.
    pub transaction_id: TransactionId,
    /// `credential_response_encryption`, which replaces the one of the
    /// original request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<CredentialResponseEncryption>,
}

/// One issued credential in a response (§8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// `credential`: a string (SD-JWT VC, base64url mdoc, JWT VC) or an
    /// object (`ldp_vc`), depending on the format.
    pub credential: Value,
}

impl IssuedCredential {
    /// A credential in a string encoding, e.g. an SD-JWT.
    pub fn compact(credential: impl Into<String>) -> Self {
        Self {
            credential: Value::String(credential.into()),
        }
    }

    /// The credential if it is a string.
    pub fn as_compact(&self) -> Option<&str> {
        self.credential.as_str()
    }
}

/// The Credential Response (§8.3) and Deferred Credential Response (§9.2):
/// either `credentials` (HTTP 200) or `transaction_id` with `interval`
/// (HTTP 202).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// `credentials`: the issued credentials, one per proof at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<IssuedCredential>>,
    /// `transaction_id`: issuance is deferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// `interval`: seconds to wait before asking the deferred endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// `notification_id`: for the Notification Endpoint (§11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<NotificationId>,
}

/// Why a Credential Response is not well-formed (§8.3).
#[derive(Debug, thiserror::Error)]
pub enum CredentialResponseError {
    /// Not JSON, or a member has the wrong type.
    #[error("malformed credential response: {0}")]
    Malformed(#[source] serde_json::Error),
    /// Neither `credentials` nor `transaction_id`.
    #[error("the response has neither `credentials` nor `transaction_id`")]
    Empty,
    /// Both `credentials` and `transaction_id`.
    #[error("`credentials` and `transaction_id` must not both be present")]
    Both,
    /// `credentials` is an empty array.
    #[error("`credentials` must not be empty")]
    NoCredentials,
    /// `transaction_id` without a positive `interval`.
    #[error("`transaction_id` requires a positive `interval`")]
    MissingInterval,
    /// `interval` or `notification_id` alongside `credentials` / without
    /// them.
    #[error("`{0}` is not allowed in this kind of response")]
    Misplaced(&'static str),
}

impl CredentialResponse {
    /// Immediate issuance.
    pub fn immediate(
        credentials: Vec<IssuedCredential>,
        notification_id: Option<NotificationId>,
    ) -> Self {
        Self {
            credentials: Some(credentials),
            transaction_id: None,
            interval: None,
            notification_id,
        }
    }

    /// Deferred issuance: ask again after `interval` seconds.
    pub fn deferred(transaction_id: TransactionId, interval: u64) -> Self {
        Self {
            credentials: None,
            transaction_id: Some(transaction_id),
            interval: Some(interval),
            notification_id: None,
        }
    }

    /// Parses and [validates](Self::validate) a response body.
    pub fn from_json(body: &[u8]) -> Result<Self, CredentialResponseError> {
        let response: Self =
            serde_json::from_slice(body).map_err(CredentialResponseError::Malformed)?;
        response.validate()?;
        Ok(response)
    }

    /// The §8.3 rules on which members go together.
    pub fn validate(&self) -> Result<(), CredentialResponseError> {
        use CredentialResponseError as E;
        match (&self.credentials, &self.transaction_id) {
            (Some(_), Some(_)) => Err(E::Both),
            (None, None) => Err(E::Empty),
            (Some(credentials), None) if credentials.is_empty() => Err(E::NoCredentials),
            (Some(_), None) if self.interval.is_some() => Err(E::Misplaced("interval")),
            (Some(_), None) => Ok(()),
            (None, Some(_)) if self.notification_id.is_some() => {
                Err(E::Misplaced("notification_id"))
            }
            (None, Some(_)) if self.interval.unwrap_or(0) == 0 => Err(E::MissingInterval),
            (None, Some(_)) => Ok(()),
        }
    }
}

/// Credential Error Response codes (§8.3.1.2, §9.3, RFC 6750 §3.1).
/// Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialErrorCode {
    /// `invalid_credential_request`: missing, unsupported or repeated
    /// parameter, or otherwise malformed.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`: `proofs` missing, a proof invalid, or a proof
    /// without `c_nonce`.
    InvalidProof,
    /// `invalid_nonce`: a proof's `c_nonce` is unknown, used or expired;
    /// the Wallet fetches a new one.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`: unrecoverable.
    CredentialRequestDenied,
    /// `invalid_transaction_id` (§9.3, Deferred Credential Endpoint).
    InvalidTransactionId,
    /// `invalid_token` (RFC 6750 §3.1): the access token is missing,
    /// expired or revoked.
    InvalidToken,
}

impl CredentialErrorCode {
    /// The HTTP status: 401 for `invalid_token` (RFC 6750 §3.1), else 400.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidToken => 401,
            _ => 400,
        }
    }
}

/// A Credential Error Response body (§8.3.1.2). Never encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialErrorResponse {
    /// `error`.
    pub error: CredentialErrorCode,
    /// `error_description`: ASCII without `"` and `\`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl CredentialErrorResponse {
    /// An error with a description, cut down to the characters §8.3.1.2
    /// allows.
    pub fn new(error: CredentialErrorCode, description: Option<&str>) -> Self {
        Self {
            error,
            error_description: description.map(error_description),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an error is the expected one.
    type Check<E> = fn(&E) -> bool;
    use serde_json::json;

    fn parse(value: Value) -> Result<CredentialRequest, CredentialRequestError> {
        CredentialRequest::from_json(value.to_string().as_bytes())
    }

    #[test]
    fn request_round_trips() {
        let request = CredentialRequest::for_configuration(
            "registration-certificate".parse().unwrap(),
            vec!["a.b.c".into()],
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            json!({"credential_configuration_id": "registration-certificate", "proofs": {"jwt": ["a.b.c"]}})
        );
        assert_eq!(parse(json.clone()).unwrap(), request);
        assert_eq!(
            serde_json::from_value::<CredentialRequest>(json).unwrap(),
            request
        );
        assert_eq!(
            request.requested().unwrap(),
            RequestedCredential::Configuration(&"registration-certificate".parse().unwrap())
        );
    }

    #[test]
    fn singular_proof_is_refused_with_a_pointer_to_proofs() {
        let error = parse(json!({
            "credential_configuration_id": "x",
            "proof": {"proof_type": "jwt", "jwt": "a.b.c"}
        }))
        .unwrap_err();
        assert!(matches!(error, CredentialRequestError::SingularProof));
        let response = error.to_response();
        assert_eq!(response.error, CredentialErrorCode::InvalidProof);
        assert!(
            response
                .error_description
                .unwrap()
                .contains("send `proofs`")
        );
        let via_serde = serde_json::from_value::<CredentialRequest>(json!({
            "credential_configuration_id": "x", "proof": {}
        }))
        .unwrap_err();
        assert!(via_serde.to_string().contains("`proofs`"));
    }

    #[test]
    fn every_request_rule_has_its_error() {
        use CredentialRequestError as E;
        let cases: Vec<(Value, Check<E>, CredentialErrorCode)> = vec![
            (
                json!([]),
                |e| matches!(e, E::Malformed(_)),
                CredentialErrorCode::InvalidCredentialRequest,
            ),
            (
                json!({"credential_configuration_id": 5}),
                |e| matches!(e, E::Malformed(_)),
                CredentialErrorCode::InvalidCredentialRequest,
            ),
            (
                json!({"format": "dc+sd-jwt"}),
                |e| matches!(e, E::FormatInsteadOfIdentifier),
                CredentialErrorCode::InvalidCredentialRequest,
            ),
            (
                json!({}),
                |e| matches!(e, E::NoIdentifier),
                CredentialErrorCode::InvalidCredentialRequest,
            ),
            (
                json!({"credential_identifier": "a", "credential_configuration_id": "b"}),
                |e| matches!(e, E::BothIdentifiers),
                CredentialErrorCode::InvalidCredentialRequest,
            ),
            (
                json!({"credential_identifier": "a", "proofs": {}}),
                |e| matches!(e, E::ProofTypeCount(0)),
                CredentialErrorCode::InvalidProof,
            ),
            (
                json!({"credential_identifier": "a", "proofs": {"jwt": ["x"], "attestation": ["y"]}}),
                |e| matches!(e, E::ProofTypeCount(2)),
                CredentialErrorCode::InvalidProof,
            ),
            (
                json!({"credential_identifier": "a", "proofs": ["x"]}),
                |e| matches!(e, E::ProofTypeCount(0)),
                CredentialErrorCode::InvalidProof,
            ),
            (
                json!({"credential_identifier": "a", "proofs": {"ldp_vp": ["x"]}}),
                |e| matches!(e, E::UnknownProofType(t) if t == "ldp_vp"),
                CredentialErrorCode::InvalidProof,
            ),
            (
                json!({"credential_identifier": "a", "proofs": {"jwt": []}}),
                |e| matches!(e, E::EmptyProofs),
                CredentialErrorCode::InvalidProof,
            ),
            (
                json!({"credential_identifier": "a", "credential_response_encryption": {"jwk": {"kty": "EC", "crv": "P-256", "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk", "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk", "d": "AAAA"}, "enc": "A128GCM"}}),
                |e| matches!(e, E::PrivateEncryptionKey),
                CredentialErrorCode::InvalidEncryptionParameters,
            ),
        ];
        for (body, expected, code) in cases {
            let error = parse(body.clone()).unwrap_err();
            assert!(expected(&error), "{body}: {error:?}");
            assert_eq!(error.error_code(), code, "{body}");
        }
    }

    #[test]
    fn batch_size_limits_proofs() {
        let request = CredentialRequest::for_configuration(
            "x".parse().unwrap(),
            vec!["a".into(), "b".into(), "c".into()],
        );
        assert!(request.check_batch_size(Some(3)).is_ok());
        let error = request.check_batch_size(None).unwrap_err();
        assert!(matches!(
            error,
            CredentialRequestError::TooManyProofs { count: 3, max: 1 }
        ));
        assert_eq!(
            error.error_code(),
            CredentialErrorCode::InvalidCredentialRequest
        );
        let mut hand_built = request.clone();
        hand_built.credential_configuration_id = None;
        assert!(matches!(
            hand_built.requested(),
            Err(CredentialRequestError::NoIdentifier)
        ));
        hand_built.credential_identifier = Some("i".parse().unwrap());
        assert!(matches!(
            hand_built.requested(),
            Ok(RequestedCredential::Identifier(_))
        ));
        hand_built.credential_configuration_id = Some("x".parse().unwrap());
        assert!(matches!(
            hand_built.requested(),
            Err(CredentialRequestError::BothIdentifiers)
        ));
        assert!(!request.proofs.unwrap().is_empty());
    }

    #[test]
    fn response_rules() {
        use CredentialResponseError as E;
        let ok = CredentialResponse::immediate(
            vec![IssuedCredential::compact("eyJ~")],
            Some("n".parse().unwrap()),
        );
        assert!(ok.validate().is_ok());
        assert_eq!(
            ok.credentials.as_ref().unwrap()[0].as_compact(),
            Some("eyJ~")
        );
        let deferred = CredentialResponse::deferred("t".parse().unwrap(), 60);
        let bytes = serde_json::to_vec(&deferred).unwrap();
        assert_eq!(CredentialResponse::from_json(&bytes).unwrap(), deferred);
        let cases: Vec<(Value, Check<E>)> = vec![
            (json!({"credentials": "x"}), |e| {
                matches!(e, E::Malformed(_))
            }),
            (json!({}), |e| matches!(e, E::Empty)),
            (
                json!({"credentials": [{"credential": "a"}], "transaction_id": "t", "interval": 1}),
                |e| matches!(e, E::Both),
            ),
            (json!({"credentials": []}), |e| {
                matches!(e, E::NoCredentials)
            }),
            (json!({"transaction_id": "t"}), |e| {
                matches!(e, E::MissingInterval)
            }),
            (json!({"transaction_id": "t", "interval": 0}), |e| {
                matches!(e, E::MissingInterval)
            }),
            (
                json!({"credentials": [{"credential": "a"}], "interval": 5}),
                |e| matches!(e, E::Misplaced("interval")),
            ),
            (
                json!({"transaction_id": "t", "interval": 5, "notification_id": "n"}),
                |e| matches!(e, E::Misplaced("notification_id")),
            ),
        ];
        for (body, expected) in cases {
            let error = CredentialResponse::from_json(body.to_string().as_bytes()).unwrap_err();
            assert!(expected(&error), "{body}: {error:?}");
        }
    }

    #[test]
    fn error_codes_have_their_wire_names() {
        let names = [
            (
                CredentialErrorCode::InvalidCredentialRequest,
                "invalid_credential_request",
            ),
            (
                CredentialErrorCode::UnknownCredentialConfiguration,
                "unknown_credential_configuration",
            ),
            (
                CredentialErrorCode::UnknownCredentialIdentifier,
                "unknown_credential_identifier",
            ),
            (CredentialErrorCode::InvalidProof, "invalid_proof"),
            (CredentialErrorCode::InvalidNonce, "invalid_nonce"),
            (
                CredentialErrorCode::InvalidEncryptionParameters,
                "invalid_encryption_parameters",
            ),
            (
                CredentialErrorCode::CredentialRequestDenied,
                "credential_request_denied",
            ),
            (
                CredentialErrorCode::InvalidTransactionId,
                "invalid_transaction_id",
            ),
            (CredentialErrorCode::InvalidToken, "invalid_token"),
        ];
        for (code, name) in names {
            assert_eq!(serde_json::to_value(code).unwrap(), name);
            let expected_status = if name == "invalid_token" { 401 } else { 400 };
            assert_eq!(code.http_status(), expected_status);
        }
        assert!(serde_json::from_str::<CredentialErrorCode>("\"invalid_request\"").is_err());
        let response = CredentialErrorResponse::new(CredentialErrorCode::InvalidNonce, None);
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"error": "invalid_nonce"})
        );
    }
}
