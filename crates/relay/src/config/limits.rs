//! `[limits]` and `[pow]`: sizes, counts, timeouts and proof of work, their
//! defaults and checks, and the times the relay derives from them.

use std::time::Duration;

use anyhow::ensure;
use sealtip_api::{PART_MAX_BYTES, pow::MAX_DIFFICULTY};
use serde::Deserialize;

use super::Relay;

/// Every limit of the relay, in one place.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest sealed tip, message or reply, in bytes (256 MiB).
    pub max_upload_bytes: u64,
    /// Items an agency's inbox may hold before uploads are refused (10,000).
    pub max_items_per_agency: u64,
    /// Replies a mailbox may hold (100).
    pub max_replies_per_mailbox: u64,
    /// Days a reply is kept, counted from the hour it arrived (90); it is
    /// then deleted with its bytes, at most an hour and ten minutes later.
    pub reply_retention_days: u64,
    /// Uploads received at once; more are refused with 429 (64).
    pub max_concurrent_uploads: usize,
    /// Open connections; more are closed at once (1,024).
    pub max_connections: usize,
    /// Total size of a request's header fields, in bytes (16 KiB).
    pub max_header_bytes: usize,
    /// Seconds allowed to send a request's headers (10).
    pub header_timeout_secs: u64,
    /// Seconds an upload may stay silent before it is dropped (30).
    pub upload_idle_secs: u64,
    /// Seconds a whole upload may take (3,600); for an upload session, each
    /// part.
    pub upload_total_secs: u64,
    /// Upload sessions open at once, across agencies; more are refused with
    /// 429 (64), before the proof of work is spent.
    pub max_open_uploads: u64,
    /// Upload sessions open at once for one agency; more are refused with
    /// 429 (16), before the proof of work is spent.
    pub max_open_uploads_per_agency: u64,
    /// Seconds an upload session that has received no byte lives (300); it
    /// is then ended, at most twice this long after it opened.
    pub empty_upload_secs: u64,
    /// Bytes the relay stores at most, over every agency's items, replies
    /// and upload sessions (10 GiB); beyond it uploads are refused with 507,
    /// before the proof of work is spent. An agency's own `max_bytes` may
    /// be lower.
    pub max_bytes: u64,
    /// Seconds an upload session lives after its last part (86,400), rounded
    /// up to the hour.
    pub upload_session_secs: u64,
    /// Bytes of upload-session parts the relay holds in memory at once (256
    /// MiB, at least `part_max_bytes`, 16 MiB). With PostgreSQL storage a
    /// part waits in memory until it is whole, so that no database
    /// connection waits on a slow network; it takes its declared length
    /// (16 MiB if undeclared), rounded up to the MiB, and a part that does
    /// not fit is refused with 429 at once. SQLite writes parts to disk as
    /// they arrive and needs none of it.
    pub part_buffer_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 256 * 1024 * 1024,
            max_items_per_agency: 10_000,
            max_replies_per_mailbox: 100,
            reply_retention_days: 90,
            max_concurrent_uploads: 64,
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            header_timeout_secs: 10,
            upload_idle_secs: 30,
            upload_total_secs: 3600,
            max_open_uploads: 64,
            max_open_uploads_per_agency: 16,
            empty_upload_secs: 300,
            max_bytes: 10 * 1024 * 1024 * 1024,
            upload_session_secs: 86_400,
            part_buffer_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Proof-of-work settings: the work asked when calm, and how it rises.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowConfig {
    /// The work when calm, in bits: `2^difficulty` expected Argon2id
    /// attempts (8: 256 attempts, about 0.1 s in a desktop browser).
    pub difficulty: u8,
    /// The most the work rises to under load, in bits (20: about a million
    /// attempts, minutes of a processor core).
    pub max_difficulty: u8,
    /// Proofs an agency may take per hour before its work rises (60): above
    /// it, the work grows in proportion to the rate.
    pub calm_per_hour: u64,
    /// Seconds a challenge stays valid (600).
    pub challenge_lifetime_secs: u64,
}

impl Default for PowConfig {
    fn default() -> Self {
        PowConfig {
            difficulty: 8,
            max_difficulty: 20,
            calm_per_hour: 60,
            challenge_lifetime_secs: 600,
        }
    }
}

/// Checks `[limits]` and `[pow]`.
pub(super) fn check_limits(limits: &Limits, pow: &PowConfig) -> anyhow::Result<()> {
    ensure!(
        limits.max_upload_bytes > 0,
        "limits.max_upload_bytes must be > 0"
    );
    ensure!(
        limits.max_concurrent_uploads > 0 && limits.max_connections > 0,
        "limits.max_concurrent_uploads and limits.max_connections must be > 0"
    );
    ensure!(
        limits.max_header_bytes >= 1024,
        "limits.max_header_bytes must be at least 1024"
    );
    ensure!(
        limits.header_timeout_secs > 0
            && limits.upload_idle_secs > 0
            && limits.upload_total_secs > 0
            && limits.upload_session_secs > 0,
        "timeouts must be > 0 seconds"
    );
    ensure!(
        (1..=36_500).contains(&limits.reply_retention_days),
        "limits.reply_retention_days must be 1 to 36500"
    );
    ensure!(
        limits.max_open_uploads > 0 && limits.max_open_uploads_per_agency > 0,
        "limits.max_open_uploads and limits.max_open_uploads_per_agency must be > 0"
    );
    ensure!(
        limits.empty_upload_secs >= 10,
        "limits.empty_upload_secs must be at least 10"
    );
    ensure!(limits.max_bytes > 0, "limits.max_bytes must be > 0");
    ensure!(
        limits.part_buffer_bytes >= PART_MAX_BYTES,
        "limits.part_buffer_bytes must be at least {PART_MAX_BYTES} (the largest part)"
    );
    ensure!(
        pow.difficulty <= pow.max_difficulty && pow.max_difficulty <= MAX_DIFFICULTY,
        "pow.difficulty must be at most pow.max_difficulty, itself at most {MAX_DIFFICULTY}"
    );
    ensure!(pow.calm_per_hour > 0, "pow.calm_per_hour must be > 0");
    ensure!(
        pow.challenge_lifetime_secs >= 10,
        "pow.challenge_lifetime_secs must be at least 10"
    );
    Ok(())
}

impl Relay {
    /// Upload idle timeout.
    pub fn upload_idle(&self) -> Duration {
        Duration::from_secs(self.limits.upload_idle_secs)
    }

    /// Whole-upload timeout.
    pub fn upload_total(&self) -> Duration {
        Duration::from_secs(self.limits.upload_total_secs)
    }

    /// When an upload session that received a part `now` expires: the
    /// session lifetime later, rounded up to the hour.
    pub fn session_expiry(&self, now: u64) -> u64 {
        crate::time::ceil_hour(now.saturating_add(self.limits.upload_session_secs))
    }

    /// The hour before which replies are deleted at `now`: the retention
    /// before this hour, so a reply is kept at least that many days.
    pub fn reply_cutoff(&self, now: u64) -> u64 {
        crate::time::retention_cutoff(now, self.limits.reply_retention_days)
    }
}

#[cfg(test)]
mod tests {
    use sealtip_api::PART_MAX_BYTES;

    use crate::config::{Config, TEST_STORAGE};

    #[test]
    fn part_memory_holds_at_least_the_largest_part() {
        let with = |bytes: u64| {
            let text =
                format!("storage = \"{TEST_STORAGE}\"\n[limits]\npart_buffer_bytes = {bytes}\n");
            toml::from_str::<Config>(&text).unwrap().check()
        };
        let error = with(PART_MAX_BYTES - 1).err().unwrap();
        assert!(
            format!("{error:#}").contains("part_buffer_bytes"),
            "{error:#}"
        );
        assert_eq!(
            with(PART_MAX_BYTES).unwrap().limits.part_buffer_bytes,
            PART_MAX_BYTES
        );
    }

    #[test]
    fn replies_are_kept_their_retention_counted_from_the_hour() {
        let with = |line: &str| {
            let text = format!("storage = \"{TEST_STORAGE}\"\n[limits]\n{line}\n");
            toml::from_str::<Config>(&text).unwrap().check()
        };
        let hour = 1_795_953_600;
        let relay = with("").unwrap();
        assert_eq!(relay.limits.reply_retention_days, 90);
        assert_eq!(relay.reply_cutoff(hour + 1234), hour - 90 * 86_400);
        let one_day = with("reply_retention_days = 1").unwrap();
        assert_eq!(one_day.reply_cutoff(hour), hour - 86_400);
        for bad in ["reply_retention_days = 0", "reply_retention_days = 36501"] {
            let error = with(bad).err().unwrap();
            assert!(
                format!("{error:#}").contains("reply_retention_days"),
                "{error:#}"
            );
        }
    }
}
