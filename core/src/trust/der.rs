//! The few fields of an X.509 certificate (RFC 5280 §4.1) that webpki does
//! not expose: the subject's organization and common name, and the
//! validity period. A minimal DER reader over a certificate webpki already
//! parsed; any surprise gives `None`.

/// One DER TLV: tag, contents, and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
/// id-at-commonName 2.5.4.3.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
/// id-at-organizationName 2.5.4.10.
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];

/// The TBSCertificate's fields after the version: serial, signature,
/// issuer, validity, subject.
fn tbs_fields(der: &[u8]) -> Option<[&[u8]; 5]> {
    let (SEQUENCE, certificate, _) = tlv(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = tlv(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    let mut fields = [&[][..]; 5];
    for field in &mut fields {
        let (_, contents, after) = tlv(rest)?;
        *field = contents;
        rest = after;
    }
    Some(fields)
}

/// The subject's attribute `oid` (first occurrence), as text.
fn subject_attribute(der: &[u8], oid: &[u8]) -> Option<String> {
    let [_, _, _, _, mut name] = tbs_fields(der)?;
    while !name.is_empty() {
        let (SET, mut set, after) = tlv(name)? else {
            return None;
        };
        name = after;
        while !set.is_empty() {
            let (SEQUENCE, pair, after) = tlv(set)? else {
                return None;
            };
            set = after;
            let (0x06, found, value) = tlv(pair)? else {
                return None;
            };
            if found == oid {
                let (_, text, _) = tlv(value)?;
                return String::from_utf8(text.to_vec()).ok();
            }
        }
    }
    None
}

/// The subject's O.
pub(super) fn organization(der: &[u8]) -> Option<String> {
    subject_attribute(der, OID_O)
}

/// The subject's CN.
pub(super) fn common_name(der: &[u8]) -> Option<String> {
    subject_attribute(der, OID_CN)
}

/// notBefore and notAfter, seconds since the epoch.
pub(super) fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let [_, _, _, validity, _] = tbs_fields(der)?;
    let (tag, first, rest) = tlv(validity)?;
    let not_before = time(tag, first)?;
    let (tag, second, _) = tlv(rest)?;
    Some((not_before, time(tag, second)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let full = match (tag, text.len()) {
        (0x17, 12) => {
            let yy: i16 = text[..2].parse().ok()?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{text}")
        }
        (0x18, 14) => text.to_owned(),
        _ => return None,
    };
    let number = |range: std::ops::Range<usize>| full.get(range)?.parse::<i16>().ok();
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(8..10)?, number(10..12)?, number(12..14)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    Some(days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_decode() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x18, b"20261203215237Z"), Some(1_796_334_757));
        assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x17, b"701301000000Z"), None);
        assert_eq!(time(0x18, b"2026"), None);
    }
}
