//! What the page and the sealing worker say to each other: the job the
//! page posts ([`Job`], as JSON, with the files' bytes beside it) and what
//! the worker reports back ([`Report`], as JSON).

use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessagePort;
use zeroize::{Zeroize, Zeroizing};

use sealtip_api::ItemKind;
use sealtip_envelope::Tip;

use crate::i18n::msg;
use crate::sealing::Described;
use crate::send::failure;
use crate::state::{Contents, Failure, Progress};

/// A tip or a follow-up to seal and send, as the page hands it over.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The page's origin (`http://127.0.0.1:8080`), where the worker sends
    /// its requests.
    pub origin: String,
    /// The agency's id.
    pub agency: String,
    /// A tip or a follow-up message.
    pub kind: ItemKind,
    /// The keys it is sealed to, as the page checked them (`#pin=` included).
    pub recipients: Vec<String>,
    /// What the agency reads; a new codename's reply details are the
    /// worker's to add.
    pub tip: Tip,
    /// What the tip says of each file; their bytes travel beside the job,
    /// in the same order.
    pub files: Vec<Described>,
    /// Whether a codename is made, or which thread the item is proven in.
    pub thread: Thread,
    /// The most attachment bytes the agency takes.
    pub max_upload_bytes: u64,
}

/// The thread a sealed item belongs to.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Thread {
    /// A new tip: the worker makes a codename, and the tip offers replies
    /// to its keys.
    NewCodename,
    /// A follow-up, proven with the thread's key (64 hex digits).
    Key(String),
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Thread::Key(key) = &mut self.thread {
            key.zeroize();
        }
    }
}

impl Job {
    /// The message to post: `[job as JSON, [each file's bytes], the port to
    /// the helper, the port to the sender]`, a file on the device as its
    /// `Blob` (the worker reads it in slices), a cleaned photo as a
    /// `Uint8Array` of its own; and what the message hands over rather than
    /// copies (those arrays' buffers, the ports).
    pub fn message(&self, contents: &[Contents], ports: &Ports) -> Option<(Array, Array)> {
        let json = Zeroizing::new(serde_json::to_string(self).ok()?);
        let (files, handed_over) = (Array::new(), Array::new());
        for contents in contents {
            match contents {
                Contents::File(blob) => files.push(blob),
                Contents::Memory(bytes) => {
                    let copy = Uint8Array::from(bytes.as_slice());
                    handed_over.push(&copy.buffer());
                    files.push(&copy)
                }
            };
        }
        handed_over.push(&ports.helper);
        handed_over.push(&ports.sender);
        Some((
            Array::of4(
                &JsValue::from_str(&json),
                &files,
                &ports.helper,
                &ports.sender,
            ),
            handed_over,
        ))
    }

    /// Reads a message (see [`Job::message`]): the job, each file's
    /// contents and the ports; `None` if it is not one.
    pub fn read(message: &JsValue) -> Option<(Job, Vec<Contents>, Ports)> {
        let message: &Array = message.dyn_ref()?;
        let json = Zeroizing::new(message.get(0).as_string()?);
        let job: Job = serde_json::from_str(&json).ok()?;
        let files: Array = message.get(1).dyn_into().ok()?;
        let contents = files
            .iter()
            .map(|file| match file.dyn_into::<Uint8Array>() {
                Ok(bytes) => Some(Contents::Memory(Rc::new(bytes.to_vec()))),
                Err(other) => other.dyn_into().ok().map(Contents::File),
            })
            .collect::<Option<Vec<_>>>()?;
        let ports = Ports {
            helper: message.get(2).dyn_into().ok()?,
            sender: message.get(3).dyn_into().ok()?,
        };
        (contents.len() == job.files.len()).then_some((job, contents, ports))
    }
}

/// The sealing worker's ends of its ports to its helper and its sender.
pub struct Ports {
    /// To the helper ([`super::helper`]).
    pub helper: MessagePort,
    /// To the sender ([`super::sender`]).
    pub sender: MessagePort,
}

/// What the worker tells the page, in order: progress, the upload
/// session once open, then how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// The stage and how far sending is, as the page shows it.
    Progress(Progress),
    /// The relay opened the upload session with this id.
    Session(String),
    /// Stored by the relay; the codename, if one was made.
    Sent(Option<String>),
    /// It failed.
    Failed(Failed),
}

/// A failure as one worker tells another, or the page: the message key
/// and its detail ([`Failure`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    /// The message key.
    pub key: String,
    /// Its detail.
    pub detail: String,
}

impl Failed {
    /// How `failed` is told.
    pub fn of(failed: Failure) -> Failed {
        Failed {
            key: failed.key.to_string(),
            detail: failed.detail,
        }
    }

    /// The failure told (any key but a send's reads as a failure to seal:
    /// a worker naming another message is not believed).
    pub fn failure(self) -> Failure {
        let key = FAILURES
            .into_iter()
            .find(|known| *known == self.key)
            .unwrap_or(msg::REASON_SEAL);
        failure(key, self.detail)
    }
}

/// The reasons a send can fail with, as [`Failure::key`] names them.
const FAILURES: [&str; 6] = [
    msg::SEND_CANCELLED,
    msg::REASON_SEAL,
    msg::REASON_READ,
    msg::REASON_NETWORK,
    msg::REASON_RELAY,
    msg::REASON_TOO_BIG,
];

impl Report {
    /// The report of `failed`.
    pub fn failed(failed: Failure) -> Report {
        Report::Failed(Failed::of(failed))
    }

    /// As posted: JSON text.
    pub fn to_message(&self) -> JsValue {
        JsValue::from_str(&serde_json::to_string(self).unwrap_or_default())
    }

    /// Reads a posted report; `None` if it is not one.
    pub fn read(message: &JsValue) -> Option<Report> {
        let text = Zeroizing::new(message.as_string()?);
        serde_json::from_str(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Stage;

    #[test]
    fn reports_read_back_as_posted_and_failures_keep_their_reason() {
        for report in [
            Report::Progress(Progress {
                stage: Stage::Sealing,
                fraction: 0.5,
            }),
            Report::Session("a".repeat(32)),
            Report::Sent(Some("word ".repeat(8))),
            Report::Sent(None),
            Report::failed(failure(msg::REASON_NETWORK, String::new())),
        ] {
            let json = serde_json::to_string(&report).unwrap();
            assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
        }
        let told = |key: &str, detail: &str| Failed {
            key: key.into(),
            detail: detail.into(),
        };
        let relay = told(msg::REASON_RELAY, "503 busy").failure();
        assert_eq!(relay, failure(msg::REASON_RELAY, "503 busy".into()));
        // A worker naming another key is not believed.
        let made_up = told("intro-only", "").failure();
        assert_eq!(made_up.key, msg::REASON_SEAL);
    }

    #[test]
    fn a_job_reads_back_as_posted() {
        let tip = Tip::new(sealtip_envelope::Kind::Message, "demo", "2026-12-07");
        let job = Job {
            origin: "http://127.0.0.1:8080".into(),
            agency: "demo".into(),
            kind: ItemKind::Message,
            recipients: vec!["age1x".into()],
            tip,
            files: Vec::new(),
            thread: Thread::Key("ab".repeat(32)),
            max_upload_bytes: 1 << 20,
        };
        let json = serde_json::to_string(&job).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&json).unwrap(), job);
    }
}
