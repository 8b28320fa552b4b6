//! `sealtip export --verify DIR`: an export checked against its manifest.
//!
//! Every file's size and SHA-256, no file added or removed, `SHA256SUMS`
//! agreeing with `manifest.json` (and so naming a manifest that was edited),
//! and, given the agency's identities, each sealed file opened again and
//! compared with the opened files beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use sealtip_envelope::{AttachmentSink, Identity, Limits, TIP_JSON, TIP_MAC, open_tip};
use sha2::{Digest, Sha256};

use super::manifest::{
    FileEntry, Listed, MANIFEST, Manifest, SUMS, hash_file, list_tree, sha256_of,
};

/// One way an export differs from what its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The file, relative to the folder checked.
    pub path: String,
    /// What is wrong with it.
    pub what: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Case folders checked.
    pub cases: usize,
    /// Files checked against a manifest.
    pub files: usize,
    /// Items listed.
    pub items: usize,
    /// Sealed files opened again and compared.
    pub reopened: usize,
    /// Every difference; none when the export is as it was written.
    pub differences: Vec<Difference>,
}

/// Checks the export `dir`: a case folder (with `manifest.json`) or a folder
/// of them. With `identities`, each sealed file is opened again and its
/// content compared with the exported files.
pub fn verify(dir: &Path, identities: &[Identity]) -> Result<Verified> {
    let mut verified = Verified::default();
    if dir.join(MANIFEST).exists() {
        verify_case(dir, "", identities, &mut verified);
        return Ok(verified);
    }
    let mut names: Vec<String> = Vec::new();
    let listing =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in listing {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    let mut strays = Vec::new();
    for name in names {
        let case = dir.join(&name);
        if case.is_dir() && case.join(MANIFEST).exists() {
            verify_case(&case, &format!("{name}/"), identities, &mut verified);
        } else {
            strays.push(name);
        }
    }
    if verified.cases == 0 {
        bail!("{} is not an export: it holds no {MANIFEST}", dir.display());
    }
    for name in strays {
        verified.differences.push(Difference {
            path: name,
            what: "not part of the export (added)".to_string(),
        });
    }
    Ok(verified)
}

/// Checks one case folder; paths are reported with `prefix` in front.
fn verify_case(dir: &Path, prefix: &str, identities: &[Identity], verified: &mut Verified) {
    verified.cases += 1;
    let mut differences = Vec::new();
    let mut differ = |path: &str, what: String| {
        differences.push(Difference {
            path: format!("{prefix}{path}"),
            what,
        });
    };
    let manifest = match Manifest::read(dir) {
        Ok(manifest) => manifest,
        Err(err) => {
            differ(MANIFEST, format!("{err:#}"));
            verified.differences.append(&mut differences);
            return;
        }
    };
    verified.items += manifest.items.len();
    let listed: BTreeMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|file| (file.path.as_str(), file))
        .collect();
    let mut seen = BTreeSet::new();
    match list_tree(dir) {
        Ok(found) => {
            for entry in found {
                match entry {
                    Listed::File(path) => match listed.get(path.as_str()) {
                        Some(expected) => {
                            verified.files += 1;
                            seen.insert(path.clone());
                            if let Some(what) = compare_file(dir, expected) {
                                differ(&path, what);
                            }
                        }
                        None => differ(&path, "not in the manifest (added)".to_string()),
                    },
                    Listed::Other(path) => differ(
                        &path,
                        "not a plain file, and not in the manifest".to_string(),
                    ),
                }
            }
        }
        Err(err) => differ("", format!("{err:#}")),
    }
    for path in listed.keys() {
        if !seen.contains(*path) {
            differ(path, "missing (the manifest lists it)".to_string());
        }
    }
    for what in check_sums(dir, &manifest.files) {
        differ(what.0, what.1);
    }
    for item in &manifest.items {
        let references = item
            .sealed
            .iter()
            .chain(item.attachments.iter().filter_map(|a| a.file.as_ref()));
        for reference in references {
            if listed.get(reference.path.as_str()) != Some(&reference) {
                differ(
                    MANIFEST,
                    format!(
                        "item {} names {} with another size or SHA-256 than its files list",
                        item.number, reference.path
                    ),
                );
            }
        }
    }
    if !identities.is_empty() {
        for item in &manifest.items {
            // Only files of the export are read: the manifest may be forged.
            if let Some(sealed) = item.sealed.as_ref().filter(|s| seen.contains(&s.path)) {
                verified.reopened += 1;
                for (path, what) in reopen(dir, sealed, item, identities, &seen) {
                    differ(&path, what);
                }
            }
        }
    }
    verified.differences.append(&mut differences);
}

/// Why `dir/expected.path` is not what the manifest says, if it is not.
fn compare_file(dir: &Path, expected: &FileEntry) -> Option<String> {
    match hash_file(dir, &expected.path) {
        Err(err) => Some(format!("{err:#}")),
        Ok(actual) if actual.size != expected.size => Some(format!(
            "{} bytes, the manifest says {}",
            actual.size, expected.size
        )),
        Ok(actual) if actual.sha256 != expected.sha256 => {
            Some("its SHA-256 is not the one in the manifest (changed)".to_string())
        }
        Ok(_) => None,
    }
}

/// Where `SHA256SUMS` and the manifest disagree: it must list the
/// manifest's files with their hashes, and the manifest as it is.
fn check_sums(dir: &Path, files: &[FileEntry]) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    let text = match std::fs::read_to_string(dir.join(SUMS)) {
        Ok(text) => text,
        Err(err) => return vec![(SUMS, format!("cannot be read: {err}"))],
    };
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        match line.split_once("  ").or_else(|| line.split_once(" *")) {
            Some((sha256, path)) => {
                sums.insert(path.to_string(), sha256.to_string());
            }
            None => found.push((
                SUMS,
                format!("a line that is not `<sha256>  <file>`: {line}"),
            )),
        }
    }
    let manifest_sha256 = std::fs::read(dir.join(MANIFEST))
        .map(|bytes| hex::encode(Sha256::digest(bytes)))
        .unwrap_or_default();
    match sums.remove(MANIFEST) {
        Some(sha256) if sha256 == manifest_sha256 => {}
        Some(_) => found.push((
            MANIFEST,
            "its SHA-256 is not the one SHA256SUMS lists (the manifest was changed)".to_string(),
        )),
        None => found.push((SUMS, format!("does not list {MANIFEST}"))),
    }
    for file in files {
        match sums.remove(&file.path) {
            Some(sha256) if sha256 == file.sha256 => {}
            Some(_) => found.push((
                SUMS,
                format!("lists another SHA-256 for {} than {MANIFEST}", file.path),
            )),
            None => found.push((SUMS, format!("does not list {}", file.path))),
        }
    }
    for path in sums.keys() {
        found.push((SUMS, format!("lists {path}, which {MANIFEST} does not")));
    }
    found
}

/// Opens `sealed` again and compares what it holds with the item's
/// exported files: `(path, what)` for each difference.
fn reopen(
    dir: &Path,
    sealed: &FileEntry,
    item: &super::manifest::ManifestItem,
    identities: &[Identity],
    seen: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let read = |path: &str| {
        seen.contains(path)
            .then(|| std::fs::read(dir.join(path)).ok())
            .flatten()
    };
    let mut found = Vec::new();
    let mut sink = HashingSink::default();
    let opened = std::fs::File::open(dir.join(&sealed.path))
        .map_err(anyhow::Error::from)
        .and_then(|file| {
            Ok(open_tip(
                io::BufReader::new(file),
                identities,
                &Limits::default(),
                &mut sink,
            )?)
        });
    let opened = match opened {
        Ok(opened) => opened,
        Err(err) => {
            found.push((
                sealed.path.clone(),
                format!("cannot be opened again: {err:#}"),
            ));
            return found;
        }
    };
    let json_path = format!("{}/{TIP_JSON}", item.folder);
    if read(&json_path).as_deref() != Some(opened.json.as_slice()) {
        found.push((
            json_path,
            format!("not the {TIP_JSON} sealed in {}", sealed.path),
        ));
    }
    let mac_path = format!("{}/{TIP_MAC}", item.folder);
    let mac_file = read(&mac_path).and_then(|bytes| String::from_utf8(bytes).ok());
    let sealed_mac = opened.mac.map(|mac| format!("{}\n", hex::encode(mac)));
    if mac_file != sealed_mac {
        found.push((
            mac_path,
            format!("not the {TIP_MAC} sealed in {}", sealed.path),
        ));
    }
    for attachment in &item.attachments {
        let Some(file) = &attachment.file else {
            continue;
        };
        let actual = seen
            .contains(&file.path)
            .then(|| hash_file(dir, &file.path).ok())
            .flatten()
            .map(|entry| (entry.sha256, entry.size));
        match sink.hashes.remove(&attachment.archive_path) {
            None => found.push((file.path.clone(), format!("not in {} (added)", sealed.path))),
            Some(hashed) if actual.as_ref() != Some(&hashed) => found.push((
                file.path.clone(),
                format!("not the bytes sealed in {}", sealed.path),
            )),
            Some(_) => {}
        }
    }
    for archive_path in sink.hashes.keys() {
        found.push((
            sealed.path.clone(),
            format!("holds {archive_path}, which the export lacks"),
        ));
    }
    found
}

/// Keeps each attachment's SHA-256 and size, by its archive path.
#[derive(Default)]
struct HashingSink {
    hashes: BTreeMap<String, (String, u64)>,
}

impl AttachmentSink for HashingSink {
    fn attachment(&mut self, path: &str, _size: u64, data: &mut dyn Read) -> io::Result<()> {
        let hashed = sha256_of(data)?;
        self.hashes.insert(path.to_string(), hashed);
        Ok(())
    }
}
