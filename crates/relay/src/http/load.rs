//! The work a challenge asks: calm, `2^pow.difficulty` attempts; more as an
//! agency's load grows, less again as it calms down.
//!
//! Per agency, the work is the calm work times three factors:
//! - the rate: proofs spent on the agency recently (a count that decays
//!   with a ten-minute time constant), over `pow.calm_per_hour`, when above
//!   it. An attacker who spends proofs as fast as one core solves them
//!   raises his own price in proportion: his rate settles where the work is
//!   about the square root of (calm work × his attempts per second /
//!   the calm rate), and falls back within minutes once he stops;
//! - the fill: `1 / (1 - f)^2` for the fuller of its inbox and storage
//!   (and the relay's storage; `f` from 0 to 1 of their limits): 4 times at
//!   half full, 16 (the most) from three quarters. Open sessions do not
//!   count: a flooder could hold them cheaply to raise every tipster's
//!   price, and the silent ones give their place anyway
//!   ([`super::open_sessions`]);
//! - the size asked: 1 up to 1 MiB, 2 up to 16 MiB, 4 beyond or unsaid.
//!
//! It is capped at `2^pow.max_difficulty`. With `pow.difficulty = 0`
//! proof of work is off: every challenge asks one attempt.
//!
//! The rate lives in memory only (nothing of it is stored), and is read
//! from a [`Clock`] that tests can move forward.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sealtip_api::pow::MAX_WORK;

use crate::config::Relay;
use crate::store::Usage;

/// Seconds over which spent proofs are counted (the decay's time constant).
const WINDOW_SECS: f64 = 600.0;

/// The most the fill multiplies the work by (reached at three quarters
/// full): once full, requests are refused anyway, and a relay with small
/// limits would otherwise ask hours of work for its last few places.
const MAX_FILL_FACTOR: f64 = 16.0;

/// Under load (the work at least this many times the calm work), how much
/// cheaper than the current work a token may be when spent: a proof solved
/// while the work rose still counts, a hoard of tokens fetched while calm
/// does not.
pub const SLACK: u64 = 4;

/// Seconds since the relay started, which tests can move forward.
#[derive(Debug)]
pub struct Clock {
    start: Instant,
    skipped: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            start: Instant::now(),
            skipped: AtomicU64::new(0),
        }
    }
}

impl Clock {
    /// Seconds since the relay started, plus any skipped.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() + self.skipped.load(Ordering::Relaxed) as f64
    }

    /// Moves the clock `secs` forward (tests).
    pub fn advance(&self, secs: u64) {
        self.skipped.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Proofs recently spent, per agency.
#[derive(Debug, Default)]
pub struct Load {
    /// The clock the rate is read from.
    pub clock: Clock,
    spent: Mutex<HashMap<String, Decaying>>,
}

/// A count that decays exponentially with [`WINDOW_SECS`].
#[derive(Debug, Clone, Copy)]
struct Decaying {
    count: f64,
    at: f64,
}

impl Decaying {
    fn at(self, now: f64) -> f64 {
        self.count * (-(now - self.at).max(0.0) / WINDOW_SECS).exp()
    }
}

impl Load {
    /// Counts a proof spent on `agency`.
    pub fn record(&self, agency: &str) {
        let now = self.clock.now();
        let mut spent = lock(&self.spent);
        let entry = spent.entry(agency.to_owned()).or_insert(Decaying {
            count: 0.0,
            at: now,
        });
        *entry = Decaying {
            count: entry.at(now) + 1.0,
            at: now,
        };
    }

    /// Proofs spent on `agency` per hour, recently.
    pub fn per_hour(&self, agency: &str) -> f64 {
        let now = self.clock.now();
        let spent = lock(&self.spent);
        spent
            .get(agency)
            .map_or(0.0, |d| d.at(now) * 3600.0 / WINDOW_SECS)
    }

    /// The work a challenge for `agency` and a sealed file of size class
    /// `class` asks now, given what the store holds.
    pub fn work(&self, relay: &Relay, usage: &Usage, agency: &str, class: u8) -> u32 {
        let pow = &relay.pow;
        if pow.difficulty == 0 {
            return 1;
        }
        let rate = (self.per_hour(agency) / pow.calm_per_hour as f64).max(1.0);
        let fill = 1.0
            / (1.0 - fill(relay, usage, agency))
                .max(1.0 / MAX_FILL_FACTOR.sqrt())
                .powi(2);
        let work = calm_work(relay, class) as f64 * rate * fill;
        let cap = 1u64 << pow.max_difficulty;
        u32::try_from((work.round() as u64).clamp(1, cap.min(u64::from(MAX_WORK))))
            .unwrap_or(MAX_WORK)
    }

    /// The work a challenge good for any agency asks: the most any agency
    /// would for size class `class`.
    pub fn work_for_any(&self, relay: &Relay, usage: &Usage, class: u8) -> u32 {
        relay
            .agencies
            .keys()
            .map(|id| self.work(relay, usage, id, class))
            .max()
            .unwrap_or_else(|| calm_work(relay, class))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The work when calm for a sealed file of size class `class`.
pub fn calm_work(relay: &Relay, class: u8) -> u32 {
    if relay.pow.difficulty == 0 {
        return 1;
    }
    let size = match usize::from(class) {
        0 => 1,
        1 => 2,
        _ => 4,
    };
    (1u32 << relay.pow.difficulty)
        .saturating_mul(size)
        .min(MAX_WORK)
}

/// How full the fuller of `agency`'s inbox and storage is, from 0 to 1 of
/// their limits (the relay's storage counts too).
pub fn fill(relay: &Relay, usage: &Usage, agency: &str) -> f64 {
    let limits = &relay.limits;
    let own = usage.of(agency);
    let total = usage.total();
    let max_bytes = relay
        .agencies
        .get(agency)
        .map_or(limits.max_bytes, |a| a.max_bytes);
    [
        (own.items, limits.max_items_per_agency),
        (own.bytes, max_bytes),
        (total.bytes, limits.max_bytes),
    ]
    .into_iter()
    .map(|(held, max)| held as f64 / max.max(1) as f64)
    .fold(0.0, f64::max)
    .min(1.0)
}

#[cfg(test)]
mod tests {
    use sealtip_api::pow::ANY_SIZE;

    use super::*;
    use crate::config::{Config, TEST_STORAGE};

    fn relay() -> Relay {
        let text = format!("storage = \"{TEST_STORAGE}\"\n");
        toml::from_str::<Config>(&text).unwrap().check().unwrap()
    }

    #[test]
    fn calm_work_is_the_configured_difficulty_by_size() {
        let relay = relay();
        let usage = Usage::default();
        let load = Load::default();
        assert_eq!(load.work(&relay, &usage, "demo", 0), 256);
        assert_eq!(load.work(&relay, &usage, "demo", 1), 512);
        assert_eq!(load.work(&relay, &usage, "demo", ANY_SIZE), 1024);
    }

    #[test]
    fn work_rises_with_the_rate_and_falls_back_when_calm() {
        let relay = relay();
        let usage = Usage::default();
        let load = Load::default();
        for _ in 0..600 {
            load.record("demo");
        }
        // 600 proofs at once: 3600 an hour, 60 times the calm rate.
        let busy = load.work(&relay, &usage, "demo", 0);
        assert!((15_000..=15_400).contains(&busy), "{busy}");
        assert_eq!(load.work(&relay, &usage, "other", 0), 256, "per agency");
        load.clock.advance(1800);
        let later = load.work(&relay, &usage, "demo", 0);
        assert!(later < busy / 10, "{later}");
        load.clock.advance(3600);
        assert_eq!(load.work(&relay, &usage, "demo", 0), 256);
    }

    #[test]
    fn work_rises_with_fill_and_rate_up_to_the_cap() {
        let relay = relay();
        let load = Load::default();
        let mut usage = Usage::default();
        let demo = usage.agencies.entry("demo".into()).or_default();
        demo.open_sessions = 16;
        let sessions_only = load.work(&relay, &usage, "demo", 0);
        assert_eq!(sessions_only, 256, "open sessions do not count");
        let demo = usage.agencies.entry("demo".into()).or_default();
        demo.items = 5000;
        assert_eq!(load.work(&relay, &usage, "demo", 0), 1024, "half full");
        let demo = usage.agencies.entry("demo".into()).or_default();
        demo.items = 10_000;
        let full = load.work(&relay, &usage, "demo", 0);
        assert_eq!(full, 4096, "16 times at most");
        for _ in 0..6000 {
            load.record("demo");
        }
        assert_eq!(load.work(&relay, &usage, "demo", 0), 1 << 20, "capped");
    }
}
