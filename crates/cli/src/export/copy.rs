//! Each item of a thread copied into a case folder, byte for byte: its
//! opened files under `items/NN-<kind>-<id>/` and its sealed file under
//! `sealed/`. Only plain files are copied; a link or a folder where a file
//! should be stops the export.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sealtip_envelope::{ATTACHMENTS_DIR, TIP_JSON, TIP_MAC, TIP_TXT};

use super::manifest::{FileEntry, ManifestAttachment, ManifestItem};
use super::names;
use crate::commands::thread::Item;
use crate::files::{AtomicFile, sync_dir};
use crate::received::ReceivedOrder;
use crate::threads::{Standing, Thread};

/// Where items and sealed files go in a case folder.
pub const ITEMS_DIR: &str = "items";
/// See [`ITEMS_DIR`].
pub const SEALED_DIR: &str = "sealed";

/// Copies every item of `thread` into `case`; what the manifest says of
/// each, its hashes still empty (see [`super::manifest::fill_hashes`]).
pub fn copy_items(
    thread: &Thread<Item>,
    order: &ReceivedOrder,
    case: &Path,
) -> Result<Vec<ManifestItem>> {
    std::fs::create_dir(case.join(ITEMS_DIR))?;
    let mut items = Vec::new();
    for (index, entry) in thread.items.iter().enumerate() {
        let item = &entry.item;
        let folder = format!("{ITEMS_DIR}/{}", names::item_folder(index + 1, item));
        copy_opened(item, &case.join(&folder))
            .with_context(|| format!("cannot export {}", item.folder.display()))?;
        let sealed = copy_sealed(item, case)?;
        let attachments = copy_attachments(item, case, &folder)
            .with_context(|| format!("cannot export {}", item.folder.display()))?;
        items.push(ManifestItem {
            number: index + 1,
            id: item.id.clone(),
            kind: item.opened.tip.kind.as_str().to_string(),
            standing: standing_name(entry.standing).to_string(),
            received: order.received(&item.id).map(str::to_string),
            sender_date: item.opened.tip.date.clone(),
            folder,
            sealed,
            attachments,
        });
    }
    sync_dir(&case.join(ITEMS_DIR));
    Ok(items)
}

/// The manifest's word for how an item stands in its thread.
pub fn standing_name(standing: Standing) -> &'static str {
    match standing {
        Standing::Verified => "verified",
        Standing::Unverified => "unverified",
        Standing::Alone => "alone",
    }
}

/// `tip.json`, `tip.mac` (if any) and `tip.txt` (if any).
fn copy_opened(item: &Item, to: &Path) -> Result<()> {
    std::fs::create_dir(to)?;
    for name in [TIP_JSON, TIP_MAC, TIP_TXT] {
        let from = item.folder.join(name);
        if name == TIP_JSON || from.symlink_metadata().is_ok() {
            copy_file(&from, &to.join(name))?;
        }
    }
    Ok(())
}

/// The sealed file `sealtip pull` saved beside the opened folder
/// (`tip-<id>.age` beside `tip-<id>/`), if it is there.
fn copy_sealed(item: &Item, case: &Path) -> Result<Option<FileEntry>> {
    let name = names::sealed_file(item);
    let Some(parent) = item.folder.parent() else {
        return Ok(None);
    };
    let Some(folder_name) = item.folder.file_name() else {
        return Ok(None);
    };
    let mut sealed_name = folder_name.to_os_string();
    sealed_name.push(".age");
    let from = parent.join(sealed_name);
    if from.symlink_metadata().is_err() {
        return Ok(None);
    }
    let dir = case.join(SEALED_DIR);
    if !dir.exists() {
        std::fs::create_dir(&dir)?;
    }
    copy_file(&from, &dir.join(&name))?;
    Ok(Some(FileEntry::unhashed(format!("{SEALED_DIR}/{name}"))))
}

/// The files of the opened `attachments/`: those `tip.json` declares first,
/// in its order, then any other, by name.
fn copy_attachments(item: &Item, case: &Path, folder: &str) -> Result<Vec<ManifestAttachment>> {
    let from_dir = item.folder.join(ATTACHMENTS_DIR.trim_end_matches('/'));
    let mut present: BTreeSet<String> = BTreeSet::new();
    if from_dir.is_dir() {
        for entry in std::fs::read_dir(&from_dir)? {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else {
                bail!("{}: a file name that is not UTF-8", from_dir.display());
            };
            present.insert(name.to_string());
        }
    }
    let to_dir = format!("{folder}/attachments");
    let mut taken = BTreeSet::new();
    let mut attachments = Vec::new();
    let copy = |name: &str, taken: &mut BTreeSet<String>| -> Result<FileEntry> {
        if taken.is_empty() {
            std::fs::create_dir(case.join(&to_dir))?;
        }
        let exported = names::unique(name, taken);
        copy_file(&from_dir.join(name), &case.join(&to_dir).join(&exported))?;
        Ok(FileEntry::unhashed(format!("{to_dir}/{exported}")))
    };
    for declared in &item.opened.tip.attachments {
        let name = declared
            .path
            .strip_prefix(ATTACHMENTS_DIR)
            .unwrap_or(&declared.path);
        let file = match present.remove(name) {
            true => Some(copy(name, &mut taken)?),
            false => None,
        };
        attachments.push(ManifestAttachment {
            archive_path: declared.path.clone(),
            file,
            media_type: Some(declared.media_type.clone()),
            declared_size: Some(declared.size),
            declared_sha256: Some(declared.sha256.clone()),
            matches_declaration: false,
        });
    }
    for name in present {
        let file = copy(&name, &mut taken)?;
        attachments.push(ManifestAttachment {
            archive_path: format!("{ATTACHMENTS_DIR}{name}"),
            file: Some(file),
            media_type: None,
            declared_size: None,
            declared_sha256: None,
            matches_declaration: false,
        });
    }
    Ok(attachments)
}

/// Copies the plain file `from` to the new file `to`, durably.
pub fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let metadata = from
        .symlink_metadata()
        .with_context(|| format!("cannot read {}", from.display()))?;
    if !metadata.is_file() {
        bail!("{} is not a plain file; refused", from.display());
    }
    let mut source = File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut target = AtomicFile::create(to)?;
    std::io::copy(&mut source, target.file())
        .with_context(|| format!("cannot copy {}", from.display()))?;
    target.commit()
}

/// Writes `bytes` as the new file `path`, durably.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(bytes)?;
    file.commit()
}
