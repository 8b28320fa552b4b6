//! Evidence export: a thread handed over as one folder a prosecutor's expert
//! can check with `sha256sum` alone (`docs/export.md` describes it).
//!
//! The source is what `sealtip pull` and `sealtip open` leave in a folder:
//! pulled sealed files (`tip-<id>.age`, `message-<id>.age`, …), the folders
//! they were opened into beside them (`tip-<id>/`, …), the reply copies
//! `sealtip reply` keeps there (`reply-<id>/`), and `relay-order.json`. The
//! thread rules are `sealtip thread`'s ([`crate::commands::thread`]).
//!
//! A case folder holds `items/NN-<kind>-<id>/` (each item's `tip.json`,
//! `tip.mac`, `tip.txt` and `attachments/`, byte for byte), `sealed/` (the
//! sealed files, to be opened again later), `report.html` (printable, no
//! script, nothing loaded from elsewhere), `manifest.json` (every file's
//! SHA-256 and size, each item's sealed file, the relay's receipt hour, the
//! officer and the time) and `SHA256SUMS` (`sha256sum -c` reads it). It is
//! written into a temporary folder and renamed into place whole; an existing
//! folder is never overwritten.

mod case;
mod copy;
mod manifest;
mod names;
mod report;
mod verify;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_envelope::Identity;

use crate::commands::thread::{Item, read_threads, thread_holding};
use crate::files::{parent_dir, sync_dir};
use crate::received::ReceivedOrder;
use crate::threads::Thread;

pub use manifest::Manifest;
pub use verify::verify;

/// Who exports, written into the manifest and the report.
#[derive(Debug, Clone)]
pub struct Exporter {
    /// The officer's name, as given (`--officer` or `SEALTIP_OFFICER`).
    pub officer: String,
}

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    /// Each case folder written, with the SHA-256 of its `manifest.json`
    /// (to write down on the hand-over form).
    pub cases: Vec<(PathBuf, String)>,
}

/// Exports the thread that holds `item_folder` (an opened tip, follow-up or
/// reply folder, its thread found among the folders beside it) into the new
/// folder `out`, with the thread's case state merged from the case items
/// beside it (`case-<id>.age`) that open with `identities` (none: without).
pub fn export_thread_with_case(
    item_folder: &Path,
    out: &Path,
    exporter: &Exporter,
    identities: &[Identity],
) -> Result<Exported> {
    refuse_existing(out)?;
    let source = Source {
        dir: parent_dir(item_folder),
        order: ReceivedOrder::load(parent_dir(item_folder))?,
        identities,
    };
    let thread = thread_holding(item_folder)?;
    let staging = staging_beside(out)?;
    let manifest_sha256 = write_case(&thread, &source, staging.path(), exporter)?;
    move_into_place(staging, out)?;
    Ok(Exported {
        cases: vec![(out.to_path_buf(), manifest_sha256)],
    })
}

/// Exports every thread of the folder `source` (a folder pulled into and
/// opened in) into the new folder `out`, one case folder each, named by
/// its number and first item (`01-tip-<id>`); with `identities`, each with
/// its case state.
pub fn export_all(
    source: &Path,
    out: &Path,
    exporter: &Exporter,
    identities: &[Identity],
) -> Result<Exported> {
    refuse_existing(out)?;
    let threads = read_threads(source)?;
    if threads.is_empty() {
        bail!(
            "{} holds no opened item (folders with a tip.json, made by sealtip open)",
            source.display()
        );
    }
    let source = Source {
        dir: source,
        order: ReceivedOrder::load(source)?,
        identities,
    };
    let staging = staging_beside(out)?;
    let mut cases = Vec::new();
    for (index, thread) in threads.iter().enumerate() {
        let name = match thread.items.first() {
            Some(first) => names::item_folder(index + 1, &first.item),
            None => continue,
        };
        let case = staging.path().join(&name);
        std::fs::create_dir(&case)?;
        let sha256 = write_case(thread, &source, &case, exporter)
            .with_context(|| format!("cannot export thread {}", index + 1))?;
        cases.push((out.join(name), sha256));
    }
    move_into_place(staging, out)?;
    Ok(Exported { cases })
}

/// Where a thread is exported from.
struct Source<'a> {
    /// The folder of pulled and opened items.
    dir: &'a Path,
    /// Its `relay-order.json`.
    order: ReceivedOrder,
    /// The officer's identities, for case items (none: no case state).
    identities: &'a [Identity],
}

/// Whether `dir` is one opened item (it holds a `tip.json`) rather than a
/// folder of them.
pub fn is_item_folder(dir: &Path) -> bool {
    dir.join(sealtip_envelope::TIP_JSON).is_file()
}

/// Writes one thread into the empty folder `case`; the SHA-256 of its
/// manifest.
fn write_case(
    thread: &Thread<Item>,
    source: &Source<'_>,
    case: &Path,
    exporter: &Exporter,
) -> Result<String> {
    let mut items = copy::copy_items(thread, &source.order, case)?;
    let case_state = case::case_of(source.dir, thread, source.identities)?;
    if let Some(state) = &case_state {
        case::copy_case_items(source.dir, case, state)?;
    }
    let mut files = manifest::hash_tree(case)?;
    manifest::fill_hashes(&mut items, &files);
    let exported_at = crate::time::now_rfc3339();
    let html = report::render(&report::Report {
        thread,
        items: &items,
        case,
        exporter,
        exported_at: &exported_at,
        case_state: case_state.as_ref().map(|export| &export.state),
    });
    copy::write_new(&case.join(report::FILE_NAME), html.as_bytes())?;
    files.insert(
        report::FILE_NAME.to_string(),
        manifest::entry_of(report::FILE_NAME, html.as_bytes()),
    );
    let state_json = match &case_state {
        Some(export) => Some(serde_json::to_value(&export.state)?),
        None => None,
    };
    let manifest = Manifest::new(thread, items, files, exporter, &exported_at, state_json);
    let sha256 = manifest.write(case)?;
    if !source.identities.is_empty() {
        // The opened folders may have changed since they were opened: what
        // is handed over must be what the sealed files hold.
        let checked = verify(case, source.identities)?;
        if !checked.differences.is_empty() {
            let lines: Vec<String> = checked.differences.iter().map(|d| d.to_string()).collect();
            bail!(
                "the opened files are not what the sealed files hold, nothing exported: {}",
                lines.join("; ")
            );
        }
    }
    sync_dir(case);
    Ok(sha256)
}

fn refuse_existing(out: &Path) -> Result<()> {
    if out.exists() {
        bail!(
            "{} already exists; an export never overwrites: choose a new folder with --out",
            out.display()
        );
    }
    Ok(())
}

fn staging_beside(out: &Path) -> Result<tempfile::TempDir> {
    let parent = parent_dir(out);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(".sealtip-export-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))
}

/// Renames the finished staging folder to `out`, which must still not
/// exist.
fn move_into_place(staging: tempfile::TempDir, out: &Path) -> Result<()> {
    refuse_existing(out)?;
    sync_dir(staging.path());
    let staged = staging.keep();
    if let Err(err) = std::fs::rename(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(err).with_context(|| format!("cannot move the export to {}", out.display()));
    }
    sync_dir(parent_dir(out));
    Ok(())
}
