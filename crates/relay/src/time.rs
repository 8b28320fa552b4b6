//! Coarse time: the relay keeps no time finer than the hour.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in an hour.
pub const HOUR: u64 = 3600;

/// Now, in Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Now, rounded down to the hour, in Unix seconds.
pub fn this_hour() -> u64 {
    floor_hour(now())
}

/// `secs` rounded down to the hour.
pub fn floor_hour(secs: u64) -> u64 {
    secs - secs % HOUR
}

/// RFC 3339 in UTC at hour precision: `2026-11-29T14:00:00Z`.
pub fn rfc3339_hour(secs: u64) -> String {
    let (year, month, day) = civil_from_days(secs / 86_400);
    let hour = secs % 86_400 / HOUR;
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:00:00Z")
}

/// RFC 3339 in UTC at second precision, for files written once (`init`).
pub fn rfc3339(secs: u64) -> String {
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rest = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_at_hour_precision() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_795_953_600, "2026-11-29T12:00:00Z"),
            (1_795_953_600 + 3599, "2026-11-29T12:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
        ];
        for (secs, expected) in cases {
            assert_eq!(rfc3339_hour(secs), expected, "{secs}");
        }
        assert_eq!(rfc3339(1_795_953_600 + 61), "2026-11-29T12:01:01Z");
        assert_eq!(floor_hour(1_795_953_600 + 3599), 1_795_953_600);
    }
}
