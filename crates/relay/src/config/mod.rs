//! `relay.toml`: what the operator writes ([`Config`]) and what the relay runs
//! on once it is checked ([`Relay`]).
//!
//! Relative paths are relative to the directory the relay is started from, as
//! `sealtip-relay init` writes them (`sqlite://data/relay.db`).
//!
//! `storage` is either `sqlite://PATH` (the embedded default, sealed blobs as
//! files in `blobs`) or a PostgreSQL URL, `postgres://USER:PASSWORD@HOST:PORT/DB`
//! (everything in the database, so several relays can share it; `blobs` must
//! then be left out).
//!
//! ```toml
//! storage = "sqlite://data/relay.db"
//! blobs = "data/blobs"
//! dist = "dist"
//! behind_tls = false
//! challenge_secret = "…64 hex digits…"      # or challenge_secret_file = "…"
//!
//! [limits]
//! max_upload_bytes = 268435456
//! reply_retention_days = 90
//!
//! [pow]
//! difficulty = 8
//!
//! [[agencies]]
//! id = "demo"
//! name = "Demo agency"
//! default = true
//! recipients = ["age1…"]
//! token_hashes = ["…SHA-256 of the token, hex…"]
//! languages = ["en", "fr"]
//! embed_origins = ["https://news.example"]
//! exit_url = "https://www.wikipedia.org/"
//! emergency = { en = "In danger now? Call 112." }
//! [agencies.form]
//! id = "demo-1"
//! [[agencies.form.questions]]
//! id = "what"
//! kind = "long_text"
//! label = { en = "What happened?" }
//! required = true
//! ```

mod agencies;
mod alerts;
mod limits;
mod storage;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::Deserialize;
use zeroize::Zeroizing;

pub use self::agencies::{Agency, AgencyConfig, is_agency_id, localized};
pub use self::alerts::{Alerts, AlertsConfig, Email, Interval, SmtpTls};
pub use self::limits::{Limits, PowConfig};
#[cfg(feature = "postgres")]
pub use self::storage::PostgresUrl;
pub use self::storage::Storage;

/// The file as written by the operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where items live: `sqlite://PATH` or `postgres://…`.
    pub storage: String,
    /// SQLite only: the folder of sealed blobs (default: `blobs` beside the database).
    #[serde(default)]
    pub blobs: Option<PathBuf>,
    /// The built web client (default `dist`).
    #[serde(default = "default_dist")]
    pub dist: PathBuf,
    /// Listening address when `--listen` is not given (default `127.0.0.1:8080`).
    #[serde(default)]
    pub listen: Option<String>,
    /// Whether clients reach the relay over HTTPS (adds `Strict-Transport-Security`).
    #[serde(default)]
    pub behind_tls: bool,
    /// The key that signs proof-of-work challenges, 64 hex digits.
    #[serde(default)]
    pub challenge_secret: Option<String>,
    /// A file holding `challenge_secret` instead.
    #[serde(default)]
    pub challenge_secret_file: Option<PathBuf>,
    /// SHA-256 (hex) of the operator's token for `GET /metrics`; without
    /// it, the relay serves no metrics.
    #[serde(default)]
    pub metrics_token_hash: Option<String>,
    /// Sizes, counts and timeouts.
    #[serde(default)]
    pub limits: Limits,
    /// Proof of work.
    #[serde(default)]
    pub pow: PowConfig,
    /// The agencies this relay takes tips for.
    #[serde(default)]
    pub agencies: Vec<AgencyConfig>,
}

fn default_dist() -> PathBuf {
    PathBuf::from("dist")
}

/// The checked configuration the relay runs on.
#[derive(Debug)]
pub struct Relay {
    /// Where items live.
    pub storage: Storage,
    /// The built web client.
    pub dist: PathBuf,
    /// Listening address from the file, if any.
    pub listen: Option<String>,
    /// Whether to send `Strict-Transport-Security`.
    pub behind_tls: bool,
    /// The challenge-signing key.
    pub secret: Zeroizing<Vec<u8>>,
    /// SHA-256 of the operator's token for `GET /metrics`, if served.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// Limits.
    pub limits: Limits,
    /// Proof of work.
    pub pow: PowConfig,
    /// Agencies by id.
    pub agencies: HashMap<String, Agency>,
    /// The agency served at `/`.
    pub default_agency: Option<String>,
}

impl Config {
    /// Reads `relay.toml`.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// Checks everything and builds the [`Relay`].
    pub fn check(self) -> anyhow::Result<Relay> {
        let storage = storage::check_storage(Zeroizing::new(self.storage), self.blobs)?;
        let secret = match (self.challenge_secret, self.challenge_secret_file) {
            (Some(_), Some(_)) => bail!("set challenge_secret or challenge_secret_file, not both"),
            (Some(hex), None) => parse_secret(&hex)?,
            (None, Some(file)) => {
                let text = Zeroizing::new(std::fs::read_to_string(&file).with_context(|| {
                    format!("cannot read challenge_secret_file {}", file.display())
                })?);
                parse_secret(text.trim())?
            }
            (None, None) => {
                // Without a configured secret, challenges do not survive a restart.
                let mut key = Zeroizing::new(vec![0u8; 32]);
                getrandom::fill(&mut key).context("the system random generator failed")?;
                key
            }
        };
        let metrics_token_hash = match &self.metrics_token_hash {
            None => None,
            Some(text) => Some(
                hex::decode(text)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .context("metrics_token_hash must be 64 hex digits")?,
            ),
        };
        let limits = self.limits;
        limits::check_limits(&limits, &self.pow)?;

        let mut agencies = HashMap::new();
        let mut default_agency = None;
        for agency in self.agencies {
            let id = agency.id.clone();
            if agency.default {
                ensure!(
                    default_agency.is_none(),
                    "more than one agency has default = true"
                );
                default_agency = Some(id.clone());
            }
            let checked = agencies::check_agency(agency, &limits, &self.pow)
                .with_context(|| format!("agency {id:?}"))?;
            ensure!(
                agencies.insert(id.clone(), checked).is_none(),
                "agency id {id:?} appears twice"
            );
        }
        if default_agency.is_none() && agencies.len() == 1 {
            default_agency = agencies.keys().next().cloned();
        }
        Ok(Relay {
            storage,
            dist: self.dist,
            listen: self.listen,
            behind_tls: self.behind_tls,
            secret,
            metrics_token_hash,
            limits,
            pow: self.pow,
            agencies,
            default_agency,
        })
    }
}

fn parse_secret(text: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let key =
        Zeroizing::new(hex::decode(text).context("the challenge secret must be 64 hex digits")?);
    ensure!(
        key.len() == 32,
        "the challenge secret must be 64 hex digits"
    );
    Ok(key)
}

/// A `storage` line every build of the relay accepts, for tests.
#[cfg(all(test, feature = "sqlite"))]
pub(crate) const TEST_STORAGE: &str = "sqlite://relay.db";
#[cfg(all(test, not(feature = "sqlite")))]
pub(crate) const TEST_STORAGE: &str = "postgres://relay@localhost/sealtip";
