//! Swedish personal identity numbers (*personnummer*, Folkbokföringslagen
//! (1991:481) §18) and coordination numbers (*samordningsnummer*, §18 a),
//! as Skatteverket describes them (SKV 704, *Personnummer*).
//!
//! The number is a date of birth, a three-digit serial and a check digit.
//! A coordination number has 60 added to the day. On input it is written in
//! four ways, all accepted by [`PersonalIdentityNumber::parse`]:
//!
//! | form | example |
//! |---|---|
//! | 12 digits | `199403172381`, `19940317-2381` |
//! | 10 digits | `9403172381`, `940317-2381` |
//! | 10 digits, 100 years or older | `240317+2381` |
//!
//! A 10-digit number names no century: it is the latest one that puts the
//! birth on or before today, less a hundred years when the separator is
//! `+`. That needs today's date, which the caller passes (this crate has no
//! clock). Whatever was typed, the number is kept in one canonical form:
//! 12 digits without a separator ([`PersonalIdentityNumber::as_str`]), the
//! only form [`FromStr`](std::str::FromStr) and serde accept.
//!
//! The check digit is the Luhn (mod 10) digit of the nine digits before it,
//! the century left out.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A checked personal identity number or coordination number, in its
/// canonical 12-digit form `YYYYMMDDNNNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalIdentityNumber(String);

/// Why a personal identity number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityNumberError {
    /// Not 10 or 12 ASCII digits with at most one `-` or `+` before the
    /// last four.
    #[error(
        "a personal identity number has 12 digits (YYYYMMDD-NNNN) or 10 digits (YYMMDD-NNNN, with + from the age of 100)"
    )]
    Format,
    /// The date part is no date, neither as it stands nor with 60 taken from
    /// the day (a coordination number), or it lies after today.
    #[error("the date part of the personal identity number is not a date of birth")]
    Date,
    /// A 12-digit number written with `+` whose person is under 100 years.
    #[error("a personal identity number written with + belongs to a person aged 100 or more")]
    Century,
    /// The last digit is not the Luhn check digit of the nine before it.
    #[error("the check digit of the personal identity number is wrong")]
    CheckDigit,
}

impl PersonalIdentityNumber {
    /// Reads a number in any of its written forms (see the module docs),
    /// `today` being the date where it was typed, and checks its date
    /// (coordination numbers included, never after `today`), century and
    /// check digit.
    pub fn parse(text: &str, today: Date) -> Result<Self, IdentityNumberError> {
        let text = text.trim();
        let (digits, separator) = split(text)?;
        let serial = &digits[digits.len() - 4..];
        let (year, month_day) = match digits.len() {
            12 => (number(&digits[0..4]), &digits[4..8]),
            _ => {
                let (month, day) = month_day(&digits[2..6])?;
                let century = century_of(number(&digits[0..2]), month, day, today)?;
                let year = if separator == Some('+') {
                    century - 100
                } else {
                    century
                };
                (year, &digits[2..6])
            }
        };
        let canonical = format!("{year:04}{month_day}{serial}");
        let parsed = Self::from_canonical(&canonical)?;
        if parsed.birthdate() > today {
            return Err(IdentityNumberError::Date);
        }
        if digits.len() == 12
            && separator == Some('+')
            && parsed.birthdate() > today.saturating_sub(jiff::Span::new().years(100))
        {
            return Err(IdentityNumberError::Century);
        }
        Ok(parsed)
    }

    /// Checks the canonical form: 12 digits, a date, the check digit.
    fn from_canonical(text: &str) -> Result<Self, IdentityNumberError> {
        if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdentityNumberError::Format);
        }
        let year = number(&text[0..4]);
        let (month, day) = month_day(&text[4..8])?;
        if i16::try_from(year).is_err() || Date::new(year as i16, month, day).is_err() {
            return Err(IdentityNumberError::Date);
        }
        let sum: u32 = text.as_bytes()[2..11]
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                let weighted = if i % 2 == 0 { d * 2 } else { d };
                weighted / 10 + weighted % 10
            })
            .sum();
        if (10 - sum % 10) % 10 != u32::from(text.as_bytes()[11] - b'0') {
            return Err(IdentityNumberError::CheckDigit);
        }
        Ok(Self(text.to_owned()))
    }

    /// The 12 digits, `YYYYMMDDNNNN`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a coordination number (day of birth plus 60).
    pub fn is_coordination_number(&self) -> bool {
        self.0.as_bytes()[6] >= b'6'
    }

    /// The date of birth (a coordination number's day less 60).
    pub fn birthdate(&self) -> Date {
        let year = number(&self.0[0..4]);
        // The invariant of the type: `from_canonical` checked that these
        // digits make a date, so the fallback is never taken.
        month_day(&self.0[4..8])
            .ok()
            .and_then(|(month, day)| Date::new(year as i16, month, day).ok())
            .unwrap_or(Date::MIN)
    }
}

/// The digits and the separator of a written number.
fn split(text: &str) -> Result<(String, Option<char>), IdentityNumberError> {
    let chars: Vec<char> = text.chars().collect();
    let separator = chars
        .len()
        .checked_sub(5)
        .map(|at| (at, chars[at]))
        .filter(|(_, c)| *c == '-' || *c == '+');
    let digits: String = chars
        .iter()
        .enumerate()
        .filter(|(at, _)| separator.is_none_or(|(cut, _)| cut != *at))
        .map(|(_, c)| *c)
        .collect();
    if !matches!(digits.len(), 10 | 12) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentityNumberError::Format);
    }
    Ok((digits, separator.map(|(_, c)| c)))
}

/// `MMDD` as a month and a day of the month (a coordination number's day
/// less 60); a day outside 1..=31 and 61..=91 is refused.
fn month_day(text: &str) -> Result<(i8, i8), IdentityNumberError> {
    let month = number(&text[0..2]);
    let day = number(&text[2..4]);
    let day = if day > 60 { day - 60 } else { day };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(IdentityNumberError::Date);
    }
    // Both fit: checked just above.
    Ok((month as i8, day as i8))
}

/// The latest year ending in `yy` that puts `month`/`day` on or before
/// `today`.
fn century_of(yy: u32, month: i8, day: i8, today: Date) -> Result<u32, IdentityNumberError> {
    let this_year = u32::try_from(today.year()).map_err(|_| IdentityNumberError::Date)?;
    let mut year = this_year - (this_year + 100 - yy) % 100;
    let on_or_before_today = |year: u32| {
        i16::try_from(year)
            .ok()
            .and_then(|y| Date::new(y, month, day).ok())
            .is_some_and(|date| date <= today)
    };
    if !on_or_before_today(year) {
        year -= 100;
    }
    Ok(year)
}

/// The value of a few ASCII digits (checked by the caller).
fn number(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |n, b| n * 10 + u32::from(b.wrapping_sub(b'0')))
}

impl std::fmt::Display for PersonalIdentityNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The canonical form only: 12 digits, no separator.
impl std::str::FromStr for PersonalIdentityNumber {
    type Err = IdentityNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_canonical(text)
    }
}

impl TryFrom<String> for PersonalIdentityNumber {
    type Error = IdentityNumberError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::from_canonical(&text)
    }
}

impl From<PersonalIdentityNumber> for String {
    fn from(number: PersonalIdentityNumber) -> Self {
        number.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = jiff::civil::date(2026, 12, 3);

    fn parse(text: &str) -> Result<String, IdentityNumberError> {
        PersonalIdentityNumber::parse(text, TODAY).map(String::from)
    }

    #[test]
    fn valid_numbers_and_their_birthdates() {
        for (number, birthdate) in [
            ("199403172381", "1994-03-17"),
            ("198507099805", "1985-07-09"),
            ("200112201116", "2001-12-20"),
            ("197805245672", "1978-05-24"),
            // Skatteverket's example, 12-digit form.
            ("198112189876", "1981-12-18"),
            ("200002290005", "2000-02-29"),
        ] {
            let parsed = PersonalIdentityNumber::parse(number, TODAY).unwrap();
            assert_eq!(parsed.as_str(), number);
            assert_eq!(parsed.birthdate().to_string(), birthdate);
            assert!(!parsed.is_coordination_number());
        }
    }

    #[test]
    fn every_written_form_gives_the_canonical_one() {
        for text in [
            "199403172381",
            "19940317-2381",
            "9403172381",
            "940317-2381",
            " 940317-2381 ",
        ] {
            assert_eq!(parse(text).unwrap(), "199403172381", "{text}");
        }
    }

    #[test]
    fn ten_digits_take_the_latest_century_not_after_today() {
        // Born 3 Dec 2026 is today; 4 Dec 2026 would be tomorrow.
        assert_eq!(parse("261203-0003").unwrap()[..4], *"2026");
        assert!(parse("2612030003").is_ok());
        assert_eq!(parse("261204-0002").unwrap()[..4], *"1926");
        assert_eq!(parse("000229-0005").unwrap(), "200002290005");
    }

    #[test]
    fn plus_means_a_hundred_years_or_more() {
        assert_eq!(parse("240317+2386").unwrap(), "192403172386");
        assert_eq!(parse("20240317-2386").unwrap(), "202403172386");
        assert_eq!(parse("19940317+2381"), Err(IdentityNumberError::Century));
        assert!(parse("19240317+2386").is_ok());
    }

    #[test]
    fn coordination_numbers_are_day_plus_sixty() {
        // Skatteverket's example coordination number 701063-2391.
        let parsed = PersonalIdentityNumber::parse("701063-2391", TODAY).unwrap();
        assert_eq!(parsed.as_str(), "197010632391");
        assert_eq!(parsed.birthdate().to_string(), "1970-10-03");
        assert!(parsed.is_coordination_number());
        // Day 60 (unknown day) and 92 (32 + 60) are no dates.
        assert_eq!(parse("197010602391"), Err(IdentityNumberError::Date));
        assert_eq!(parse("197010922391"), Err(IdentityNumberError::Date));
    }

    #[test]
    fn format_is_ten_or_twelve_digits_with_one_separator_before_the_last_four() {
        for text in [
            "",
            "94031723",
            "1994031723810",
            "19940317238x",
            "1994-03172381",
            "19940317--2381",
            "19940317 2381",
            "٩٤٠٣١٧٢٣٨١",
            "1994031€2381",
            "€-2381",
        ] {
            assert_eq!(parse(text), Err(IdentityNumberError::Format), "{text}");
        }
    }

    #[test]
    fn dates_are_checked() {
        for text in [
            "199413172381", // month 13
            "199400172381", // month 0
            "199403002381", // day 0
            "199404312381", // 31 April
            "190002292381", // 1900 is no leap year
            "199403322381", // day 32
            "199403592381", // day 59: neither a date nor a coordination number
            "209403172381", // in the future
        ] {
            assert_eq!(parse(text), Err(IdentityNumberError::Date), "{text}");
        }
    }

    #[test]
    fn check_digit_is_luhn_over_the_last_ten_digits() {
        for last in 0..=9 {
            let text = format!("19940317238{last}");
            let expected = if last == 1 {
                Ok(text.clone())
            } else {
                Err(IdentityNumberError::CheckDigit)
            };
            assert_eq!(parse(&text), expected, "{text}");
        }
    }

    #[test]
    fn serde_and_from_str_take_the_canonical_form_only() {
        let ok: PersonalIdentityNumber = serde_json::from_str("\"199403172381\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"199403172381\"");
        assert!(serde_json::from_str::<PersonalIdentityNumber>("\"199403172382\"").is_err());
        assert!("940317-2381".parse::<PersonalIdentityNumber>().is_err());
    }
}
