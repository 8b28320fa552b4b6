//! `manifest.json`, written by the web build (`cargo xtask web`): every file
//! the relay may serve for the page, the widget and the replies worker, with
//! the size and SHA-256 of each encoding it is served in, and the commit the
//! build came from.
//!
//! ```json
//! { "sealtip_manifest": 1, "commit": "…",
//!   "files": { "index.html": { "identity": { "size": 934, "sha256": "…" },
//!                              "gzip": { … }, "br": { … } }, … } }
//! ```

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The format version this reader knows.
const VERSION: u64 = 1;

/// A parsed manifest.
#[derive(Deserialize)]
pub struct Manifest {
    sealtip_manifest: u64,
    /// The source commit, or "unknown".
    pub commit: String,
    /// Each file by its path in the dist folder, then by encoding
    /// (`identity`, `gzip`, `br`).
    pub files: BTreeMap<String, BTreeMap<String, Served>>,
}

/// One encoding of one file, as the build made it.
#[derive(Deserialize)]
pub struct Served {
    /// Its length in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

impl Manifest {
    /// Reads a manifest, refusing one of another version or with a path the
    /// relay would not serve.
    pub fn parse(bytes: &[u8]) -> Result<Manifest> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).context("it is not a sealtip web manifest")?;
        if manifest.sealtip_manifest != VERSION {
            bail!(
                "it is a manifest of version {}; this sealtip reads version {VERSION}",
                manifest.sealtip_manifest
            );
        }
        for name in manifest.files.keys() {
            if !is_plain_path(name) {
                bail!("it lists a path the relay never serves");
            }
        }
        if !manifest.files.contains_key("index.html") {
            bail!("it lists no index.html");
        }
        Ok(manifest)
    }

    /// How `bytes`, served for `name` in `encoding`, differ from the
    /// build's; `None` when they are the same.
    pub fn difference(&self, name: &str, encoding: &str, bytes: &[u8]) -> Option<String> {
        let Some(forms) = self.files.get(name) else {
            return Some(format!("{name} is not in the manifest"));
        };
        let Some(expected) = forms.get(encoding) else {
            return Some(format!(
                "served {encoding}-encoded, an encoding the manifest does not list for {name}"
            ));
        };
        let sha256 = hex::encode(Sha256::digest(bytes));
        if bytes.len() as u64 == expected.size && sha256 == expected.sha256 {
            return None;
        }
        Some(format!(
            "{} bytes with SHA-256 {sha256}, the manifest says {} bytes with SHA-256 {} \
             ({name}, {encoding})",
            bytes.len(),
            expected.size,
            expected.sha256
        ))
    }
}

/// A path of plain segments (`[A-Za-z0-9._-]`, none starting with a dot).
pub fn is_plain_path(path: &str) -> bool {
    path.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest() -> Result<Manifest> {
        Manifest::parse(
            format!(
                r#"{{"sealtip_manifest": 1, "commit": "unknown", "files": {{
                 "index.html": {{"identity": {{"size": 0, "sha256": "{EMPTY_SHA256}"}}}}}}}}"#
            )
            .as_bytes(),
        )
    }

    #[test]
    fn same_bytes_match_and_others_are_told() -> Result<()> {
        let manifest = manifest()?;
        assert!(manifest.difference("index.html", "identity", b"").is_none());
        let changed = manifest.difference("index.html", "identity", b"x");
        assert!(changed.is_some_and(|line| line.starts_with("1 bytes with SHA-256 2d711642")));
        assert!(manifest.difference("index.html", "br", b"").is_some());
        assert!(manifest.difference("evil.js", "identity", b"").is_some());
        Ok(())
    }

    #[test]
    fn paths_outside_the_dist_folder_are_refused() {
        for bad in ["../x", "a//b", ".well-known/x", "/abs", "a b"] {
            assert!(!is_plain_path(bad), "{bad}");
        }
        assert!(is_plain_path("i18n/zh-Hans.ftl"));
        let other = br#"{"sealtip_manifest": 2, "commit": "", "files": {}}"#;
        assert!(Manifest::parse(other).is_err());
    }
}
