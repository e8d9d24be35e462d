//! The portal's two languages and every string it shows, in both.
//!
//! The language comes from `?lang=sv|en` (then kept in a cookie), else from
//! `Accept-Language`, else Swedish.

pub use intyg_service::portal::lang::{Lang, Message};

use intyg_service::portal::chrome::Frame;

intyg_service::messages! {
    /// The service name in the header and titles.
    Service => ("Intyg – handläggarportal", "Intyg – officer portal"),
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
    /// Search heading.
    FindPerson => ("Sök arbetssökande", "Find a job seeker"),
    /// Personal identity number label.
    PersonalIdentityNumber => ("Personnummer", "Personal identity number"),
    /// Hint under the personal identity number.
    PersonalIdentityNumberHint => (
        "10 eller 12 siffror, med eller utan bindestreck: ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN (+ från 100 år). Samordningsnummer går också bra.",
        "10 or 12 digits, with or without a hyphen: YYYYMMDD-NNNN or YYMMDD-NNNN (+ from the age of 100). Coordination numbers are accepted."
    ),
    /// Invalid personal identity number.
    PersonalIdentityNumberInvalid => (
        "Skriv personnumret med 10 eller 12 siffror, till exempel 19940317-2381.",
        "Enter the personal identity number as 10 or 12 digits, for example 19940317-2381."
    ),
    /// `+` written for someone under 100.
    PersonalIdentityNumberCentury => (
        "Ett personnummer med + tillhör en person som är 100 år eller äldre. Skriv - i stället.",
        "A personal identity number with + belongs to a person aged 100 or more. Write - instead."
    ),
    /// The date part of the number is no date.
    PersonalIdentityNumberDate => (
        "Datumdelen av personnumret är inget giltigt datum.",
        "The date in the personal identity number is not a valid date."
    ),
    /// Wrong check digit.
    PersonalIdentityNumberCheckDigit => (
        "Kontrollsiffran stämmer inte. Kontrollera personnumret.",
        "The check digit does not match. Check the number."
    ),
    /// Search button.
    Search => ("Sök", "Search"),
    /// Person page heading prefix.
    Person => ("Person", "Person"),
    /// Date of birth label.
    Birthdate => ("Födelsedatum", "Date of birth"),
    /// When the person was registered.
    RegisteredAt => ("Registrerad", "Registered"),
    /// Register heading.
    RegisterPerson => ("Registrera arbetssökande", "Register the job seeker"),
    /// The person is not registered.
    NotRegistered => (
        "Personen är inte registrerad. När personen är registrerad fylls namn och födelsedatum i när du utfärdar intyg.",
        "The person is not registered. Once registered, the name and date of birth are filled in when you issue a credential."
    ),
    /// Given name label.
    GivenName => ("Förnamn", "Given names"),
    /// Given name hint.
    GivenNameHint => ("Alla förnamn, som i folkbokföringen.", "All given names, as in the population register."),
    /// Family name label.
    FamilyName => ("Efternamn", "Family name"),
    /// Register button.
    Register => ("Registrera", "Register"),
    /// Registered banner.
    PersonRegistered => ("Personen är registrerad.", "The person is registered."),
    /// Issued credentials heading.
    IssuedCredentials => ("Utfärdade intyg", "Issued credentials"),
    /// Nothing issued yet.
    NothingIssued => ("Inga intyg har utfärdats till personen.", "No credentials have been issued to this person."),
    /// Table column: type.
    CredentialType => ("Typ av intyg", "Credential type"),
    /// Table column: state.
    State => ("Status", "State"),
    /// Table column: created.
    Created => ("Skapat", "Created"),
    /// Table column: actions.
    Actions => ("Åtgärder", "Actions"),
    /// State offered.
    StateOffered => ("Erbjudet, ej hämtat", "Offered, not yet fetched"),
    /// State issued.
    StateIssued => ("Giltigt", "Valid"),
    /// State revoked.
    StateRevoked => ("Återkallat", "Revoked"),
    /// State suspended.
    StateSuspended => ("Spärrat tillfälligt", "Suspended"),
    /// Revoke button.
    Revoke => ("Återkalla", "Revoke"),
    /// Withdraw an unused offer.
    Withdraw => ("Dra tillbaka erbjudandet", "Withdraw the offer"),
    /// Before a record's short reference.
    Reference => ("Ref.", "Ref."),
    /// Revocation page heading.
    RevokeHeading => ("Återkalla intyg", "Revoke a credential"),
    /// When the credential was fetched.
    IssuedOn => ("Utfärdat", "Issued"),
    /// What revoking means.
    RevokeWarning => (
        "Ett återkallat intyg kan inte göras giltigt igen. Personen behöver ett nytt intyg om uppgifterna fortfarande gäller.",
        "A revoked credential cannot be made valid again. The person needs a new credential if the facts still hold."
    ),
    /// Reason legend.
    RevokeReason => ("Varför återkallas intyget?", "Why is the credential revoked?"),
    /// Reason: deregistered.
    ReasonDeregistered => ("Personen är avregistrerad", "The person is deregistered"),
    /// Reason: data changed.
    ReasonDataChanged => ("Uppgifterna i intyget gäller inte längre", "What the credential says no longer holds"),
    /// Reason: issued in error.
    ReasonIssuedInError => ("Intyget utfärdades av misstag", "The credential was issued in error"),
    /// Reason: the person asked.
    ReasonPersonAsked => ("Personen har bett om det (till exempel förlorad telefon)", "The person asked for it (a lost phone, for example)"),
    /// Reason: other.
    ReasonOther => ("Annat skäl (beskriv nedan)", "Another reason (describe below)"),
    /// Note label.
    RevokeNote => ("Kommentar", "Note"),
    /// Note hint.
    RevokeNoteHint => (
        "Sparas med intyget. Krävs vid annat skäl. Högst 500 tecken.",
        "Kept with the credential. Required for another reason. At most 500 characters."
    ),
    /// Confirm button.
    RevokeConfirm => ("Återkalla intyget", "Revoke the credential"),
    /// Cancel link.
    Cancel => ("Avbryt", "Cancel"),
    /// No reason chosen.
    ErrChooseReason => ("Välj ett skäl.", "Choose a reason."),
    /// Revoked notice: type, issued date, then when verifiers see it.
    RevokedNotice => (
        "{type} (ref. {ref}, utfärdat {issued}) är återkallat. Verifierare som har hämtat statuslistan ser det senast {until} (listan får sparas i {minutes} minuter).",
        "{type} (ref. {ref}, issued {issued}) is revoked. Verifiers that fetched the status list see it by {until} at the latest (the list may be kept for {minutes} minutes)."
    ),
    /// An unused offer was withdrawn.
    WithdrawnNotice => (
        "Erbjudandet är tillbakadraget: QR-koden och koden fungerar inte längre.",
        "The offer is withdrawn: its QR code and PIN no longer work."
    ),
    /// Suspend button.
    Suspend => ("Spärra tillfälligt", "Suspend"),
    /// Unsuspend button.
    Unsuspend => ("Häv spärr", "Unsuspend"),
    /// Status changed banner.
    StatusChanged => ("Statusen är ändrad.", "The state was changed."),
    /// Issue heading.
    IssueCredential => ("Utfärda intyg", "Issue a credential"),
    /// Pick a type prompt.
    PickType => ("Välj typ av intyg:", "Pick a credential type:"),
    /// Marks a required field.
    Required => ("obligatoriskt", "required"),
    /// Intro of the claims form.
    FormIntro => ("Fält markerade med * är obligatoriska.", "Fields marked * are required."),
    /// Hint of a date field.
    DateHint => ("Skriv datumet som ÅÅÅÅ-MM-DD.", "Write the date as YYYY-MM-DD."),
    /// Hint of a date that may not be in the future.
    NotAfterTodayHint => ("Inte senare än i dag.", "Not later than today."),
    /// Hint of a date that may not precede another ({} is its label).
    NotBeforeHint => ("Inte tidigare än {}.", "Not earlier than {}."),
    /// Hint of a field required exactly when another has a value ({} the
    /// other field's label, then the value).
    RequiredExactlyWhenHint => (
        "Fyll i fältet när {} är ”{}”, och lämna det tomt annars.",
        "Fill this in when {} is “{}”, and leave it empty otherwise."
    ),
    /// Heading of the record's identity details on the issue form.
    IdentityFromRecord => ("Uppgifter från registreringen", "Details from the registration"),
    /// Intro of those details.
    IdentityFromRecordIntro => (
        "Intyget får personens personnummer, namn och födelsedatum från registreringen. De kan inte ändras här.",
        "The credential takes the person's identity number, names and date of birth from the registration. They cannot be changed here."
    ),
    /// The type needs names and the person is not registered.
    RegisterFirst => (
        "Registrera personen innan du utfärdar det här intyget: namnen hämtas från registreringen.",
        "Register the person before issuing this credential: the names come from the registration."
    ),
    /// Textarea hint for lists.
    OnePerLine => ("Ett värde per rad.", "One value per line."),
    /// JSON fallback hint.
    JsonValue => ("Ett JSON-värde.", "A JSON value."),
    /// Empty option of a select.
    Choose => ("– välj –", "– choose –"),
    /// Boolean yes.
    Yes => ("Ja", "Yes"),
    /// Boolean no.
    No => ("Nej", "No"),
    /// Submit of the claims form.
    CreateOffer => ("Skapa erbjudande", "Create offer"),
    /// Error summary heading.
    FixErrors => ("Rätta följande:", "Please correct the following:"),
    /// Title prefix when a form has errors.
    ErrorTitle => ("Fel", "Error"),
    /// Field missing.
    ErrRequired => ("Fältet är obligatoriskt.", "This field is required."),
    /// Wrong format or pattern.
    ErrFormat => ("Värdet har fel format.", "The value has the wrong format."),
    /// Not a date written YYYY-MM-DD.
    ErrDate => (
        "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-02-02.",
        "Write the date as YYYY-MM-DD, for example 2026-02-02."
    ),
    /// A date after today.
    ErrAfterToday => (
        "Datumet får inte vara senare än i dag ({}).",
        "The date must not be later than today ({})."
    ),
    /// A date before another ({} is that field and its date).
    ErrBefore => ("Datumet får inte vara tidigare än {}.", "The date must not be earlier than {}."),
    /// A control character ({} is its code point).
    ErrControlCharacter => (
        "Texten innehåller ett tecken som inte är tillåtet ({}).",
        "The text contains a character that is not allowed ({})."
    ),
    /// Not one of the choices.
    ErrEnum => ("Välj ett av alternativen.", "Pick one of the choices."),
    /// Too short.
    ErrTooShort => ("Skriv minst {} tecken.", "Enter at least {} characters."),
    /// Too long.
    ErrTooLong => ("Skriv högst {} tecken.", "Enter at most {} characters."),
    /// Too few list items.
    ErrTooFewItems => ("Skriv minst {} värden.", "Enter at least {} values."),
    /// Too many list items.
    ErrTooManyItems => ("Skriv högst {} värden.", "Enter at most {} values."),
    /// Number under the minimum.
    ErrTooSmall => ("Skriv ett tal som är minst {}.", "Enter a number of at least {}."),
    /// Number not above the exclusive minimum.
    ErrNotAbove => ("Skriv ett tal som är större än {}.", "Enter a number greater than {}."),
    /// Number over the maximum.
    ErrTooLarge => ("Skriv ett tal som är högst {}.", "Enter a number of at most {}."),
    /// Number not below the exclusive maximum.
    ErrNotBelow => ("Skriv ett tal som är mindre än {}.", "Enter a number less than {}."),
    /// Not a multiple.
    ErrMultipleOf => ("Skriv ett tal i steg om {}.", "Enter a number in steps of {}."),
    /// Wrong type.
    ErrType => ("Värdet har fel typ.", "The value has the wrong type."),
    /// Not a whole number.
    ErrNotInteger => ("Skriv ett heltal.", "Enter a whole number."),
    /// Not a number.
    ErrNotNumber => ("Skriv ett tal.", "Enter a number."),
    /// Not JSON.
    ErrNotJson => ("Värdet är inte giltig JSON.", "The value is not valid JSON."),
    /// Must not be filled in.
    ErrNotAllowed => ("Fältet ska inte fyllas i här.", "This field must be left empty here."),
    /// Duplicates in a list.
    ErrDuplicate => ("Listan innehåller dubbletter.", "The list contains duplicates."),
    /// Anything else.
    ErrInvalid => ("Värdet är ogiltigt.", "The value is invalid."),
    /// Offer heading.
    OfferReady => ("Erbjudandet är klart", "The offer is ready"),
    /// Offer instructions.
    OfferInstructions => (
        "Be personen skanna QR-koden med sin plånbok och ange koden nedan.",
        "Ask the person to scan the QR code with their wallet and enter the code below."
    ),
    /// QR code alt text.
    QrAlt => ("QR-kod med erbjudandet", "QR code of the offer"),
    /// PIN label.
    Pin => ("Kod att läsa upp", "Code to read out"),
    /// Link label.
    OfferLink => ("Länk för samma enhet", "Link for the same device"),
    /// Heading of which wallets can accept an offer.
    WhichWallets => ("Vilka plånböcker kan ta emot intyget", "Which wallets can accept it"),
    /// Any OpenID4VCI wallet can accept.
    WalletsAny => (
        "Alla plånböcker som följer OpenID4VCI 1.0, även Intyg-plånboken och EU:s digitala identitetsplånböcker.",
        "Any wallet that follows OpenID4VCI 1.0, including the Intyg wallet and EU digital identity wallets."
    ),
    /// Wallets with DPoP can accept.
    WalletsDpop => (
        "Plånböcker som binder sina åtkomstbevis med DPoP: Intyg-plånboken och EU:s digitala identitetsplånböcker.",
        "Wallets that bind their access tokens with DPoP: the Intyg wallet and EU digital identity wallets."
    ),
    /// Only certified wallets can accept.
    WalletsCertified => (
        "Endast certifierade plånböcker (HAIP 1.0, med plånboks- och nyckelintyg från en betrodd leverantör), till exempel den svenska digitala identitetsplånboken. Intyg-plånboken för datorn kan inte ta emot det.",
        "Only certified wallets (HAIP 1.0, with wallet and key attestations from a trusted provider), such as the Swedish digital identity wallet. The Intyg desktop wallet cannot accept it."
    ),
    /// Open in wallet link text.
    OpenInWallet => ("Öppna i plånboken", "Open in wallet"),
    /// Offer expiry prefix.
    Expires => ("Giltigt till", "Valid until"),
    /// The offer was used, withdrawn or has expired.
    OfferGone => (
        "Erbjudandet är redan hämtat, återkallat eller har gått ut. Gör ett nytt erbjudande vid behov.",
        "The offer was already fetched, was withdrawn or has expired. Make a new offer if needed."
    ),
    /// Back to person link.
    BackToPerson => ("Tillbaka till personen", "Back to the person"),
    /// New search link.
    NewSearch => ("Ny sökning", "New search"),
    /// Expired or wrong CSRF token.
    FormExpired => (
        "Formuläret har gått ut. Ladda om sidan och försök igen.",
        "The form has expired. Reload the page and try again."
    ),
    /// Unknown person handle or type.
    NotFound => ("Sidan finns inte.", "The page does not exist."),
    /// Server error.
    ServerError => (
        "Något gick fel hos oss. Försök igen om en stund.",
        "Something went wrong on our side. Try again in a while."
    ),
    /// The person page's audit trail heading.
    AuditTrail => ("Händelser i granskningsloggen", "Events in the audit trail"),
    /// The person page's audit trail when empty.
    AuditTrailEmpty => ("Inga händelser.", "No events."),
    /// Audit action: the person was registered.
    AuditRegistered => ("Registrerad", "Registered"),
    /// Audit action: an offer was made.
    AuditOffered => ("Erbjudande skapat", "Offer made"),
    /// Audit action: an offer was withdrawn.
    AuditWithdrawn => ("Erbjudande återtaget", "Offer withdrawn"),
    /// Audit action: a credential was revoked.
    AuditRevoked => ("Återkallat", "Revoked"),
    /// Audit action: a credential was suspended.
    AuditSuspended => ("Spärrat tillfälligt", "Suspended"),
    /// Audit action: a suspension was lifted.
    AuditUnsuspended => ("Spärr hävd", "Suspension lifted"),
    /// Client error heading.
    RequestFailed => ("Det gick inte att utföra", "That could not be done"),
    /// Generic back link.
    Back => ("Tillbaka", "Back"),
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
    const USER_CLASS: &'static str = "officer";
    const SCRIPT: Option<&'static str> = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages() {
        for msg in Msg::ALL {
            let (sv, en) = msg.texts();
            assert!(!sv.is_empty() && !en.is_empty(), "{msg:?}");
        }
    }
}
