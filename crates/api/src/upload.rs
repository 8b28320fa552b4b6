//! One upload session as a client drives it (`docs/api.md`, upload
//! sessions): the page and the CLI follow these rules and no others.
//!
//! [`Session`] does no I/O, reads no clock and awaits nothing: the driver
//! asks it what comes next ([`Session::next_action`]), performs that [`Action`]
//! with its own HTTP (or its own sleep), and hands back what happened
//! ([`Session::answered`] with an [`Answer`], [`Session::waited`] after a
//! wait). Sealed bytes go in with [`Session::push`] as they are made and
//! [`Session::finish`] once there are no more; the session keeps only the
//! bytes the relay has not yet said it stores.
//!
//! The rules:
//! - **Open** once with the proof of work. An answer lost on the way back is
//!   asked again with the same proof; a relay that had taken it says so
//!   (409) and the upload fails with nothing stored.
//! - **Parts** go one at a time, each at most the relay's `part_max_bytes`
//!   (a pushed piece larger than that goes in several requests) and never
//!   past a pushed piece, so a piece is dropped as soon as it is stored.
//! - **Passing failures are tried again**: no answer (or one that cannot be
//!   read), 408, 409, 429 and 5xx. Any other status fails the upload.
//! - After a failed part (lost, 409, or any passing status) the session
//!   waits, asks the relay how many bytes it holds, and goes on from there.
//!   A relay that holds fewer bytes than it acknowledged, or more than were
//!   sent, fails the upload.
//! - A **commit** whose answer was lost (no answer, 408 or 5xx) and that is
//!   then answered 404 was stored: the session is done, without the id.
//! - **Waits** are 1 s, doubled after each failure up to 20 s, and start
//!   again at 1 s once the relay answers usefully.
//! - **Giving up**: one rule for every step. Passing failures are tried
//!   again until the waits since the relay last answered usefully add up
//!   to more than the session's `expires_in` (before the session is open,
//!   the proof's `expires_in`, which the caller passes): the relay has then
//!   dropped the session, or the proof, and no try can succeed. The caller
//!   can stop sooner (the tipster cancels, Ctrl-C): it simply stops asking.

use std::collections::VecDeque;
use std::time::Duration;

use crate::types::{UploadSession, is_valid_id};

/// The first wait after a failure.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);

/// The longest wait between two tries.
pub const LONGEST_WAIT: Duration = Duration::from_secs(20);

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// `POST /api/v1/agencies/{agency}/uploads` with this `Sealtip-Proof`;
    /// answer [`Answer::Opened`].
    Open {
        /// The `Sealtip-Proof` header's value.
        proof: &'a str,
    },
    /// `PATCH /api/v1/uploads/{session}` with `Upload-Offset: offset` and
    /// `bytes` as the body; answer [`Answer::Received`].
    Send {
        /// The session id (32 lowercase hex digits, checked).
        session: &'a str,
        /// Where `bytes` start in the sealed file.
        offset: u64,
        /// The part, never empty.
        bytes: &'a [u8],
    },
    /// `GET /api/v1/uploads/{session}`; answer [`Answer::Received`].
    AskReceived {
        /// The session id.
        session: &'a str,
    },
    /// `POST /api/v1/uploads/{session}/commit`; answer [`Answer::Stored`].
    Commit {
        /// The session id.
        session: &'a str,
    },
    /// Wait this long, then call [`Session::waited`].
    Wait(Duration),
    /// Every byte pushed is stored: push more, or finish.
    NeedBytes,
    /// Stored. `id` is the item's id, or `None` when the commit's answer was
    /// lost and the relay had stored it.
    Done {
        /// The stored item's id (32 lowercase hex digits, checked).
        id: Option<&'a str>,
    },
    /// The upload failed; nothing more will be asked.
    Failed(&'a Failure),
}

/// What became of the request of the last [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `201` to [`Action::Open`]: the session.
    Opened(UploadSession),
    /// `200 {"received"}` to [`Action::Send`] or [`Action::AskReceived`].
    Received(u64),
    /// `201 {"id"}` to [`Action::Commit`].
    Stored(String),
    /// An error status and the relay's one-line reason.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The relay's `{"error"}` line, or empty.
        reason: String,
    },
    /// No answer, or one that could not be read.
    Lost,
}

/// Why an upload failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The relay refused with a status that trying again will not change.
    #[error("{status}: {reason}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The relay's one-line reason, or empty.
        reason: String,
    },
    /// Passing failures went on past the session's (or proof's) life.
    #[error("the relay could not be reached for longer than the upload lives")]
    GaveUp,
    /// The relay holds a number of bytes this upload cannot go on from.
    #[error("the relay holds {received} bytes, expected {stored} to {sent}")]
    Diverged {
        /// What the relay said it holds.
        received: u64,
        /// What it had said it stores.
        stored: u64,
        /// The end of what was sent.
        sent: u64,
    },
    /// The relay answered a session id that is not 32 lowercase hex digits.
    #[error("malformed upload session id")]
    BadSessionId(String),
    /// The relay answered an item id that is not 32 lowercase hex digits.
    #[error("malformed item id")]
    BadItemId(String),
}

/// A request handed out by [`Session::next_action`], awaiting its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    Open,
    Part { len: usize },
    Ask,
    Commit,
}

#[derive(Debug)]
enum Step {
    /// The next request follows from what the session holds.
    Ready,
    Awaiting(Request),
    Waiting(Duration),
    Done(Option<String>),
    Failed(Failure),
}

/// The session, once the relay opened it.
#[derive(Debug)]
struct Opened {
    id: String,
    part_max: usize,
    life: Duration,
}

/// One upload session, from its proof of work to the stored item.
#[derive(Debug)]
pub struct Session {
    proof: String,
    proof_life: Duration,
    opened: Option<Opened>,
    /// Pushed pieces not yet stored; the first starts `skip` bytes in.
    held: VecDeque<Vec<u8>>,
    skip: usize,
    /// Bytes the relay said it stores.
    stored: u64,
    /// Bytes of the last part sent, from `stored` on.
    sent: u64,
    /// A part failed: how much the relay holds must be asked.
    unsure: bool,
    finished: bool,
    /// A commit's answer was lost: it may have been stored.
    commit_unclear: bool,
    step: Step,
    failures: u32,
    waited: Duration,
}

impl Session {
    /// A session to be opened with `proof` (a `Sealtip-Proof` value) whose
    /// challenge lives `proof_expires_in` seconds (`Challenge::expires_in`).
    pub fn new(proof: String, proof_expires_in: u64) -> Session {
        Session {
            proof,
            proof_life: Duration::from_secs(proof_expires_in),
            opened: None,
            held: VecDeque::new(),
            skip: 0,
            stored: 0,
            sent: 0,
            unsure: false,
            finished: false,
            commit_unclear: false,
            step: Step::Ready,
            failures: 0,
            waited: Duration::ZERO,
        }
    }

    /// Adds the next sealed bytes (none is fine). The session keeps them
    /// until the relay stores them.
    pub fn push(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() && !self.finished {
            self.held.push_back(bytes);
        }
    }

    /// Says there are no more bytes: once all are stored, the session commits.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Bytes the relay said it stores.
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Bytes held that the request in flight does not carry: more to send
    /// after it.
    pub fn queued(&self) -> u64 {
        let held: usize = self.held.iter().map(Vec::len).sum::<usize>() - self.skip;
        let in_flight = match self.step {
            Step::Awaiting(Request::Part { len }) => len,
            _ => 0,
        };
        (held - in_flight) as u64
    }

    /// The session id once open, for abandoning it (`DELETE`).
    pub fn id(&self) -> Option<&str> {
        self.opened.as_ref().map(|opened| opened.id.as_str())
    }

    /// What to do next. Until its answer is given, the same action again.
    pub fn next_action(&mut self) -> Action<'_> {
        if let Step::Ready = self.step
            && let Some(request) = self.choose()
        {
            if let Request::Part { len } = request {
                self.sent = len as u64;
            }
            self.step = Step::Awaiting(request);
        }
        let session = self.opened.as_ref().map_or("", |opened| opened.id.as_str());
        match &self.step {
            Step::Ready => Action::NeedBytes,
            Step::Awaiting(Request::Open) => Action::Open { proof: &self.proof },
            Step::Awaiting(Request::Part { len }) => Action::Send {
                session,
                offset: self.stored,
                bytes: self
                    .held
                    .front()
                    .map_or(&[][..], |piece| &piece[self.skip..self.skip + len]),
            },
            Step::Awaiting(Request::Ask) => Action::AskReceived { session },
            Step::Awaiting(Request::Commit) => Action::Commit { session },
            Step::Waiting(wait) => Action::Wait(*wait),
            Step::Done(id) => Action::Done { id: id.as_deref() },
            Step::Failed(failure) => Action::Failed(failure),
        }
    }

    /// The request the session's state calls for, if any.
    fn choose(&self) -> Option<Request> {
        let Some(opened) = &self.opened else {
            return Some(Request::Open);
        };
        if self.unsure {
            return Some(Request::Ask);
        }
        if let Some(piece) = self.held.front() {
            let len = (piece.len() - self.skip).min(opened.part_max);
            return Some(Request::Part { len });
        }
        self.finished.then_some(Request::Commit)
    }

    /// After an [`Action::Wait`]: the wait is over.
    pub fn waited(&mut self) {
        if let Step::Waiting(_) = self.step {
            self.step = Step::Ready;
        }
    }

    /// The answer to the request of the last [`Action`]; ignored when no
    /// request was handed out. An answer of the wrong kind counts as lost.
    pub fn answered(&mut self, answer: Answer) {
        let Step::Awaiting(request) = self.step else {
            return;
        };
        self.step = Step::Ready;
        match (request, answer) {
            (Request::Open, Answer::Opened(session)) => self.opened(session),
            (Request::Part { .. } | Request::Ask, Answer::Received(received)) => {
                self.received(received)
            }
            (Request::Commit, Answer::Stored(id)) if is_valid_id(&id) => {
                self.step = Step::Done(Some(id))
            }
            (Request::Commit, Answer::Stored(id)) => self.fail(Failure::BadItemId(id)),
            (Request::Commit, Answer::Refused { status: 404, .. }) if self.commit_unclear => {
                self.step = Step::Done(None)
            }
            (request, Answer::Refused { status, .. }) if worth_retrying(request, status) => {
                if request == Request::Commit && matches!(status, 408 | 500..=599) {
                    self.commit_unclear = true;
                }
                self.try_again(request);
            }
            (_, Answer::Refused { status, reason }) => {
                self.fail(Failure::Refused { status, reason })
            }
            (request, _) => {
                if request == Request::Commit {
                    self.commit_unclear = true;
                }
                self.try_again(request);
            }
        }
    }

    fn opened(&mut self, session: UploadSession) {
        if !is_valid_id(&session.upload) {
            return self.fail(Failure::BadSessionId(session.upload));
        }
        self.opened = Some(Opened {
            id: session.upload,
            part_max: usize::try_from(session.part_max_bytes)
                .unwrap_or(usize::MAX)
                .max(1),
            life: Duration::from_secs(session.expires_in),
        });
        self.progressed();
    }

    /// The relay holds `received` bytes: drops what it stores, or fails if
    /// that is not something this upload can go on from.
    fn received(&mut self, received: u64) {
        let sent = self.stored + self.sent;
        if received < self.stored || received > sent {
            return self.fail(Failure::Diverged {
                received,
                stored: self.stored,
                sent,
            });
        }
        let mut drop = (received - self.stored) as usize;
        while drop > 0 {
            let Some(piece) = self.held.front() else {
                break;
            };
            let left = piece.len() - self.skip;
            if drop >= left {
                self.held.pop_front();
                self.skip = 0;
                drop -= left;
            } else {
                self.skip += drop;
                drop = 0;
            }
        }
        if received > self.stored {
            self.progressed();
        }
        self.stored = received;
        self.sent = 0;
        self.unsure = false;
    }

    /// The relay answered usefully: waits start again from the first.
    fn progressed(&mut self) {
        self.failures = 0;
        self.waited = Duration::ZERO;
    }

    /// A passing failure of `request`: waits, or gives up past the life of
    /// the session (or of the proof).
    fn try_again(&mut self, request: Request) {
        if let Request::Part { .. } = request {
            self.unsure = true;
        }
        let wait = FIRST_WAIT
            .saturating_mul(1 << self.failures.min(16))
            .min(LONGEST_WAIT);
        let life = self
            .opened
            .as_ref()
            .map_or(self.proof_life, |opened| opened.life);
        if self.waited + wait > life {
            return self.fail(Failure::GaveUp);
        }
        self.failures += 1;
        self.waited += wait;
        self.step = Step::Waiting(wait);
    }

    fn fail(&mut self, failure: Failure) {
        self.held.clear();
        self.step = Step::Failed(failure);
    }
}

/// Whether a refusal of `request` may pass: a stalled body (408), a busy
/// relay (429), a failing one (5xx), or a session busy with another part
/// (409), except on opening, where 409 says the proof was already spent.
fn worth_retrying(request: Request, status: u16) -> bool {
    match status {
        409 => request != Request::Open,
        408 | 429 | 500..=599 => true,
        _ => false,
    }
}
