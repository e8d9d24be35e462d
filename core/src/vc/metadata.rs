//! SD-JWT VC Type Metadata — draft-ietf-oauth-sd-jwt-vc sections "Type
//! Metadata Format", "Display Metadata" and "Claim Metadata".
//!
//! <https://datatracker.ietf.org/doc/draft-ietf-oauth-sd-jwt-vc/>
//!
//! [`TypeMetadata`] mirrors the document a `vct` URL resolves to. The format
//! is open ("Consumers MUST ignore properties that are not understood"), so
//! every object keeps unknown members in `extra`. The `sd` policy is a closed
//! set: an unknown value would change what an issuer must conceal, so it is
//! rejected.
//!
//! [`CredentialType`] joins a type's metadata with its JSON Schema
//! ([`ClaimsSchema`]): since draft -12 the schema is no longer part of Type
//! Metadata, so Intyg keeps it as a second document beside it (see
//! `specs/PROFILE.md`). Nothing here does I/O: callers read the documents
//! and pass the text.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::rules::{ClaimRules, RulesError};
use super::schema::{ClaimsSchema, SchemaError};

/// A Type Metadata document (draft-ietf-oauth-sd-jwt-vc, "Type Metadata Format").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeMetadata {
    /// The credential type this document describes. REQUIRED.
    pub vct: String,
    /// A name for developers reading the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description for developers reading the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URI of the type this type extends ("Extending Type Metadata").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Subresource Integrity string for the document at `extends` ("Document Integrity").
    #[serde(
        rename = "extends#integrity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub extends_integrity: Option<String>,
    /// Display information per locale ("Display Metadata").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<TypeDisplay>,
    /// Claim information ("Claim Metadata").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimMetadata>,
    /// An embedded JSON Schema of the credential. Drafts -04 to -11 only
    /// (removed in -12); parsed so older documents load, never emitted by
    /// Intyg and not used for validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// URL of a JSON Schema of the credential. Drafts -04 to -11 only, like
    /// [`TypeMetadata::schema`]; never fetched here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_uri: Option<String>,
    /// Members this implementation does not understand, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Display information for the type in one locale ("Display Metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeDisplay {
    /// RFC 5646 language tag. Drafts before -12 called it `lang`.
    #[serde(alias = "lang")]
    pub locale: String,
    /// Name of the type for end users.
    pub name: String,
    /// Description of the type for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How to render a credential of this type ("Rendering Metadata").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendering: Option<Rendering>,
}

/// Rendering methods for a type ("Rendering Metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendering {
    /// The `simple` method, for applications without SVG ("Rendering Method simple").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple: Option<SimpleRendering>,
    /// SVG templates ("Rendering Method svg_template"). The section heading says `svg_template`, the
    /// examples say `svg_templates`; both are read.
    #[serde(default, alias = "svg_template", skip_serializing_if = "Vec::is_empty")]
    pub svg_templates: Vec<SvgTemplate>,
    /// Rendering methods this implementation does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `simple` rendering method ("Rendering Method simple").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleRendering {
    /// Logo of the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
    /// Background image of the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<Image>,
    /// CSS RGB colour of the credential's background, e.g. `#12107c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// CSS RGB colour of the credential's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
}

/// A logo or background image ("Logo Metadata", "Background Image Metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Where the image is.
    pub uri: String,
    /// Subresource Integrity string for the image ("Document Integrity").
    #[serde(
        rename = "uri#integrity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub uri_integrity: Option<String>,
    /// Alternative text (logos only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// One SVG template ("Rendering Method svg_template").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvgTemplate {
    /// Where the template is.
    pub uri: String,
    /// Subresource Integrity string for the template ("Document Integrity").
    #[serde(
        rename = "uri#integrity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub uri_integrity: Option<String>,
    /// What the template is made for ("SVG Template Properties"): `orientation`
    /// (`portrait`/`landscape`), `color_scheme` (`light`/`dark`) and
    /// `contrast` (`normal`/`high`), kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

/// Metadata for the claim or claims that a path selects ("Claim Metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimMetadata {
    /// The claims path ("Claim Path"), as if every Disclosure were revealed.
    pub path: Vec<ClaimPathElement>,
    /// Labels per locale ("Claim Display Metadata").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<ClaimDisplay>,
    /// The issuer must include the claim ("Claim Mandatory Metadata", draft -12 and later).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mandatory: bool,
    /// Whether the claim is selectively disclosable ("Claim Selective Disclosure Metadata").
    #[serde(default)]
    pub sd: SdPolicy,
    /// Placeholder name of the claim in SVG templates ("SVG Rendering").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub svg_id: Option<String>,
    /// Labels of the claim's values, per locale: an Intyg extension
    /// (`intyg_value_display`, `specs/PROFILE.md`) so that an enumerated
    /// value (`in_programme`) is shown in words. A value without one is
    /// shown as it is.
    #[serde(
        rename = "intyg_value_display",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub value_display: Vec<ValueDisplay>,
    /// Members this implementation does not understand, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The labels of one value of a claim (Intyg extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueDisplay {
    /// The value as it appears in the credential.
    pub value: Value,
    /// Its label per locale (`description` unused).
    pub display: Vec<ClaimDisplay>,
}

/// A claim's label in one locale ("Claim Display Metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimDisplay {
    /// RFC 5646 language tag. Drafts before -12 called it `lang`.
    #[serde(alias = "lang")]
    pub locale: String,
    /// Label for end users.
    pub label: String,
    /// Description for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The `sd` property of claim metadata ("Claim Selective Disclosure Metadata"). Closed: an unknown value
/// fails to parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdPolicy {
    /// The issuer MUST make the claim selectively disclosable.
    Always,
    /// The issuer MAY make the claim selectively disclosable (the default).
    #[default]
    Allowed,
    /// The issuer MUST NOT make the claim selectively disclosable.
    Never,
}

/// One element of a claims path ("Claim Path").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClaimPathElement {
    /// A string: the member of that name in the selected object(s).
    Key(String),
    /// A non-negative integer: that index in the selected array(s).
    Index(u64),
    /// `null`: every element of the selected array(s).
    AllElements,
}

impl From<&str> for ClaimPathElement {
    fn from(key: &str) -> Self {
        Self::Key(key.to_owned())
    }
}

impl From<u64> for ClaimPathElement {
    fn from(index: u64) -> Self {
        Self::Index(index)
    }
}

impl fmt::Display for ClaimPathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => write!(f, "{key:?}"),
            Self::Index(index) => write!(f, "{index}"),
            Self::AllElements => f.write_str("null"),
        }
    }
}

impl Serialize for ClaimPathElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Key(key) => serializer.serialize_str(key),
            Self::Index(index) => serializer.serialize_u64(*index),
            Self::AllElements => serializer.serialize_unit(),
        }
    }
}

impl<'de> Deserialize<'de> for ClaimPathElement {
    // Through `Value`, so that the number form works with serde_json's
    // `arbitrary_precision` feature, which the build turns on.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(key) => Ok(Self::Key(key)),
            Value::Null => Ok(Self::AllElements),
            Value::Number(n) => n.as_u64().map(Self::Index).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "claims path index {n} is not a non-negative integer"
                ))
            }),
            other => Err(serde::de::Error::custom(format!(
                "claims path element must be a string, null or a non-negative integer, not {other}"
            ))),
        }
    }
}

/// Writes a path the way the draft does: `["degrees", null, "type"]`.
pub(crate) fn path_to_string(path: &[ClaimPathElement]) -> String {
    let inner: Vec<String> = path.iter().map(ToString::to_string).collect();
    format!("[{}]", inner.join(", "))
}

/// Why a Type Metadata document was rejected by [`TypeMetadata::parse`].
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The text is not JSON, or not of the Type Metadata shape (a required
    /// member is missing, `sd` has an unknown value, a path element has the
    /// wrong type, ...).
    #[error("type metadata is malformed: {0}")]
    Json(#[from] serde_json::Error),
    /// `vct` is the empty string.
    #[error("type metadata has an empty vct")]
    EmptyVct,
    /// A claim's `path` is empty; "Claim Path" requires a non-empty array.
    #[error("claim metadata #{index} has an empty path")]
    EmptyClaimPath {
        /// Position of the claim in `claims`.
        index: usize,
    },
    /// Two claim metadata objects have the same `path`.
    #[error("claim path {path} is described twice")]
    DuplicateClaimPath {
        /// The path, as the draft writes it.
        path: String,
    },
    /// An `svg_id` has characters other than ASCII letters, digits and
    /// underscores, or starts with a digit ("Claim Metadata").
    #[error("svg_id {svg_id:?} is not letters, digits and underscores not starting with a digit")]
    InvalidSvgId {
        /// The offending value.
        svg_id: String,
    },
    /// An `svg_id` is used by two claims; "Claim Metadata" requires it to be unique.
    #[error("svg_id {svg_id:?} is used twice")]
    DuplicateSvgId {
        /// The offending value.
        svg_id: String,
    },
}

/// Why [`TypeMetadata::extend`] refused to apply a base type.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    /// The child's `extends` is absent or names another type than the base's
    /// `vct` ("Retrieving Type Metadata": the two must be identical).
    #[error("type extends {extends:?}, not {base_vct}")]
    NotExtending {
        /// The child's `extends`.
        extends: Option<String>,
        /// The base's `vct`.
        base_vct: String,
    },
    /// The child changes an `sd` of `always` or `never` in the base ("Extending Claim Metadata").
    #[error("claim {path} changes sd from {base:?} to {child:?}")]
    SdChanged {
        /// The claim path, as the draft writes it.
        path: String,
        /// The base's policy.
        base: SdPolicy,
        /// The child's policy.
        child: SdPolicy,
    },
    /// The child makes a claim optional that the base makes `mandatory`
    /// ("Extending Claim Metadata").
    #[error("claim {path} is mandatory in the base type but not in the extending type")]
    MandatoryDropped {
        /// The claim path, as the draft writes it.
        path: String,
    },
}

impl TypeMetadata {
    /// Parses a Type Metadata document and checks the rules that serde
    /// cannot: a non-empty `vct`, non-empty and unique claim paths, and
    /// well-formed unique `svg_id`s.
    pub fn parse(json: &str) -> Result<Self, MetadataError> {
        let metadata: Self = serde_json::from_str(json)?;
        if metadata.vct.is_empty() {
            return Err(MetadataError::EmptyVct);
        }
        let mut paths = BTreeSet::new();
        let mut svg_ids = BTreeSet::new();
        for (index, claim) in metadata.claims.iter().enumerate() {
            if claim.path.is_empty() {
                return Err(MetadataError::EmptyClaimPath { index });
            }
            if !paths.insert(&claim.path) {
                return Err(MetadataError::DuplicateClaimPath {
                    path: path_to_string(&claim.path),
                });
            }
            if let Some(svg_id) = &claim.svg_id {
                if !is_svg_id(svg_id) {
                    return Err(MetadataError::InvalidSvgId {
                        svg_id: svg_id.clone(),
                    });
                }
                if !svg_ids.insert(svg_id) {
                    return Err(MetadataError::DuplicateSvgId {
                        svg_id: svg_id.clone(),
                    });
                }
            }
        }
        Ok(metadata)
    }

    /// The display entry for `locale`: an exact (case-insensitive) match,
    /// else one of the same primary language (`sv` for `sv-SE` and back),
    /// else English, else the first entry. `None` only when `display` is
    /// empty.
    pub fn display(&self, locale: &str) -> Option<&TypeDisplay> {
        pick_locale(&self.display, locale, |d| &d.locale)
    }

    /// The metadata of the claim at `path`: the entry with exactly that path,
    /// else one whose `null` elements match the concrete indices of `path`
    /// (`["degrees", 0]` finds `["degrees", null]`).
    pub fn claim(&self, path: &[ClaimPathElement]) -> Option<&ClaimMetadata> {
        self.claims
            .iter()
            .find(|c| c.path == path)
            .or_else(|| self.claims.iter().find(|c| path_matches(&c.path, path)))
    }

    /// The `sd` policy of the claim at `path`; `allowed` (the draft's
    /// default) when the claim is not described.
    pub fn sd_policy(&self, path: &[ClaimPathElement]) -> SdPolicy {
        self.claim(path).map(|c| c.sd).unwrap_or_default()
    }

    /// The label of the claim at `path` in `locale`, with the fallback of
    /// [`TypeMetadata::display`].
    pub fn label(&self, path: &[ClaimPathElement], locale: &str) -> Option<&str> {
        let claim = self.claim(path)?;
        pick_locale(&claim.display, locale, |d| &d.locale).map(|d| d.label.as_str())
    }

    /// The label of `value` of the claim at `path` in `locale` (Intyg's
    /// `intyg_value_display`), with the fallback of [`TypeMetadata::display`];
    /// `None` when the type gives none (show the value as it is).
    pub fn value_label(
        &self,
        path: &[ClaimPathElement],
        value: &Value,
        locale: &str,
    ) -> Option<&str> {
        let labels = &self
            .claim(path)?
            .value_display
            .iter()
            .find(|v| &v.value == value)?
            .display;
        pick_locale(labels, locale, |d| &d.locale).map(|d| d.label.as_str())
    }

    /// This type with the claim metadata of `base` (the type it extends)
    /// merged in, per "Extending Claim Metadata": the child's entry replaces the base's entry of
    /// the same path, the base's other entries are inherited, and the child
    /// may narrow `sd: allowed` and set `mandatory`, nothing else. Members
    /// other than `claims` stay the child's.
    pub fn extend(&self, base: &TypeMetadata) -> Result<TypeMetadata, ExtendError> {
        if self.extends.as_deref() != Some(base.vct.as_str()) {
            return Err(ExtendError::NotExtending {
                extends: self.extends.clone(),
                base_vct: base.vct.clone(),
            });
        }
        let mut claims = Vec::with_capacity(base.claims.len() + self.claims.len());
        for inherited in &base.claims {
            match self.claims.iter().find(|c| c.path == inherited.path) {
                None => claims.push(inherited.clone()),
                Some(own) => {
                    if inherited.sd != SdPolicy::Allowed && own.sd != inherited.sd {
                        return Err(ExtendError::SdChanged {
                            path: path_to_string(&own.path),
                            base: inherited.sd,
                            child: own.sd,
                        });
                    }
                    if inherited.mandatory && !own.mandatory {
                        return Err(ExtendError::MandatoryDropped {
                            path: path_to_string(&own.path),
                        });
                    }
                    claims.push(own.clone());
                }
            }
        }
        claims.extend(
            self.claims
                .iter()
                .filter(|c| !base.claims.iter().any(|b| b.path == c.path))
                .cloned(),
        );
        Ok(TypeMetadata {
            claims,
            ..self.clone()
        })
    }
}

/// "Claim Metadata": "alphanumeric characters and underscores", not starting with a digit.
fn is_svg_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Does `pattern` (which may hold `null`) select the concrete `path`?
fn path_matches(pattern: &[ClaimPathElement], path: &[ClaimPathElement]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(p, e)| {
            p == e
                || matches!(
                    (p, e),
                    (ClaimPathElement::AllElements, ClaimPathElement::Index(_))
                )
        })
}

/// Locale choice shared by type and claim display: exact tag, same primary
/// language, English, first.
fn pick_locale<'a, T>(items: &'a [T], locale: &str, tag: fn(&T) -> &str) -> Option<&'a T> {
    let primary = |t: &str| t.split('-').next().unwrap_or(t).to_ascii_lowercase();
    let wanted = primary(locale);
    items
        .iter()
        .find(|i| tag(i).eq_ignore_ascii_case(locale))
        .or_else(|| items.iter().find(|i| primary(tag(i)) == wanted))
        .or_else(|| items.iter().find(|i| primary(tag(i)) == "en"))
        .or_else(|| items.first())
}

/// A credential type of Intyg: its Type Metadata and the JSON Schema of its
/// claims, as kept in `specs/credentials/<type>/`, checked against each
/// other.
#[derive(Debug)]
pub struct CredentialType {
    /// The Type Metadata (`type-metadata.json`).
    pub metadata: TypeMetadata,
    /// The compiled claims schema (`schema.json`).
    pub schema: ClaimsSchema,
    /// The cross-field rules (`rules.json`; none when the type has no such
    /// file).
    pub rules: ClaimRules,
}

/// Why [`CredentialType::from_documents`] refused a pair of documents.
#[derive(Debug, thiserror::Error)]
pub enum TypeError {
    /// The Type Metadata document is invalid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The schema document is invalid.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The schema does not pin `vct` with `properties.vct.const`, so it could
    /// validate a credential of any type.
    #[error("the schema does not pin vct with properties.vct.const")]
    VctNotPinned,
    /// The schema pins another `vct` than the metadata describes.
    #[error("metadata describes vct {metadata} but the schema pins {schema}")]
    VctMismatch {
        /// The metadata's `vct`.
        metadata: String,
        /// The schema's `properties.vct.const`.
        schema: String,
    },
    /// A claim path in the metadata selects nothing the schema declares.
    #[error("claim {path} is described in the metadata but not declared in the schema")]
    UndeclaredClaim {
        /// The claim path, as the draft writes it.
        path: String,
    },
    /// A top-level claim in the schema has no metadata, so it would have no
    /// label and the default `sd: allowed`. The SD-JWT VC registered claims
    /// (`vct`, `iss`, `iat`, `exp`, `cnf`, `status`, ...) are exempt.
    #[error("claim {name:?} is declared in the schema but has no claim metadata")]
    UndescribedClaim {
        /// The property name.
        name: String,
    },
    /// The rules document is invalid or compares a claim the schema does
    /// not declare as a full-date.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// A claim is `mandatory` in the metadata but not `required` in the
    /// schema (top-level claims only).
    #[error("claim {name:?} is mandatory in the metadata but not required by the schema")]
    MandatoryNotRequired {
        /// The property name.
        name: String,
    },
}

/// Claims that the SD-JWT VC draft ("Claims") and RFC 7519 define for every
/// credential; a type's schema may declare them without claim metadata.
const REGISTERED_CLAIMS: [&str; 9] = [
    "vct",
    "vct#integrity",
    "iss",
    "sub",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
];

impl CredentialType {
    /// Builds a type from the text of its `type-metadata.json` and
    /// `schema.json`, and checks that they agree: the schema pins the same
    /// `vct`, every described claim path exists in the schema, every
    /// top-level schema property other than the registered claims is
    /// described, and `mandatory` claims are `required`.
    pub fn from_documents(metadata_json: &str, schema_json: &str) -> Result<Self, TypeError> {
        let metadata = TypeMetadata::parse(metadata_json)?;
        let schema = ClaimsSchema::parse(schema_json)?;
        match schema.vct() {
            None => return Err(TypeError::VctNotPinned),
            Some(vct) if vct != metadata.vct => {
                return Err(TypeError::VctMismatch {
                    metadata: metadata.vct.clone(),
                    schema: vct.to_owned(),
                });
            }
            Some(_) => {}
        }
        if let Some(claim) = metadata.claims.iter().find(|c| !schema.declares(&c.path)) {
            return Err(TypeError::UndeclaredClaim {
                path: path_to_string(&claim.path),
            });
        }
        if let Some(name) = schema.property_names().find(|name| {
            !REGISTERED_CLAIMS.contains(name)
                && metadata.claim(&[ClaimPathElement::from(*name)]).is_none()
        }) {
            return Err(TypeError::UndescribedClaim {
                name: name.to_owned(),
            });
        }
        for claim in metadata.claims.iter().filter(|c| c.mandatory) {
            if let [ClaimPathElement::Key(name)] = claim.path.as_slice()
                && !schema.required().any(|r| r == name)
            {
                return Err(TypeError::MandatoryNotRequired { name: name.clone() });
            }
        }
        Ok(Self {
            metadata,
            schema,
            rules: ClaimRules::default(),
        })
    }

    /// This type with the cross-field rules of its `rules.json`, each
    /// comparing claims the schema declares as `format: date` strings.
    pub fn with_rules(mut self, rules_json: &str) -> Result<Self, TypeError> {
        let rules = ClaimRules::parse(rules_json)?;
        let properties = self.schema.document().get("properties");
        if let Some(claim) = rules.claims().find(|claim| {
            properties
                .and_then(|p| p.get(*claim))
                .and_then(|p| p.get("format"))
                .and_then(serde_json::Value::as_str)
                != Some("date")
        }) {
            return Err(RulesError::NotADate {
                claim: claim.to_owned(),
            }
            .into());
        }
        self.rules = rules;
        Ok(self)
    }

    /// The credential type identifier.
    pub fn vct(&self) -> &str {
        &self.metadata.vct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerated_values_have_words_in_both_locales() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../specs/credentials/registration-certificate/type-metadata.json"
        ))
        .unwrap();
        let metadata = TypeMetadata::parse(&text).unwrap();
        let status = [ClaimPathElement::from("registration_status")];
        let value = Value::String("in_programme".into());
        assert_eq!(
            metadata.value_label(&status, &value, "sv"),
            Some("Deltar i program")
        );
        assert_eq!(
            metadata.value_label(&status, &value, "en-GB"),
            Some("In a labour-market programme")
        );
        // Other values and claims: none, so the value is shown as it is.
        assert_eq!(
            metadata.value_label(&status, &Value::String("retired".into()), "sv"),
            None
        );
        let office = [ClaimPathElement::from("office")];
        assert_eq!(metadata.value_label(&office, &value, "sv"), None);
        // The extension survives a round trip.
        let again = serde_json::to_string(&metadata).unwrap();
        assert!(again.contains("intyg_value_display"));
    }
}
