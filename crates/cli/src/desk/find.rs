//! Find and filter in the inbox: a search over the text of opened tips,
//! follow-ups and their thread's case notes, and filters by status, label
//! and assigned officer. All in memory, in this process: no index is
//! written and nothing leaves the machine.

use serde::Deserialize;

use sealtip_envelope::CaseStatus;

use super::case::CaseView;
use super::state::Item;

/// The inbox's `?q=&status=&label=&officer=`.
#[derive(Deserialize, Default, Debug)]
pub struct Find {
    /// Words to find (every one, in any case).
    #[serde(default)]
    pub q: String,
    /// A status's name (`new`, `in_progress`, …), or empty for any.
    #[serde(default)]
    pub status: String,
    /// A label, or empty for any.
    #[serde(default)]
    pub label: String,
    /// The assigned officer, or empty for any.
    #[serde(default)]
    pub officer: String,
}

impl Find {
    /// Whether it narrows the inbox at all.
    pub fn is_active(&self) -> bool {
        !(self.q.trim().is_empty()
            && self.status.is_empty()
            && self.label.is_empty()
            && self.officer.is_empty())
    }

    /// Whether `item`, whose thread's case state is `case`, is shown.
    pub fn matches(&self, item: &Item, case: Option<&CaseView>) -> bool {
        let status = case.map_or(CaseStatus::New, CaseView::status);
        if !self.status.is_empty() && self.status != status.as_str() {
            return false;
        }
        let labelled = case.is_some_and(|case| case.labels().contains(&self.label));
        if !self.label.is_empty() && !labelled {
            return false;
        }
        let assigned = case.is_some_and(|case| case.assignee() == self.officer);
        if !self.officer.is_empty() && !assigned {
            return false;
        }
        let words: Vec<String> = self.q.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return true;
        }
        let text = searched_text(item, case);
        words.iter().all(|word| text.contains(word.as_str()))
    }
}

/// What the search reads of an item, in lower case: its text and answers,
/// and its thread's notes.
fn searched_text(item: &Item, case: Option<&CaseView>) -> String {
    let mut text = String::new();
    if let Some(tip) = item.tip() {
        text.push_str(&tip.text);
        for answer in &tip.answers {
            text.push('\n');
            text.push_str(&answer.label);
            text.push('\n');
            text.push_str(&answer.value);
        }
    }
    for note in case.map(CaseView::notes).unwrap_or_default() {
        text.push('\n');
        text.push_str(&note.text);
    }
    text.to_lowercase()
}
