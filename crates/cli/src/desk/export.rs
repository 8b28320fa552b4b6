//! The desk's export button ("Export this thread", "Keep a local copy"):
//! the thread as `sealtip export` writes it, with its case state
//! (`crate::export`, its one home), into a new folder under `--export-dir`.
//!
//! `sealtip export` reads what `sealtip pull` and `sealtip open` leave in a
//! folder; the desk holds sealed items instead. So the desk first lays the
//! thread out that way in a workbench folder inside the export folder (each
//! sealed file, each but the case items opened beside it,
//! `relay-order.json`), exports from it, and removes it: plaintext is
//! written only where the export goes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sealtip_envelope::Identity;

use super::Desk;
use super::open::Failure;
use super::state::{Origin, Sealed};
use crate::commands::open::open_into;
use crate::export::{Exporter, export_thread_with_case};
use crate::received::{Received, ReceivedOrder};
use sealtip_api::ItemKind;

/// One item of the thread to lay out: relay kind, id, receipt hour, bytes.
struct Laid {
    kind: &'static str,
    id: String,
    received: String,
    sealed: Sealed,
}

impl Desk {
    /// Exports the thread holding item `id`; the folder written.
    pub async fn export(self: &Arc<Self>, id: String) -> Result<PathBuf, Failure> {
        let desk = self.clone();
        let done = tokio::task::spawn_blocking(move || desk.export_now(&id)).await;
        done.unwrap_or_else(|error| Err(("desk-export-failed", error.to_string())))
    }

    fn export_now(&self, id: &str) -> Result<PathBuf, Failure> {
        let officer = self
            .officer
            .clone()
            .ok_or(("desk-export-no-officer", String::new()))?;
        let (keys, items) = {
            let state = self.state();
            let keys = state.keys.clone().ok_or(("desk-locked", String::new()))?;
            let thread = state
                .thread_of(id)
                .ok_or(("desk-no-such-item", String::new()))?;
            let mut items: Vec<Laid> = thread
                .items
                .iter()
                .filter_map(|entry| laid(&entry.item.0.origin, entry.item.0))
                .collect();
            // The thread's case items too, as `sealtip pull` keeps them.
            if let Some(mailbox) = &thread.mailbox {
                items.extend(state.items.values().filter_map(|item| {
                    let of_thread = item.origin.is_case()
                        && item.tip()?.thread.as_deref() == Some(mailbox.as_str());
                    of_thread.then(|| laid(&item.origin, item)).flatten()
                }));
            }
            (keys, items)
        };
        if items.is_empty() {
            return Err(("desk-no-such-item", String::new()));
        }
        let written = write_export(&self.export_dir, &items, &keys.identities, officer);
        written.map_err(|error| {
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            ("desk-export-failed", chain.join(": "))
        })
    }
}

/// What to lay out of an item the relay holds (queued ones are not there yet).
fn laid(origin: &Origin, item: &super::state::Item) -> Option<Laid> {
    let kind = match origin {
        Origin::Inbox(kind, _) => kind.as_str(),
        Origin::Reply => "reply",
        Origin::Queued | Origin::QueuedCase => return None,
    };
    Some(Laid {
        kind,
        id: item.id.clone(),
        received: item.received.clone(),
        sealed: item.sealed.clone(),
    })
}

/// Lays `items` out in a workbench in `export_dir`, exports the thread of
/// the first into a new folder beside it, removes the workbench.
fn write_export(
    export_dir: &Path,
    items: &[Laid],
    identities: &[Identity],
    officer: String,
) -> Result<PathBuf> {
    fs::create_dir_all(export_dir)
        .with_context(|| format!("cannot create {}", export_dir.display()))?;
    let workbench = tempfile::Builder::new()
        .prefix(".sealtip-desk-export-")
        .tempdir_in(export_dir)
        .with_context(|| format!("cannot write in {}", export_dir.display()))?;
    let mut order = ReceivedOrder::load(workbench.path())?;
    let mut first = None;
    for item in items {
        let name = format!("{}-{}", item.kind, item.id);
        let sealed_path = workbench.path().join(format!("{name}.age"));
        let mut copy = fs::File::create(&sealed_path)?;
        io::copy(&mut item.sealed.reader()?, &mut copy)?;
        copy.sync_all()?;
        order.push(Received {
            id: item.id.clone(),
            kind: item.kind.to_string(),
            received: item.received.clone(),
        });
        // Case items stay sealed: the export merges them itself.
        if item.kind != ItemKind::Case.as_str() {
            let folder = workbench.path().join(&name);
            open_into(&sealed_path, &folder, identities)?;
            first.get_or_insert(folder);
        }
    }
    order.save()?;
    let Some(first) = first else {
        bail!("the thread holds nothing the relay received");
    };
    let out = new_folder(export_dir, &items[0].id);
    export_thread_with_case(&first, &out, &Exporter { officer }, identities)?;
    Ok(out)
}

/// `case-<date>-<first 8 digits of the thread's first id>`, numbered if taken.
fn new_folder(export_dir: &Path, first_id: &str) -> PathBuf {
    let short: String = first_id.chars().take(8).collect();
    let stamp = crate::time::now_rfc3339().replace([':', '-'], "");
    let name = format!("case-{short}-{stamp}");
    let mut out = export_dir.join(&name);
    let mut number = 2;
    while out.exists() {
        out = export_dir.join(format!("{name}-{number}"));
        number += 1;
    }
    out
}
