//! Dates and times as the portals show them: in Europe/Stockholm with the
//! zone's abbreviation (CET, CEST), dates as ISO 8601 `YYYY-MM-DD` whatever
//! the reader's browser locale. The zone's rules are compiled in (jiff's
//! `static` feature), so a machine without tzdata shows the same.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Seconds since the Unix epoch (0 before it, saturating far after).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Europe/Stockholm.
pub fn zone() -> TimeZone {
    jiff::tz::get!("Europe/Stockholm")
}

/// The date in Stockholm at `seconds` since the epoch.
pub fn date(seconds: i64) -> Date {
    timestamp(seconds).to_zoned_datetime(zone()).date()
}

/// Today in Stockholm.
pub fn today() -> Date {
    Timestamp::now().to_zoned_datetime(zone()).date()
}

/// `YYYY-MM-DD HH:MM CET` (or `CEST`) of `seconds` since the epoch.
pub fn date_time(seconds: i64) -> String {
    timestamp(seconds)
        .to_zoned_datetime(zone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `HH:MM:SS CET` (or `CEST`) of `seconds` since the epoch.
pub fn clock(seconds: i64) -> String {
    timestamp(seconds)
        .to_zoned_datetime(zone())
        .strftime("%H:%M:%S %Z")
        .to_string()
}

/// `seconds` as a timestamp; out of jiff's range (±9999 years) it is the
/// nearest end.
fn timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winter_and_summer_time_are_named() {
        assert_eq!(date_time(0), "1970-01-01 01:00 CET");
        assert_eq!(date_time(1_772_000_000), "2026-02-25 07:13 CET");
        // 2026-07-01 12:00 UTC.
        assert_eq!(date_time(1_782_907_200), "2026-07-01 14:00 CEST");
        assert_eq!(clock(1_782_907_205), "14:00:05 CEST");
    }

    #[test]
    fn the_date_changes_at_midnight_in_stockholm() {
        // 2026-12-03 23:30 UTC is 00:30 on 4 December in Stockholm.
        assert_eq!(date(1_796_340_600).to_string(), "2026-12-04");
        assert_eq!(date(i64::MAX).year(), 9999);
    }
}
