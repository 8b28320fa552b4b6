//! `tip.json`, schema version 2 (version 1 is still read): what a tip says,
//! in a form programs read.

use serde::{Deserialize, Serialize};

/// The value of `format` in every `tip.json`.
pub const TIP_FORMAT: &str = "sealtip-tip";
/// The schema version this crate writes.
pub const TIP_VERSION: u32 = 2;
/// The oldest schema version this crate reads (its threads are unverified).
pub const TIP_VERSION_OLDEST: u32 = 1;

/// A tip, a tipster's follow-up message, or an agency's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    /// Always [`TIP_FORMAT`].
    pub format: String,
    /// Always [`TIP_VERSION`] for this schema.
    pub version: u32,
    /// What this bundle is.
    pub kind: Kind,
    /// The agency id the tip is for (or the reply is from).
    pub agency: String,
    /// The id of the agency's form that was filled in (empty if none).
    pub form: String,
    /// The language the tipster wrote in (BCP 47, e.g. `es`).
    pub language: String,
    /// The day it was written, `YYYY-MM-DD` (no time, on purpose).
    pub date: String,
    /// Answers to the form's questions, in form order.
    pub answers: Vec<Answer>,
    /// The free text: "What happened?".
    pub text: String,
    /// The attached files, in archive order.
    pub attachments: Vec<Attachment>,
    /// In a tip: where replies go, if the tipster wants replies.
    pub reply: Option<ReplyTo>,
    /// In a follow-up or a reply: the mailbox id of the thread it belongs
    /// to (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// In an agency's reply: the agency keys the tipster seals follow-ups
    /// to, so a returning tipster keeps the keys it first sealed to
    /// (schema 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agency_keys: Vec<String>,
    /// In a case item: the officer's change to the thread's case state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<super::CaseChange>,
}

/// What a bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A new tip.
    Tip,
    /// A tipster's follow-up to an earlier tip.
    Message,
    /// An agency's reply to a tipster.
    Reply,
    /// An officer's change to a thread's case state, sealed to the
    /// officers only.
    Case,
}

impl Kind {
    /// Its name in `tip.json`, which is also the relay's kind for it:
    /// `tip`, `message`, `reply` or `case`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tip => "tip",
            Kind::Message => "message",
            Kind::Reply => "reply",
            Kind::Case => "case",
        }
    }
}

/// One answered question of the agency's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The question's id in the agency's form.
    pub id: String,
    /// The question as the tipster saw it.
    pub label: String,
    /// The answer.
    pub value: String,
}

/// One attached file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Its path in the archive: `attachments/NN.ext` (schema 1:
    /// `attachments/NN-name.ext`).
    pub path: String,
    /// The file name the tipster's device gave, if the tipster kept it;
    /// empty when it was removed (it is listed in `removed` then).
    pub name: String,
    /// Its media type, e.g. `image/jpeg`.
    pub media_type: String,
    /// Its size in bytes, as stored.
    pub size: u64,
    /// Lowercase hex SHA-256 of its bytes, as stored.
    pub sha256: String,
    /// Whether its metadata was removed.
    pub metadata: MetadataStatus,
    /// What was removed, in words (e.g. "location", "camera model").
    #[serde(default)]
    pub removed: Vec<String>,
}

/// What happened to an attachment's metadata before sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataStatus {
    /// Metadata was looked for and removed (`removed` says what).
    Removed,
    /// The tipster chose to keep the original file.
    Kept,
    /// A file type whose metadata sealtip does not check.
    NotChecked,
}

/// How the agency can reply without learning who the tipster is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyTo {
    /// The tipster's reply recipient, `age1pq1…` (schema 1: `age1…`).
    pub recipient: String,
    /// The mailbox id on the relay, 32 lowercase hex digits.
    pub mailbox: String,
    /// The thread key, 64 lowercase hex digits (schema 2; see
    /// [`crate::proof`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_key: Option<String>,
}

impl ReplyTo {
    /// The reply details a codename derives, for a new tip.
    pub fn from_keys(keys: &crate::codename::ReplyKeys) -> Self {
        ReplyTo {
            recipient: keys.recipient().to_string(),
            mailbox: keys.mailbox.clone(),
            thread_key: Some(keys.thread_key.to_hex().to_string()),
        }
    }
}

impl Tip {
    /// A tip with the schema fields set and everything else empty.
    pub fn new(kind: Kind, agency: &str, date: &str) -> Self {
        Tip {
            format: TIP_FORMAT.into(),
            version: TIP_VERSION,
            kind,
            agency: agency.into(),
            form: String::new(),
            language: String::new(),
            date: date.into(),
            answers: Vec::new(),
            text: String::new(),
            attachments: Vec::new(),
            reply: None,
            thread: None,
            agency_keys: Vec::new(),
            case: None,
        }
    }

    /// The mailbox of the thread this item claims: a tip's reply mailbox,
    /// or a follow-up's or reply's `thread`.
    pub fn claimed_mailbox(&self) -> Option<&str> {
        match (&self.reply, &self.thread) {
            (Some(reply), _) => Some(&reply.mailbox),
            (None, Some(thread)) => Some(thread),
            (None, None) => None,
        }
    }

    /// The tip as a person reads it: `tip.txt`.
    pub fn to_text(&self) -> String {
        let title = match self.kind {
            Kind::Tip => "Tip",
            Kind::Message => "Follow-up message from the tipster",
            Kind::Reply => "Reply from the agency",
            Kind::Case => "Case state, for the officers only",
        };
        let mut out = format!("{title}\n");
        if !self.agency.is_empty() {
            out.push_str(&format!("Agency: {}\n", self.agency));
        }
        if !self.form.is_empty() {
            out.push_str(&format!("Form: {}\n", self.form));
        }
        out.push_str(&format!("Date: {}\n", self.date));
        if !self.language.is_empty() {
            out.push_str(&format!("Language: {}\n", self.language));
        }
        for answer in &self.answers {
            out.push_str(&format!("\n{}\n{}\n", answer.label, answer.value));
        }
        if !self.text.is_empty() {
            out.push_str(&format!("\nWhat happened?\n{}\n", self.text));
        }
        if !self.attachments.is_empty() {
            out.push_str("\nAttachments:\n");
            for a in &self.attachments {
                let metadata = match a.metadata {
                    MetadataStatus::Removed if a.removed.is_empty() => {
                        "no metadata found".to_string()
                    }
                    MetadataStatus::Removed => format!("removed: {}", a.removed.join(", ")),
                    MetadataStatus::Kept => "metadata kept by the tipster".to_string(),
                    MetadataStatus::NotChecked => "metadata not checked".to_string(),
                };
                let name = if a.name.is_empty() {
                    String::new()
                } else {
                    format!(" \"{}\"", a.name)
                };
                out.push_str(&format!(
                    "- {}{name} ({}, {} bytes; {metadata})\n  sha256 {}\n",
                    a.path, a.media_type, a.size, a.sha256
                ));
            }
        }
        if let Some(case) = &self.case {
            out.push_str(&case_text(case));
        }
        out.push_str(match self.reply {
            Some(_) => "\nThe tipster can receive replies (sealtip reply).\n",
            None if self.kind != Kind::Tip => "",
            None => "\nThe tipster did not ask for replies.\n",
        });
        out
    }
}

/// A case change as a person reads it, in `tip.txt`.
fn case_text(case: &super::CaseChange) -> String {
    let mut out = format!("\nOfficer: {}\nWritten: {}\n", case.officer, case.written);
    if let Some(status) = case.status {
        out.push_str(&format!("Status: {}\n", status.as_str()));
    }
    match case.assignee.as_deref() {
        Some("") => out.push_str("Assigned to: nobody\n"),
        Some(name) => out.push_str(&format!("Assigned to: {name}\n")),
        None => {}
    }
    if !case.labels_added.is_empty() {
        out.push_str(&format!("Labels added: {}\n", case.labels_added.join(", ")));
    }
    if !case.labels_removed.is_empty() {
        out.push_str(&format!(
            "Labels removed: {}\n",
            case.labels_removed.join(", ")
        ));
    }
    if let Some(note) = &case.note {
        out.push_str(&format!("\nNote:\n{note}\n"));
    }
    out
}

/// A tip's bundle entries as they open: `tip.json` parsed and as exact
/// bytes, its proof and `tip.txt`. What [`crate::open_tip`] gives, and what
/// sealing gives back (byte for byte what opening will give), so a copy
/// kept by the sender proves the same.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedTip {
    /// `tip.json`.
    pub tip: Tip,
    /// `tip.txt`, if present.
    pub text: Option<String>,
    /// The exact bytes of `tip.json`, which its proof covers.
    pub json: Vec<u8>,
    /// `tip.mac`, the thread proof, if present (checked by
    /// [`crate::thread`], which knows the thread key).
    pub mac: Option<[u8; 32]>,
}

impl OpenedTip {
    /// What the thread rules read of it.
    pub fn view(&self) -> crate::thread::ItemView<'_> {
        crate::thread::ItemView {
            tip: &self.tip,
            json: &self.json,
            mac: self.mac.as_ref(),
        }
    }
}
