//! Claims path pointers — OpenID4VP 1.0 §7.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-claims-path-pointer>
//!
//! A claims path pointer is a non-empty array of strings (object keys),
//! non-negative integers (array indices) and nulls (every element of an
//! array). [`ClaimsPath::select`] applies one to a JSON credential
//! (§7.1.1); [`ClaimsPath::select_mdoc`] applies one to the namespaces of an
//! ISO mdoc given as JSON (§7.2.1).
//!
//! OpenID4VP makes an empty selection an error ([`PathError::NothingSelected`]).
//! SD-JWT VC Type Metadata processes the same pointers but returns an empty
//! set instead; callers that need that reading treat `NothingSelected` as
//! "no claims".

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One component of a claims path pointer (OpenID4VP 1.0 §7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A string: select the value of this key in the selected object(s).
    Key(String),
    /// A non-negative integer: select this index in the selected array(s).
    Index(usize),
    /// `null`: select every element of the selected array(s).
    AllElements,
}

impl Serialize for PathElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Key(key) => serializer.serialize_str(key),
            Self::Index(index) => serializer.serialize_u64(*index as u64),
            Self::AllElements => serializer.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for PathElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Going through `Value` keeps numbers correct whether or not
        // serde_json's `arbitrary_precision` feature is on in the build.
        match Value::deserialize(deserializer)? {
            Value::String(key) => Ok(Self::Key(key)),
            Value::Null => Ok(Self::AllElements),
            Value::Number(number) => number
                .as_u64()
                .and_then(|index| usize::try_from(index).ok())
                .map(Self::Index)
                .ok_or_else(|| {
                    serde::de::Error::custom(format_args!(
                        "claims path component {number} is not a non-negative integer"
                    ))
                }),
            other => Err(serde::de::Error::custom(format_args!(
                "claims path component must be a string, null or a non-negative integer, not {}",
                json_kind(&other)
            ))),
        }
    }
}

/// A claims path pointer (OpenID4VP 1.0 §7): the components, left to right.
///
/// The spec requires at least one component; [`crate::dcql::DcqlQuery::validate`]
/// checks that for queries and [`ClaimsPath::select`] rejects an empty pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimsPath(pub Vec<PathElement>);

impl ClaimsPath {
    /// Whether the pointer has no components (which §7 forbids).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies the pointer to a JSON-based credential (OpenID4VP 1.0 §7.1.1)
    /// and returns the selected elements, each with the concrete path (no
    /// `null` components) that leads to it, in document order.
    pub fn select<'a>(&self, credential: &'a Value) -> Result<Vec<Selected<'a>>, PathError> {
        if self.is_empty() {
            return Err(PathError::Empty);
        }
        let mut selection = vec![Selected {
            path: ClaimsPath(Vec::new()),
            value: credential,
        }];
        for (position, component) in self.0.iter().enumerate() {
            let mut next = Vec::with_capacity(selection.len());
            for selected in selection {
                selected.step(component, position, &mut next)?;
            }
            selection = next;
        }
        if selection.is_empty() {
            return Err(PathError::NothingSelected);
        }
        Ok(selection)
    }

    /// Applies the pointer to an ISO mdoc (OpenID4VP 1.0 §7.2.1) whose
    /// namespaces are given as a JSON object `{namespace: {element: value}}`.
    /// The pointer must be exactly a namespace and a data element identifier.
    pub fn select_mdoc<'a>(&self, namespaces: &'a Value) -> Result<Selected<'a>, PathError> {
        match self.0.as_slice() {
            [PathElement::Key(_), PathElement::Key(_)] => {
                let mut selected = self.select(namespaces)?;
                // Two keys select at most one element, and `select` never
                // returns an empty selection.
                selected.pop().ok_or(PathError::NothingSelected)
            }
            _ => Err(PathError::NotMdocPath),
        }
    }
}

impl fmt::Display for ClaimsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, component) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match component {
                PathElement::Key(key) => write!(f, "\"{}\"", key.escape_debug())?,
                PathElement::Index(index) => write!(f, "{index}")?,
                PathElement::AllElements => f.write_str("null")?,
            }
        }
        f.write_str("]")
    }
}

impl<const N: usize> From<[PathElement; N]> for ClaimsPath {
    fn from(components: [PathElement; N]) -> Self {
        Self(components.into())
    }
}

/// One element selected by a claims path pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<'a> {
    /// The concrete path to the element: keys and indices only.
    pub path: ClaimsPath,
    /// The selected element.
    pub value: &'a Value,
}

impl<'a> Selected<'a> {
    /// Applies one pointer component to this element (§7.1.1 step 2),
    /// pushing what it selects onto `next`.
    fn step(
        self,
        component: &PathElement,
        position: usize,
        next: &mut Vec<Selected<'a>>,
    ) -> Result<(), PathError> {
        let child = |path: &ClaimsPath, element: PathElement, value: &'a Value| {
            let mut path = path.clone();
            path.0.push(element);
            Selected { path, value }
        };
        match component {
            PathElement::Key(key) => {
                let object = self
                    .value
                    .as_object()
                    .ok_or_else(|| PathError::NotAnObject {
                        position,
                        at: self.path.clone(),
                    })?;
                if let Some(value) = object.get(key) {
                    next.push(child(&self.path, PathElement::Key(key.clone()), value));
                }
            }
            PathElement::AllElements | PathElement::Index(_) => {
                let array = self.value.as_array().ok_or_else(|| PathError::NotAnArray {
                    position,
                    at: self.path.clone(),
                })?;
                if let PathElement::Index(index) = component {
                    if let Some(value) = array.get(*index) {
                        next.push(child(&self.path, PathElement::Index(*index), value));
                    }
                } else {
                    next.extend(
                        array
                            .iter()
                            .enumerate()
                            .map(|(i, value)| child(&self.path, PathElement::Index(i), value)),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Why a claims path pointer could not be processed (OpenID4VP 1.0 §7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The pointer has no components; §7 requires a non-empty array.
    #[error("the claims path pointer is empty")]
    Empty,
    /// A string component met an element that is not an object
    /// (§7.1.1 step 2.1).
    #[error("claims path component {position} is a key, but the element at {at} is not an object")]
    NotAnObject {
        /// Zero-based position of the component in the pointer.
        position: usize,
        /// Concrete path of the element that is not an object.
        at: ClaimsPath,
    },
    /// A null or integer component met an element that is not an array
    /// (§7.1.1 steps 2.2 and 2.3).
    #[error(
        "claims path component {position} is an index or null, but the element at {at} is not an array"
    )]
    NotAnArray {
        /// Zero-based position of the component in the pointer.
        position: usize,
        /// Concrete path of the element that is not an array.
        at: ClaimsPath,
    },
    /// Processing selected nothing (§7.1.1 step 3): the claim is absent.
    #[error("the claims path pointer selects no element")]
    NothingSelected,
    /// A pointer into an mdoc is not exactly two strings, a namespace and
    /// a data element identifier (§7.2.1 step 1).
    #[error("a claims path pointer into an mdoc must be exactly two strings")]
    NotMdocPath,
}

/// Names the JSON type of a value, for error messages that must not echo
/// the value itself.
pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(value: Value) -> ClaimsPath {
        serde_json::from_value(value).unwrap()
    }

    fn values<'a>(selected: &[Selected<'a>]) -> Vec<&'a Value> {
        selected.iter().map(|s| s.value).collect()
    }

    #[test]
    fn parses_strings_nulls_and_indices() {
        assert_eq!(
            path(json!(["a", null, 2])),
            ClaimsPath::from([
                PathElement::Key("a".into()),
                PathElement::AllElements,
                PathElement::Index(2)
            ])
        );
    }

    #[test]
    fn rejects_negative_fractional_and_other_components() {
        for bad in [
            json!([-1]),
            json!([1.5]),
            json!([true]),
            json!([{}]),
            json!([[]]),
        ] {
            let err = serde_json::from_value::<ClaimsPath>(bad.clone()).unwrap_err();
            assert!(
                err.to_string().contains("claims path component"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn serializes_back_to_the_wire_form() {
        let wire = json!(["degrees", null, 0]);
        assert_eq!(serde_json::to_value(path(wire.clone())).unwrap(), wire);
    }

    #[test]
    fn displays_as_json() {
        assert_eq!(path(json!(["a", null, 3])).to_string(), r#"["a",null,3]"#);
    }

    #[test]
    fn concrete_paths_replace_null_with_indices() {
        let credential = json!({"d": [{"t": "x"}, {"u": 1}, {"t": "y"}]});
        let selected = path(json!(["d", null, "t"])).select(&credential).unwrap();
        let paths: Vec<String> = selected.iter().map(|s| s.path.to_string()).collect();
        assert_eq!(paths, [r#"["d",0,"t"]"#, r#"["d",2,"t"]"#]);
        assert_eq!(values(&selected), [&json!("x"), &json!("y")]);
    }

    #[test]
    fn index_out_of_range_drops_the_array() {
        let credential = json!({"n": ["a"]});
        assert_eq!(
            path(json!(["n", 5])).select(&credential),
            Err(PathError::NothingSelected)
        );
    }

    #[test]
    fn empty_pointer_is_an_error() {
        assert_eq!(ClaimsPath(vec![]).select(&json!({})), Err(PathError::Empty));
    }

    #[test]
    fn key_on_a_non_object_is_an_error() {
        let credential = json!({"d": [{"t": "x"}, "plain"]});
        assert_eq!(
            path(json!(["d", null, "t"])).select(&credential),
            Err(PathError::NotAnObject {
                position: 2,
                at: path(json!(["d", 1]))
            })
        );
    }

    #[test]
    fn null_on_a_non_array_is_an_error() {
        let credential = json!({"name": "Arthur"});
        assert_eq!(
            path(json!(["name", null])).select(&credential),
            Err(PathError::NotAnArray {
                position: 1,
                at: path(json!(["name"]))
            })
        );
    }

    #[test]
    fn mdoc_pointer_selects_one_data_element() {
        let namespaces = json!({"org.iso.18013.5.1": {"given_name": "Arthur"}});
        let selected = path(json!(["org.iso.18013.5.1", "given_name"]))
            .select_mdoc(&namespaces)
            .unwrap();
        assert_eq!(selected.value, &json!("Arthur"));
    }

    #[test]
    fn mdoc_pointer_must_be_two_strings() {
        let namespaces = json!({"ns": {"e": ["x"]}});
        for bad in [json!(["ns"]), json!(["ns", "e", 0]), json!(["ns", null])] {
            assert_eq!(
                path(bad).select_mdoc(&namespaces),
                Err(PathError::NotMdocPath)
            );
        }
    }

    #[test]
    fn mdoc_missing_namespace_or_element_selects_nothing() {
        let namespaces = json!({"ns": {"e": 1}});
        for absent in [json!(["other", "e"]), json!(["ns", "other"])] {
            assert_eq!(
                path(absent).select_mdoc(&namespaces),
                Err(PathError::NothingSelected)
            );
        }
    }
}
