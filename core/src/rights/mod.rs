//! The person's rights after a presentation — **Intyg extensions** to
//! OpenID4VP 1.0, specified in `specs/PROFILE.md` ("Receipts and erasure")
//! so that other wallets and verifiers can implement them.
//!
//! | message | direction | module |
//! |---|---|---|
//! | presentation receipt (`intyg-receipt+jwt`) | verifier → wallet, in the Response URI's JSON answer (OpenID4VP 1.0 §8.2 lets the answer carry members a Wallet ignores) | [`receipt`] |
//! | erasure request (`intyg-erasure-request+jwt`) | wallet → verifier's erasure endpoint (GDPR Art. 17) | [`erasure`] |
//! | erasure answer (`intyg-erasure-answer+jwt`) | verifier → wallet: erased, or refused with the legal basis | [`erasure`] |
//!
//! Every message is an ES256 JWS. The verifier signs with its access
//! certificate's key (`x5c`, the key that signed the Request Object); the
//! wallet signs the erasure request with the holder key of the
//! presentation's KB-JWT (`jwk` header), proving it is the data subject
//! of that transaction.

pub mod erasure;
pub mod receipt;

pub use erasure::{
    ERASURE_ANSWER_TYP, ERASURE_ERROR_CODE, ERASURE_REQUEST_TYP, ErasureAnswer, ErasureAnswerBody,
    ErasureError, ErasureRequest, ErasureRequestBody, ErasureStatus, Refusal,
    VerifiedErasureRequest,
};
pub use receipt::{
    RECEIPT_MEMBER, RECEIPT_TYP, Receipt, ReceiptError, ReceiptExpectations, ReceivedCredential,
    vp_token_hash,
};

/// Clock skew tolerated on `iat`, in seconds.
pub const CLOCK_SKEW_SECONDS: i64 = 60;
