//! `dist/manifest.json`: every file the relay may serve for the page, the
//! widget and the replies worker, with the size and SHA-256 of each encoding
//! it is served in (`identity`, and `gzip`, `br` where a `.gz`, `.br` copy
//! lies beside it), and the commit the build came from. `sealtip
//! verify-client` compares what a relay serves with it; the relay serves it at
//! `/.well-known/sealtip/manifest.json`. Its bytes depend on the build alone
//! (names sorted, no times), so two builds of one commit give one manifest.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::cmd;

/// The manifest's name in the dist folder.
pub const MANIFEST: &str = "manifest.json";
/// A detached signature beside it (`sealtip sign-manifest`), not listed.
const SIGNATURE: &str = "manifest.json.sig";
/// The copies the relay serves instead of a file, by `Content-Encoding`.
const ENCODINGS: [(&str, &str); 2] = [("gzip", ".gz"), ("br", ".br")];

/// One served form of a file: its size and SHA-256.
struct Served {
    size: u64,
    sha256: String,
}

/// Writes `dist/manifest.json` for the files now in `dist`.
pub fn write(dist: &Path) -> Result<()> {
    let commit = source_commit();
    let text = manifest(dist, &commit)?;
    let path = dist.join(MANIFEST);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "{}: every served file's SHA-256, commit {commit}",
        path.display()
    );
    Ok(())
}

/// `git rev-parse HEAD`, or "unknown" outside a git checkout.
fn source_commit() -> String {
    cmd::probe(cmd::command("git").args(["rev-parse", "HEAD"]))
        .map(|out| out.trim().to_owned())
        .filter(|commit| commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The manifest's text for the files in `dist`.
fn manifest(dist: &Path, commit: &str) -> Result<String> {
    let mut names = Vec::new();
    list_files(dist, "", &mut names)?;
    let present: std::collections::BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut files: BTreeMap<&str, Vec<(&str, Served)>> = BTreeMap::new();
    for name in &names {
        if name == MANIFEST || name == SIGNATURE {
            continue;
        }
        let copy_of = ENCODINGS.iter().find_map(|(_, suffix)| {
            name.strip_suffix(suffix)
                .filter(|plain| present.contains(plain))
        });
        if copy_of.is_some() {
            continue;
        }
        let mut served = vec![("identity", served_form(&dist.join(name))?)];
        for (encoding, suffix) in ENCODINGS {
            let copy = format!("{name}{suffix}");
            if present.contains(copy.as_str()) {
                served.push((encoding, served_form(&dist.join(&copy))?));
            }
        }
        files.insert(name, served);
    }
    if !files.contains_key("index.html") {
        bail!("{} has no index.html: nothing to list", dist.display());
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{{\n  \"sealtip_manifest\": 1,\n  \"commit\": \"{commit}\","
    );
    out.push_str("  \"files\": {\n");
    for (index, (name, forms)) in files.iter().enumerate() {
        let _ = writeln!(out, "    \"{name}\": {{");
        for (i, (encoding, form)) in forms.iter().enumerate() {
            let comma = if i + 1 < forms.len() { "," } else { "" };
            let _ = writeln!(
                out,
                "      \"{encoding}\": {{ \"size\": {}, \"sha256\": \"{}\" }}{comma}",
                form.size, form.sha256
            );
        }
        let comma = if index + 1 < files.len() { "," } else { "" };
        let _ = writeln!(out, "    }}{comma}");
    }
    out.push_str("  }\n}\n");
    Ok(out)
}

fn served_form(path: &Path) -> Result<Served> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Served {
        size: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
    })
}

/// Every file under `dir`, as `/`-separated names relative to the dist
/// folder, sorted. Only names the relay serves: `[A-Za-z0-9._-]` segments
/// not starting with a dot.
fn list_files(dir: &Path, prefix: &str, names: &mut Vec<String>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            bail!("{} has a name that is not UTF-8", dir.display());
        };
        let servable = !file_name.starts_with('.')
            && file_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !servable {
            continue;
        }
        let name = format!("{prefix}{file_name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_files(&entry.path(), &format!("{name}/"), names)?;
        } else if kind.is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_file_with_its_encodings() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("xtask-manifest-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("i18n"))?;
        std::fs::write(dir.join("index.html"), "<!doctype html>")?;
        std::fs::write(dir.join("index.html.gz"), "gz")?;
        std::fs::write(dir.join("index.html.br"), "br")?;
        std::fs::write(dir.join("i18n/es.ftl"), "hola = Hola")?;
        std::fs::write(dir.join(".hidden"), "x")?;
        std::fs::write(dir.join(MANIFEST), "old")?;
        let text = manifest(&dir, "unknown")?;
        std::fs::remove_dir_all(&dir)?;
        assert!(text.contains("\"commit\": \"unknown\""));
        assert!(text.contains("\"i18n/es.ftl\": {\n      \"identity\": { \"size\": 11,"));
        assert!(text.contains("\"index.html\": {\n      \"identity\": { \"size\": 15,"));
        assert!(text.contains("\"gzip\": { \"size\": 2,"));
        assert!(text.contains("\"br\": { \"size\": 2,"));
        assert!(!text.contains("index.html.gz\""));
        assert!(!text.contains(".hidden"));
        assert!(!text.contains("\"manifest.json\""));
        Ok(())
    }
}
