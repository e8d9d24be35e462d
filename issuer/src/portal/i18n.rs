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
    /// Rate limit reached.
    TooManyAttempts => (
        "För många misslyckade försök. Vänta en minut och försök igen.",
        "Too many failed attempts. Wait a minute and try again."
    ),
    /// Sign out button.
    SignOut => ("Logga ut", "Sign out"),
    /// Signed-in line prefix.
    SignedInAs => ("Inloggad som", "Signed in as"),
    /// Search heading.
    FindPerson => ("Sök arbetssökande", "Find a job seeker"),
    /// Personal identity number label.
    PersonalIdentityNumber => ("Personnummer", "Personal identity number"),
    /// Hint under the personal identity number.
    PersonalIdentityNumberHint => ("12 siffror, ÅÅÅÅMMDDNNNN.", "12 digits, YYYYMMDDNNNN."),
    /// Invalid personal identity number.
    PersonalIdentityNumberInvalid => (
        "Skriv personnumret med 12 siffror, utan bindestreck.",
        "Enter the personal identity number as 12 digits, without a hyphen."
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
    /// Wrong date/uri format.
    ErrFormat => ("Värdet har fel format.", "The value has the wrong format."),
    /// Pattern failure.
    ErrPattern => ("Värdet har fel form.", "The value does not have the expected form."),
    /// Not one of the choices.
    ErrEnum => ("Välj ett av alternativen.", "Pick one of the choices."),
    /// Too short.
    ErrTooShort => ("Värdet är för kort.", "The value is too short."),
    /// Too long.
    ErrTooLong => ("Värdet är för långt.", "The value is too long."),
    /// Number too small.
    ErrTooSmall => ("Talet är för litet.", "The number is too small."),
    /// Number too large.
    ErrTooLarge => ("Talet är för stort.", "The number is too large."),
    /// Not a multiple.
    ErrMultipleOf => ("Talet har fel steg (t.ex. halvtimmar).", "The number is not a valid step (e.g. half hours)."),
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
