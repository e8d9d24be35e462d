//! `application/x-www-form-urlencoded` bodies and URI query strings
//! (WHATWG URL §5, RFC 3986 §3.4), strict on input.
//!
//! <https://url.spec.whatwg.org/#application/x-www-form-urlencoded>
//!
//! Parsing refuses what lenient decoders paper over: bad `%` escapes,
//! percent-decoded bytes that are not UTF-8, and (RFC 6749 §3.1) a
//! parameter that appears twice. Encoding escapes everything but RFC 3986
//! unreserved characters, so `+` and space never become ambiguous.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything except RFC 3986 `unreserved` (`ALPHA / DIGIT / "-" / "." /
/// "_" / "~"`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a form body or query string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A `%` is not followed by two hex digits.
    #[error("bad percent-escape in parameter `{0}`")]
    BadEscape(String),
    /// The percent-decoded bytes of a name or value are not UTF-8.
    #[error("parameter `{0}` is not UTF-8 once percent-decoded")]
    NotUtf8(String),
    /// A parameter appears more than once (RFC 6749 §3.1 forbids it).
    #[error("parameter `{0}` appears more than once")]
    Duplicate(String),
}

/// Percent-encodes one name or value.
pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// Serializes `name=value` pairs, in order.
pub(crate) fn serialize<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(name));
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

fn decode(raw: &str, name_for_errors: &str) -> Result<String, FormError> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%' {
            let ok = bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(FormError::BadEscape(name_for_errors.to_owned()));
            }
        }
    }
    let plus_as_space = raw.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| FormError::NotUtf8(name_for_errors.to_owned()))
}

/// Parses `a=1&b=2` into a map. Empty segments (`&&`) are skipped; a
/// segment without `=` has an empty value.
pub(crate) fn parse(input: &str) -> Result<BTreeMap<String, String>, FormError> {
    let mut out = BTreeMap::new();
    for segment in input.split('&').filter(|s| !s.is_empty()) {
        let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let name = decode(raw_name, raw_name)?;
        let value = decode(raw_value, &name)?;
        if out.contains_key(&name) {
            return Err(FormError::Duplicate(name));
        }
        out.insert(name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_escapes_reserved_characters() {
        let body = serialize([("a b", "x+y&z=%"), ("json", "{\"k\":[1]}")]);
        assert_eq!(body, "a%20b=x%2By%26z%3D%25&json=%7B%22k%22%3A%5B1%5D%7D");
        let parsed = parse(&body).unwrap();
        assert_eq!(parsed["a b"], "x+y&z=%");
        assert_eq!(parsed["json"], "{\"k\":[1]}");
    }

    #[test]
    fn plus_is_space_and_empty_segments_are_skipped() {
        let parsed = parse("a=b+c&&flag").unwrap();
        assert_eq!(parsed["a"], "b c");
        assert_eq!(parsed["flag"], "");
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(parse("a=%zz"), Err(FormError::BadEscape("a".into())));
        assert_eq!(parse("a=%4"), Err(FormError::BadEscape("a".into())));
        assert_eq!(parse("a=%ff"), Err(FormError::NotUtf8("a".into())));
        assert_eq!(parse("a=1&a=2"), Err(FormError::Duplicate("a".into())));
    }
}
