//! A thread's case state at the desk: the case items the desk holds for a
//! verified thread (posted, or queued for the next round), which of them
//! are proven, their merge, and the change an officer's form asks for.
//!
//! A case item counts only when the relay lists it as a case item (or it
//! is ours, queued), it is sealed as one, it names the thread's mailbox and
//! its `tip.mac` is the thread's case proof: `threads::case_items_of`
//! decides. Any other item naming the thread as a case item is refused and
//! counted, never merged. Merging is `crate::case_state`'s (FORMAT.md §7).

use std::collections::{BTreeMap, BTreeSet};

use crate::case_state::{CaseItem, CaseState, Note, merge};
use crate::threads::{Thread, case_items_of};
use sealtip_envelope::{CaseChange, CaseStatus, OpenedTip};

use super::state::{Item, Origin, State};

/// A thread's merged case state (`crate::case_state`, the one rule), and
/// what the desk found beside it.
#[derive(Default)]
pub struct CaseView {
    /// The merge of the proven case items.
    pub state: CaseState,
    /// Items that name this thread as case items but are not proven.
    pub refused: usize,
    /// The ids of the case items sealed here and waiting for the next round.
    pub queued: BTreeSet<String>,
}

impl CaseView {
    /// Where it stands, `New` when nobody set it.
    pub fn status(&self) -> CaseStatus {
        self.state.status()
    }

    /// Who it is assigned to; empty for nobody.
    pub fn assignee(&self) -> &str {
        self.state.assignee()
    }

    /// Its labels.
    pub fn labels(&self) -> &BTreeSet<String> {
        &self.state.labels
    }

    /// Its notes, in the merge's order.
    pub fn notes(&self) -> &[Note] {
        &self.state.notes
    }
}

/// The case state of `thread`, from the case items `state` holds.
pub fn case_of<T>(state: &State, thread: &Thread<T>) -> CaseView {
    let Some(mailbox) = &thread.mailbox else {
        return CaseView::default();
    };
    // Which case items are proven in the thread is the threads module's rule.
    let held: Vec<(&Item, &OpenedTip)> = state
        .items
        .values()
        .filter(|item| item.origin.is_case())
        .filter_map(|item| Some((item, item.opened.as_ref().ok()?)))
        .filter(|(_, opened)| opened.tip.thread.as_deref() == Some(mailbox.as_str()))
        .collect();
    let sorted = case_items_of(
        std::slice::from_ref(thread),
        held,
        |(_, opened)| opened.view(),
        |(item, _)| item.origin.is_case(),
    );
    let mut view = CaseView {
        refused: sorted.refused.len(),
        ..CaseView::default()
    };
    let mut proven: Vec<(String, &CaseChange)> = Vec::new();
    for (item, opened) in sorted.by_thread.into_iter().flatten() {
        match (state.case_ids.get(&item.id), &opened.tip.case) {
            (Some(id), Some(change)) => {
                let id = id.clone();
                if item.origin == Origin::QueuedCase {
                    view.queued.insert(id.clone());
                }
                proven.push((id, change));
            }
            _ => view.refused += 1,
        }
    }
    let items: Vec<CaseItem<'_>> = proven
        .iter()
        .map(|(id, change)| CaseItem { id, change })
        .collect();
    view.state = merge(&items);
    view
}

/// What the officer's case form sent.
#[derive(serde::Deserialize, Default)]
pub struct CaseForm {
    /// `new`, `in_progress`, `passed_on` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// Who it is assigned to (empty: nobody).
    #[serde(default)]
    pub assignee: Option<String>,
    /// A label to add.
    #[serde(default)]
    pub label: String,
    /// A label to remove (a label's own "remove" button).
    #[serde(default)]
    pub remove: String,
    /// A note to add.
    #[serde(default)]
    pub note: String,
}

/// The change `form` asks for against the current state `now`: only what
/// differs from what the officer saw, so two officers writing at once
/// change only what each changed. A message key when it is no change or
/// breaks the format's rules.
pub fn change_of(
    form: &CaseForm,
    now: &CaseView,
    officer: &str,
    written: String,
) -> Result<CaseChange, &'static str> {
    let mut change = CaseChange {
        officer: officer.to_string(),
        written,
        seen: now.state.heads.clone(),
        ..CaseChange::default()
    };
    if let Some(status) = &form.status {
        let status = CaseStatus::parse(status).ok_or("desk-case-bad")?;
        if status != now.status() {
            change.status = Some(status);
        }
    }
    if let Some(assignee) = form.assignee.as_deref().map(str::trim)
        && assignee != now.assignee()
    {
        change.assignee = Some(assignee.to_string());
    }
    let label = form.label.trim();
    if !label.is_empty() && !now.labels().contains(label) {
        change.labels_added.push(label.to_string());
    }
    let remove = form.remove.trim();
    if !remove.is_empty() && now.labels().contains(remove) {
        change.labels_removed.push(remove.to_string());
    }
    if !form.note.trim().is_empty() {
        change.note = Some(form.note.trim().to_string());
    }
    if change.is_empty() {
        return Err("desk-case-no-change");
    }
    match change.problem() {
        Some(_) => Err("desk-case-bad"),
        None => Ok(change),
    }
}

/// How many case items the desk holds that count in no thread: they do
/// not open with the desk's keys, or are proven in none of `threads`.
pub fn stray_cases<U>(state: &State, threads: &[Thread<U>]) -> usize {
    let cases = state.items.values().filter(|item| item.origin.is_case());
    let (opened, unreadable): (Vec<&Item>, Vec<&Item>) =
        cases.partition(|item| item.opened.is_ok());
    let opened: Vec<&OpenedTip> = opened
        .into_iter()
        .filter_map(|item| item.opened.as_ref().ok())
        .collect();
    let sorted = case_items_of(threads, opened, |opened| opened.view(), |_| true);
    unreadable.len() + sorted.refused.len()
}

/// The case state of each verified thread, by the id of each of its items.
pub fn cases_by_item<'a>(
    state: &'a State,
    threads: &[Thread<(&'a Item, &'a OpenedTip)>],
) -> BTreeMap<&'a str, std::rc::Rc<CaseView>> {
    let mut by_item = BTreeMap::new();
    for thread in threads {
        let view = std::rc::Rc::new(case_of(state, thread));
        for entry in &thread.items {
            by_item.insert(entry.item.0.id.as_str(), view.clone());
        }
    }
    by_item
}
