//! The sealing worker's sender: a third instance of the sealing worker,
//! started with it, that sends the sealed parts to the relay while the
//! sealing worker seals the next ones. A browser feeds a request's body to
//! the network from the thread that sent it, between that thread's tasks:
//! from the sealing worker, busy sealing, parts left slowly (about as long
//! waiting as sealing, measured). The sender's thread does nothing else.
//!
//! It also fetches the challenge and solves the proof of work while the
//! first parts are sealed. The sealing worker posts an [`Order`] (the
//! agency, the kind of item, the most it may seal), then each part (its
//! buffer handed over) and the last one; the sender answers [`Told`]: each
//! part taken (the sealing worker keeps at most [`UNTAKEN`] parts waiting,
//! so memory stays bounded), how sending goes, and how it ended. On
//! [`ABANDON`] it drops the upload session.

use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessagePort;

use sealtip_api::ItemKind;

use super::job::Failed;
use super::port::{self, Port};
use crate::api;
use crate::i18n::msg;
use crate::send::{Cancel, failure, from_api};
use crate::state::Failure;
use crate::upload::{Outlet, Sending, Uploader};

/// Parts the sealing worker keeps waiting for the sender at most.
const UNTAKEN: usize = 2;

/// What the sealing worker posts when it failed: the session is dropped.
const ABANDON: &str = "abandon";

/// Tags of a part's message: `[tag, bytes]`.
const PART: &str = "part";
const LAST: &str = "last";

/// What the page asks of the sender.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The page's origin, where the sender sends.
    pub sends_to: String,
}

/// What to send, from the sealing worker.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The agency's id.
    pub agency: String,
    /// A tip or a follow-up message.
    pub kind: ItemKind,
    /// The most bytes the sealed item may have (the challenge names it).
    pub sealed_bound: u64,
}

/// What the sender tells the sealing worker.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Told {
    /// One more part taken to be sent.
    Taken,
    /// How sending goes.
    Sending(Sending),
    /// Stored by the relay.
    Stored,
    /// It failed.
    Failed(Failed),
}

/// The sender's side: solves the proof of work, then sends the parts the
/// sealing worker posts on `port`, and tells how it ended.
pub async fn serve(task: Task, port: MessagePort) {
    api::serve_from(&task.sends_to);
    let mut port = Port::new(port);
    let ended = match send(&mut port).await {
        Ok(()) => Told::Stored,
        Err(failed) => Told::Failed(Failed::of(failed)),
    };
    // A sealing worker that is gone hears nothing: nothing to do about it.
    let _ = port.say(&ended);
}

async fn send(port: &mut Port) -> Result<(), Failure> {
    let order: Order = port::read(&port.next().await?)?;
    let (proof, expires_in) = solve_challenge(&order.agency, order.sealed_bound).await?;
    let mut uploader = Uploader::new(
        &order.agency,
        order.kind,
        proof,
        expires_in,
        // Never cancelled here: the page ends the whole worker instead.
        Cancel::default(),
        {
            let port = port.poster();
            move |sending| {
                let _ = port.say(&Told::Sending(sending));
            }
        },
    );
    loop {
        let data = port.next().await?;
        let Ok(message) = data.dyn_into::<Array>() else {
            uploader.abandon().await;
            return Err(failure(msg::REASON_SEAL, String::new()));
        };
        let tag = message.get(0).as_string().unwrap_or_default();
        let part: Uint8Array = message
            .get(1)
            .dyn_into()
            .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
        port.say(&Told::Taken)?;
        // The upload session keeps the part, to send it again after a lost
        // connection.
        let bytes = part.to_vec();
        match tag.as_str() {
            PART => uploader.part(bytes).await?,
            LAST => return uploader.last(bytes).await,
            _ => return Err(failure(msg::REASON_SEAL, String::new())),
        }
    }
}

/// Fetches a challenge for `agency` and a sealed file of at most `bytes`,
/// and solves it (the sender's thread has nothing else to do meanwhile).
/// Returns the `Sealtip-Proof` value and the seconds the challenge lives.
async fn solve_challenge(agency: &str, bytes: u64) -> Result<(String, u64), Failure> {
    let challenge = api::challenge(agency, bytes).await.map_err(from_api)?;
    let nonce = sealtip_api::pow::solve(&challenge.challenge)
        .map_err(|_| failure(msg::REASON_RELAY, "challenge".into()))?;
    let proof = sealtip_api::pow::proof_header(&challenge.challenge, nonce);
    Ok((proof, challenge.expires_in))
}

/// The sealing worker's side: the sender seen as where the sealed parts go
/// ([`Outlet`]); `hear` is told how sending goes.
pub struct Sender<H: Fn(Sending)> {
    port: Port,
    hear: H,
    /// Parts posted and not yet taken.
    untaken: usize,
    /// Whether the relay stored the item.
    stored: bool,
}

impl<H: Fn(Sending)> Sender<H> {
    /// The sender on the other end of `port`, told to send `order`.
    pub fn new(port: MessagePort, order: &Order, hear: H) -> Result<Self, Failure> {
        let port = Port::new(port);
        port.say(order)?;
        Ok(Sender {
            port,
            hear,
            untaken: 0,
            stored: false,
        })
    }

    /// Tells the sender to drop the upload session: the item will not be
    /// finished.
    pub fn abandon(&self) {
        let _ = self.port.post(&JsValue::from_str(ABANDON));
    }

    /// Files what the sender told: the next message, waited for if `wait`,
    /// else only one already there. A failure the sender told is returned.
    async fn hear(&mut self, wait: bool) -> Result<bool, Failure> {
        let Some(data) = self.port.next_if(wait).await? else {
            return Ok(false);
        };
        match port::read(&data)? {
            Told::Taken => self.untaken = self.untaken.saturating_sub(1),
            Told::Sending(sending) => (self.hear)(sending),
            Told::Stored => self.stored = true,
            Told::Failed(failed) => return Err(failed.failure()),
        }
        Ok(true)
    }

    /// Hands `bytes` over to the sender, tagged `tag`.
    fn post(&self, tag: &str, bytes: &[u8]) -> Result<(), Failure> {
        let part = Uint8Array::from(bytes);
        self.port
            .hand_over(&Array::of2(&JsValue::from_str(tag), &part), &[part])
    }
}

impl<H: Fn(Sending)> Outlet for Sender<H> {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        // What the sender told meanwhile: how far sending is, or that it
        // failed (then sealing stops now).
        while self.hear(false).await? {}
        self.post(PART, &part)?;
        self.untaken += 1;
        while self.untaken > UNTAKEN {
            self.hear(true).await?;
        }
        Ok(())
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        self.post(LAST, &rest)?;
        while !self.stored {
            self.hear(true).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_sender_tells_reads_back_and_tasks_are_told_apart() {
        for told in [
            Told::Taken,
            Told::Sending(Sending::Opened("a".repeat(32))),
            Told::Sending(Sending::Sent(4 << 20)),
            Told::Sending(Sending::Waiting),
            Told::Stored,
            Told::Failed(Failed::of(failure(msg::REASON_NETWORK, String::new()))),
        ] {
            let json = serde_json::to_string(&told).unwrap();
            assert_eq!(serde_json::from_str::<Told>(&json).unwrap(), told);
        }
        let sender = serde_json::to_string(&Task {
            sends_to: "http://127.0.0.1:8080".into(),
        })
        .unwrap();
        let helper = serde_json::to_string(&super::super::helper::Task {
            origin: "http://127.0.0.1:8080".into(),
            make_codename: false,
        })
        .unwrap();
        assert!(serde_json::from_str::<Task>(&sender).is_ok());
        assert!(serde_json::from_str::<Task>(&helper).is_err());
        assert!(serde_json::from_str::<super::super::helper::Task>(&sender).is_err());
    }
}
