//! `manifest.json` and `SHA256SUMS` of a case folder (`docs/export.md`).
//!
//! `files` lists every file of the case folder but these two, with its
//! SHA-256 and size; `SHA256SUMS` lists the same files and `manifest.json`
//! in `sha256sum`'s format, so `sha256sum -c SHA256SUMS` checks everything.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Exporter;
use super::copy::write_new;
use crate::commands::thread::Item;
use crate::threads::Thread;

/// The manifest's file name, at the top of a case folder.
pub const MANIFEST: &str = "manifest.json";
/// The checksum list's file name, beside the manifest.
pub const SUMS: &str = "SHA256SUMS";
/// The manifest's `format`.
pub const FORMAT: &str = "sealtip-export/1";

/// A case folder's manifest.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// `sealtip-export/1`.
    pub format: String,
    /// When it was exported: RFC 3339, UTC, to the second, by this machine's clock.
    pub exported_at: String,
    /// The officer who exported it.
    pub officer: String,
    /// The program that wrote it: `sealtip <version>`.
    pub tool: String,
    /// The thread as a whole.
    pub thread: ThreadInfo,
    /// The thread's merged case state (status, assignee, labels, notes), if any.
    pub case_state: Option<serde_json::Value>,
    /// Its items, in the order the relay received them.
    pub items: Vec<ManifestItem>,
    /// Every file of the folder but `manifest.json` and `SHA256SUMS`, by path.
    pub files: Vec<FileEntry>,
}

/// What holds for the whole thread.
#[derive(Debug, Serialize, Deserialize)]
pub struct ThreadInfo {
    /// Whether it is a verified conversation (every item proven with the
    /// thread key the tip carries).
    pub verified: bool,
    /// The mailbox id its replies are posted to, if verified.
    pub mailbox: Option<String>,
    /// The fingerprint of the tipster's reply key, if verified.
    pub reply_key_fingerprint: Option<String>,
}

/// One item of the thread.
#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestItem {
    /// Its place in the thread, from 1.
    pub number: usize,
    /// The relay's id for it.
    pub id: String,
    /// `tip`, `message`, `reply` or `case`, as sealed inside.
    pub kind: String,
    /// `verified`, `unverified` or `alone` (see `sealtip thread`).
    pub standing: String,
    /// When the relay received it, to the hour (from `relay-order.json`),
    /// if known.
    pub received: Option<String>,
    /// The date its sender wrote in it (the sender's word only).
    pub sender_date: String,
    /// Its opened folder in the export (`items/NN-<kind>-<id>`).
    pub folder: String,
    /// Its sealed file in the export, if one was kept.
    pub sealed: Option<FileEntry>,
    /// Its attachments.
    pub attachments: Vec<ManifestAttachment>,
}

/// One attachment of an item.
#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestAttachment {
    /// Its path inside the sealed file (`attachments/…`).
    pub archive_path: String,
    /// The file in the export; `None` when tip.json lists it but the opened
    /// folder did not hold it.
    pub file: Option<FileEntry>,
    /// Its media type, as tip.json claims.
    pub media_type: Option<String>,
    /// Its size, as tip.json declares.
    pub declared_size: Option<u64>,
    /// Its SHA-256, as tip.json declares.
    pub declared_sha256: Option<String>,
    /// Whether the file's size and SHA-256 are those tip.json declares.
    pub matches_declaration: bool,
}

/// One file: its path in the case folder (`/`-separated), SHA-256 (lowercase
/// hex) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its path, relative to the case folder.
    pub path: String,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

impl FileEntry {
    /// `path`, its hash still to be filled in.
    pub fn unhashed(path: String) -> Self {
        FileEntry {
            path,
            sha256: String::new(),
            size: 0,
        }
    }
}

impl Manifest {
    /// The manifest of `thread`, whose exported items and files are these.
    pub fn new(
        thread: &Thread<Item>,
        items: Vec<ManifestItem>,
        files: BTreeMap<String, FileEntry>,
        exporter: &Exporter,
        exported_at: &str,
        case_state: Option<serde_json::Value>,
    ) -> Self {
        Manifest {
            format: FORMAT.to_string(),
            exported_at: exported_at.to_string(),
            officer: exporter.officer.clone(),
            tool: format!("sealtip {}", env!("CARGO_PKG_VERSION")),
            thread: ThreadInfo {
                verified: thread.mailbox.is_some(),
                mailbox: thread.mailbox.clone(),
                reply_key_fingerprint: thread.reply_to.as_ref().map(|r| r.fingerprint()),
            },
            case_state,
            items,
            files: files.into_values().collect(),
        }
    }

    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let bytes = std::fs::read(dir.join(MANIFEST))
            .with_context(|| format!("cannot read {}", dir.join(MANIFEST).display()))?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).context("it is not an export manifest")?;
        if manifest.format != FORMAT {
            bail!("its format is not {FORMAT}");
        }
        Ok(manifest)
    }

    /// Writes `manifest.json` and `SHA256SUMS` into `dir`; the manifest's
    /// SHA-256.
    pub fn write(&self, dir: &Path) -> Result<String> {
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        write_new(&dir.join(MANIFEST), &json)?;
        let manifest_sha256 = hex::encode(Sha256::digest(&json));
        let mut sums = sums_text(&self.files);
        sums.push_str(&format!("{manifest_sha256}  {MANIFEST}\n"));
        write_new(&dir.join(SUMS), sums.as_bytes())?;
        Ok(manifest_sha256)
    }
}

/// `files` as `sha256sum` prints them: `<hex>  <path>` a line.
pub fn sums_text(files: &[FileEntry]) -> String {
    files
        .iter()
        .map(|file| format!("{}  {}\n", file.sha256, file.path))
        .collect()
}

/// Sets each item's sealed file and attachments from `files`, and whether
/// each attachment is what tip.json declares.
pub fn fill_hashes(items: &mut [ManifestItem], files: &BTreeMap<String, FileEntry>) {
    let fill = |entry: &mut FileEntry| {
        if let Some(hashed) = files.get(&entry.path) {
            *entry = hashed.clone();
        }
    };
    for item in items {
        if let Some(sealed) = &mut item.sealed {
            fill(sealed);
        }
        for attachment in &mut item.attachments {
            if let Some(file) = &mut attachment.file {
                fill(file);
                attachment.matches_declaration = attachment.declared_size == Some(file.size)
                    && attachment.declared_sha256.as_deref() == Some(file.sha256.as_str());
            }
        }
    }
}

/// Every file under `dir` but the manifest and its checksum list, by path:
/// its SHA-256 and size. Anything that is not a plain file or a folder is
/// refused.
pub fn hash_tree(dir: &Path) -> Result<BTreeMap<String, FileEntry>> {
    let mut files = BTreeMap::new();
    for path in list_tree(dir)? {
        match path {
            Listed::File(path) => {
                let entry = hash_file(dir, &path)?;
                files.insert(path, entry);
            }
            Listed::Other(path) => bail!("{path} is not a plain file"),
        }
    }
    Ok(files)
}

/// One entry under a case folder.
pub enum Listed {
    /// A plain file, by its `/`-separated path.
    File(String),
    /// A link, a device, anything but a file or a folder.
    Other(String),
}

/// Every entry under `dir` (recursively; folders are walked, not listed),
/// but `manifest.json` and `SHA256SUMS` at its top, sorted.
pub fn list_tree(dir: &Path) -> Result<Vec<Listed>> {
    let mut found = Vec::new();
    let mut folders = vec![String::new()];
    while let Some(folder) = folders.pop() {
        let full = dir.join(&folder);
        for entry in
            std::fs::read_dir(&full).with_context(|| format!("cannot read {}", full.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = match folder.is_empty() {
                true => name,
                false => format!("{folder}/{name}"),
            };
            if path == MANIFEST || path == SUMS {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                found.push(Listed::File(path));
            } else {
                found.push(Listed::Other(path));
            }
        }
    }
    found.sort_by(|a, b| listed_path(a).cmp(listed_path(b)));
    Ok(found)
}

fn listed_path(listed: &Listed) -> &str {
    match listed {
        Listed::File(path) | Listed::Other(path) => path,
    }
}

/// The SHA-256 and size of `dir/path`.
pub fn hash_file(dir: &Path, path: &str) -> Result<FileEntry> {
    let full = dir.join(path);
    let file = File::open(&full).with_context(|| format!("cannot read {}", full.display()))?;
    let (sha256, size) =
        sha256_of(file).with_context(|| format!("cannot read {}", full.display()))?;
    Ok(FileEntry {
        path: path.to_string(),
        sha256,
        size,
    })
}

/// The SHA-256 (lowercase hex) and length of everything `reader` gives.
pub fn sha256_of(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The entry for bytes about to be written as `path`.
pub fn entry_of(path: &str, bytes: &[u8]) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
    }
}
