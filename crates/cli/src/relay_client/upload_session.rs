//! A sealed tip or follow-up sent through an upload session: this client's
//! HTTP driving [`sealtip_api::upload::Session`], which holds the rules
//! (what is tried again, how long to wait, when to give up).

use std::io::Read;

use anyhow::{Result, anyhow};
use sealtip_api::upload::{Action, Answer, Failure, Session};
use sealtip_api::{
    Created, ItemKind, UPLOAD_OFFSET_HEADER, UploadProgress, UploadRequest, UploadSession, pow,
};

use super::{RelayClient, RelayError, UPLOAD_CONTENT_TYPE, relay_id, segment};

/// Bytes read from the sealed file at a time (a part the relay takes may be
/// smaller: the session sends at most its `part_max_bytes`).
pub const PIECE_BYTES: usize = 8 << 20;

impl RelayClient {
    /// Sends a sealed tip or message through an upload session, reading
    /// `sealed` [`PIECE_BYTES`] at a time and keeping only what the relay has
    /// not yet stored. After a lost connection it waits (saying why on
    /// standard error), asks the relay how much it holds and goes on from
    /// there, until the session's life is past (`sealtip_api::upload`).
    /// Returns the stored id, or `None` when the commit's answer was lost
    /// but the relay had stored it.
    pub fn send_sealed(
        &self,
        agency: &str,
        kind: ItemKind,
        sealed: &mut dyn Read,
    ) -> Result<Option<String>> {
        let (proof, proof_expires_in) = self.proof(agency, None)?;
        let agency = segment(agency)?;
        let mut session = Session::new(proof, proof_expires_in);
        let mut last_error = None;
        loop {
            let result = match session.next_action() {
                Action::Open { proof } => {
                    self.open_session(agency, kind, proof).map(Answer::Opened)
                }
                Action::Send {
                    session,
                    offset,
                    bytes,
                } => self.send_part(session, offset, bytes).map(Answer::Received),
                Action::AskReceived { session } => self.received(session).map(Answer::Received),
                Action::Commit { session } => self.commit(session).map(Answer::Stored),
                Action::Wait(wait) => {
                    if let Some(error) = &last_error {
                        eprintln!("{error}; trying again in {} s", wait.as_secs());
                    }
                    std::thread::sleep(wait);
                    session.waited();
                    continue;
                }
                Action::NeedBytes => {
                    match read_piece(sealed)? {
                        piece if piece.is_empty() => session.finish(),
                        piece => session.push(piece),
                    }
                    continue;
                }
                Action::Done { id } => return Ok(id.map(String::from)),
                Action::Failed(failure) => return Err(failed(failure, last_error)),
            };
            session.answered(match result {
                Ok(answer) => answer,
                Err(error) => {
                    let answer = answer_to(&error);
                    last_error = Some(error);
                    answer
                }
            });
        }
    }

    fn open_session(&self, agency: &str, kind: ItemKind, proof: &str) -> Result<UploadSession> {
        let body = serde_json::to_string(&UploadRequest { kind })?;
        self.json(
            self.agent
                .post(&self.url(&format!("/agencies/{agency}/uploads")))
                .header(pow::PROOF_HEADER, proof)
                .header("content-type", "application/json")
                .send(body.as_str()),
        )
    }

    fn send_part(&self, session: &str, offset: u64, bytes: &[u8]) -> Result<u64> {
        let answer: UploadProgress = self.json(
            self.agent
                .patch(&self.url(&format!("/uploads/{session}")))
                .header("content-type", UPLOAD_CONTENT_TYPE)
                .header(UPLOAD_OFFSET_HEADER, &offset.to_string())
                .send(bytes),
        )?;
        Ok(answer.received)
    }

    fn received(&self, session: &str) -> Result<u64> {
        let answer: UploadProgress = self.json(
            self.agent
                .get(&self.url(&format!("/uploads/{session}")))
                .call(),
        )?;
        Ok(answer.received)
    }

    fn commit(&self, session: &str) -> Result<String> {
        let created: Created = self.json(
            self.agent
                .post(&self.url(&format!("/uploads/{session}/commit")))
                .send_empty(),
        )?;
        Ok(created.id)
    }
}

/// What a failed request tells the session: the relay's refusal, or no
/// (readable) answer.
fn answer_to(error: &anyhow::Error) -> Answer {
    match error.downcast_ref::<RelayError>() {
        Some(RelayError::Refused { status, reason }) => Answer::Refused {
            status: *status,
            reason: reason.clone(),
        },
        _ => Answer::Lost,
    }
}

/// The error to show for a failed upload: the relay's last refusal or the
/// last failure to reach it, in the words the other commands use.
fn failed(failure: &Failure, last_error: Option<anyhow::Error>) -> anyhow::Error {
    match failure {
        Failure::BadSessionId(id) => relay_id(id.clone(), "upload session").err(),
        Failure::BadItemId(id) => relay_id(id.clone(), "item").err(),
        Failure::Refused { .. } | Failure::GaveUp => last_error,
        Failure::Diverged { .. } => None,
    }
    .unwrap_or_else(|| anyhow!("the upload failed: {failure}"))
}

/// The next [`PIECE_BYTES`] of `sealed`, fewer at its end, none after it.
fn read_piece(sealed: &mut dyn Read) -> Result<Vec<u8>> {
    let mut piece = Vec::with_capacity(PIECE_BYTES);
    sealed
        .take(PIECE_BYTES as u64)
        .read_to_end(&mut piece)
        .map_err(|err| anyhow!("cannot read the sealed file: {err}"))?;
    Ok(piece)
}
