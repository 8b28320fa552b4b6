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
//! difficulty = 18
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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use sealtip_api::{
    AgencyProfile, Form, Localized, PART_MAX_BYTES, QuestionKind, pow::MAX_DIFFICULTY,
};
use sealtip_envelope::Recipient;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

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
    /// 429 (64).
    pub max_open_uploads: u64,
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
            upload_session_secs: 86_400,
            part_buffer_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Proof-of-work settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowConfig {
    /// Leading zero bits a solution needs (18: about 260,000 hashes).
    pub difficulty: u8,
    /// Seconds a challenge stays valid (600).
    pub challenge_lifetime_secs: u64,
}

impl Default for PowConfig {
    fn default() -> Self {
        PowConfig {
            difficulty: 18,
            challenge_lifetime_secs: 600,
        }
    }
}

/// One agency, as written in `relay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// Short id used in URLs: `[a-z0-9-]`, 1 to 63 characters.
    pub id: String,
    /// Display name.
    pub name: String,
    /// age recipients, one per officer key, all of one kind: hybrid
    /// post-quantum (`age1pq1…`, the default) or X25519-only (`age1…`).
    pub recipients: Vec<String>,
    /// SHA-256 (hex) of each inbox token; the tokens themselves stay with the agency.
    #[serde(default)]
    pub token_hashes: Vec<String>,
    /// Form languages, the first being the default (default `["en"]`).
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// The tip form.
    pub form: Form,
    /// Emergency contact text, per language.
    #[serde(default)]
    pub emergency: Localized,
    /// Origins allowed to embed the form in a frame (`https://host[:port]`).
    #[serde(default)]
    pub embed_origins: Vec<String>,
    /// Where the quick-exit button leads.
    #[serde(default = "default_exit_url")]
    pub exit_url: String,
    /// The agency served at `/`.
    #[serde(default)]
    pub default: bool,
}

fn default_dist() -> PathBuf {
    PathBuf::from("dist")
}

fn default_languages() -> Vec<String> {
    vec!["en".into()]
}

fn default_exit_url() -> String {
    "https://www.wikipedia.org/".into()
}

/// Where the relay keeps items, checked.
#[derive(Debug)]
pub enum Storage {
    /// SQLite metadata and a folder of blob files, on this machine.
    Sqlite {
        /// The SQLite database file.
        database: PathBuf,
        /// The folder of sealed blobs.
        blobs: PathBuf,
    },
    /// A PostgreSQL database holding everything, shared by any number of relays.
    Postgres(PostgresUrl),
}

/// A `postgres://` URL, which may hold a password: zeroized when dropped and
/// never printed.
pub struct PostgresUrl(Zeroizing<String>);

impl PostgresUrl {
    /// The URL, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresUrl(…)")
    }
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
    /// Limits.
    pub limits: Limits,
    /// Proof of work.
    pub pow: PowConfig,
    /// Agencies by id.
    pub agencies: HashMap<String, Agency>,
    /// The agency served at `/`.
    pub default_agency: Option<String>,
}

/// One agency, checked.
#[derive(Debug)]
pub struct Agency {
    /// Its public profile, as `GET /api/v1/agencies/{id}` serves it.
    pub profile: AgencyProfile,
    /// SHA-256 of each inbox token.
    pub token_hashes: Vec<[u8; 32]>,
    /// The CSP `frame-ancestors` source list for its pages.
    pub frame_ancestors: String,
}

impl Agency {
    /// Whether `token` is one of this agency's inbox tokens (constant time in
    /// the token; the number of tokens is not secret).
    pub fn accepts_token(&self, token: &str) -> bool {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut ok = subtle::Choice::from(0);
        for stored in &self.token_hashes {
            ok |= stored.ct_eq(&hash);
        }
        ok.into()
    }
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
        let storage = check_storage(Zeroizing::new(self.storage), self.blobs)?;
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
        let limits = self.limits;
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
            limits.max_open_uploads > 0,
            "limits.max_open_uploads must be > 0"
        );
        ensure!(
            limits.part_buffer_bytes >= PART_MAX_BYTES,
            "limits.part_buffer_bytes must be at least {PART_MAX_BYTES} (the largest part)"
        );
        ensure!(
            self.pow.difficulty <= MAX_DIFFICULTY,
            "pow.difficulty must be at most {MAX_DIFFICULTY}"
        );
        ensure!(
            self.pow.challenge_lifetime_secs >= 10,
            "pow.challenge_lifetime_secs must be at least 10"
        );

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
            let checked = check_agency(agency, &limits, &self.pow)
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
            limits,
            pow: self.pow,
            agencies,
            default_agency,
        })
    }
}

fn check_storage(storage: Zeroizing<String>, blobs: Option<PathBuf>) -> anyhow::Result<Storage> {
    if let Some(path) = storage.strip_prefix("sqlite://") {
        ensure!(!path.is_empty(), "storage = \"sqlite://\" needs a path");
        let database = PathBuf::from(path);
        let blobs = blobs.unwrap_or_else(|| {
            database
                .parent()
                .map(|dir| dir.join("blobs"))
                .unwrap_or_else(|| PathBuf::from("blobs"))
        });
        return Ok(Storage::Sqlite { database, blobs });
    }
    if storage.starts_with("postgres://") || storage.starts_with("postgresql://") {
        ensure!(
            blobs.is_none(),
            "blobs is for sqlite:// storage only: with PostgreSQL every blob is in the database"
        );
        // Checked now so that a typo stops the relay at start; the error
        // names no part of the URL, which may hold a password.
        if storage.parse::<tokio_postgres::Config>().is_err() {
            bail!("storage is not a valid postgres:// URL");
        }
        return Ok(Storage::Postgres(PostgresUrl(storage)));
    }
    bail!("storage must be sqlite://PATH or postgres://USER@HOST/DATABASE")
}

/// Whether `id` can name an agency: `[a-z0-9-]`, 1 to 63 characters, not starting with `-`.
pub fn is_agency_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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

fn check_agency(a: AgencyConfig, limits: &Limits, pow: &PowConfig) -> anyhow::Result<Agency> {
    ensure!(
        is_agency_id(&a.id),
        "id must be 1 to 63 characters of a-z, 0-9 and -"
    );
    ensure!(!a.name.trim().is_empty(), "name is empty");
    ensure!(!a.recipients.is_empty(), "recipients is empty");
    let mut recipients = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for text in &a.recipients {
        let recipient = Recipient::parse(text).with_context(|| {
            format!("recipient {:?}", text.chars().take(24).collect::<String>())
        })?;
        kinds.insert(format!("{:?}", recipient.kind()));
        recipients.push(recipient.to_string());
    }
    // The page could seal to no one: a file is never sealed to hybrid and
    // X25519-only keys together.
    ensure!(
        kinds.len() == 1,
        "recipients mix hybrid post-quantum (age1pq1…) and X25519-only (age1…) keys; an agency's officers must all be of one kind"
    );
    let mut token_hashes = Vec::new();
    for text in &a.token_hashes {
        let bytes = hex::decode(text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .with_context(|| format!("token hash {text:?} is not 64 hex digits"))?;
        token_hashes.push(bytes);
    }
    ensure!(!a.languages.is_empty(), "languages is empty");
    for lang in &a.languages {
        ensure!(
            (2..=35).contains(&lang.len())
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "language {lang:?} is not a language tag"
        );
    }
    check_form(&a.form, &a.languages[0])?;
    ensure!(
        is_plain_url(&a.exit_url),
        "exit_url must be an http(s) URL without spaces or quotes"
    );
    let mut sources = Vec::new();
    for origin in &a.embed_origins {
        ensure!(
            is_origin(origin),
            "embed origin {origin:?} must be scheme://host[:port] with no path"
        );
        sources.push(origin.as_str());
    }
    let frame_ancestors = if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    };
    Ok(Agency {
        profile: AgencyProfile {
            id: a.id,
            name: a.name,
            recipients,
            languages: a.languages,
            form: a.form,
            emergency: a.emergency,
            exit_url: a.exit_url,
            embed_origins: a.embed_origins,
            pow_difficulty: pow.difficulty,
            max_upload_bytes: limits.max_upload_bytes,
        },
        token_hashes,
        frame_ancestors,
    })
}

fn check_form(form: &Form, first_language: &str) -> anyhow::Result<()> {
    ensure!(!form.id.is_empty(), "form.id is empty");
    let mut ids = HashSet::new();
    for q in &form.questions {
        ensure!(
            is_agency_id(&q.id.replace('_', "-")),
            "question id {:?} must be a-z, 0-9, - and _",
            q.id
        );
        ensure!(ids.insert(&q.id), "question id {:?} appears twice", q.id);
        ensure!(
            q.label.contains_key(first_language),
            "question {:?} has no label in {first_language:?}",
            q.id
        );
        match q.kind {
            QuestionKind::Choice => {
                ensure!(
                    !q.choices.is_empty(),
                    "choice question {:?} has no choices",
                    q.id
                );
                let mut choice_ids = HashSet::new();
                for c in &q.choices {
                    ensure!(
                        choice_ids.insert(&c.id) && !c.id.is_empty(),
                        "question {:?}: choice ids must be unique and non-empty",
                        q.id
                    );
                    ensure!(
                        c.label.contains_key(first_language),
                        "question {:?}: choice {:?} has no label in {first_language:?}",
                        q.id,
                        c.id
                    );
                }
            }
            _ => ensure!(
                q.choices.is_empty(),
                "question {:?} has choices but is not a choice question",
                q.id
            ),
        }
    }
    Ok(())
}

fn is_plain_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'))
}

/// `scheme://host[:port]`: what a CSP source expression may hold safely.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && rest.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'*' | b'[' | b']')
        })
}

/// Builds the `[agencies.form]` of a config from a form, for `init`.
pub fn localized(pairs: &[(&str, &str)]) -> Localized {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<BTreeMap<_, _>>()
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
        let retention = self.limits.reply_retention_days.saturating_mul(86_400);
        crate::time::floor_hour(now).saturating_sub(retention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_so_they_cannot_break_the_csp() {
        for good in [
            "https://news.example",
            "http://localhost:8000",
            "https://*.city.example",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "news.example",
            "https://news.example/path",
            "https://a.example; script-src *",
            "https://",
            "javascript://x",
            "https://a.example 'unsafe-inline'",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn storage_is_sqlite_or_postgres() {
        let Ok(Storage::Sqlite { database, blobs }) =
            check_storage(Zeroizing::new("sqlite://data/relay.db".into()), None)
        else {
            panic!("sqlite storage refused");
        };
        assert_eq!(database, PathBuf::from("data/relay.db"));
        assert_eq!(blobs, PathBuf::from("data/blobs"));

        let url = "postgres://relay:hunter2@db.internal:5432/sealtip";
        let Ok(Storage::Postgres(checked)) = check_storage(Zeroizing::new(url.into()), None) else {
            panic!("postgres storage refused");
        };
        assert_eq!(checked.expose(), url);
        assert!(!format!("{checked:?}").contains("hunter2"));

        let with_blobs = check_storage(Zeroizing::new(url.into()), Some("blobs".into()));
        assert!(with_blobs.is_err());
        for bad in ["mysql://x", "sqlite://", "data/relay.db"] {
            assert!(
                check_storage(Zeroizing::new(bad.into()), None).is_err(),
                "{bad}"
            );
        }
        let typo = check_storage(
            Zeroizing::new("postgres://relay:hunter2@db:notaport/x".into()),
            None,
        );
        let message = format!(
            "{:#}",
            typo.err().unwrap_or_else(|| panic!("typo accepted"))
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn an_agency_never_mixes_hybrid_and_x25519_officers() {
        use sealtip_envelope::{Identity, KeyKind};
        let hybrid = Identity::generate().unwrap().recipient().to_string();
        let legacy = Identity::generate_kind(KeyKind::X25519)
            .unwrap()
            .recipient()
            .to_string();
        let with = |keys: &[&str]| {
            let list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
            let text = format!(
                "storage = \"sqlite://relay.db\"\n[[agencies]]\nid = \"demo\"\nname = \"Demo\"\nrecipients = [{}]\n[agencies.form]\nid = \"f\"\n[[agencies.form.questions]]\nid = \"what\"\nkind = \"long_text\"\nlabel = {{ en = \"What?\" }}\n",
                list.join(", ")
            );
            toml::from_str::<Config>(&text).unwrap().check()
        };
        assert!(with(&[&hybrid]).is_ok());
        assert!(with(&[&legacy]).is_ok());
        let error = with(&[&hybrid, &legacy]).err().unwrap();
        assert!(format!("{error:#}").contains("one kind"), "{error:#}");
    }

    #[test]
    fn part_memory_holds_at_least_the_largest_part() {
        let with = |bytes: u64| {
            let text =
                format!("storage = \"sqlite://relay.db\"\n[limits]\npart_buffer_bytes = {bytes}\n");
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
            let text = format!("storage = \"sqlite://relay.db\"\n[limits]\n{line}\n");
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

    #[test]
    fn agency_ids_are_plain() {
        assert!(is_agency_id("demo"));
        assert!(is_agency_id("city-police-2"));
        for bad in [
            "",
            "-x",
            "Demo",
            "a/b",
            "..",
            "a.b",
            "a%2fb",
            &"a".repeat(64),
        ] {
            assert!(!is_agency_id(bad), "{bad}");
        }
    }
}
