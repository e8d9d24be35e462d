//! Integer fields that read correctly in structs with `#[serde(flatten)]`.
//!
//! serde buffers a struct with a flattened member before reading its
//! fields, and with serde_json's `arbitrary_precision` feature (which the
//! build turns on) a buffered number is no longer a number but a private
//! map. Going through [`serde_json::Number`], which understands both forms,
//! keeps the fields right whether or not the feature is on.

use serde::{Deserialize, Deserializer};
use serde_json::Number;

fn to_u64<E: serde::de::Error>(number: &Number) -> Result<u64, E> {
    number
        .as_u64()
        .ok_or_else(|| E::custom(format_args!("{number} is not a non-negative integer")))
}

/// Reads a non-negative integer.
pub(crate) fn u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    to_u64(&Number::deserialize(deserializer)?)
}

/// Reads an optional non-negative integer (`null` is `None`).
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Option::<Number>::deserialize(deserializer)?
        .as_ref()
        .map(to_u64)
        .transpose()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{Map, Value};

    #[derive(Debug, Deserialize)]
    struct Flattened {
        #[serde(deserialize_with = "super::u64")]
        n: u64,
        #[serde(default, deserialize_with = "super::opt_u64")]
        m: Option<u64>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    #[test]
    fn integers_survive_flatten() {
        let read: Flattened = serde_json::from_str(r#"{"n": 3, "m": 86400, "x": 1.5}"#).unwrap();
        assert_eq!((read.n, read.m), (3, Some(86400)));
        assert!(read.extra.contains_key("x"));
        let read: Flattened = serde_json::from_str(r#"{"n": 0, "m": null}"#).unwrap();
        assert_eq!(read.m, None);
        assert!(serde_json::from_str::<Flattened>(r#"{"n": -1}"#).is_err());
        assert!(serde_json::from_str::<Flattened>(r#"{"n": "1"}"#).is_err());
    }
}
