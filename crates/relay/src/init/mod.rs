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
            .replace("{storage}", STORAGE)
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

/// The storage lines of `relay.toml`, for a relay built with SQLite.
#[cfg(feature = "sqlite")]
const STORAGE: &str = r#"# Everything in one SQLite database: the items' rows and their sealed bytes
# (no file per tip). To run several relays on one database instead:
# storage = "postgres://USER:PASSWORD@HOST:5432/DB" (see the README).
storage = "sqlite://{prefix}relay.db"
"#;

/// The storage lines of `relay.toml`, for a relay built without SQLite: a
/// PostgreSQL database for the operator to name.
#[cfg(not(feature = "sqlite"))]
const STORAGE: &str = r#"# Everything in PostgreSQL, shared by any number of relays (see the README).
# This relay was built without SQLite: name your database here.
storage = "postgres://sealtip@localhost:5432/sealtip"
"#;

/// `relay.toml`, with `{storage}`, `{prefix}`, `{secret}`, `{recipient}` and
/// `{token_hash}` to fill in.
const TEMPLATE: &str = include_str!("relay.toml.in");

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's languages: the names of its Fluent files (`www/i18n/<tag>.ftl`).
    fn page_languages() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/i18n");
        let mut tags: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".ftl").map(str::to_string))
            .collect();
        tags.sort();
        tags
    }

    #[test]
    fn the_demo_form_speaks_every_language_of_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let done = init(&dir.path().join("data")).unwrap();
        let text = std::fs::read_to_string(&done.config).unwrap();
        let config: crate::Config = toml::from_str(&text).unwrap();
        let demo = &config.agencies[0];
        let page = page_languages();
        assert!(page.len() >= 10, "{page:?}");
        let mut languages = demo.languages.clone();
        languages.sort();
        assert_eq!(languages, page);
        assert_eq!(demo.languages[0], "en");
        let mut texts = vec![("emergency".to_string(), &demo.emergency)];
        for q in &demo.form.questions {
            texts.push((q.id.clone(), &q.label));
            if !q.help.is_empty() {
                texts.push((format!("{} help", q.id), &q.help));
            }
            for c in &q.choices {
                texts.push((c.id.clone(), &c.label));
            }
        }
        assert!(texts.len() > 10);
        for (what, localized) in texts {
            let keys: Vec<&String> = localized.keys().collect();
            assert_eq!(keys.len(), page.len(), "{what}: {keys:?}");
            for tag in &page {
                let text = localized.get(tag).map(String::as_str).unwrap_or_default();
                assert!(!text.trim().is_empty(), "{what} has no {tag} text");
                // Only English says it in English.
                if tag != "en" {
                    assert_ne!(
                        Some(text),
                        localized.get("en").map(String::as_str),
                        "{what} {tag}"
                    );
                }
            }
        }
        config.check().unwrap();
    }
}
