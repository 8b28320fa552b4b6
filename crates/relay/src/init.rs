//! `sealtip-relay init`: a relay configuration with a demo agency.
//!
//! Writes, in the chosen folder (refusing to overwrite anything):
//! - `relay.toml`: storage, limits, proof of work, and the `demo` agency, with
//!   its recipient and the SHA-256 of its token, never the token itself;
//! - `agency.key`: the demo agency's identity, in age's format (for
//!   `sealtip open` and `age -d -i`). The relay never reads it;
//! - `agency.pub`: its recipient (`age1…`);
//! - `agency.token`: its inbox token (for `sealtip pull --token-file`).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sealtip_envelope::{Identity, IdentityFile};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::time;

/// The files `init` wrote.
#[derive(Debug)]
pub struct Initialized {
    /// `relay.toml`.
    pub config: PathBuf,
    /// The demo agency's identity.
    pub key: PathBuf,
    /// The demo agency's recipient.
    pub recipient: String,
    /// The demo agency's inbox token file.
    pub token: PathBuf,
}

/// Writes a configuration and the demo agency into `dir`.
pub fn init(dir: &Path) -> anyhow::Result<Initialized> {
    let config = dir.join("relay.toml");
    let key = dir.join("agency.key");
    let public = dir.join("agency.pub");
    let token_file = dir.join("agency.token");
    for path in [&config, &key, &public, &token_file] {
        if path.exists() {
            bail!("{} already exists; init never overwrites", path.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let identity = Identity::generate().context("the system random generator failed")?;
    let recipient = identity.recipient().to_string();
    let token = Zeroizing::new(random_hex()?);
    let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
    let secret = Zeroizing::new(random_hex()?);
    let prefix = dir_prefix(dir);
    let text = Zeroizing::new(
        TEMPLATE
            .replace("{prefix}", &prefix)
            .replace("{secret}", &secret)
            .replace("{recipient}", &recipient)
            .replace("{token_hash}", &token_hash),
    );
    // Check what we write parses, before writing anything.
    crate::Config::check(toml::from_str(&text).context("the template is not valid")?)
        .context("the template is not valid")?;

    let created = time::rfc3339(time::now());
    write_new(
        &key,
        IdentityFile::to_text(&identity, &created).as_bytes(),
        true,
    )?;
    write_new(&public, format!("{recipient}\n").as_bytes(), false)?;
    write_new(
        &token_file,
        format!("{}\n", token.as_str()).as_bytes(),
        true,
    )?;
    write_new(&config, text.as_bytes(), true)?;
    Ok(Initialized {
        config,
        key,
        recipient,
        token: token_file,
    })
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).context("the system random generator failed")?;
    Ok(hex::encode(bytes.as_ref()))
}

/// The folder as a prefix for paths in `relay.toml` (relative to where the relay starts).
fn dir_prefix(dir: &Path) -> String {
    let text = dir.to_string_lossy().replace('\\', "/");
    let text = text.trim_end_matches('/');
    if text.is_empty() || text == "." {
        String::new()
    } else {
        format!("{text}/")
    }
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

const TEMPLATE: &str = r#"# sealtip-relay configuration. Relative paths are relative to the folder
# the relay is started from.

# Metadata in SQLite, sealed blobs as files in `blobs`. To run several relays
# on one database instead: storage = "postgres://USER:PASSWORD@HOST:5432/DB"
# and no `blobs` line (see the README).
storage = "sqlite://{prefix}relay.db"
blobs = "{prefix}blobs"
# The built web client (cargo xtask run builds it).
dist = "dist"
# Set to true when clients reach the relay over HTTPS (adds Strict-Transport-Security).
behind_tls = false
# Signs proof-of-work challenges. Anyone holding it can skip the work.
challenge_secret = "{secret}"

[limits]
max_upload_bytes = 268435456      # 256 MiB
max_items_per_agency = 10000
max_replies_per_mailbox = 100
max_concurrent_uploads = 64
max_connections = 1024
max_header_bytes = 16384
header_timeout_secs = 10
upload_idle_secs = 30
upload_total_secs = 3600

[pow]
difficulty = 18                   # leading zero bits: about 260,000 hashes
challenge_lifetime_secs = 600

[[agencies]]
id = "demo"
name = "Demo agency"
default = true
# The agency's age recipients; its identity is in agency.key, which the relay never reads.
recipients = ["{recipient}"]
# SHA-256 (hex) of each inbox token (agency.token holds the token).
token_hashes = ["{token_hash}"]
languages = ["en", "fr"]
# Origins allowed to embed the form (e.g. "https://news.example"); none by default.
embed_origins = []
exit_url = "https://www.wikipedia.org/"
emergency = { en = "In danger right now? Call 112.", fr = "En danger maintenant ? Appelez le 112." }

[agencies.form]
id = "demo-1"

[[agencies.form.questions]]
id = "what"
kind = "long_text"
label = { en = "What happened?", fr = "Que s'est-il passé ?" }
help = { en = "Say what you saw or know, in your own words.", fr = "Dites ce que vous avez vu ou savez, avec vos mots." }
required = true

[[agencies.form.questions]]
id = "topic"
kind = "choice"
label = { en = "What is it about?", fr = "De quoi s'agit-il ?" }
choices = [
    { id = "forced-work", label = { en = "Forced work or unpaid work", fr = "Travail forcé ou non payé" } },
    { id = "sexual-exploitation", label = { en = "Sexual exploitation", fr = "Exploitation sexuelle" } },
    { id = "held", label = { en = "Someone held or not free to leave", fr = "Quelqu'un retenu ou pas libre de partir" } },
    { id = "child", label = { en = "A child may be involved", fr = "Un enfant est peut-être concerné" } },
    { id = "other", label = { en = "Something else", fr = "Autre chose" } },
]

[[agencies.form.questions]]
id = "when"
kind = "date"
label = { en = "When did it happen?", fr = "Quand cela s'est-il passé ?" }

[[agencies.form.questions]]
id = "where"
kind = "place"
label = { en = "Where did it happen?", fr = "Où cela s'est-il passé ?" }

[[agencies.form.questions]]
id = "who"
kind = "text"
label = { en = "Who is involved?", fr = "Qui est impliqué ?" }
"#;
