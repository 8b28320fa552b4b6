//! The JSON bodies of the relay's routes.
//!
//! Field names are the wire names (`snake_case`). Unknown fields are ignored
//! when reading, so a newer relay can add fields without breaking older
//! clients. Times are RFC 3339 strings in UTC at hour precision
//! (`2026-11-29T14:00:00Z`): the relay stores no finer time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text in several languages, keyed by BCP 47 language tag (`en`, `fr`, `pt-BR`).
pub type Localized = BTreeMap<String, String>;

/// `GET /api/v1/agencies`: the agencies this relay serves, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agencies {
    /// The agency the page at `/` shows, if the relay names one.
    pub default: Option<String>,
    /// Every agency, sorted by id.
    pub agencies: Vec<AgencySummary>,
}

/// One agency in [`Agencies`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencySummary {
    /// The agency's id, as in `/a/{id}`.
    pub id: String,
    /// Its name, as the agency writes it.
    pub name: String,
}

/// `GET /api/v1/agencies/{id}`: what the page needs to show an agency's form
/// and seal a tip to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyProfile {
    /// The agency id, as in the URL.
    pub id: String,
    /// The agency's display name.
    pub name: String,
    /// The agency's age X25519 recipients (`age1…`): seal every tip to all of them.
    pub recipients: Vec<String>,
    /// Languages the form is written in, the first being the default.
    pub languages: Vec<String>,
    /// The tip form.
    pub form: Form,
    /// What to do in an emergency (e.g. "call 112"), per language.
    pub emergency: Localized,
    /// Where the quick-exit button sends the tipster (an `https://` URL).
    pub exit_url: String,
    /// Origins allowed to show the form in a frame (`https://news.example`),
    /// as the relay's `frame-ancestors` lists them; the embedded page checks
    /// its parent against them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_origins: Vec<String>,
    /// The proof-of-work difficulty of this relay's challenges when calm, in
    /// bits of work (`2^pow_difficulty` expected attempts); it rises with load.
    pub pow_difficulty: u8,
    /// The largest sealed tip or message the relay accepts, in bytes.
    pub max_upload_bytes: u64,
}

/// The id of the free "What happened?" box. A profile question with this id
/// and kind `long_text` is that box, with the agency's label; a form without
/// one gets the page's own, required, before its questions.
pub const WHAT_HAPPENED: &str = "what";

impl AgencyProfile {
    /// Whether the agency's form has its own "What happened?" box.
    pub fn has_what_question(&self) -> bool {
        self.form
            .questions
            .iter()
            .any(|q| q.id == WHAT_HAPPENED && q.kind == QuestionKind::LongText)
    }
}

/// A tip form: the questions asked, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// The form id, recorded in each tip so the agency knows which form was answered.
    pub id: String,
    /// The questions, in display order.
    pub questions: Vec<Question>,
}

/// One question of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id of the question, unique within the form (`[a-z0-9_-]`).
    pub id: String,
    /// What kind of answer it takes.
    pub kind: QuestionKind,
    /// The question, per language.
    pub label: Localized,
    /// A hint shown under the question, per language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub help: Localized,
    /// Whether the tip cannot be sent without an answer.
    #[serde(default)]
    pub required: bool,
    /// The options of a `choice` question, in display order; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

/// The kinds of question a form can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One line of text.
    Text,
    /// Free text over several lines.
    LongText,
    /// One of the question's `choices`.
    Choice,
    /// A calendar date (day precision).
    Date,
    /// A place, typed by the tipster (the page never asks for the device's location).
    Place,
}

/// One option of a `choice` question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Stable id of the option, unique within the question.
    pub id: String,
    /// The option, per language.
    pub label: Localized,
}

/// `POST /api/v1/challenges`: what the challenge is for. Both fields are
/// optional; a challenge asked without them is good for any agency and
/// size, and costs what the busiest agency's largest upload costs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The agency the proof will be spent on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The bytes the tipster intends to send (the sealed file's size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// `POST /api/v1/challenges`: a proof-of-work challenge to solve before an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The signed challenge token (unpadded base64url), to hash and to send back.
    pub challenge: String,
    /// The work in bits, rounded up: `2^difficulty` is at least `work`.
    pub difficulty: u8,
    /// Expected attempts (also inside the token, which is what counts).
    #[serde(default)]
    pub work: u32,
    /// Seconds until the challenge expires (the exact expiry is inside the token).
    pub expires_in: u64,
}

/// `201 Created` after an upload: the stored item's random opaque id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// 32 lowercase hex digits (128 random bits).
    pub id: String,
}

/// `GET /api/v1/agencies/{id}/inbox`: the agency's stored items, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    /// The items.
    pub items: Vec<InboxItem>,
    /// Days the relay keeps this agency's items and replies, counted from
    /// the hour each was received (`received`); past it, the relay deletes
    /// them. Absent when the agency keeps them until deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u64>,
}

/// One sealed item in an agency's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    /// 32 lowercase hex digits.
    pub id: String,
    /// A tip, a follow-up message or a case item.
    pub kind: ItemKind,
    /// Size of the sealed bytes.
    pub size: u64,
    /// When the relay received it, at hour precision.
    pub received: String,
}

/// What an inbox item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A sealed tip (`POST …/tips`).
    Tip,
    /// A tipster's sealed follow-up (`POST …/messages`).
    Message,
    /// An officer's case item: a thread's case state, sealed to the
    /// officers (`POST …/case-items`, with the agency's token). Never in an
    /// upload session.
    Case,
}

/// The largest case item the relay takes, in bytes (256 KiB): one padded
/// bundle of a few lines.
pub const CASE_ITEM_MAX_BYTES: u64 = 256 * 1024;

/// `1.2 MiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

impl ItemKind {
    /// The wire name: `tip`, `message` or `case`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Tip => "tip",
            ItemKind::Message => "message",
            ItemKind::Case => "case",
        }
    }
}

/// `GET /api/v1/agencies/{id}/mailboxes/{mailbox}`: the agency's sealed replies
/// to one tipster, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// The replies.
    pub replies: Vec<Reply>,
}

/// One sealed reply in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Size of the sealed bytes.
    pub size: u64,
    /// When the relay received it, at hour precision.
    pub received: String,
}

/// The body of every error answer: one line saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The reason, one line of English.
    pub error: String,
    /// Only on a `409` from an upload session: the bytes the relay holds,
    /// where the client resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<u64>,
}

/// The request header naming where a part of an upload session starts in
/// the sealed file, in bytes (decimal).
pub const UPLOAD_OFFSET_HEADER: &str = "upload-offset";

/// The largest part an upload session takes in one request (16 MiB).
pub const PART_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// `POST /api/v1/agencies/{id}/uploads`: what the session will become.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRequest {
    /// A tip or a follow-up message.
    pub kind: ItemKind,
}

/// `201 Created` for a new upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    /// The session id, 32 lowercase hex digits (128 random bits): the only
    /// credential for the session, so keep it as secret as the tip.
    pub upload: String,
    /// The largest sealed file the session may grow to, in bytes.
    pub max_bytes: u64,
    /// The largest part one request may carry, in bytes.
    pub part_max_bytes: u64,
    /// Seconds the session lives after its last part (at least).
    pub expires_in: u64,
}

/// How many bytes of the sealed file an upload session durably holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    /// Bytes received; the next part starts at this offset.
    pub received: u64,
}

/// Whether `id` is an item, reply or mailbox id as the relay writes them:
/// exactly 32 lowercase hex digits.
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_kinds_use_their_wire_names() {
        let kinds = [
            (QuestionKind::Text, "\"text\""),
            (QuestionKind::LongText, "\"long_text\""),
            (QuestionKind::Choice, "\"choice\""),
            (QuestionKind::Date, "\"date\""),
            (QuestionKind::Place, "\"place\""),
        ];
        for (kind, wire) in kinds {
            assert_eq!(serde_json::to_string(&kind).unwrap(), wire);
            assert_eq!(serde_json::from_str::<QuestionKind>(wire).unwrap(), kind);
        }
    }

    #[test]
    fn a_question_reads_with_defaults_and_ignores_unknown_fields() {
        let q: Question = serde_json::from_str(
            r#"{"id":"what","kind":"long_text","label":{"en":"What happened?"},"future":1}"#,
        )
        .unwrap();
        assert!(!q.required);
        assert!(q.choices.is_empty() && q.help.is_empty());
        assert_eq!(q.label["en"], "What happened?");
        let back = serde_json::to_string(&q).unwrap();
        assert_eq!(
            back,
            r#"{"id":"what","kind":"long_text","label":{"en":"What happened?"},"required":false}"#
        );
    }

    #[test]
    fn inbox_items_round_trip() {
        let inbox = Inbox {
            items: vec![InboxItem {
                id: "0123456789abcdef0123456789abcdef".into(),
                kind: ItemKind::Message,
                size: 4096,
                received: "2026-11-29T14:00:00Z".into(),
            }],
            retention_days: Some(30),
        };
        let json = serde_json::to_string(&inbox).unwrap();
        assert!(json.contains(r#""kind":"message""#));
        assert_eq!(serde_json::from_str::<Inbox>(&json).unwrap(), inbox);
    }

    #[test]
    fn error_bodies_carry_received_only_when_set() {
        let plain = ErrorBody {
            error: "no".into(),
            received: None,
        };
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"error":"no"}"#);
        let conflict: ErrorBody =
            serde_json::from_str(r#"{"error":"wrong offset","received":42}"#).unwrap();
        assert_eq!(conflict.received, Some(42));
        let request: UploadRequest = serde_json::from_str(r#"{"kind":"message"}"#).unwrap();
        assert_eq!(request.kind, ItemKind::Message);
    }

    #[test]
    fn ids_are_32_lowercase_hex_digits() {
        assert!(is_valid_id("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "../3456789abcdef0123456789abcdef",
            "0123456789abcdef%2f23456789abcde",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
