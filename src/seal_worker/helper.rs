//! The sealing worker's helper: a second instance of the sealing worker,
//! started with it, that does on another core what sealing needs only at
//! its end, while the sealing worker seals, so that a large file is not
//! hashed and sealed in turn on one core: a new codename's Argon2id keys
//! (while the sealing worker solves the proof of work) and each
//! attachment's SHA-256 (the evidence hash `tip.json` lists, taken of the
//! very bytes the sealing worker sealed, handed over slice by slice).
//!
//! The two talk on a `MessagePort` of their own, which the page hands to
//! each: the sealing worker posts each sealed slice (its buffer handed
//! over, not copied) and [`END`] after each attachment; the helper answers
//! [`Told`]: the reply details, one [`Told::Hashed`] per slice (the sealing
//! worker keeps at most [`WINDOW`] slices waiting, so memory stays
//! bounded), and each attachment's digest. The page ends both workers to
//! cancel.

use futures_util::StreamExt;
use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, MessagePort};
use yew::platform::pinned::mpsc;
use zeroize::Zeroizing;

use sealtip_envelope::ReplyTo;

use super::job::Report;
use crate::api;
use crate::i18n::msg;
use crate::sealing::Beside;
use crate::send::{failure, wordlist};
use crate::state::Failure;

/// What the sealing worker posts after an attachment's last slice.
const END: &str = "end";

/// Sealed slices the sealing worker keeps waiting for the helper at most:
/// 32 MiB of 4 MiB slices.
const WINDOW: usize = 8;

/// What the page asks of the helper.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The page's origin, where the helper fetches the codename wordlist.
    pub origin: String,
    /// Make a codename and derive its keys (a new tip); else only hash.
    pub make_codename: bool,
}

impl Task {
    /// The message to post: `[task as JSON, the port to the sealing worker]`,
    /// and what it hands over (the port).
    pub fn message(&self, port: &MessagePort) -> Option<(Array, Array)> {
        let json = serde_json::to_string(self).ok()?;
        Some((
            Array::of2(&JsValue::from_str(&json), port),
            Array::of1(port),
        ))
    }

    /// Reads a message (see [`Task::message`]); `None` if it is not one.
    pub fn read(message: &JsValue) -> Option<(Task, MessagePort)> {
        let message: &Array = message.dyn_ref()?;
        let task = serde_json::from_str(&message.get(0).as_string()?).ok()?;
        Some((task, message.get(1).dyn_into().ok()?))
    }
}

/// What the helper tells the sealing worker.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Told {
    /// The new codename and the reply details its keys give.
    Keys {
        /// The codename's words.
        codename: String,
        /// What the tip offers the agency to reply.
        reply: ReplyTo,
    },
    /// One more slice hashed.
    Hashed,
    /// The SHA-256 of the attachment that ended, in hex.
    Digest(String),
    /// It failed: the message key and its detail ([`Failure`]).
    Failed {
        /// The message key.
        key: String,
        /// Its detail.
        detail: String,
    },
}

impl Told {
    fn to_message(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).unwrap_or_default())
    }
}

impl Drop for Told {
    fn drop(&mut self) {
        if let Told::Keys { codename, .. } = self {
            zeroize::Zeroize::zeroize(codename);
        }
    }
}

/// Listens on `port`: each message's data goes into the returned channel,
/// as long as the returned closure lives.
fn listen(
    port: &MessagePort,
) -> (
    mpsc::UnboundedReceiver<JsValue>,
    Closure<dyn Fn(MessageEvent)>,
) {
    let (tell, heard) = mpsc::unbounded();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let _ = tell.send_now(event.data());
    });
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    (heard, on_message)
}

/// The helper's side: does `task`, then hashes what the sealing worker
/// posts on `port`, for as long as the page keeps the helper.
pub async fn serve(task: Task, port: MessagePort) {
    api::serve_from(&task.origin);
    let (mut heard, on_message) = listen(&port);
    let say = |told: Told| {
        // A sealing worker that is gone hears nothing: nothing to do.
        let _ = port.post_message(&JsValue::from_str(&told.to_message()));
    };
    if task.make_codename {
        match make_codename().await {
            Ok(keys) => say(keys),
            Err(failed) => {
                say(Told::Failed {
                    key: failed.key.to_string(),
                    detail: failed.detail,
                });
                return;
            }
        }
    }
    let mut hashing = Sha256::new();
    // Each slice, in the helper's own memory.
    let mut copied = Vec::new();
    while let Some(data) = heard.next().await {
        match data.dyn_into::<Uint8Array>() {
            Ok(slice) => {
                copied.resize(slice.length() as usize, 0);
                slice.copy_to(&mut copied);
                hashing.update(&copied);
                say(Told::Hashed);
            }
            Err(other) if other.as_string().as_deref() == Some(END) => {
                say(Told::Digest(hex::encode(hashing.finalize_reset())));
            }
            Err(_) => {}
        }
    }
    drop(on_message);
}

/// A new codename and its reply details (Argon2id, the slow part).
async fn make_codename() -> Result<Told, Failure> {
    let seal_failed = || failure(msg::REASON_SEAL, String::new());
    let codename = wordlist()
        .await?
        .generate(sealtip_envelope::DEFAULT_WORDS)
        .map_err(|_| seal_failed())?;
    let keys = codename.derive().map_err(|_| seal_failed())?;
    Ok(Told::Keys {
        codename: codename.as_str().to_string(),
        reply: ReplyTo::from_keys(&keys),
    })
}

/// The sealing worker's side: the helper seen as [`Beside`].
pub struct Helper {
    port: MessagePort,
    heard: mpsc::UnboundedReceiver<JsValue>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    /// Whether the helper makes a codename.
    makes_codename: bool,
    /// The codename and its reply details, once told.
    keys: Option<(Zeroizing<String>, ReplyTo)>,
    /// Slices posted and not yet hashed.
    waiting: usize,
    /// Attachments ended.
    ended: usize,
    /// Their digests, as told.
    digests: Vec<[u8; 32]>,
}

impl Helper {
    /// The helper on the other end of `port`; it makes a codename if
    /// `makes_codename`.
    pub fn new(port: MessagePort, makes_codename: bool) -> Helper {
        let (heard, on_message) = listen(&port);
        Helper {
            port,
            heard,
            _on_message: on_message,
            makes_codename,
            keys: None,
            waiting: 0,
            ended: 0,
            digests: Vec::new(),
        }
    }

    /// The codename the helper made, once [`Beside::reply`] gave its
    /// details.
    pub fn codename(&self) -> Option<String> {
        self.keys.as_ref().map(|(codename, _)| codename.to_string())
    }

    /// Files what the helper told: the next message, waited for if `wait`,
    /// else only one already there. A failure the helper told is returned.
    async fn hear(&mut self, wait: bool) -> Result<bool, Failure> {
        let lost = || failure(msg::REASON_SEAL, String::new());
        let data = if wait {
            self.heard.next().await.ok_or_else(lost)?
        } else {
            match self.heard.try_next() {
                Ok(Some(data)) => data,
                Ok(None) => return Err(lost()),
                Err(_) => return Ok(false),
            }
        };
        let text = Zeroizing::new(data.as_string().ok_or_else(lost)?);
        let told: Told = serde_json::from_str(&text).map_err(|_| lost())?;
        match &told {
            Told::Keys { codename, reply } => {
                self.keys = Some((Zeroizing::new(codename.clone()), reply.clone()));
            }
            Told::Hashed => self.waiting = self.waiting.saturating_sub(1),
            Told::Digest(hex) => {
                let mut digest = [0; 32];
                hex::decode_to_slice(hex, &mut digest).map_err(|_| lost())?;
                self.digests.push(digest);
            }
            Told::Failed { key, detail } => {
                return Err(Report::failure(key, detail.clone()));
            }
        }
        Ok(true)
    }
}

impl Beside for Helper {
    async fn hash(&mut self, bytes: &[u8], read: Option<Uint8Array>) -> Result<(), Failure> {
        // A failure told meanwhile (the codename's wordlist could not be
        // fetched) stops sealing now, not after the last slice.
        while self.hear(false).await? {}
        let slice = read.unwrap_or_else(|| Uint8Array::from(bytes));
        self.port
            .post_message_with_transferable(&slice, &Array::of1(&slice.buffer()))
            .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
        self.waiting += 1;
        while self.waiting >= WINDOW {
            self.hear(true).await?;
        }
        Ok(())
    }

    fn end_attachment(&mut self) -> Result<(), Failure> {
        self.port
            .post_message(&JsValue::from_str(END))
            .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
        self.ended += 1;
        Ok(())
    }

    async fn digests(&mut self) -> Result<Vec<[u8; 32]>, Failure> {
        while self.digests.len() < self.ended {
            self.hear(true).await?;
        }
        Ok(std::mem::take(&mut self.digests))
    }

    async fn reply(&mut self) -> Result<Option<ReplyTo>, Failure> {
        if !self.makes_codename {
            return Ok(None);
        }
        while self.keys.is_none() {
            self.hear(true).await?;
        }
        Ok(self.keys.as_ref().map(|(_, reply)| reply.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_helper_tells_reads_back_and_a_job_is_not_a_task() {
        let told = [
            Told::Hashed,
            Told::Digest("ab".repeat(32)),
            Told::Keys {
                codename: "word ".repeat(8),
                reply: ReplyTo {
                    recipient: "age1pq1x".into(),
                    mailbox: "c".repeat(32),
                    thread_key: Some("d".repeat(64)),
                },
            },
            Told::Failed {
                key: msg::REASON_NETWORK.into(),
                detail: String::new(),
            },
        ];
        for told in told {
            let json = told.to_message();
            assert_eq!(serde_json::from_str::<Told>(&json).unwrap(), told);
        }
        let task = Task {
            origin: "http://127.0.0.1:8080".into(),
            make_codename: true,
        };
        let json = serde_json::to_string(&task).unwrap();
        assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), task);
        // A sealing job's JSON is never read as the helper's task.
        let job = r#"{"origin":"http://127.0.0.1:8080","agency":"demo","make_codename":true}"#;
        assert!(serde_json::from_str::<Task>(job).is_err());
    }
}
