//! Sending sealed bytes while they are being made, so that neither the page
//! nor the browser ever holds a whole sealed video.
//!
//! Sealing hands over the ciphertext in parts of [`PART`] bytes
//! ([`Outlet`]). Every tip, small or large, goes through an upload session on
//! the relay opened with its proof of work (`docs/api.md`, upload sessions),
//! driven by [`sealtip_api::upload::Session`], which holds the rules the CLI
//! follows too: what is tried again, how long to wait, when to give up. Each
//! part is sent while the next one is sealed, and is dropped from memory once
//! the relay says it is stored; the last part is followed by the commit. A
//! lost connection does not lose the tip: the page waits, asks the relay how
//! much it holds, and goes on from there, until the session's life is past or
//! the tipster cancels. (One request per tip would save two round trips for a
//! small tip, but an answer lost on the way back would leave the tipster not
//! knowing whether it was stored; a session's commit can be asked again.)

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use sealtip_api::ItemKind;
use sealtip_api::upload::{self, Action, Answer, Session};
use yew::platform::pinned::oneshot;

use crate::api::{self, ApiError};
use crate::browser;
use crate::i18n::msg;
use crate::send::{Cancel, failure, from_api};
use crate::state::Failure;

/// Bytes of ciphertext in one part.
pub const PART: usize = 4 << 20;

/// Where sealed bytes go while a tip is sealed: full parts in order, then
/// the rest.
// The page is single-threaded: its futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Outlet {
    /// Takes the next [`PART`] bytes of ciphertext.
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure>;
    /// Takes the last bytes (fewer than a part, maybe none): sealing is done.
    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure>;
}

/// Keeps every byte: for small things sealed to be read back, and tests.
impl Outlet for Vec<u8> {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        self.extend_from_slice(&part);
        Ok(())
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        self.extend_from_slice(&rest);
        Ok(())
    }
}

/// What the sender hears while sending.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sending {
    /// The relay opened the upload session with this id (what the page
    /// drops if the tipster cancels).
    Opened(String),
    /// Bytes of ciphertext that reached the relay (or are on their way).
    Sent(u64),
    /// Sealing is done; what is left is sending.
    Sealed,
    /// The connection was lost; trying again.
    Waiting,
}

/// The relay's answer to a part on its way.
type InFlight = Pin<Box<dyn Future<Output = Answer>>>;

/// Sends a sealed tip or message to the relay as it is sealed.
pub struct Uploader {
    agency: String,
    kind: ItemKind,
    session: Session,
    cancel: Cancel,
    hear: Rc<dyn Fn(Sending)>,
    in_flight: Option<InFlight>,
}

impl Uploader {
    /// An uploader for `agency`, spending `proof` (a `Sealtip-Proof` value
    /// whose challenge lives `proof_expires_in` seconds) on its first
    /// request. `hear` is told how far it is.
    pub fn new(
        agency: &str,
        kind: ItemKind,
        proof: String,
        proof_expires_in: u64,
        cancel: Cancel,
        hear: impl Fn(Sending) + 'static,
    ) -> Uploader {
        Uploader {
            agency: agency.to_string(),
            kind,
            session: Session::new(proof, proof_expires_in),
            cancel,
            hear: Rc::new(hear),
            in_flight: None,
        }
    }

    /// Drops what the relay received of an upload that will not finish.
    pub async fn abandon(&mut self) {
        // Stops the part in flight, so it cannot land after the drop.
        self.cancel.cancel();
        self.in_flight = None;
        if let Some(session) = self.session.id() {
            // Best effort: the relay drops forgotten sessions by itself.
            let _ = api::drop_upload(session).await;
        }
    }

    /// Does what the session asks until it needs more bytes, or, while
    /// sealing goes on, until a part is on its way with nothing queued
    /// behind it; once sealing is done, until the tip is stored.
    async fn drive(&mut self, sealing_done: bool) -> Result<(), Failure> {
        loop {
            if let Some(answer) = self.in_flight.take() {
                self.session.answered(answer.await);
                (self.hear)(Sending::Sent(self.session.stored()));
            }
            self.cancel.check()?;
            let answer = match self.session.next_action() {
                Action::Open { proof } => {
                    let opened = answer(
                        api::open_upload(&self.agency, self.kind, proof).await,
                        Answer::Opened,
                    );
                    if let Answer::Opened(session) = &opened {
                        (self.hear)(Sending::Opened(session.upload.clone()));
                    }
                    opened
                }
                Action::Send {
                    session,
                    offset,
                    bytes,
                } => {
                    self.in_flight =
                        Some(send_part(session, offset, bytes, &self.hear, &self.cancel));
                    if !sealing_done && self.session.queued() == 0 {
                        return Ok(());
                    }
                    continue;
                }
                Action::AskReceived { session } => {
                    answer(api::upload_received(session).await, Answer::Received)
                }
                Action::Commit { session } => {
                    answer(api::commit_upload(session).await, Answer::Stored)
                }
                Action::Wait(wait) => {
                    (self.hear)(Sending::Waiting);
                    browser::sleep(wait).await;
                    self.cancel.check()?;
                    self.session.waited();
                    continue;
                }
                Action::NeedBytes | Action::Done { .. } => return Ok(()),
                Action::Failed(failed) => return Err(failure_of(failed)),
            };
            self.session.answered(answer);
        }
    }
}

/// Starts sending `bytes` at `offset`; sealing goes on meanwhile.
fn send_part(
    session: &str,
    offset: u64,
    bytes: &[u8],
    hear: &Rc<dyn Fn(Sending)>,
    cancel: &Cancel,
) -> InFlight {
    let hear = hear.clone();
    let len = bytes.len() as f64;
    let progress = move |fraction: f64| hear(Sending::Sent(offset + (fraction * len) as u64));
    let request = api::append(
        session.to_string(),
        offset,
        js_sys::Uint8Array::from(bytes),
        progress,
        cancel.signal(),
    );
    // Spawned, not merely stored: a future only runs once awaited.
    let (tell, told) = oneshot::channel();
    yew::platform::spawn_local(async move {
        let _ = tell.send(answer(request.await, Answer::Received));
    });
    Box::pin(async move { told.await.unwrap_or(Answer::Lost) })
}

/// A request's result as the session hears it: what came back (`ok`), the
/// refusal, or the lost answer.
fn answer<T>(result: Result<T, ApiError>, ok: impl FnOnce(T) -> Answer) -> Answer {
    match result {
        Ok(value) => ok(value),
        Err(ApiError::Status { status, reason }) => Answer::Refused { status, reason },
        Err(ApiError::Network | ApiError::Decode) => Answer::Lost,
    }
}

/// What the tipster is told when the upload fails.
fn failure_of(failed: &upload::Failure) -> Failure {
    match failed {
        upload::Failure::Refused { status, reason } => from_api(ApiError::Status {
            status: *status,
            reason: reason.clone(),
        }),
        upload::Failure::GaveUp => failure(msg::REASON_NETWORK, String::new()),
        other => failure(msg::REASON_RELAY, other.to_string()),
    }
}

impl Outlet for Uploader {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        self.cancel.check()?;
        self.session.push(part);
        self.drive(false).await
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        self.cancel.check()?;
        (self.hear)(Sending::Sealed);
        self.session.push(rest);
        self.session.finish();
        self.drive(true).await
    }
}
