//! JSON Schema (draft 2020-12) of a credential type's claims.
//!
//! <https://json-schema.org/draft/2020-12/json-schema-validation>
//!
//! SD-JWT VC Type Metadata carried a JSON Schema up to draft -11 of
//! draft-ietf-oauth-sd-jwt-vc; draft -12 removed it. Intyg keeps a schema per
//! type beside its metadata (`specs/credentials/<type>/schema.json`) to check
//! claims before they are signed, and an officer portal shows the
//! [`SchemaViolations`] field by field.
//!
//! A schema describes the claims with every Disclosure revealed. A
//! presentation reveals only some of them, so a verifier must not apply
//! `required` to a presentation as it stands.
//!
//! Schemas are compiled offline: a `$ref` outside the document is an error,
//! formats are asserted (`date` is RFC 3339 `full-date`) and an unknown
//! format is an error. Messages never repeat the value that failed, so they
//! can be logged without personal data.

use serde_json::Value;

use super::metadata::ClaimPathElement;

/// The only dialect accepted in `$schema`.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Depth at which [`ClaimsSchema::declares`] stops following `$ref`s and
/// combinators, so that a recursive schema cannot loop.
const MAX_DEPTH: usize = 32;

/// A compiled JSON Schema of a credential type's claims.
pub struct ClaimsSchema {
    document: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ClaimsSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimsSchema")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// Why a schema document was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("schema is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `$schema` is absent or names another dialect than 2020-12.
    #[error("schema must declare $schema {DIALECT}, found {found:?}")]
    Dialect {
        /// The `$schema` value, if any.
        found: Option<String>,
    },
    /// The document is not a valid 2020-12 schema, uses an unknown format,
    /// or refers to a document outside itself.
    #[error("schema does not compile: {reason}")]
    Invalid {
        /// What the compiler reported.
        reason: String,
    },
}

/// One way in which claims fail a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON Pointer (RFC 6901) of the field at fault: the instance location,
    /// except for a missing required member or an unknown member, where it is
    /// the location of that member (`/personal_identity_number`), so that a
    /// form can flag the right field. `""` is the whole claim set.
    pub pointer: String,
    /// The JSON Schema keyword that failed (`required`, `format`, `pattern`,
    /// `additionalProperties`, ...).
    pub keyword: String,
    /// What is wrong, in English, without the failing value.
    pub message: String,
}

/// Every violation found in one validation, in schema order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} schema violation(s): {}", .violations.len(), summary(.violations))]
pub struct SchemaViolations {
    /// The violations; never empty.
    pub violations: Vec<SchemaViolation>,
}

fn summary(violations: &[SchemaViolation]) -> String {
    let parts: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", display_pointer(&v.pointer), v.message))
        .collect();
    parts.join("; ")
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

impl SchemaViolations {
    /// The pointers of all violations, in order.
    pub fn pointers(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.pointer.as_str()).collect()
    }

    /// The violations at `pointer`.
    pub fn at<'a>(&'a self, pointer: &'a str) -> impl Iterator<Item = &'a SchemaViolation> {
        self.violations.iter().filter(move |v| v.pointer == pointer)
    }
}

impl ClaimsSchema {
    /// Parses and compiles a schema document.
    pub fn parse(json: &str) -> Result<Self, SchemaError> {
        Self::new(serde_json::from_str(json)?)
    }

    /// Compiles a schema document that must declare the 2020-12 dialect.
    pub fn new(document: Value) -> Result<Self, SchemaError> {
        let found = document.get("$schema").and_then(Value::as_str);
        if found != Some(DIALECT) {
            return Err(SchemaError::Dialect {
                found: found.map(str::to_owned),
            });
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(false)
            .offline()
            .build(&document)
            .map_err(|e| SchemaError::Invalid {
                reason: e.masked().to_string(),
            })?;
        Ok(Self {
            document,
            validator,
        })
    }

    /// The schema document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Checks `claims` and returns every violation, not only the first.
    pub fn validate(&self, claims: &Value) -> Result<(), SchemaViolations> {
        let mut violations = Vec::new();
        for error in self.validator.iter_errors(claims) {
            let at = error.instance_path().as_str().to_owned();
            let keyword = error.kind().keyword().to_owned();
            match error.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    violations.push(SchemaViolation {
                        pointer: child_pointer(&at, name),
                        keyword,
                        message: format!("required claim {name:?} is missing"),
                    });
                }
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    violations.extend(unexpected.iter().map(|name| SchemaViolation {
                        pointer: child_pointer(&at, name),
                        keyword: keyword.clone(),
                        message: format!("claim {name:?} is not part of this credential type"),
                    }));
                }
                _ => violations.push(SchemaViolation {
                    pointer: at,
                    keyword,
                    message: error.masked_with("the value").to_string(),
                }),
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(SchemaViolations { violations })
        }
    }

    /// `properties.vct.const`: the credential type the schema is for.
    pub fn vct(&self) -> Option<&str> {
        self.document
            .pointer("/properties/vct/const")
            .and_then(Value::as_str)
    }

    /// Names of the top-level `properties`.
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.document
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.keys().map(String::as_str))
    }

    /// Names in the top-level `required`.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.document
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// Whether the schema declares what `path` selects: each key must be in
    /// `properties` and each index or `null` must meet `items` or
    /// `prefixItems`, looking through local `$ref`s and
    /// `allOf`/`anyOf`/`oneOf`.
    pub fn declares(&self, path: &[ClaimPathElement]) -> bool {
        let mut current = vec![&self.document];
        for element in path {
            let mut next = Vec::new();
            for node in current {
                self.step(node, element, 0, &mut next);
            }
            if next.is_empty() {
                return false;
            }
            current = next;
        }
        true
    }

    /// Adds to `out` the subschemas that `element` leads to from `node`.
    fn step<'a>(
        &'a self,
        node: &'a Value,
        element: &ClaimPathElement,
        depth: usize,
        out: &mut Vec<&'a Value>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match element {
            ClaimPathElement::Key(key) => {
                out.extend(node.get("properties").and_then(|p| p.get(key)));
            }
            ClaimPathElement::Index(index) => {
                let prefix = node
                    .get("prefixItems")
                    .and_then(|p| p.get(usize::try_from(*index).ok()?));
                out.extend(prefix.or_else(|| node.get("items")));
            }
            ClaimPathElement::AllElements => {
                out.extend(node.get("items"));
                out.extend(
                    node.get("prefixItems")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                );
            }
        }
        let local_ref = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| self.document.pointer(pointer));
        let branches = ["allOf", "anyOf", "oneOf"]
            .iter()
            .filter_map(|k| node.get(*k).and_then(Value::as_array))
            .flatten();
        for sub in local_ref.into_iter().chain(branches) {
            self.step(sub, element, depth + 1, out);
        }
    }
}

/// `parent` + `/` + `name`, escaped per RFC 6901.
fn child_pointer(parent: &str, name: &str) -> String {
    format!("{parent}/{}", name.replace('~', "~0").replace('/', "~1"))
}
