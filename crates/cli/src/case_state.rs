//! A thread's case state, merged from its proven case items: the one rule
//! `sealtip thread`, `sealtip case` and the desk share (FORMAT.md §7).
//!
//! Each case item is one officer's change. They are merged in the order of
//! (`written`, `officer`, case item id) — the officer's clock, then the
//! officer's name, then the id (the SHA-256 of the sealed file), so every
//! officer's tool puts the same items in the same order:
//!
//! - `status` and `assignee`: the last item in that order that sets the
//!   field wins (last writer wins, per field: an officer who changed only
//!   the status never undoes another's new assignee);
//! - labels: a label is on when the last item that adds or removes it adds
//!   it (per label, so two officers adding different labels at once both
//!   keep theirs);
//! - notes: every note is kept, in that order; none is ever lost;
//! - an item held twice (the relay posting it again) is merged once.
//!
//! The `seen` lists say which items their writers had merged: an id listed
//! there that is not among the items here was dropped on the way (by the
//! relay, or not pulled yet), and is reported. A new item lists the
//! [`CaseState::heads`]: the items no other item lists.
//!
//! Which items are proven (listed by the relay as `case`, sealed as `case`,
//! proven with the thread's case key) is decided before: see
//! `threads::case_items_of`.

use std::collections::{BTreeMap, BTreeSet};

use sealtip_envelope::{CaseChange, CaseStatus};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One proven case item, to merge.
#[derive(Debug, Clone, Copy)]
pub struct CaseItem<'a> {
    /// Its id: [`case_item_id`] of its sealed file.
    pub id: &'a str,
    /// What it changes.
    pub change: &'a CaseChange,
}

/// A value and who set it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Set<T> {
    /// The value.
    pub value: T,
    /// The officer who set it.
    pub officer: String,
    /// When, by that officer's clock.
    pub written: String,
}

/// One internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Who wrote it.
    pub officer: String,
    /// When, by that officer's clock.
    pub written: String,
    /// The note.
    pub text: String,
    /// The case item it came in.
    pub id: String,
}

/// A thread's case state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseState {
    /// Where the case stands, once an officer set it (else it is new).
    pub status: Option<Set<CaseStatus>>,
    /// Who it is assigned to, once an officer set it (`""`: nobody).
    pub assignee: Option<Set<String>>,
    /// Its labels.
    pub labels: BTreeSet<String>,
    /// Every note, in the merge's order.
    pub notes: Vec<Note>,
    /// The ids of the items merged, in the merge's order.
    pub items: Vec<String>,
    /// Ids another officer's item lists as seen that are not here.
    pub missing: Vec<String>,
    /// The items no other item lists as seen: what a new item's `seen`
    /// holds.
    pub heads: Vec<String>,
}

impl CaseState {
    /// Where the case stands: [`CaseStatus::New`] until an officer sets it.
    pub fn status(&self) -> CaseStatus {
        self.status.as_ref().map_or(CaseStatus::New, |s| s.value)
    }

    /// Who it is assigned to; empty for nobody.
    pub fn assignee(&self) -> &str {
        self.assignee.as_ref().map_or("", |s| s.value.as_str())
    }
}

/// A case item's id: the lowercase hex SHA-256 of its sealed file, the
/// same for every officer and out of the relay's reach.
pub fn case_item_id(sealed: &[u8]) -> String {
    hex::encode(Sha256::digest(sealed))
}

/// Merges `items` by the rule above.
pub fn merge(items: &[CaseItem<'_>]) -> CaseState {
    let mut items: Vec<CaseItem<'_>> = items.to_vec();
    items.sort_by(|a, b| {
        (&a.change.written, &a.change.officer, a.id).cmp(&(
            &b.change.written,
            &b.change.officer,
            b.id,
        ))
    });
    items.dedup_by(|a, b| a.id == b.id);
    let mut state = CaseState::default();
    let mut labels: BTreeMap<&str, bool> = BTreeMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for item in &items {
        let change = item.change;
        if let Some(status) = change.status {
            state.status = Some(set_by(change, status));
        }
        if let Some(assignee) = &change.assignee {
            state.assignee = Some(set_by(change, assignee.clone()));
        }
        for label in &change.labels_added {
            labels.insert(label, true);
        }
        for label in &change.labels_removed {
            labels.insert(label, false);
        }
        if let Some(note) = &change.note {
            state.notes.push(Note {
                officer: change.officer.clone(),
                written: change.written.clone(),
                text: note.clone(),
                id: item.id.to_string(),
            });
        }
        seen.extend(change.seen.iter().map(String::as_str));
        state.items.push(item.id.to_string());
    }
    state.labels = labels
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(label, _)| label.to_string())
        .collect();
    let held: BTreeSet<&str> = items.iter().map(|item| item.id).collect();
    state.missing = seen.difference(&held).map(|id| id.to_string()).collect();
    state.heads = held.difference(&seen).map(|id| id.to_string()).collect();
    state
}

/// `value`, set by `change`'s officer at its time.
fn set_by<T>(change: &CaseChange, value: T) -> Set<T> {
    Set {
        value,
        officer: change.officer.clone(),
        written: change.written.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn change(officer: &str, written: &str) -> CaseChange {
        CaseChange {
            officer: officer.into(),
            written: format!("2026-12-07T05:{written}Z"),
            ..CaseChange::default()
        }
    }

    fn merged(items: &[(&str, &CaseChange)]) -> CaseState {
        let items: Vec<CaseItem<'_>> = items
            .iter()
            .map(|(id, change)| CaseItem { id, change })
            .collect();
        merge(&items)
    }

    #[test]
    fn each_field_goes_to_its_last_writer_and_no_note_is_lost() {
        let mut ana = change("Ana", "10:00");
        ana.status = Some(CaseStatus::InProgress);
        ana.note = Some("Called the shelter.".into());
        ana.labels_added = vec!["port".into()];
        let mut ben = change("Ben", "10:00");
        ben.assignee = Some("Ben".into());
        ben.note = Some("I take it.".into());
        ben.labels_added = vec!["urgent".into()];
        let mut later = change("Ana", "12:00");
        later.status = Some(CaseStatus::PassedOn);
        // Any order in, one order out.
        for items in [
            [("a", &ana), ("b", &ben), ("c", &later)],
            [("c", &later), ("b", &ben), ("a", &ana)],
        ] {
            let state = merged(&items);
            assert_eq!(state.status(), CaseStatus::PassedOn);
            assert_eq!(state.status.as_ref().unwrap().written, later.written);
            assert_eq!(state.assignee(), "Ben", "a status change leaves it");
            assert_eq!(
                state.labels,
                BTreeSet::from(["port".to_string(), "urgent".to_string()])
            );
            let notes: Vec<&str> = state.notes.iter().map(|n| n.text.as_str()).collect();
            assert_eq!(
                notes,
                ["Called the shelter.", "I take it."],
                "Ana before Ben"
            );
            assert_eq!(state.items, ["a", "b", "c"]);
        }
    }

    #[test]
    fn at_the_same_second_the_officer_then_the_id_decide() {
        let mut zed = change("Zed", "10:00");
        zed.status = Some(CaseStatus::Closed);
        let mut amy = change("Amy", "10:00");
        amy.status = Some(CaseStatus::InProgress);
        assert_eq!(
            merged(&[("1", &zed), ("2", &amy)]).status(),
            CaseStatus::Closed
        );
        let mut other = change("Zed", "10:00");
        other.status = Some(CaseStatus::New);
        assert_eq!(
            merged(&[("b", &zed), ("a", &other)]).status(),
            CaseStatus::Closed,
            "the larger id is the later"
        );
    }

    #[test]
    fn a_label_follows_the_last_add_or_remove_of_it() {
        let mut add = change("Ana", "10:00");
        add.labels_added = vec!["urgent".into(), "port".into()];
        let mut remove = change("Ben", "11:00");
        remove.labels_removed = vec!["urgent".into()];
        let mut again = change("Ana", "12:00");
        again.labels_added = vec!["urgent".into()];
        let state = merged(&[("a", &add), ("b", &remove)]);
        assert_eq!(state.labels, BTreeSet::from(["port".to_string()]));
        let state = merged(&[("a", &add), ("b", &remove), ("c", &again)]);
        assert_eq!(state.labels.len(), 2);
    }

    #[test]
    fn an_item_held_twice_counts_once_and_a_seen_item_missing_is_told() {
        let mut first = change("Ana", "10:00");
        first.note = Some("once".into());
        let mut second = change("Ben", "11:00");
        second.seen = vec!["first".into(), "dropped".into()];
        let state = merged(&[("first", &first), ("first", &first), ("second", &second)]);
        assert_eq!(state.notes.len(), 1);
        assert_eq!(state.missing, ["dropped"]);
        assert_eq!(state.heads, ["second"]);
        assert_eq!(merged(&[]), CaseState::default());
        assert_eq!(CaseState::default().status(), CaseStatus::New);
    }

    #[test]
    fn an_id_is_the_sealed_files_sha256() {
        assert_eq!(
            case_item_id(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
