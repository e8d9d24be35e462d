//! The portal's two languages and every string it shows, in both.
//!
//! The language comes from `?lang=sv|en` (then kept in a cookie), else from
//! `Accept-Language`, else Swedish. Each failure [`Reason`](crate::verify::Reason)
//! code has its own sentence ([`reason_text`]).

pub use intyg_service::portal::lang::{Lang, Message};

use intyg_service::portal::chrome::Frame;

intyg_service::messages! {
    /// The service name in the header and titles.
    Service => ("Intyg – arbetsgivarportal", "Intyg – employer portal"),
    /// Skip link.
    SkipToContent => ("Hoppa till innehållet", "Skip to content"),
    /// Language switch label, in the other language.
    SwitchLanguage => ("In English", "På svenska"),
    /// Sign-in page heading.
    SignIn => ("Logga in", "Sign in"),
    /// Username label.
    Username => ("Användarnamn", "Username"),
    /// Password label.
    Password => ("Lösenord", "Password"),
    /// Wrong credentials, whatever was wrong.
    WrongCredentials => ("Fel användarnamn eller lösenord.", "Wrong username or password."),
    /// Sign out button.
    SignOut => ("Logga ut", "Sign out"),
    /// Signed-in line prefix.
    SignedInAs => ("Inloggad som", "Signed in as"),
    /// Postings page heading.
    Postings => ("Praktikannonser", "Internship postings"),
    /// No postings yet.
    NoPostings => ("Det finns inga annonser ännu.", "There are no postings yet."),
    /// New posting link and heading.
    NewPosting => ("Ny praktikannons", "New internship posting"),
    /// Posting title label.
    Title => ("Rubrik", "Title"),
    /// Posting description label.
    Description => ("Beskrivning", "Description"),
    /// Hint under the description.
    DescriptionHint => (
        "Vad praktiken innebär: arbetsuppgifter, plats, period.",
        "What the internship is: tasks, place, period."
    ),
    /// Purpose label.
    Purpose => ("Syfte", "Purpose"),
    /// Hint under the purpose.
    PurposeHint => (
        "Visas för den sökande i plånboken när hen ombeds dela sina intyg.",
        "Shown to the applicant in their wallet when asked to share their credentials."
    ),
    /// Default purpose of a new posting.
    DefaultPurpose => (
        "Pröva din ansökan om arbetspraktik: inskrivning och rätt till praktik.",
        "Assess your internship application: registration and eligibility."
    ),
    /// Marks a required field.
    Required => ("obligatoriskt", "required"),
    /// Intro of forms with required fields.
    FormIntro => ("Fält markerade med * är obligatoriska.", "Fields marked * are required."),
    /// Submit of the posting form.
    CreatePosting => ("Skapa annons", "Create posting"),
    /// Error summary heading.
    FixErrors => ("Rätta följande:", "Please correct the following:"),
    /// Title prefix when a form has errors.
    ErrorTitle => ("Fel", "Error"),
    /// Field missing.
    ErrRequired => ("Fältet är obligatoriskt.", "This field is required."),
    /// Too long.
    ErrTooLong => ("Skriv högst {} tecken.", "Enter at most {} characters."),
    /// A control character ({} is its code point).
    ErrControlCharacter => (
        "Texten innehåller ett tecken som inte är tillåtet ({}).",
        "The text contains a character that is not allowed ({})."
    ),
    /// Posting created banner.
    PostingCreated => ("Annonsen är skapad.", "The posting was created."),
    /// Applications heading.
    Applications => ("Ansökningar", "Applications"),
    /// No applications yet.
    NoApplications => ("Inga ansökningar ännu.", "No applications yet."),
    /// Table column: opened.
    Opened => ("Öppnad", "Opened"),
    /// Table column: applicant.
    Applicant => ("Sökande", "Applicant"),
    /// Table column: status.
    Status => ("Status", "Status"),
    /// Unknown applicant name.
    NameNotShared => ("Namnet delades inte", "Name not shared"),
    /// Link to a session.
    Show => ("Visa", "Show"),
    /// Table column: actions.
    Actions => ("Åtgärder", "Actions"),
    /// Boolean yes.
    Yes => ("Ja", "Yes"),
    /// Boolean no.
    No => ("Nej", "No"),
    /// New applicant session button.
    NewSession => ("Ny sökande: visa QR-kod", "New applicant: show QR code"),
    /// Explanation of the new session button.
    NewSessionHint => (
        "Den sökande skannar QR-koden med sin plånbok och väljer vad hen delar.",
        "The applicant scans the QR code with their wallet and chooses what to share."
    ),
    /// Session page heading.
    ApplicantSession => ("Sökande", "Applicant"),
    /// Heading of the QR code and link.
    ScanWithWallet => ("Skanna med plånboken", "Scan with the wallet"),
    /// Instructions on the session page.
    ScanInstructions => (
        "Be den sökande skanna QR-koden med sin plånbok. Sidan uppdateras av sig själv när svaret kommer.",
        "Ask the applicant to scan the QR code with their wallet. This page updates by itself when the answer arrives."
    ),
    /// QR code alt text.
    QrAlt => ("QR-kod med förfrågan om intyg", "QR code of the credential request"),
    /// Link label.
    SameDeviceLink => ("Länk för samma enhet", "Link for the same device"),
    /// Open in wallet link text.
    OpenInWallet => ("Öppna i plånboken", "Open in wallet"),
    /// Expiry prefix.
    ValidUntil => ("Giltig till", "Valid until"),
    /// Without JavaScript.
    NoScript => (
        "Ladda om sidan för att se om svaret har kommit.",
        "Reload the page to see whether the answer has arrived."
    ),
    /// Status: waiting.
    StatusPending => ("Väntar på den sökande", "Waiting for the applicant"),
    /// Status: verified.
    StatusVerified => ("Verifierad", "Verified"),
    /// Status: declined.
    StatusDeclined => ("Avböjd", "Declined"),
    /// Status: the wallet had no matching credential.
    StatusNoMatchingCredential => ("Inget passande intyg", "No matching credential"),
    /// Explanation of that status, before the missing credentials' names.
    NoMatchingCredentialText => (
        "Den sökandes plånbok har inte det intyg som efterfrågas. Den sökande avböjde inte; be om intyget och försök igen. Saknas",
        "The applicant's wallet does not hold the credential asked for. The applicant did not decline; ask for it and try again. Missing"
    ),
    /// Before the name of the credential that failed.
    FailedCredential => ("Intyg som inte godtogs", "Credential not accepted"),
    /// Status: failed.
    StatusFailed => ("Misslyckades", "Failed"),
    /// Status: expired before an answer.
    StatusExpired => ("Tiden gick ut", "Expired"),
    /// Explanation of waiting.
    PendingText => (
        "Ingen plånbok har svarat ännu.",
        "No wallet has answered yet."
    ),
    /// Explanation of verified.
    VerifiedText => (
        "Alla kontroller godkändes: utfärdarens signatur, att utfärdaren är betrodd, giltighetstid, att intyget visas av sin innehavare och att det inte är återkallat.",
        "Every check passed: the issuer's signature, that the issuer is trusted, validity, that the credential is shown by its holder, and that it is not revoked."
    ),
    /// Explanation of declined.
    DeclinedText => (
        "Den sökande avböjde att dela sina uppgifter.",
        "The applicant declined to share their data."
    ),
    /// Explanation of expired.
    ExpiredText => (
        "Ingen plånbok svarade i tid. Öppna en ny session för den sökande.",
        "No wallet answered in time. Open a new session for the applicant."
    ),
    /// Reason code prefix.
    ReasonCode => ("Felkod", "Error code"),
    /// Verified credentials heading.
    VerifiedCredentials => ("Verifierade intyg", "Verified credentials"),
    /// Issuer label.
    Issuer => ("Utfärdare", "Issuer"),
    /// Credential status label.
    CredentialStatus => ("Status för intyget", "Credential status"),
    /// Status list says valid.
    CredentialValid => ("Giltigt (kontrollerat mot utfärdarens statuslista)", "Valid (checked against the issuer's status list)"),
    /// No status list in the credential.
    CredentialNoStatus => ("Intyget har ingen statuslista", "The credential has no status list"),
    StatusChecked => ("Status kontrollerad", "Status checked"),
    Webhooks => ("Webhooks", "Webhooks"),
    TrustLists => ("Förtroendelistor", "Trust lists"),
    TrustListsIntro => ("Listor över betrodda utfärdare (ETSI TS 119 602) som intyg kontrolleras mot. En utfärdare som inte finns på en lista eller som angetts för hand godtas inte.", "Lists of trusted issuers (ETSI TS 119 602) that credentials are checked against. An issuer on no list and not configured by hand is not accepted."),
    NoTrustLists => ("Inga listor används; utfärdarna är angivna för hand.", "No lists are in use; the issuers are configured by hand."),
    TrustList => ("Lista", "List"),
    ListState => ("Läge", "State"),
    SequenceNumber => ("Nummer", "Number"),
    ListIssued => ("Utfärdad", "Issued"),
    NextUpdate => ("Nästa uppdatering", "Next update"),
    ListPending => ("Inte hämtad än", "Not fetched yet"),
    ListOk => ("Aktuell", "Current"),
    ListStale => ("Försenad (används under en frist)", "Overdue (used during a grace period)"),
    ListExpired => ("Utgången (används inte)", "Expired (not used)"),
    ListFailed => ("Kunde inte hämtas eller godtas", "Could not be fetched or accepted"),
    WebhooksIntro => ("Händelser som skickas till era system, signerade (Standard Webhooks). Prenumerationer görs med HR-API:t.", "Events sent to your systems, signed (Standard Webhooks). Subscriptions are made with the HR API."),
    Subscriptions => ("Prenumerationer", "Subscriptions"),
    NoSubscriptions => ("Inga prenumerationer.", "No subscriptions."),
    Events => ("Händelser", "Events"),
    Deliveries => ("Leveranser", "Deliveries"),
    NoDeliveries => ("Inga leveranser än.", "No deliveries yet."),
    DeadLetters => ("Leveranser som gett upp", "Deliveries given up"),
    DeliveryState => ("Läge", "State"),
    Attempts => ("Försök", "Attempts"),
    LastError => ("Senaste fel", "Last error"),
    DeliveryPending => ("Väntar", "Waiting"),
    DeliveryDelivered => ("Levererad", "Delivered"),
    DeliveryDead => ("Gav upp", "Given up"),
    StatusListAge => ("statuslistan var", "the status list was"),
    SecondsOld => ("sekunder gammal", "seconds old"),
    /// Table column: claim.
    Claim => ("Uppgift", "Claim"),
    /// Table column: value.
    Value => ("Värde", "Value"),
    /// Claims deleted after retention.
    ClaimsDeleted => (
        "De verifierade uppgifterna är raderade efter lagringstiden. Samtyckesposten finns kvar.",
        "The verified claims were deleted after the retention period. The consent record is kept."
    ),
    /// Claims erased on the applicant's request.
    ClaimsErased => (
        "Uppgifterna är raderade på den sökandes begäran. Samtyckesposten finns kvar, utan personuppgifter.",
        "The claims were erased at the applicant's request. The consent record is kept, without personal data."
    ),
    /// Back to the posting.
    BackToPosting => ("Tillbaka till annonsen", "Back to the posting"),
    /// Back to all postings.
    AllPostings => ("Alla annonser", "All postings"),
    /// Created prefix.
    Created => ("Skapad", "Created"),
    /// Expired or wrong CSRF token.
    FormExpired => (
        "Formuläret har gått ut. Ladda om sidan och försök igen.",
        "The form has expired. Reload the page and try again."
    ),
    /// Unknown posting or session.
    NotFound => ("Sidan finns inte.", "The page does not exist."),
    /// Server error.
    ServerError => (
        "Något gick fel hos oss. Försök igen om en stund.",
        "Something went wrong on our side. Try again in a while."
    ),
    /// Client error heading.
    RequestFailed => ("Det gick inte att utföra", "That could not be done"),
    /// Generic back link.
    Back => ("Tillbaka", "Back"),
    /// Reason `wallet_error`.
    ReasonWalletError => ("Plånboken svarade med ett fel.", "The wallet answered with an error."),
    /// Reason `malformed_response`.
    ReasonMalformedResponse => ("Svaret från plånboken gick inte att tolka.", "The wallet's answer could not be read."),
    /// Reason `malformed_jwe`.
    ReasonMalformedJwe => (
        "Det krypterade svaret gick inte att dekryptera för den här förfrågan.",
        "The encrypted answer could not be decrypted for this request."
    ),
    /// Reason `unencrypted_response`.
    ReasonUnencryptedResponse => ("Svaret var inte krypterat, men kryptering krävs.", "The answer was not encrypted, but encryption is required."),
    /// Reason `state_mismatch`.
    ReasonStateMismatch => ("Svaret hör inte till den här förfrågan.", "The answer does not belong to this request."),
    /// Reason `transaction_expired`.
    ReasonTransactionExpired => ("Svaret kom efter att tiden hade gått ut.", "The answer came after the time had run out."),
    /// Reason `replay`.
    ReasonReplay => ("Förfrågan var redan besvarad: svaret skickades en gång till.", "The request had already been answered: the answer was sent again."),
    /// Reason `missing_credential`.
    ReasonMissingCredential => ("Ett obligatoriskt intyg saknades i svaret.", "A required credential was missing from the answer."),
    /// Reason `unsupported_presentation`.
    ReasonUnsupportedPresentation => ("Ett intyg var i ett format som inte stöds.", "A credential was in a format that is not supported."),
    /// Reason `malformed_credential`.
    ReasonMalformedCredential => ("Ett intyg var felaktigt uppbyggt.", "A credential was malformed."),
    /// Reason `wrong_credential_type`.
    ReasonWrongCredentialType => ("Ett intyg var av en typ som inte efterfrågades.", "A credential was of a type that was not asked for."),
    /// Reason `untrusted_issuer`.
    ReasonUntrustedIssuer => ("Intyget kommer från en utfärdare som inte är betrodd.", "The credential comes from an issuer that is not trusted."),
    /// Reason `invalid_signature`.
    ReasonInvalidSignature => (
        "Utfärdarens signatur stämmer inte: intyget kan vara förfalskat eller ändrat.",
        "The issuer's signature does not verify: the credential may be forged or altered."
    ),
    /// Reason `expired`.
    ReasonExpired => ("Intyget har gått ut.", "The credential has expired."),
    /// Reason `not_yet_valid`.
    ReasonNotYetValid => ("Intyget gäller inte ännu.", "The credential is not yet valid."),
    /// Reason `wrong_nonce`.
    ReasonWrongNonce => ("Svaret var bundet till en annan förfrågan.", "The answer was bound to another request."),
    /// Reason `wrong_aud`.
    ReasonWrongAud => ("Svaret var avsett för en annan mottagare.", "The answer was meant for another recipient."),
    /// Reason `sd_hash_mismatch`.
    ReasonSdHashMismatch => ("Innehavarens bevis hör inte till det uppvisade intyget.", "The holder's proof does not belong to the credential shown."),
    /// Reason `key_binding_missing`.
    ReasonKeyBindingMissing => ("Intyget visades utan bevis på att det är innehavaren som visar det.", "The credential was shown without proof that its holder shows it."),
    /// Reason `invalid_key_binding`.
    ReasonInvalidKeyBinding => ("Innehavarens bevis är ogiltigt.", "The holder's proof is invalid."),
    /// Reason `invalid_credential`.
    ReasonInvalidCredential => ("Intyget bryter mot reglerna för SD-JWT-intyg.", "The credential breaks the rules for SD-JWT credentials."),
    /// Reason `missing_required_claim`.
    ReasonMissingRequiredClaim => ("En obligatorisk uppgift delades inte.", "A required claim was not shared."),
    /// Reason `values_mismatch`.
    ReasonValuesMismatch => (
        "En uppgift har inget av de godtagna värdena, till exempel en inskrivningsstatus som inte ger rätt till praktik.",
        "A claim has none of the accepted values, for example a registration status that does not allow an internship."
    ),
    /// Reason `revoked`.
    ReasonRevoked => ("Intyget är återkallat av utfärdaren.", "The credential has been revoked by its issuer."),
    /// Reason `suspended`.
    ReasonSuspended => ("Intyget är tillfälligt spärrat av utfärdaren.", "The credential is suspended by its issuer."),
    /// Reason `status_unavailable`.
    ReasonStatusUnavailable => ("Intygets status gick inte att kontrollera.", "The credential's status could not be checked."),
    /// Reason `holder_mismatch`.
    ReasonHolderMismatch => ("PID:en och inskrivningsintyget gäller inte samma person.", "The PID and the registration certificate are not about the same person."),
    /// A reason code this version does not know.
    /// Reason `server_error`: the verifier failed, not the presentation.
    ReasonServerError => ("Verifieringstjänsten kunde inte slutföra kontrollen. Be den sökande att dela på nytt.", "The verifier could not complete the check. Ask the applicant to share again."),
    ReasonUnknown => ("Kontrollen misslyckades.", "The check failed."),
}

/// The sentence for a stored failure reason code ([`crate::verify::Reason::code`]).
pub fn reason_text(code: &str) -> Msg {
    match code {
        "wallet_error" => Msg::ReasonWalletError,
        "malformed_response" => Msg::ReasonMalformedResponse,
        "malformed_jwe" => Msg::ReasonMalformedJwe,
        "unencrypted_response" => Msg::ReasonUnencryptedResponse,
        "state_mismatch" => Msg::ReasonStateMismatch,
        "transaction_expired" => Msg::ReasonTransactionExpired,
        "replay" => Msg::ReasonReplay,
        "missing_credential" => Msg::ReasonMissingCredential,
        "unsupported_presentation" => Msg::ReasonUnsupportedPresentation,
        "malformed_credential" => Msg::ReasonMalformedCredential,
        "wrong_credential_type" => Msg::ReasonWrongCredentialType,
        "untrusted_issuer" => Msg::ReasonUntrustedIssuer,
        "invalid_signature" => Msg::ReasonInvalidSignature,
        "expired" => Msg::ReasonExpired,
        "not_yet_valid" => Msg::ReasonNotYetValid,
        "wrong_nonce" => Msg::ReasonWrongNonce,
        "wrong_aud" => Msg::ReasonWrongAud,
        "sd_hash_mismatch" => Msg::ReasonSdHashMismatch,
        "key_binding_missing" => Msg::ReasonKeyBindingMissing,
        "invalid_key_binding" => Msg::ReasonInvalidKeyBinding,
        "invalid_credential" => Msg::ReasonInvalidCredential,
        "missing_required_claim" => Msg::ReasonMissingRequiredClaim,
        "values_mismatch" => Msg::ReasonValuesMismatch,
        "revoked" => Msg::ReasonRevoked,
        "suspended" => Msg::ReasonSuspended,
        "status_unavailable" => Msg::ReasonStatusUnavailable,
        "holder_mismatch" => Msg::ReasonHolderMismatch,
        crate::presentation::SERVER_ERROR => Msg::ReasonServerError,
        _ => Msg::ReasonUnknown,
    }
}

impl Frame for Msg {
    const SERVICE: Self = Self::Service;
    const SKIP_TO_CONTENT: Self = Self::SkipToContent;
    const SWITCH_LANGUAGE: Self = Self::SwitchLanguage;
    const SIGNED_IN_AS: Self = Self::SignedInAs;
    const SIGN_OUT: Self = Self::SignOut;
    const SIGN_IN: Self = Self::SignIn;
    const USERNAME: Self = Self::Username;
    const PASSWORD: Self = Self::Password;
    const ERROR_TITLE: Self = Self::ErrorTitle;
    const USER_CLASS: &'static str = "employer";
    const SCRIPT: Option<&'static str> = Some("/portal/portal.js");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Reason;

    #[test]
    fn every_message_has_both_languages() {
        for msg in Msg::ALL {
            let (sv, en) = msg.texts();
            assert!(!sv.is_empty() && !en.is_empty(), "{msg:?}");
        }
    }

    /// One value of every [`Reason`] variant. The match below has no
    /// wildcard, so a new variant fails to compile until it is listed here.
    fn every_reason() -> Vec<Reason> {
        let all = vec![
            Reason::WalletError("x".into()),
            Reason::MalformedResponse("x".into()),
            Reason::MalformedJwe("x".into()),
            Reason::UnencryptedResponse,
            Reason::StateMismatch,
            Reason::TransactionExpired,
            Reason::Replay,
            Reason::MissingCredential("x".into()),
            Reason::UnsupportedPresentation("x".into()),
            Reason::MalformedCredential {
                query_id: "q".into(),
                detail: "x".into(),
            },
            Reason::WrongCredentialType {
                query_id: "q".into(),
                vct: "v".into(),
            },
            Reason::UntrustedIssuer("x".into()),
            Reason::InvalidSignature,
            Reason::Expired,
            Reason::NotYetValid,
            Reason::WrongNonce,
            Reason::WrongAud,
            Reason::SdHashMismatch,
            Reason::KeyBindingMissing,
            Reason::InvalidKeyBinding("x"),
            Reason::InvalidCredential("x"),
            Reason::MissingRequiredClaim {
                query_id: "q".into(),
                path: "p".into(),
            },
            Reason::ValuesMismatch {
                query_id: "q".into(),
                path: "p".into(),
            },
            Reason::Revoked,
            Reason::Suspended,
            Reason::StatusUnavailable("x".into()),
            Reason::HolderMismatch("x".into()),
        ];
        for reason in &all {
            match reason {
                Reason::WalletError(_)
                | Reason::MalformedResponse(_)
                | Reason::MalformedJwe(_)
                | Reason::UnencryptedResponse
                | Reason::StateMismatch
                | Reason::TransactionExpired
                | Reason::Replay
                | Reason::MissingCredential(_)
                | Reason::UnsupportedPresentation(_)
                | Reason::MalformedCredential { .. }
                | Reason::WrongCredentialType { .. }
                | Reason::UntrustedIssuer(_)
                | Reason::InvalidSignature
                | Reason::Expired
                | Reason::NotYetValid
                | Reason::WrongNonce
                | Reason::WrongAud
                | Reason::SdHashMismatch
                | Reason::KeyBindingMissing
                | Reason::InvalidKeyBinding(_)
                | Reason::InvalidCredential(_)
                | Reason::MissingRequiredClaim { .. }
                | Reason::ValuesMismatch { .. }
                | Reason::Revoked
                | Reason::Suspended
                | Reason::StatusUnavailable(_)
                | Reason::HolderMismatch(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_reason_has_its_own_sentence() {
        let reasons = every_reason();
        let mut seen = std::collections::HashSet::new();
        for reason in &reasons {
            let msg = reason_text(reason.code());
            assert_ne!(msg, Msg::ReasonUnknown, "{}", reason.code());
            assert!(seen.insert(msg), "{} shares its sentence", reason.code());
        }
        let server_error = reason_text(crate::presentation::SERVER_ERROR);
        assert_ne!(server_error, Msg::ReasonUnknown);
        assert!(
            seen.insert(server_error),
            "server_error shares its sentence"
        );
        assert_eq!(reason_text("something_new"), Msg::ReasonUnknown);
    }
}
