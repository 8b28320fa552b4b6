//! Coarse time: the relay keeps no time finer than the hour; and the wall
//! clock its periodic tasks (cleaning, alerts) wait on, which tests move.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

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

/// `secs` rounded up to the hour.
pub fn ceil_hour(secs: u64) -> u64 {
    floor_hour(secs.saturating_add(HOUR - 1))
}

/// The hour before which what is kept `days` days is deleted at `now`:
/// `days` before this hour, so an item is kept at least that long counted
/// from the hour it arrived.
pub fn retention_cutoff(now: u64, days: u64) -> u64 {
    floor_hour(now).saturating_sub(days.saturating_mul(86_400))
}

/// The wall clock the periodic tasks read: the system's, plus whatever a
/// test skipped forward. A skip wakes the tasks waiting on it.
#[derive(Debug, Default)]
pub struct WallClock {
    skipped: AtomicU64,
    moved: Notify,
}

impl WallClock {
    /// Now on this clock, in Unix seconds.
    pub fn now(&self) -> u64 {
        now().saturating_add(self.skipped.load(Ordering::Relaxed))
    }

    /// Seconds skipped forward so far.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Moves the clock `secs` forward (tests), waking whoever waits on it.
    pub fn advance(&self, secs: u64) {
        self.skipped.fetch_add(secs, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Waits until this clock reads `at` (Unix seconds) or later.
    pub async fn sleep_until(&self, at: u64) {
        loop {
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let now = self.now();
            if now >= at {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(at - now)) => {}
                () = moved => {}
            }
        }
    }
}

pub use sealtip_api::time::rfc3339;

/// RFC 3339 in UTC at hour precision: `2026-11-29T14:00:00Z`.
pub fn rfc3339_hour(secs: u64) -> String {
    let hour = secs % 86_400 / HOUR;
    format!("{}T{hour:02}:00:00Z", sealtip_api::time::date(secs))
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
        assert_eq!(ceil_hour(1_795_953_600), 1_795_953_600);
        assert_eq!(ceil_hour(1_795_953_600 + 1), 1_795_953_600 + HOUR);
    }
}
