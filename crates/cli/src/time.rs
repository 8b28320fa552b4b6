//! UTC dates without a time-zone database: enough for `# created:` lines and
//! the day-precision date inside a tip.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as RFC 3339 in UTC, to the second: `2026-11-29T13:51:15Z`.
pub fn now_rfc3339() -> String {
    sealtip_api::time::rfc3339(unix_now())
}

/// This hour in UTC, as the relay writes times: `2026-11-29T13:00:00Z`.
pub fn this_hour() -> String {
    let now = unix_now();
    sealtip_api::time::rfc3339(now - now % 3600)
}

/// Today in UTC: `2026-11-29`.
pub fn today() -> String {
    sealtip_api::time::date(unix_now())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
