//! The accessibility statement (tillgänglighetsredogörelse) both portals
//! publish at [`PATH`], as lag (2018:1937) om tillgänglighet till digital
//! offentlig service, 12 §, requires and following the structure of DIGG's
//! model statement: who it applies to, how accessible the service is, known
//! shortcomings, how to give feedback, how to reach the supervisory
//! authority (DIGG) and when the statement was made. The page is public
//! and linked from the footer of every page ([`super::chrome::layout`]).

use maud::{Markup, html};

use super::chrome::{Chrome, Frame, layout};
use super::lang::Lang;

/// Where each portal serves its statement.
pub const PATH: &str = "/portal/accessibility";

/// The feedback address when the configuration names none.
pub const DEFAULT_FEEDBACK_EMAIL: &str = "tillganglighet@localhost";

/// The date this statement was made and last reviewed (ISO 8601).
pub const MADE_ON: &str = "2026-12-03";

/// DIGG's web form for reporting a public service's lack of accessibility.
const DIGG_REPORT_URL: &str = "https://www.digg.se/tdosanmalan";

/// The footer link text.
pub fn link_text(lang: Lang) -> &'static str {
    match lang {
        Lang::Sv => "Tillgänglighetsredogörelse",
        Lang::En => "Accessibility statement",
    }
}

/// The statement page of the portal `M`, with feedback to `feedback_email`.
pub fn page<M: Frame>(chrome: &Chrome<'_, M>, feedback_email: &str) -> Markup {
    let lang = chrome.lang;
    let service = lang.t(M::SERVICE);
    let title = link_text(lang);
    let mailto = format!("mailto:{feedback_email}");
    let body = match lang {
        Lang::Sv => html! {
            h1 { "Tillgänglighet för " (service) }
            p { "Den här redogörelsen gäller webbplatsen " (service) " och beskriver hur den uppfyller lagen (2018:1937) om tillgänglighet till digital offentlig service, kända brister och hur du kan rapportera problem så att vi kan åtgärda dem." }
            h2 { "Hur tillgänglig är webbplatsen?" }
            p { "Webbplatsen är förenlig med kraven i Web Content Accessibility Guidelines (WCAG) 2.1 nivå AA. Varje sida kontrolleras automatiskt med axe-core på svenska och engelska, i datorbredd (1280 pixlar) och mobilbredd (320 pixlar), och innehållet ryms utan vågrät rullning vid 320 pixlars bredd." }
            h2 { "Kända brister" }
            ul {
                li { "QR-koden för ett erbjudande kan inte läsas av en skärmläsare. Engångskoden och länken till erbjudandet står därför alltid som text bredvid koden." }
                li { "Automatiska kontroller hittar inte alla brister. Om du stöter på något som hindrar dig vill vi veta det." }
            }
            h2 { "Vad kan du göra om du inte kan använda delar av webbplatsen?" }
            p {
                "Om du behöver innehåll i ett annat format, eller hittar brister som inte står här, kontakta oss via e-post: "
                a href=(mailto) { (feedback_email) } ". Vi svarar normalt inom två arbetsdagar."
            }
            h2 { "Kontakta tillsynsmyndigheten" }
            p {
                "Myndigheten för digital förvaltning (DIGG) ansvarar för tillsynen över lagen om tillgänglighet till digital offentlig service. Om du inte är nöjd med hur vi hanterar dina synpunkter kan du "
                a href=(DIGG_REPORT_URL) { "anmäla det till DIGG" } "."
            }
            h2 { "Hur vi testat webbplatsen" }
            p { "Vi har gjort en självskattning och testar varje sida automatiskt i en riktig webbläsare (Chromium) vid varje ändring. Redogörelsen upprättades den " time datetime=(MADE_ON) { (MADE_ON) } " och uppdaterades senast samma dag." }
        },
        Lang::En => html! {
            h1 { "Accessibility of " (service) }
            p { "This statement applies to the website " (service) ". It describes how the site complies with the Swedish Act on accessibility to digital public services (2018:1937), the shortcomings we know of, and how to report problems so that we can fix them." }
            h2 { "How accessible is the website?" }
            p { "The website complies with the Web Content Accessibility Guidelines (WCAG) 2.1 level AA. Every page is checked automatically with axe-core in Swedish and English, at desktop width (1280 pixels) and phone width (320 pixels), and the content fits without horizontal scrolling at 320 pixels wide." }
            h2 { "Known shortcomings" }
            ul {
                li { "An offer's QR code cannot be read by a screen reader. Its one-time code and the link to the offer are therefore always shown as text beside it." }
                li { "Automated checks do not find every problem. If something stops you, we want to know." }
            }
            h2 { "What to do if you cannot use parts of the website" }
            p {
                "If you need content in another format, or find shortcomings not listed here, email us at "
                a href=(mailto) { (feedback_email) } ". We normally answer within two working days."
            }
            h2 { "Contact the supervisory authority" }
            p {
                "The Agency for Digital Government (DIGG) supervises the Act on accessibility to digital public services. If you are not satisfied with how we handle your feedback, you can "
                a href=(DIGG_REPORT_URL) { "report it to DIGG" } "."
            }
            h2 { "How we tested the website" }
            p { "We made a self-assessment and test every page automatically in a real browser (Chromium) on every change. This statement was made on " time datetime=(MADE_ON) { (MADE_ON) } " and last reviewed the same day." }
        },
    };
    layout(chrome, title, body)
}
