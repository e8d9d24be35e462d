//! A complaint package for the data protection authority (the EUDI
//! "report to DPA"; in Sweden IMY, which has no API): one JSON document
//! with the evidence of one share, and a readable HTML summary in Swedish
//! and English that says where and how to submit it. Nothing is sent.
//!
//! The evidence: the signed Request Object (who asked, for what, under
//! which certificate), the registration certificate and what it
//! registered when the entry has one, what was asked and what was
//! over-asked, the receipt or the erasure answer, and the person's own
//! text. No claim values are in it: the wallet records names only.

use intyg_core::jose::CompactJws;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::HistoryEntry;
use crate::{Wallet, now};

/// The package format's identifier.
pub const FORMAT: &str = "intyg-dpa-complaint/1";

/// Where a complaint goes in Sweden.
pub const IMY_COMPLAINT_URL: &str =
    "https://www.imy.se/privatperson/utfora-arenden/lamna-ett-klagomal/";
/// IMY's e-mail address for submissions.
pub const IMY_EMAIL: &str = "imy@imy.se";
/// IMY's postal address.
pub const IMY_POSTAL_ADDRESS: &str = "Integritetsskyddsmyndigheten, Box 8114, 104 20 Stockholm";

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No history entry has that id.
    #[error("no history entry `{0}`")]
    UnknownEntry(String),
    /// The entry is not about a verifier (an issuance).
    #[error("history entry `{0}` is not a request from a verifier")]
    NotAVerifier(String),
    /// The person's text has control characters.
    #[error("the text: {0}")]
    Text(intyg_core::text::ControlCharacter),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl ReportError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEntry(_) => "not_found",
            Self::NotAVerifier(_) => "not_a_verifier",
            Self::Text(_) => "invalid_text",
            Self::Store(_) => "store_failure",
        }
    }
}

/// The complaint package.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintPackage {
    /// [`FORMAT`].
    pub format: &'static str,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// Where to submit it.
    pub authority: Value,
    /// The controller: the verifier as its request and certificate name it.
    pub controller: Value,
    /// The share: when, why, what, how it ended.
    pub share: Value,
    /// The signed Request Object (compact JWS), as received.
    pub request_object: Option<String>,
    /// The verifier's certificate chain (`x5c`) that authenticated it.
    pub verifier_certificates: Vec<String>,
    /// What was asked: per Credential Query, the types and claim paths.
    pub requested: Vec<Value>,
    /// The registration certificate and what it registered, when the
    /// entry has one.
    pub registration: Value,
    /// Claims asked for but not registered.
    pub overasked: Vec<Value>,
    /// The verifier's receipt, as checked.
    pub receipt: Value,
    /// The erasure request's answer, as checked.
    pub erasure: Value,
    /// The person's own words.
    pub statement: String,
}

impl Wallet {
    /// The complaint package of one history entry, with the person's text.
    pub fn report(&self, history_id: &str, text: &str) -> Result<ComplaintPackage, ReportError> {
        let entry = self
            .history_entry(history_id)?
            .ok_or_else(|| ReportError::UnknownEntry(history_id.to_owned()))?;
        if entry.kind == crate::EventKind::Issuance {
            return Err(ReportError::NotAVerifier(history_id.to_owned()));
        }
        intyg_core::text::check(text, intyg_core::text::Lines::Multi).map_err(ReportError::Text)?;
        Ok(package(&entry, text, now()))
    }
}

fn package(entry: &HistoryEntry, text: &str, now: i64) -> ComplaintPackage {
    let request: Value = entry
        .request_object
        .as_deref()
        .and_then(|jwt| CompactJws::parse(jwt).ok())
        .and_then(|jws| jws.payload_json().ok())
        .unwrap_or(Value::Null);
    let requested = request["dcql_query"]["credentials"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|query| {
            json!({
                "query_id": query["id"],
                "vct_values": query["meta"]["vct_values"],
                "claims": query["claims"].as_array().into_iter().flatten()
                    .map(|claim| claim["path"].clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (registration, overasked) = registration_of(entry, &request);
    ComplaintPackage {
        format: FORMAT,
        created_at: now,
        authority: json!({
            "name": "Integritetsskyddsmyndigheten (IMY)",
            "country": "SE",
            "complaint_form": IMY_COMPLAINT_URL,
            "email": IMY_EMAIL,
            "postal_address": IMY_POSTAL_ADDRESS,
        }),
        controller: json!({
            "client_id": entry.counterparty,
            "name": entry.counterparty_name,
            "client_name_in_request": request["client_metadata"]["client_name"],
        }),
        share: json!({
            "history_id": entry.id,
            "at": entry.at,
            "kind": entry.kind,
            "purpose": entry.purpose,
            "result": entry.result,
            "shared": entry.credentials,
        }),
        request_object: entry.request_object.clone(),
        verifier_certificates: entry.verifier_x5c.clone(),
        requested,
        registration,
        overasked,
        receipt: serde_json::to_value(&entry.receipt).unwrap_or(Value::Null),
        erasure: serde_json::to_value(&entry.erasure).unwrap_or(Value::Null),
        statement: text.to_owned(),
    }
}

/// The registration: the check the history entry recorded, the
/// registration certificate(s) the request carried in `verifier_info`
/// (OpenID4VP 1.0 §5.11, TS 119 475 `rc-wrp+jwt`) and what each
/// registered (its claims as sent; the wallet validated them when the
/// request came, `check.valid` says with what result); and the claims
/// asked beyond it. Entries recorded before registration certificates
/// were checked have no check.
fn registration_of(entry: &HistoryEntry, request: &Value) -> (Value, Vec<Value>) {
    let certificates: Vec<Value> = request["verifier_info"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|info| {
            let registered = info["data"]
                .as_str()
                .and_then(|jwt| CompactJws::parse(jwt).ok())
                .and_then(|jws| jws.payload_json::<Value>().ok())
                .unwrap_or(Value::Null);
            json!({"format": info["format"], "certificate": info["data"], "registered": registered})
        })
        .collect();
    let check = serde_json::to_value(&entry.registration).unwrap_or(Value::Null);
    let overasked = entry
        .registration
        .as_ref()
        .map(|r| {
            r.overasked
                .iter()
                .map(|c| Value::from(c.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let valid = entry.registration.as_ref().map(|r| r.valid);
    (
        json!({"valid": valid, "check": check, "certificates": certificates}),
        overasked,
    )
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(at: Option<i64>) -> String {
    at.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "–".into())
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        other => other.to_string(),
    }
}

/// The readable summary of a package, Swedish then English, standalone
/// HTML with no script and no remote resource.
pub fn summary_html(package: &ComplaintPackage) -> String {
    let claims = |credentials: &Value| -> String {
        credentials
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let paths: Vec<String> = c["claims"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| match p {
                        Value::Array(parts) => {
                            parts.iter().map(text_of).collect::<Vec<_>>().join(".")
                        }
                        other => text_of(other),
                    })
                    .collect();
                format!("{}: {}", text_of(&c["vct"]), paths.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let requested: Vec<String> = package
        .requested
        .iter()
        .map(|q| {
            let paths: Vec<String> = q["claims"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_array()
                        .into_iter()
                        .flatten()
                        .map(text_of)
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect();
            format!("{}: {}", text_of(&q["query_id"]), paths.join(", "))
        })
        .collect();
    let overasked: Vec<String> = package.overasked.iter().map(text_of).collect();
    let controller = text_of(&package.controller["name"]);
    let client_id = text_of(&package.controller["client_id"]);
    let at = date(package.share["at"].as_i64());
    let purpose = text_of(&package.share["purpose"]);
    let shared = claims(&package.share["shared"]);
    let receipt = &package.receipt;
    let erasure = &package.erasure;
    let registration_valid = package.registration["valid"].as_bool();
    let section = |sv: bool| -> String {
        let t = |s: &'static str, e: &'static str| if sv { s } else { e };
        let yes_no = |b: Option<bool>| match b {
            Some(true) => t("ja", "yes"),
            Some(false) => t("nej", "no"),
            None => "–",
        };
        let receipt_line = if receipt.is_null() {
            t("Inget kvitto mottogs.", "No receipt was received.").to_owned()
        } else {
            format!(
                "{} {} {}, {} {}.",
                t("Kvitto verifierat:", "Receipt verified:"),
                yes_no(receipt["verified"].as_bool()),
                escape(&date(receipt["received_at"].as_i64())),
                t("sparas till", "kept until"),
                escape(&date(receipt["retention_until"].as_i64())),
            )
        };
        let erasure_line = if erasure.is_null() {
            t("Ingen radering har begärts.", "No erasure was requested.").to_owned()
        } else {
            format!(
                "{} {} ({} {}){}",
                t("Radering:", "Erasure:"),
                escape(&text_of(&erasure["status"])),
                t("begärd", "requested"),
                escape(&date(erasure["requested_at"].as_i64())),
                match erasure["legal_basis"].as_str() {
                    Some(basis) => format!(
                        "; {} {}",
                        t("rättslig grund som angavs:", "legal basis given:"),
                        escape(basis)
                    ),
                    None => String::new(),
                }
            )
        };
        format!(
            r#"<section lang="{lang}">
<h2>{h}</h2>
<dl>
<dt>{who}</dt><dd>{controller} <code>{client_id}</code></dd>
<dt>{when}</dt><dd>{at}</dd>
<dt>{why}</dt><dd>{purpose}</dd>
<dt>{asked}</dt><dd>{requested}</dd>
<dt>{over}</dt><dd>{overasked}</dd>
<dt>{reg}</dt><dd>{registration}</dd>
<dt>{what}</dt><dd>{shared}</dd>
<dt>{rec}</dt><dd>{receipt_line}</dd>
<dt>{era}</dt><dd>{erasure_line}</dd>
<dt>{own}</dt><dd><pre>{statement}</pre></dd>
</dl>
<h3>{submit}</h3>
<p>{how}</p>
<ul>
<li><a href="{url}">{url}</a></li>
<li>{mail} <a href="mailto:{email}">{email}</a></li>
<li>{post} {postal}</li>
</ul>
</section>"#,
            lang = if sv { "sv" } else { "en" },
            h = t(
                "Klagomål till Integritetsskyddsmyndigheten (IMY)",
                "Complaint to the Swedish Authority for Privacy Protection (IMY)"
            ),
            who = t(
                "Personuppgiftsansvarig (mottagare)",
                "Controller (recipient)"
            ),
            controller = escape(&controller),
            client_id = escape(&client_id),
            when = t("När", "When"),
            at = escape(&at),
            why = t("Uppgivet syfte", "Stated purpose"),
            purpose = escape(&purpose),
            asked = t("Begärda uppgifter", "Claims asked for"),
            requested = escape(&requested.join("; ")),
            over = t(
                "Begärt utöver registreringen",
                "Asked beyond the registration"
            ),
            overasked = if overasked.is_empty() {
                "–".to_owned()
            } else {
                escape(&overasked.join(", "))
            },
            reg = t(
                "Registreringsintyg giltigt",
                "Registration certificate valid"
            ),
            registration = yes_no(registration_valid),
            what = t(
                "Delade uppgifter (namn, inga värden)",
                "Claims shared (names, no values)"
            ),
            shared = escape(&shared),
            rec = t("Kvitto", "Receipt"),
            era = t("Radering", "Erasure"),
            own = t("Din beskrivning", "Your description"),
            statement = escape(&package.statement),
            submit = t("Så lämnar du in klagomålet", "How to submit the complaint"),
            how = t(
                "IMY tar inte emot klagomål via något API. Kontakta först den personuppgiftsansvariga. Fyll sedan i IMY:s formulär, ange ditt namn och hur IMY når dig, och bifoga JSON-filen och den här sammanfattningen.",
                "IMY takes no complaints through an API. Contact the controller first. Then fill in IMY's form, give your name and how IMY can reach you, and attach the JSON file and this summary.",
            ),
            url = IMY_COMPLAINT_URL,
            mail = t("E-post:", "E-mail:"),
            email = IMY_EMAIL,
            post = t("Post:", "Post:"),
            postal = IMY_POSTAL_ADDRESS,
        )
    };
    format!(
        "<!doctype html>\n<html lang=\"sv\">\n<head><meta charset=\"utf-8\"><title>Klagomål / Complaint – {}</title></head>\n<body>\n{}\n{}\n</body>\n</html>\n",
        escape(&controller),
        section(true),
        section(false)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_escaped_in_the_summary() {
        let package = ComplaintPackage {
            format: FORMAT,
            created_at: 0,
            authority: Value::Null,
            controller: json!({"name": "<script>alert(1)</script>", "client_id": "x"}),
            share: json!({"at": 0, "purpose": "a & b"}),
            request_object: None,
            verifier_certificates: Vec::new(),
            requested: Vec::new(),
            registration: Value::Null,
            overasked: Vec::new(),
            receipt: Value::Null,
            erasure: Value::Null,
            statement: "\"quoted\" <b>".into(),
        };
        let html = summary_html(&package);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a &amp; b"));
        assert!(html.contains("&quot;quoted&quot; &lt;b&gt;"));
        assert!(html.contains(IMY_COMPLAINT_URL));
        assert!(html.contains("lang=\"sv\"") && html.contains("lang=\"en\""));
    }
}
