//! Opening a codename's replies, in a worker of its own.
//!
//! The code that opens an age file and reads a tip bundle (header parsing,
//! unwrapping for hybrid and X25519 keys, the payload stream, the tar
//! reader) is needed only when a tipster checks for replies. It lives in a
//! second, small wasm binary, `src/bin/replies.rs`, which the page starts as
//! a Web Worker only then, so it is not part of the first load, and only from
//! bytes the browser checked against the hashes in the page's own HTML
//! ([`crate::worker`]). The page fetches the sealed replies itself
//! (`crate::send::open_replies`) and hands them to the worker with the
//! codename's keys once it said it is ready; the worker answers what it
//! opened and proved ([`OpenedMailbox`], as JSON). Nothing leaves the device.

use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use sealtip_envelope::open_replies;
use sealtip_envelope::{Identity, ReplyKeys, ThreadKey};

use crate::i18n::msg;
use crate::send::failure;
use crate::state::Failure;
use crate::worker;

/// A reply from the agency, opened on the device and proven to be the
/// agency's answer in this codename's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedReply {
    /// Its id in the mailbox (to delete it).
    pub id: String,
    /// The day it was written (from the sealed reply).
    pub date: String,
    /// Its text.
    pub text: String,
}

/// What a codename's mailbox holds, as far as it could be opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedMailbox {
    /// The proven replies, in the order the relay received them.
    pub replies: Vec<OpenedReply>,
    /// Replies that did not open with this codename, or opened without
    /// proof that the agency wrote them: reported, never shown as the
    /// agency's.
    pub unreadable: usize,
    /// The agency keys the last proven reply naming keys gave, where
    /// follow-ups are sealed to (empty: none named any).
    pub agency_keys: Vec<String>,
}

/// Sealed replies as the relay served them: `(id, bytes)`, in its order.
pub type Sealed = Vec<(String, Vec<u8>)>;

/// Opens every reply (`(id, sealed bytes)`, in the relay's order) with the
/// codename's keys, by envelope's one rule ([`open_replies`]): the proven
/// ones, how many others, and the agency keys the last proven reply named.
pub fn open_mailbox(keys: &ReplyKeys, sealed: Sealed) -> OpenedMailbox {
    let opened = open_replies(
        keys,
        sealed
            .iter()
            .map(|(id, bytes)| (id.clone(), bytes.as_slice())),
    );
    OpenedMailbox {
        agency_keys: opened.agency_keys().unwrap_or_default().to_vec(),
        unreadable: opened.unproven,
        replies: opened
            .proven
            .into_iter()
            .map(|reply| OpenedReply {
                id: reply.id,
                date: reply.tip.date,
                text: reply.tip.text,
            })
            .collect(),
    }
}

/// The job for the worker: `[identity, thread key, mailbox, [ids], [bytes]]`.
pub fn job(keys: &ReplyKeys, sealed: Sealed) -> Array {
    let (ids, bytes) = (Array::new(), Array::new());
    for (id, sealed) in sealed {
        ids.push(&JsValue::from_str(&id));
        bytes.push(&Uint8Array::from(sealed.as_slice()));
    }
    let job = Array::new();
    job.push(&JsValue::from_str(&keys.identity.to_secret_string()));
    job.push(&JsValue::from_str(&keys.thread_key.to_hex()));
    job.push(&JsValue::from_str(&keys.mailbox));
    job.push(&ids);
    job.push(&bytes);
    job
}

/// Reads a job (see [`job`]); `None` if it is not one.
fn read_job(value: &JsValue) -> Option<(ReplyKeys, Sealed)> {
    let job: &Array = value.dyn_ref()?;
    let identity = Identity::parse(&job.get(0).as_string()?).ok()?;
    let thread_key = ThreadKey::from_hex(&job.get(1).as_string()?).ok()?;
    let mailbox = job.get(2).as_string()?;
    let recipient = identity.recipient();
    let keys = ReplyKeys {
        mailbox_secret: thread_key.mailbox_secret(&recipient),
        mailbox,
        identity,
        thread_key,
    };
    let ids: Array = job.get(3).dyn_into().ok()?;
    let bytes: Array = job.get(4).dyn_into().ok()?;
    let sealed = ids
        .iter()
        .zip(bytes.iter())
        .map(|(id, bytes)| {
            Some((
                id.as_string()?,
                bytes.dyn_into::<Uint8Array>().ok()?.to_vec(),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((keys, sealed))
}

/// The worker's answer to a message: the opened mailbox as JSON, or an
/// empty string for a message that is not a job.
pub fn answer(message: &JsValue) -> String {
    read_job(message)
        .map(|(keys, sealed)| open_mailbox(&keys, sealed))
        .and_then(|opened| serde_json::to_string(&opened).ok())
        .unwrap_or_default()
}

/// Opens `sealed` in the worker: starts it from checked bytes
/// ([`worker::start`]), waits until it says it is ready, hands it the
/// job, and ends it once it answered. A worker that could not start, or
/// says anything else first, gets nothing.
pub async fn open_in_worker(keys: &ReplyKeys, sealed: Sealed) -> Result<OpenedMailbox, Failure> {
    let failed = || failure(msg::REPLIES_OPEN_FAILED, String::new());
    let mut started = worker::start(worker::REPLIES).await.ok_or_else(failed)?;
    if !started.ready().await {
        return Err(failed());
    }
    let answer = worker::next_message(started.worker());
    started
        .worker()
        .post_message(&job(keys, sealed))
        .map_err(|_| failed())?;
    let answered = worker::text(JsFuture::from(answer).await).ok_or_else(failed)?;
    drop(started);
    serde_json::from_str(&answered).map_err(|_| failed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealtip_envelope::{BundleWriter, Kind, Tip};

    /// A codename's keys without the slow derivation.
    fn reply_keys(seed: u8) -> ReplyKeys {
        ReplyKeys::new(
            Identity::hybrid_from_seed([seed; 32]),
            ThreadKey::from_bytes([seed; 32]),
        )
    }

    /// A reply as the agency seals it: to the codename's reply key, proven
    /// with `proof_key` (the thread's, or another), or with no proof.
    fn agency_reply(
        keys: &ReplyKeys,
        proof_key: Option<&ThreadKey>,
        text: &str,
        agency_keys: &[String],
    ) -> Vec<u8> {
        let mut reply = Tip::new(Kind::Reply, "demo", "2026-12-07");
        reply.text = text.into();
        reply.thread = Some(keys.mailbox.clone());
        reply.agency_keys = agency_keys.to_vec();
        let output = sealtip_envelope::seal(&[keys.recipient()], Vec::new()).unwrap();
        let bundle = BundleWriter::new(output);
        let (stream, _) = match proof_key {
            Some(key) => bundle.finish_in_thread(reply, key).unwrap(),
            None => {
                reply.thread = None;
                bundle.finish(reply).unwrap()
            }
        };
        stream.finish().unwrap()
    }

    #[test]
    fn only_a_reply_proven_with_the_thread_key_is_the_agencys() {
        let keys = reply_keys(5);
        let named = vec![Identity::generate().unwrap().recipient().to_string()];
        let shown = |sealed: Vec<u8>| {
            let opened = open_mailbox(&keys, vec![("a".repeat(32), sealed)]);
            opened.replies.first().map(|reply| reply.text.clone())
        };
        let proven = agency_reply(&keys, Some(&keys.thread_key), "Thank you.", &named);
        assert_eq!(shown(proven).as_deref(), Some("Thank you."));
        // Sealed to the codename, but proven with another key, or not at all:
        // whoever wrote it did not know the thread key.
        let other = ThreadKey::from_bytes([9; 32]);
        assert_eq!(shown(agency_reply(&keys, Some(&other), "x", &named)), None);
        assert_eq!(shown(agency_reply(&keys, None, "x", &named)), None);
        // Sealed to another codename: it does not open.
        let stranger = reply_keys(6);
        let theirs = agency_reply(&stranger, Some(&stranger.thread_key), "x", &[]);
        assert_eq!(shown(theirs), None);
        assert_eq!(shown(b"not an age file".to_vec()), None);
    }

    #[test]
    fn a_mailbox_shows_proven_replies_counts_the_rest_and_keeps_the_last_named_keys() {
        let keys = reply_keys(7);
        let key = || Identity::generate().unwrap().recipient().to_string();
        let (first, last) = (vec![key()], vec![key(), key()]);
        let proven =
            |text: &str, named: &[String]| agency_reply(&keys, Some(&keys.thread_key), text, named);
        let sealed = vec![
            ("a".repeat(32), proven("One.", &first)),
            ("b".repeat(32), agency_reply(&keys, None, "Forged.", &[])),
            ("c".repeat(32), proven("Two.", &last)),
            ("d".repeat(32), proven("Three.", &[])),
            ("e".repeat(32), b"garbage".to_vec()),
        ];
        let opened = open_mailbox(&keys, sealed);
        let texts: Vec<&str> = opened.replies.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["One.", "Two.", "Three."]);
        assert_eq!(opened.replies[1].id, "c".repeat(32));
        assert_eq!(opened.unreadable, 2);
        // A later reply that names no keys does not undo the last that did.
        assert_eq!(opened.agency_keys, last);
        // What the worker answers reads back as the same.
        let json = serde_json::to_string(&opened).unwrap();
        assert_eq!(
            serde_json::from_str::<OpenedMailbox>(&json).unwrap(),
            opened
        );
    }
}
