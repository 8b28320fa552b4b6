//! Sending sealed bytes while they are being made, so that neither the page
//! nor the browser ever holds a whole sealed video.
//!
//! Sealing hands over the ciphertext in parts of [`PART`] bytes
//! ([`Outlet`]). Every tip, small or large, goes through an upload session on
//! the relay opened with its proof of work (`docs/api.md`, upload sessions):
//! each part is appended while the next one is sealed, and is dropped from
//! memory once the relay says it is stored; the last part is followed by the
//! commit. A lost connection does not lose the tip: the page waits, asks the
//! relay how much it holds, and goes on from there until the tipster cancels.
//! (One request per tip would save two round trips for a small tip, but an
//! answer lost on the way back would leave the tipster not knowing whether it
//! was stored; a session's commit can be asked again.)

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use sealtip_api::ItemKind;
use yew::platform::pinned::oneshot;

use crate::api::{self, ApiError};
use crate::browser;
use crate::send::{Cancel, failure, from_api};
use crate::state::Failure;

/// Bytes of ciphertext in one part.
pub const PART: usize = 4 << 20;

/// The longest wait between two tries after the connection was lost.
const LONGEST_WAIT: Duration = Duration::from_secs(20);

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

/// What the page hears while sending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sending {
    /// Bytes of ciphertext that reached the relay (or are on their way).
    Sent(u64),
    /// Sealing is done; what is left is sending.
    Sealed,
    /// The connection was lost; trying again.
    Waiting,
}

type Answer = Pin<Box<dyn Future<Output = Result<u64, ApiError>>>>;

/// A part on its way to the relay.
struct InFlight {
    offset: u64,
    part: Vec<u8>,
    answer: Answer,
}

/// Sends a sealed tip or message to the relay as it is sealed.
pub struct Uploader {
    agency: String,
    kind: ItemKind,
    proof: String,
    cancel: Cancel,
    hear: Rc<dyn Fn(Sending)>,
    /// The upload session, once opened.
    session: Option<String>,
    /// Bytes the relay holds.
    stored: u64,
    in_flight: Option<InFlight>,
}

impl Uploader {
    /// An uploader for `agency`, spending `proof` (a `Sealtip-Proof` value)
    /// on its first request. `hear` is told how far it is.
    pub fn new(
        agency: &str,
        kind: ItemKind,
        proof: String,
        cancel: Cancel,
        hear: impl Fn(Sending) + 'static,
    ) -> Uploader {
        Uploader {
            agency: agency.to_string(),
            kind,
            proof,
            cancel,
            hear: Rc::new(hear),
            session: None,
            stored: 0,
            in_flight: None,
        }
    }

    /// Drops what the relay received of an upload that will not finish.
    pub async fn abandon(&mut self) {
        // Stops the part in flight, so it cannot land after the drop.
        self.cancel.cancel();
        self.in_flight = None;
        if let Some(session) = self.session.take() {
            // Best effort: the relay drops forgotten sessions by itself.
            let _ = api::drop_upload(&session).await;
        }
    }

    /// Starts sending `part` at `offset`; sealing goes on meanwhile.
    fn start(&mut self, session: &str, offset: u64, part: Vec<u8>) {
        let hear = self.hear.clone();
        let len = part.len() as f64;
        let progress = move |fraction: f64| hear(Sending::Sent(offset + (fraction * len) as u64));
        let request = api::append(
            session.to_string(),
            offset,
            js_sys::Uint8Array::from(part.as_slice()),
            progress,
            self.cancel.signal(),
        );
        // Spawned, not merely stored: a future only runs once awaited.
        let (tell, told) = oneshot::channel();
        yew::platform::spawn_local(async move {
            let _ = tell.send(request.await);
        });
        self.in_flight = Some(InFlight {
            offset,
            part,
            answer: Box::pin(async move { told.await.unwrap_or(Err(ApiError::Network)) }),
        });
    }

    /// Waits until the part in flight is stored, sending it again after a
    /// lost connection from wherever the relay says it stopped.
    async fn settle(&mut self, session: &str) -> Result<(), Failure> {
        while let Some(InFlight {
            offset,
            part,
            answer,
        }) = self.in_flight.take()
        {
            let end = offset + part.len() as u64;
            let received = match answer.await {
                Ok(received) => received,
                Err(error) if worth_retrying(&error) => self.ask_received(session).await?,
                Err(error) => return Err(from_api(error)),
            };
            if received == end {
                self.stored = end;
                (self.hear)(Sending::Sent(end));
            } else if received == offset {
                self.cancel.check()?;
                self.start(session, offset, part);
            } else {
                // The relay holds neither this part nor what came before it.
                return Err(failure("reason-relay", format!("{received} ≠ {offset}")));
            }
        }
        Ok(())
    }

    /// After a lost answer: waits, longer each time, until the relay says how
    /// many bytes it holds.
    async fn ask_received(&mut self, session: &str) -> Result<u64, Failure> {
        let mut backoff = Backoff::default();
        loop {
            backoff.pause(self).await?;
            match api::upload_received(session).await {
                Ok(received) => return Ok(received),
                Err(error) if worth_retrying(&error) => {}
                Err(error) => return Err(from_api(error)),
            }
        }
    }

    /// Stores the session's bytes as an item; a lost answer is asked again,
    /// and a session gone by then was stored by the first try.
    async fn commit(&mut self, session: &str) -> Result<(), Failure> {
        let mut backoff = Backoff::default();
        loop {
            match api::commit_upload(session).await {
                Ok(()) => return Ok(()),
                Err(ApiError::Status { status: 404, .. }) if backoff.tried() => return Ok(()),
                Err(error) if worth_retrying(&error) => backoff.pause(self).await?,
                Err(error) => return Err(from_api(error)),
            }
        }
    }

    /// Opens the upload session, once. A lost answer is tried again with the
    /// same proof of work; if the relay had taken it, that try says so (409)
    /// and the send fails with nothing stored.
    async fn open_session(&mut self) -> Result<String, Failure> {
        if let Some(session) = &self.session {
            return Ok(session.clone());
        }
        let mut backoff = Backoff::default();
        let opened = loop {
            match api::open_upload(&self.agency, self.kind, &self.proof).await {
                Ok(opened) => break opened,
                Err(error) if worth_retrying(&error) && !is_conflict(&error) => {
                    backoff.pause(self).await?;
                }
                Err(error) => return Err(from_api(error)),
            }
        };
        self.session = Some(opened.upload.clone());
        Ok(opened.upload)
    }
}

/// Waiting between tries: 1 s, then twice as long each time, up to
/// [`LONGEST_WAIT`]; the page says it is trying again.
#[derive(Default)]
struct Backoff {
    tries: u32,
}

impl Backoff {
    async fn pause(&mut self, uploader: &Uploader) -> Result<(), Failure> {
        uploader.cancel.check()?;
        (uploader.hear)(Sending::Waiting);
        let wait = Duration::from_secs(1 << self.tries.min(8)).min(LONGEST_WAIT);
        browser::sleep(wait).await;
        self.tries += 1;
        uploader.cancel.check()
    }

    /// Whether a try failed already.
    fn tried(&self) -> bool {
        self.tries > 0
    }
}

impl Outlet for Uploader {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        self.cancel.check()?;
        let session = self.open_session().await?;
        self.settle(&session).await?;
        let offset = self.stored;
        self.start(&session, offset, part);
        Ok(())
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        self.cancel.check()?;
        (self.hear)(Sending::Sealed);
        let session = self.open_session().await?;
        self.settle(&session).await?;
        if !rest.is_empty() {
            let offset = self.stored;
            self.start(&session, offset, rest);
            self.settle(&session).await?;
        }
        self.cancel.check()?;
        self.commit(&session).await?;
        self.session = None;
        Ok(())
    }
}

fn is_conflict(error: &ApiError) -> bool {
    matches!(error, ApiError::Status { status: 409, .. })
}

/// Whether a failed request may succeed when tried again: no answer, a
/// busy or failing relay, or a part that crossed another (409).
fn worth_retrying(error: &ApiError) -> bool {
    match error {
        ApiError::Network | ApiError::Decode => true,
        ApiError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_failures_are_tried_again() {
        let status = |status| ApiError::Status {
            status,
            reason: String::new(),
        };
        assert!(worth_retrying(&ApiError::Network));
        assert!(worth_retrying(&status(503)));
        assert!(worth_retrying(&status(409)));
        assert!(!worth_retrying(&status(413)));
        assert!(!worth_retrying(&status(404)));
        assert!(!worth_retrying(&status(400)));
    }
}
