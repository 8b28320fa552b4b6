//! When the relay deletes an item: its receipt hour plus the agency's
//! `retention_days` (the relay's inbox answer). The desk shows that date,
//! and marks what goes within [`SOON_DAYS`], so an officer keeps a local
//! copy first.

/// Items that expire within this many days are marked.
pub const SOON_DAYS: u64 = 7;

/// When an item received at `received` (RFC 3339 at the hour, as the relay
/// writes it) expires after `days`: Unix seconds, or `None` if the time
/// does not read.
pub fn expires_at(received: &str, days: u64) -> Option<u64> {
    Some(unix_seconds(received)? + days.checked_mul(86_400)?)
}

/// Whether a time `expires` (Unix seconds) comes within [`SOON_DAYS`] of `now`.
pub fn is_soon(expires: u64, now: u64) -> bool {
    expires <= now + SOON_DAYS * 86_400
}

/// The earliest expiry of the items received at `received`.
pub fn first_expiry<'a>(received: impl Iterator<Item = &'a str>, days: u64) -> Option<u64> {
    received.filter_map(|time| expires_at(time, days)).min()
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-11-29T14:00:00Z` (any seconds) as Unix seconds.
fn unix_seconds(time: &str) -> Option<u64> {
    let b = time.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u64> { time.get(range)?.parse().ok() };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of `sealtip_api::time::civil_from_days`).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_expires_its_days_after_the_hour_it_was_received() {
        let received = "2026-11-29T14:00:00Z";
        let expires = expires_at(received, 30).unwrap_or_default();
        assert_eq!(sealtip_api::time::rfc3339(expires), "2026-12-29T14:00:00Z");
        assert_eq!(
            sealtip_api::time::rfc3339(expires_at("2024-02-28T00:00:00Z", 1).unwrap_or(0)),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(expires_at("yesterday", 30), None);
        assert_eq!(expires_at("2026-13-01T00:00:00Z", 30), None);
        assert!(is_soon(expires, expires - 6 * 86_400));
        assert!(!is_soon(expires, expires - 8 * 86_400));
        let both = ["2026-11-29T14:00:00Z", "2026-11-28T10:00:00Z"];
        let first = first_expiry(both.into_iter(), 30).unwrap_or_default();
        assert_eq!(sealtip_api::time::rfc3339(first), "2026-12-28T10:00:00Z");
    }
}
