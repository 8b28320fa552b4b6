//! The `case` object of a case item's `tip.json`: one officer's change to a
//! thread's case state (status, assigned officer, labels, a note), sealed to
//! the officers only and never to the tipster.
//!
//! A case item says what changed, not the whole state: every officer's tool
//! merges all the case items of a thread by one rule (the CLI's
//! `case_state` module), so two officers writing at once lose nothing.

use serde::{Deserialize, Serialize};

/// The most characters of an officer's name, an assignee or a label.
pub const MAX_NAME_CHARS: usize = 100;
/// The most characters of one note.
pub const MAX_NOTE_CHARS: usize = 20_000;
/// The most labels one case item adds and removes together.
pub const MAX_LABEL_CHANGES: usize = 100;
/// The most ids in `seen`.
pub const MAX_SEEN: usize = 1_000;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Nobody has looked at it yet.
    New,
    /// An officer is working on it.
    InProgress,
    /// Handed to another agency, a prosecutor, a shelter.
    PassedOn,
    /// Nothing more to do.
    Closed,
}

impl CaseStatus {
    /// Its name in `tip.json` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::PassedOn => "passed_on",
            CaseStatus::Closed => "closed",
        }
    }

    /// Every status, in the order a case usually goes through them.
    pub const ALL: [CaseStatus; 4] = [
        CaseStatus::New,
        CaseStatus::InProgress,
        CaseStatus::PassedOn,
        CaseStatus::Closed,
    ];

    /// The status named `name` (`new`, `in_progress`, `passed_on`, `closed`).
    pub fn parse(name: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One officer's change to a thread's case state. Fields left out are not
/// changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseChange {
    /// Who wrote it: the officer's name (1 to 100 characters).
    pub officer: String,
    /// When, by the officer's clock: RFC 3339 in UTC to the second
    /// (`2026-12-07T05:10:00Z`). Inside the sealed file, so the relay never
    /// sees it.
    pub written: String,
    /// The case's new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    /// The officer the case is now assigned to (`""`: nobody).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Labels added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels_added: Vec<String>,
    /// Labels removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels_removed: Vec<String>,
    /// An internal note, appended to the case's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The ids (lowercase hex SHA-256 of the sealed file) of the thread's
    /// case items the writer had merged that no other merged item lists:
    /// each item lists its own, so together they name every item the writer
    /// saw, and one that is missing locally was dropped on the way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

impl CaseChange {
    /// Whether it changes nothing (no status, assignee, label or note).
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.assignee.is_none()
            && self.labels_added.is_empty()
            && self.labels_removed.is_empty()
            && self.note.is_none()
    }

    /// Why it breaks the schema's rules, if it does.
    pub fn problem(&self) -> Option<&'static str> {
        let name_ok = |s: &str| s.chars().count() <= MAX_NAME_CHARS;
        let labels = self.labels_added.iter().chain(&self.labels_removed);
        if self.officer.trim().is_empty() || !name_ok(&self.officer) {
            return Some("case officer must be 1 to 100 characters");
        }
        if !is_utc_second(&self.written) {
            return Some("case written must be RFC 3339 UTC to the second");
        }
        if self.assignee.as_deref().is_some_and(|a| !name_ok(a)) {
            return Some("case assignee is over 100 characters");
        }
        if self.labels_added.len() + self.labels_removed.len() > MAX_LABEL_CHANGES {
            return Some("case changes over 100 labels");
        }
        if labels
            .clone()
            .any(|l| l.trim().is_empty() || !name_ok(l) || l.trim() != l)
        {
            return Some("case labels must be 1 to 100 characters, trimmed");
        }
        if self
            .note
            .as_deref()
            .is_some_and(|n| n.trim().is_empty() || n.chars().count() > MAX_NOTE_CHARS)
        {
            return Some("case note must be 1 to 20,000 characters");
        }
        if self.seen.len() > MAX_SEEN || !self.seen.iter().all(|id| is_item_id(id)) {
            return Some("case seen must be at most 1,000 ids of 64 lowercase hex digits");
        }
        None
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_utc_second(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    b.len() == 20
        && digits.iter().all(|&i| b[i].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
}

/// 64 lowercase hex digits: a case item's id.
pub fn is_item_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> CaseChange {
        CaseChange {
            officer: "Ana".into(),
            written: "2026-12-07T05:10:00Z".into(),
            ..CaseChange::default()
        }
    }

    #[test]
    fn a_change_follows_the_rules_or_says_which_it_breaks() {
        assert_eq!(change().problem(), None);
        assert!(change().is_empty());
        let mut bad = change();
        bad.written = "2026-12-07T05:10:00+01:00".into();
        assert!(bad.problem().is_some());
        let mut bad = change();
        bad.assignee = Some("x".repeat(101));
        assert!(bad.problem().is_some());
        let mut bad = change();
        bad.labels_added = vec![" urgent".into()];
        assert!(bad.problem().is_some());
        let mut bad = change();
        bad.seen = vec!["ab".into()];
        assert!(bad.problem().is_some());
        let mut bad = change();
        bad.officer = String::new();
        assert!(bad.problem().is_some());
    }

    #[test]
    fn statuses_have_their_wire_names() {
        for status in CaseStatus::ALL {
            let json = serde_json::to_string(&status).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(CaseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CaseStatus::parse("open"), None);
    }
}
