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

use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessagePort;
use zeroize::Zeroizing;

use sealtip_envelope::ReplyTo;

use super::job::Failed;
use super::port::{self, Port};
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
    /// It failed.
    Failed(Failed),
}

impl Drop for Told {
    fn drop(&mut self) {
        if let Told::Keys { codename, .. } = self {
            zeroize::Zeroize::zeroize(codename);
        }
    }
}

/// The helper's side: does `task`, then hashes what the sealing worker
/// posts on `port`, for as long as the page keeps the helper.
pub async fn serve(task: Task, port: MessagePort) {
    api::serve_from(&task.origin);
    let mut port = Port::new(port);
    // A sealing worker that is gone hears nothing: nothing to do about it.
    if task.make_codename {
        let told = make_codename()
            .await
            .unwrap_or_else(|failed| Told::Failed(Failed::of(failed)));
        let failed = matches!(told, Told::Failed(_));
        let _ = port.say(&told);
        if failed {
            return;
        }
    }
    let mut hashing = Sha256::new();
    // Each slice, in the helper's own memory.
    let mut copied = Vec::new();
    while let Ok(data) = port.next().await {
        match data.dyn_into::<Array>() {
            Ok(arrays) => {
                for array in arrays
                    .iter()
                    .filter_map(|a| a.dyn_into::<Uint8Array>().ok())
                {
                    crate::browser::copy_into(&array, &mut copied);
                    hashing.update(&copied);
                }
                let _ = port.say(&Told::Hashed);
            }
            Err(other) if other.as_string().as_deref() == Some(END) => {
                let _ = port.say(&Told::Digest(hex::encode(hashing.finalize_reset())));
            }
            Err(_) => {}
        }
    }
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
    port: Port,
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
        Helper {
            port: Port::new(port),
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
        let Some(data) = self.port.next_if(wait).await? else {
            return Ok(false);
        };
        let told: Told = port::read(&data)?;
        match &told {
            Told::Keys { codename, reply } => {
                self.keys = Some((Zeroizing::new(codename.clone()), reply.clone()));
            }
            Told::Hashed => self.waiting = self.waiting.saturating_sub(1),
            Told::Digest(hex) => {
                let mut digest = [0; 32];
                hex::decode_to_slice(hex, &mut digest)
                    .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
                self.digests.push(digest);
            }
            Told::Failed(failed) => return Err(failed.clone().failure()),
        }
        Ok(true)
    }
}

impl Beside for Helper {
    async fn hash(&mut self, bytes: &[u8], read: Option<Array>) -> Result<(), Failure> {
        // A failure told meanwhile (the codename's wordlist could not be
        // fetched) stops sealing now, not after the last slice.
        while self.hear(false).await? {}
        let arrays = read.unwrap_or_else(|| Array::of1(&Uint8Array::from(bytes)));
        let handed: Vec<Uint8Array> = arrays.iter().filter_map(|a| a.dyn_into().ok()).collect();
        self.port.hand_over(&arrays, &handed)?;
        self.waiting += 1;
        while self.waiting >= WINDOW {
            self.hear(true).await?;
        }
        Ok(())
    }

    fn end_attachment(&mut self) -> Result<(), Failure> {
        self.port.post(&JsValue::from_str(END))?;
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
            Told::Failed(Failed::of(failure(msg::REASON_NETWORK, String::new()))),
        ];
        for told in told {
            let json = serde_json::to_string(&told).unwrap();
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
