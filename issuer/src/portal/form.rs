//! The claims form of a credential type, generated from its JSON Schema, and
//! the way back: form text → claims, with errors by field.
//!
//! | schema | input |
//! |---|---|
//! | `enum` | `<select>` |
//! | `string`, `format: date` | `<input type=date>` |
//! | `string` | `<input type=text>` |
//! | `integer`, `number` | `<input type=number>` with `min`/`max`/`step` |
//! | `boolean` | `<select>` yes / no |
//! | `array` | `<textarea>`, one item per line |
//! | anything else | `<textarea>` holding JSON |
//!
//! Registered claims the issuer sets (`iss`, `vct`, `cnf`, `status`, ...)
//! and `sub` are not fields. Labels and hints come from the type metadata's
//! claim display in the page's language.

use std::collections::{BTreeMap, HashMap};

use intyg_core::vc::metadata::{ClaimPathElement, CredentialType};
use intyg_core::vc::schema::SchemaViolations;
use serde_json::{Map, Number, Value};

use super::i18n::{Lang, Msg};

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
    /// Hint in the page's language.
    pub hint: Option<String>,
    /// In the schema's top-level `required`.
    pub required: bool,
    /// The input.
    pub kind: Kind,
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

/// Names the issuer sets itself.
fn issuer_set(name: &str) -> bool {
    intyg_core::vc::CLEAR_CLAIMS.contains(&name) || name == "sub"
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
        let hint = claim.and_then(|c| {
            let wanted = c
                .display
                .iter()
                .find(|d| Lang::parse(&d.locale) == Some(lang))
                .or_else(|| c.display.first());
            wanted.and_then(|d| d.description.clone())
        });
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
            kind: kind(document, schema),
        });
    }
    out
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

/// Errors by field name, plus errors about the whole form.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormErrors {
    /// Field name → messages.
    pub fields: BTreeMap<String, Vec<Msg>>,
    /// Errors not tied to one field (English detail from the validator).
    pub general: Vec<String>,
}

impl FormErrors {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Adds `msg` to `field` (once).
    pub fn add(&mut self, field: &str, msg: Msg) {
        let list = self.fields.entry(field.to_owned()).or_default();
        if !list.contains(&msg) {
            list.push(msg);
        }
    }

    /// Adds schema violations, each to the field its pointer starts with.
    pub fn add_violations(&mut self, fields: &[Field], violations: &SchemaViolations) {
        for violation in &violations.violations {
            let first = violation
                .pointer
                .strip_prefix('/')
                .and_then(|rest| rest.split('/').next())
                .map(|segment| segment.replace("~1", "/").replace("~0", "~"));
            match first.filter(|name| fields.iter().any(|f| &f.name == name)) {
                Some(name) => self.add(&name, keyword_message(&violation.keyword)),
                None => self.general.push(violation.message.clone()),
            }
        }
    }
}

fn keyword_message(keyword: &str) -> Msg {
    match keyword {
        "required" => Msg::ErrRequired,
        "format" => Msg::ErrFormat,
        "pattern" => Msg::ErrPattern,
        "enum" | "const" => Msg::ErrEnum,
        "minLength" | "minItems" => Msg::ErrTooShort,
        "maxLength" | "maxItems" => Msg::ErrTooLong,
        "minimum" | "exclusiveMinimum" => Msg::ErrTooSmall,
        "maximum" | "exclusiveMaximum" => Msg::ErrTooLarge,
        "multipleOf" => Msg::ErrMultipleOf,
        "type" => Msg::ErrType,
        "uniqueItems" => Msg::ErrDuplicate,
        "additionalProperties" | "false" | "falseSchema" => Msg::ErrNotAllowed,
        _ => Msg::ErrInvalid,
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
        CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json")).unwrap()
    }

    fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
        fields.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn registration_certificate_fields() {
        let fields = fields(&load("registration-certificate"), Lang::Sv);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "given_name",
                "family_name",
                "birthdate",
                "personal_identity_number",
                "registered_since",
                "registration_status",
                "programme",
                "office"
            ]
        );
        assert_eq!(field(&fields, "birthdate").kind, Kind::Date);
        assert_eq!(field(&fields, "birthdate").label, "Födelsedatum");
        assert!(
            matches!(field(&fields, "registration_status").kind, Kind::Select(ref v) if v.len() == 5)
        );
        assert!(field(&fields, "office").required);
        assert!(!field(&fields, "programme").required);
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
        assert_eq!(errors.fields["seqf_level"], [Msg::ErrNotInteger]);
        assert_eq!(claims["credits"].as_f64(), Some(7.5));
        assert_eq!(claims["esco_skills"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn violations_land_on_their_field() {
        let credential_type = load("registration-certificate");
        let fields = fields(&credential_type, Lang::En);
        let form = HashMap::from([(
            "claim.registered_since".to_owned(),
            "last spring".to_owned(),
        )]);
        let (claims, mut errors) = parse(&fields, &form);
        let violations = credential_type
            .schema
            .validate(&Value::Object(claims))
            .unwrap_err();
        errors.add_violations(&fields, &violations);
        assert_eq!(errors.fields["registered_since"], [Msg::ErrFormat]);
        assert_eq!(errors.fields["office"], [Msg::ErrRequired]);
    }
}
