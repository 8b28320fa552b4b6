//! The thread's case state in an export, with the officer's identities: the
//! pulled case items beside the opened ones (`case-<id>.age`) merged by the
//! rule `sealtip thread` and `sealtip case` use ([`crate::commands::case`]),
//! and the sealed case items merged copied into `sealed/`, where each one's
//! SHA-256 is its case item id in the state.

use std::path::Path;

use anyhow::Result;
use sealtip_envelope::Identity;

use super::copy::{SEALED_DIR, copy_file};
use crate::case_state::CaseState;
use crate::commands::case::{case_states, read_case_items};
use crate::commands::thread::Item;
use crate::desk::attachments::download_name;
use crate::threads::Thread;

/// A thread's merged case state and the case items it was merged from.
pub struct CaseExport {
    /// The merged state.
    pub state: CaseState,
    /// The relay ids of the case items merged (`case-<relay id>.age`).
    pub relay_ids: Vec<String>,
}

/// The case state of `thread` from the case items in `source` that open
/// with `identities`; `None` without identities or for a thread that is not
/// a verified conversation.
pub fn case_of(
    source: &Path,
    thread: &Thread<Item>,
    identities: &[Identity],
) -> Result<Option<CaseExport>> {
    if identities.is_empty() || thread.mailbox.is_none() {
        return Ok(None);
    }
    let files = read_case_items(source, identities)?;
    let ids: Vec<(String, String)> = files
        .held
        .iter()
        .map(|held| (held.id.clone(), held.relay_id.clone()))
        .collect();
    let (mut states, _refused) = case_states(std::slice::from_ref(thread), files.held);
    let Some(state) = states.pop() else {
        return Ok(None);
    };
    let relay_ids = ids
        .into_iter()
        .filter(|(id, _)| state.items.contains(id))
        .map(|(_, relay_id)| relay_id)
        .collect();
    Ok(Some(CaseExport { state, relay_ids }))
}

/// Copies the sealed case items of `export` from `source` into the case
/// folder's `sealed/`.
pub fn copy_case_items(source: &Path, case: &Path, export: &CaseExport) -> Result<()> {
    let dir = case.join(SEALED_DIR);
    if !export.relay_ids.is_empty() && !dir.exists() {
        std::fs::create_dir(&dir)?;
    }
    for relay_id in &export.relay_ids {
        let name = format!("case-{relay_id}.age");
        copy_file(&source.join(&name), &dir.join(download_name(&name)))?;
    }
    Ok(())
}
