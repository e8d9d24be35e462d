//! The claims form of a credential type, generated from its JSON Schema, and
//! the way back: form text → claims, with errors by field.
//!
//! | schema | input |
//! |---|---|
//! | `enum` | `<select>` |
//! | `string`, `format: date` | `<input type=text>` taking `YYYY-MM-DD`, whatever the browser's locale |
//! | `string` | `<input type=text>` |
//! | `integer`, `number` | `<input type=number>` with `min`/`max`/`step` |
//! | `boolean` | `<select>` yes / no |
//! | `array` | `<textarea>`, one item per line |
//! | anything else | `<textarea>` holding JSON |
//!
//! Registered claims the issuer sets (`iss`, `vct`, `cnf`, `status`, ...),
//! `sub` and the claims that identify the person (`crate::claims`: they come
//! from the person's record) are not fields. Labels and hints come from the
//! type metadata's claim display in the page's language; a hint also
//! states the type's rules on the field (date form, not after today, not
//! before another date, required exactly when another claim has a value).

use std::collections::{BTreeMap, HashMap};

use intyg_core::vc::metadata::{ClaimPathElement, CredentialType};
use intyg_core::vc::rules::{RuleViolation, conditional_requirements};
use serde_json::{Map, Number, Value};

use super::i18n::{Lang, Msg};
use crate::claims::Problem;

/// Form names of claim fields start with this, so they never meet `csrf`.
pub const PREFIX: &str = "claim.";

/// What kind of input a claim gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Free text.
    Text {
        /// `maxLength`.
        max_length: Option<u64>,
    },
    /// A full-date.
    Date,
    /// One of the `enum` values.
    Select(Vec<Value>),
    /// A whole number.
    Integer {
        /// `minimum`.
        min: Option<Number>,
        /// `maximum`.
        max: Option<Number>,
    },
    /// A number.
    Number {
        /// `minimum`.
        min: Option<Number>,
        /// `maximum`.
        max: Option<Number>,
        /// `multipleOf`, as the step.
        step: Option<Number>,
    },
    /// Yes or no.
    Boolean,
    /// A list; `numeric` items are parsed as numbers.
    List {
        /// Whether items are numbers.
        numeric: bool,
    },
    /// Any JSON value.
    Json,
}

/// One input of the form.
#[derive(Debug, Clone)]
pub struct Field {
    /// Claim name (top-level property).
    pub name: String,
    /// HTML id of the input; the hint and error ids derive from it.
    pub id: String,
    /// Label in the page's language, or the claim name.
    pub label: String,
    /// Hint in the page's language (the claim's description, then the
    /// type's rules on it).
    pub hint: Option<String>,
    /// In the schema's top-level `required`.
    pub required: bool,
    /// The input.
    pub kind: Kind,
    /// The words for a select's options (option text → label in the
    /// page's language), from the type metadata's `intyg_value_display`;
    /// an option without one shows its value.
    pub option_labels: HashMap<String, String>,
}

impl Field {
    /// The form name of the input.
    pub fn form_name(&self) -> String {
        format!("{PREFIX}{}", self.name)
    }

    /// The text an `enum` value is shown and posted as.
    pub fn option_text(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// Names the issuer sets itself, from its keys or the person's record.
fn issuer_set(name: &str) -> bool {
    intyg_core::vc::CLEAR_CLAIMS.contains(&name)
        || name == "sub"
        || crate::claims::IDENTITY_CLAIMS.contains(&name)
        || crate::predicates::COMPUTED_CLAIMS.contains(&name)
}

/// The fields of a credential type's form, in type metadata order, then the
/// schema's other properties.
pub fn fields(credential_type: &CredentialType, lang: Lang) -> Vec<Field> {
    let document = credential_type.schema.document();
    let Some(properties) = document.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = credential_type.schema.required().collect();
    let mut names: Vec<&str> = credential_type
        .metadata
        .claims
        .iter()
        .filter_map(|c| match c.path.as_slice() {
            [ClaimPathElement::Key(name)] => Some(name.as_str()),
            _ => None,
        })
        .filter(|name| properties.contains_key(*name))
        .collect();
    for name in properties.keys() {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut out = Vec::new();
    for name in names {
        let Some(schema) = properties.get(name).map(|s| resolve(document, s)) else {
            continue;
        };
        if issuer_set(name) || schema == &Value::Bool(false) || schema.get("const").is_some() {
            continue;
        }
        let path = [ClaimPathElement::Key(name.to_owned())];
        let claim = credential_type.metadata.claim(&path);
        let description = claim.and_then(|c| {
            let wanted = c
                .display
                .iter()
                .find(|d| Lang::parse(&d.locale) == Some(lang))
                .or_else(|| c.display.first());
            wanted.and_then(|d| d.description.clone())
        });
        let kind = kind(document, schema);
        let option_labels = match &kind {
            Kind::Select(values) => values
                .iter()
                .filter_map(|v| {
                    let label = credential_type
                        .metadata
                        .value_label(&path, v, lang.code())?;
                    Some((Field::option_text(v), label.to_owned()))
                })
                .collect(),
            _ => HashMap::new(),
        };
        let rules = rule_hints(credential_type, name, &kind, lang);
        let hint = match (description, rules.is_empty()) {
            (None, true) => None,
            (None, false) => Some(rules.join(" ")),
            (Some(d), true) => Some(d),
            (Some(d), false) => Some(format!("{d} {}", rules.join(" "))),
        };
        let id = if name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            format!("field-{name}")
        } else {
            format!("field{}", out.len())
        };
        out.push(Field {
            name: name.to_owned(),
            id,
            label: credential_type
                .metadata
                .label(&path, lang.code())
                .unwrap_or(name)
                .to_owned(),
            hint,
            required: required.contains(&name),
            kind,
            option_labels,
        });
    }
    out
}

/// The label of top-level claim `name` in `lang`, else the name.
pub fn claim_label<'a>(credential_type: &'a CredentialType, name: &'a str, lang: Lang) -> &'a str {
    credential_type
        .metadata
        .label(&[ClaimPathElement::Key(name.to_owned())], lang.code())
        .unwrap_or(name)
}

/// What the type's rules say about claim `name`, as sentences.
fn rule_hints(
    credential_type: &CredentialType,
    name: &str,
    kind: &Kind,
    lang: Lang,
) -> Vec<String> {
    let mut hints = Vec::new();
    if *kind == Kind::Date {
        hints.push(lang.t(Msg::DateHint).to_owned());
    }
    if credential_type.rules.not_after_today(name) {
        hints.push(lang.t(Msg::NotAfterTodayHint).to_owned());
    }
    if let Some(other) = credential_type.rules.not_before(name) {
        let other = claim_label(credential_type, other, lang);
        hints.push(lang.t(Msg::NotBeforeHint).replace("{}", other));
    }
    for rule in conditional_requirements(credential_type.schema.document()) {
        if rule.claim == name {
            let when = claim_label(credential_type, &rule.when, lang);
            let path = [ClaimPathElement::Key(rule.when.clone())];
            let equals = credential_type
                .metadata
                .value_label(&path, &rule.equals, lang.code())
                .map_or_else(|| Field::option_text(&rule.equals), str::to_owned);
            let text = lang
                .t(Msg::RequiredExactlyWhenHint)
                .replacen("{}", when, 1)
                .replacen("{}", &equals, 1);
            hints.push(text);
        }
    }
    hints
}

/// The two inputs of the person page's register form: given names and
/// family name, as the credential types name those claims.
pub fn register_fields(lang: Lang) -> [Field; 2] {
    let field = |name: &str, label: Msg, hint: Option<Msg>| Field {
        name: name.to_owned(),
        id: format!("register-{name}"),
        label: lang.t(label).to_owned(),
        hint: hint.map(|h| lang.t(h).to_owned()),
        required: true,
        kind: Kind::Text {
            max_length: u64::try_from(crate::model::Person::MAX_NAME_CHARS).ok(),
        },
        option_labels: HashMap::new(),
    };
    [
        field("given_name", Msg::GivenName, Some(Msg::GivenNameHint)),
        field("family_name", Msg::FamilyName, None),
    ]
}

/// Follows a local `$ref` (one level is all our types use, a few allowed).
fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| document.pointer(pointer))
        else {
            break;
        };
        schema = target;
    }
    schema
}

fn type_name(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

fn number(schema: &Value, keyword: &str) -> Option<Number> {
    schema.get(keyword).and_then(|v| match v {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    })
}

fn kind(document: &Value, schema: &Value) -> Kind {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Kind::Select(values.clone());
    }
    match type_name(schema) {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("date") => {
            Kind::Date
        }
        Some("string") => Kind::Text {
            max_length: schema.get("maxLength").and_then(Value::as_u64),
        },
        Some("integer") => Kind::Integer {
            min: number(schema, "minimum"),
            max: number(schema, "maximum"),
        },
        Some("number") => Kind::Number {
            min: number(schema, "minimum"),
            max: number(schema, "maximum"),
            step: number(schema, "multipleOf"),
        },
        Some("boolean") => Kind::Boolean,
        Some("array") => {
            let items = schema.get("items").map(|i| resolve(document, i));
            let numeric = items
                .and_then(type_name)
                .is_some_and(|t| t == "integer" || t == "number");
            Kind::List { numeric }
        }
        _ => Kind::Json,
    }
}

/// One message about one field, with the limit it names (a length, a
/// number, a date), put where the message text says `{}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The message.
    pub msg: Msg,
    /// The limit, when the message names one.
    pub limit: Option<String>,
}

impl FieldError {
    /// The message in `lang`, its limit filled in.
    pub fn text(&self, lang: Lang) -> String {
        let text = lang.t(self.msg);
        match &self.limit {
            Some(limit) => text.replace("{}", limit),
            None => text.to_owned(),
        }
    }
}

impl From<Msg> for FieldError {
    fn from(msg: Msg) -> Self {
        Self { msg, limit: None }
    }
}

/// Errors by field name, plus errors about the whole form.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormErrors {
    /// Field name → messages.
    pub fields: BTreeMap<String, Vec<FieldError>>,
    /// Errors not tied to one field (English detail from the validator).
    pub general: Vec<String>,
}

impl FormErrors {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Adds `error` to `field` (once).
    pub fn add(&mut self, field: &str, error: impl Into<FieldError>) {
        let error = error.into();
        let list = self.fields.entry(field.to_owned()).or_default();
        if !list.contains(&error) {
            list.push(error);
        }
    }

    /// Adds the problems `crate::claims::prepare` found, each to the field
    /// its pointer starts with; a field that already has an error (it did
    /// not parse) gets no more.
    pub fn add_problems(
        &mut self,
        credential_type: &CredentialType,
        fields: &[Field],
        problems: &[Problem],
        lang: Lang,
    ) {
        let unparsed: Vec<String> = self.fields.keys().cloned().collect();
        for problem in problems {
            let pointer = problem.pointer();
            let first = pointer
                .strip_prefix('/')
                .and_then(|rest| rest.split('/').next())
                .map(|segment| segment.replace("~1", "/").replace("~0", "~"));
            let Some(name) = first.filter(|name| fields.iter().any(|f| &f.name == name)) else {
                self.general.push(problem.to_string());
                continue;
            };
            if unparsed.contains(&name) {
                continue;
            }
            let error = match problem {
                Problem::Control { found, .. } => FieldError {
                    msg: Msg::ErrControlCharacter,
                    limit: Some(format!("U+{:04X}", u32::from(found.character))),
                },
                Problem::Schema(violation) => {
                    schema_error(credential_type, &name, &violation.keyword)
                }
                Problem::Rule(RuleViolation::AfterToday { today, .. }) => FieldError {
                    msg: Msg::ErrAfterToday,
                    limit: Some(today.to_string()),
                },
                Problem::Rule(RuleViolation::Before { other, limit, .. }) => FieldError {
                    msg: Msg::ErrBefore,
                    limit: Some(format!(
                        "{} ({limit})",
                        claim_label(credential_type, other, lang)
                    )),
                },
            };
            self.add(&name, error);
        }
    }
}

/// The message of a failed schema keyword on claim `name`, with the
/// keyword's limit from the schema where the message names one.
fn schema_error(credential_type: &CredentialType, name: &str, keyword: &str) -> FieldError {
    let schema = credential_type
        .schema
        .document()
        .get("properties")
        .and_then(|p| p.get(name));
    let limit = |keyword: &str| {
        schema
            .and_then(|s| s.get(keyword))
            .filter(|v| v.is_number())
            .map(ToString::to_string)
    };
    let date = schema.and_then(|s| s.get("format")).and_then(Value::as_str) == Some("date");
    let with = |msg: Msg, limit: Option<String>, fallback: Msg| match limit {
        Some(limit) => FieldError {
            msg,
            limit: Some(limit),
        },
        None => fallback.into(),
    };
    match keyword {
        "required" => Msg::ErrRequired.into(),
        "format" if date => Msg::ErrDate.into(),
        "format" | "pattern" => Msg::ErrFormat.into(),
        "enum" | "const" => Msg::ErrEnum.into(),
        "minLength" => with(Msg::ErrTooShort, limit("minLength"), Msg::ErrInvalid),
        "maxLength" => with(Msg::ErrTooLong, limit("maxLength"), Msg::ErrInvalid),
        "minItems" => with(Msg::ErrTooFewItems, limit("minItems"), Msg::ErrInvalid),
        "maxItems" => with(Msg::ErrTooManyItems, limit("maxItems"), Msg::ErrInvalid),
        "minimum" => with(Msg::ErrTooSmall, limit("minimum"), Msg::ErrInvalid),
        "exclusiveMinimum" => with(Msg::ErrNotAbove, limit("exclusiveMinimum"), Msg::ErrInvalid),
        "maximum" => with(Msg::ErrTooLarge, limit("maximum"), Msg::ErrInvalid),
        "exclusiveMaximum" => with(Msg::ErrNotBelow, limit("exclusiveMaximum"), Msg::ErrInvalid),
        "multipleOf" => with(Msg::ErrMultipleOf, limit("multipleOf"), Msg::ErrInvalid),
        "type" => Msg::ErrType.into(),
        "uniqueItems" => Msg::ErrDuplicate.into(),
        "additionalProperties" | "false" | "falseSchema" => Msg::ErrNotAllowed.into(),
        _ => Msg::ErrInvalid.into(),
    }
}

/// Reads the claims from the posted form. Empty inputs are left out, so that
/// the schema reports a missing required claim as `required`.
pub fn parse(fields: &[Field], form: &HashMap<String, String>) -> (Map<String, Value>, FormErrors) {
    let mut claims = Map::new();
    let mut errors = FormErrors::default();
    for field in fields {
        let Some(text) = form
            .get(&field.form_name())
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        match parse_value(&field.kind, text) {
            Ok(value) => {
                claims.insert(field.name.clone(), value);
            }
            Err(msg) => errors.add(&field.name, msg),
        }
    }
    (claims, errors)
}

fn parse_value(kind: &Kind, text: &str) -> Result<Value, Msg> {
    match kind {
        Kind::Text { .. } | Kind::Date => Ok(Value::String(text.to_owned())),
        Kind::Select(values) => values
            .iter()
            .find(|v| Field::option_text(v) == text)
            .cloned()
            .ok_or(Msg::ErrEnum),
        Kind::Integer { .. } => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Msg::ErrNotInteger),
        Kind::Number { .. } => parse_number(text),
        Kind::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(Msg::ErrInvalid),
        },
        Kind::List { numeric } => text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                if *numeric {
                    parse_number(line)
                } else {
                    Ok(Value::String(line.to_owned()))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Kind::Json => serde_json::from_str(text).map_err(|_| Msg::ErrNotJson),
    }
}

fn parse_number(text: &str) -> Result<Value, Msg> {
    let text = text.replace(',', ".");
    if let Ok(whole) = text.parse::<i64>() {
        return Ok(Value::from(whole));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or(Msg::ErrNotNumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(kind: &str) -> CredentialType {
        let dir = format!("{}/../specs/credentials/{kind}", env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json"))
            .unwrap()
            .with_rules(&read("rules.json"))
            .unwrap()
    }

    fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
        fields.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn registration_certificate_fields_leave_the_identity_to_the_record() {
        let fields = fields(&load("registration-certificate"), Lang::Sv);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "registered_since",
                "registration_status",
                "programme",
                "office"
            ]
        );
        let since = field(&fields, "registered_since");
        assert_eq!(since.kind, Kind::Date);
        assert_eq!(since.label, "Inskriven sedan");
        let hint = since.hint.as_deref().unwrap();
        assert!(hint.contains("ÅÅÅÅ-MM-DD"), "{hint}");
        assert!(hint.contains("senare än i dag"), "{hint}");
        assert!(
            matches!(field(&fields, "registration_status").kind, Kind::Select(ref v) if v.len() == 5)
        );
        assert!(field(&fields, "office").required);
        let programme = field(&fields, "programme");
        assert!(!programme.required);
        let hint = programme.hint.as_deref().unwrap();
        assert!(hint.contains("Inskrivningsstatus"), "{hint}");
        assert!(hint.contains("”Deltar i program”"), "{hint}");
        // Words, not codes: the options show the type's labels.
        let status = field(&fields, "registration_status");
        assert_eq!(status.option_labels["in_programme"], "Deltar i program");
        assert_eq!(status.option_labels.len(), 5);
    }

    #[test]
    fn eligibility_until_names_its_start_in_the_hint() {
        let fields = fields(&load("internship-eligibility"), Lang::En);
        let hint = field(&fields, "eligible_until").hint.clone().unwrap();
        assert!(
            hint.contains("Eligible from") || hint.contains("from"),
            "{hint}"
        );
    }

    #[test]
    fn diploma_fields_cover_numbers_and_lists() {
        let fields = fields(&load("education-diploma"), Lang::En);
        assert!(matches!(
            field(&fields, "seqf_level").kind,
            Kind::Integer { .. }
        ));
        assert!(matches!(
            field(&fields, "credits").kind,
            Kind::Number { .. }
        ));
        assert_eq!(
            field(&fields, "esco_skills").kind,
            Kind::List { numeric: false }
        );
        let form = HashMap::from([
            ("claim.seqf_level".to_owned(), "x".to_owned()),
            ("claim.credits".to_owned(), "7,5".to_owned()),
            ("claim.esco_skills".to_owned(), "a\n\n b \n".to_owned()),
        ]);
        let (claims, errors) = parse(&fields, &form);
        assert_eq!(
            errors.fields["seqf_level"],
            [FieldError::from(Msg::ErrNotInteger)]
        );
        assert_eq!(claims["credits"].as_f64(), Some(7.5));
        assert_eq!(claims["esco_skills"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn problems_land_on_their_field_with_their_limit() {
        let credential_type = load("registration-certificate");
        let fields = fields(&credential_type, Lang::En);
        let form = HashMap::from([
            ("claim.registered_since".to_owned(), "2099-01-01".to_owned()),
            ("claim.office".to_owned(), "x".repeat(201)),
        ]);
        let (claims, mut errors) = parse(&fields, &form);
        let number = "199403172381".parse().unwrap();
        let today = jiff::civil::date(2026, 12, 3);
        let Err(crate::claims::Refusal::Invalid(problems)) =
            crate::claims::prepare(&credential_type, claims, &number, None, today)
        else {
            panic!("refused as invalid");
        };
        errors.add_problems(&credential_type, &fields, &problems, Lang::En);
        let text = |name: &str| -> Vec<String> {
            errors.fields[name]
                .iter()
                .map(|e| e.text(Lang::En))
                .collect()
        };
        assert_eq!(
            text("registered_since"),
            ["The date must not be later than today (2026-12-03)."]
        );
        assert_eq!(text("office"), ["Enter at most 200 characters."]);
        assert_eq!(text("registration_status"), ["This field is required."]);
        // Names are not fields here: they come from the record, and this
        // person has none, so the schema's complaint is general.
        assert!(
            errors.general.iter().any(|g| g.contains("given_name")),
            "{:?}",
            errors.general
        );
    }

    #[test]
    fn a_bad_date_names_the_form_it_wants() {
        let credential_type = load("registration-certificate");
        let fields = fields(&credential_type, Lang::Sv);
        let form = HashMap::from([("claim.registered_since".to_owned(), "02/03/2026".to_owned())]);
        let (claims, mut errors) = parse(&fields, &form);
        let number = "199403172381".parse().unwrap();
        let Err(crate::claims::Refusal::Invalid(problems)) = crate::claims::prepare(
            &credential_type,
            claims,
            &number,
            None,
            jiff::civil::date(2026, 12, 3),
        ) else {
            panic!("refused as invalid");
        };
        errors.add_problems(&credential_type, &fields, &problems, Lang::Sv);
        assert_eq!(
            errors.fields["registered_since"][0].text(Lang::Sv),
            "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-02-02."
        );
    }
}
