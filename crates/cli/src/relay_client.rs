//! Every HTTP call the CLI makes to a relay, in one place, with errors a
//! person understands: the relay's own one-line reason, or why it could not
//! be reached.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sealtip_api::pow;
use sealtip_api::{
    AgencyProfile, Challenge, Created, ErrorBody, Inbox, ItemKind, Mailbox, UPLOAD_OFFSET_HEADER,
    UploadProgress, UploadRequest, UploadSession, is_valid_id,
};

use crate::display;

/// The content type of every upload: a sealed age file.
const UPLOAD_CONTENT_TYPE: &str = "application/octet-stream";

/// Bytes sent per request in an upload session (the relay may ask for fewer).
pub const PART_BYTES: u64 = 8 << 20;

/// Tries of one request of an upload session before giving up.
const TRIES: u32 = 8;

/// A relay at one base URL.
pub struct RelayClient {
    base: String,
    agent: ureq::Agent,
}

/// Where an upload goes.
#[derive(Clone, Copy)]
pub enum Upload<'a> {
    /// A new tip.
    Tip,
    /// A tipster's follow-up.
    Message,
    /// An agency's reply to a tipster's mailbox.
    Reply {
        /// The mailbox id from the tip.
        mailbox: &'a str,
        /// The agency's inbox token.
        token: &'a str,
    },
}

impl RelayClient {
    /// A client for the relay at `base` (`https://…`, or `http://` for a
    /// relay on this machine), through the proxy the environment names
    /// (`HTTPS_PROXY` and the like), if any.
    pub fn new(base: &str) -> Result<Self> {
        Self::build(
            base,
            ureq::Agent::config_builder().timeout_connect(Some(Duration::from_secs(20))),
        )
    }

    /// A client for the relay at `base` through `proxy` only, or directly
    /// when it is `None` (no proxy from the environment): what the
    /// tipster's commands use, so the route is the one they chose.
    pub fn with_proxy(base: &str, proxy: Option<ureq::Proxy>) -> Result<Self> {
        // A path through Tor takes longer to build than a direct connection.
        let connect = if proxy.is_some() { 90 } else { 20 };
        Self::build(
            base,
            ureq::Agent::config_builder()
                .proxy(proxy)
                .timeout_connect(Some(Duration::from_secs(connect))),
        )
    }

    fn build(
        base: &str,
        config: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    ) -> Result<Self> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            bail!(
                "--relay must be an http:// or https:// URL, not \"{}\"",
                display::line(&base)
            );
        }
        let config = config
            .http_status_as_error(false)
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent("sealtip")
            .build();
        Ok(RelayClient {
            base,
            agent: config.into(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Fetches and solves a proof-of-work challenge; returns the header value.
    fn proof(&self) -> Result<String> {
        let challenge: Challenge =
            self.json(self.agent.post(&self.url("/challenges")).send_empty())?;
        let nonce = pow::solve(&challenge.challenge)
            .map_err(|err| anyhow!("cannot solve the relay's challenge: {err}"))?;
        Ok(pow::proof_header(&challenge.challenge, nonce))
    }

    /// Uploads a sealed file; returns the id the relay gave it.
    pub fn upload(
        &self,
        agency: &str,
        what: Upload<'_>,
        body: &mut dyn Read,
        size: u64,
    ) -> Result<String> {
        let agency = segment(agency)?;
        let request = match what {
            Upload::Tip => self
                .agent
                .post(&self.url(&format!("/agencies/{agency}/tips")))
                .header(pow::PROOF_HEADER, &self.proof()?),
            Upload::Message => self
                .agent
                .post(&self.url(&format!("/agencies/{agency}/messages")))
                .header(pow::PROOF_HEADER, &self.proof()?),
            Upload::Reply { mailbox, token } => self
                .agent
                .post(&self.url(&format!(
                    "/agencies/{agency}/mailboxes/{}",
                    segment(mailbox)?
                )))
                .header("authorization", &format!("Bearer {token}")),
        };
        let request = request
            .header("content-type", UPLOAD_CONTENT_TYPE)
            .header("content-length", &size.to_string());
        let created: Created = self.json(request.send(ureq::SendBody::from_reader(body)))?;
        relay_id(created.id, "item")
    }

    /// Uploads a sealed tip or message from a seekable file through an
    /// upload session, [`PART_BYTES`] at a time; after a lost connection it
    /// waits, asks the relay how much it holds and goes on from there.
    /// `progress` hears the bytes the relay holds. Returns the stored id, or
    /// `None` when the commit's answer was lost but the relay had stored it.
    pub fn upload_in_parts<F: Read + Seek>(
        &self,
        agency: &str,
        kind: ItemKind,
        file: &mut F,
        size: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Option<String>> {
        let agency = segment(agency)?;
        let body = serde_json::to_string(&UploadRequest { kind })?;
        let session: UploadSession = self.json(
            self.agent
                .post(&self.url(&format!("/agencies/{agency}/uploads")))
                .header(pow::PROOF_HEADER, &self.proof()?)
                .header("content-type", "application/json")
                .send(body.as_str()),
        )?;
        let path = format!("/uploads/{}", relay_id(session.upload, "upload session")?);
        let part_bytes = PART_BYTES.min(session.part_max_bytes).max(1);
        let mut buffer = Vec::new();
        let mut received = 0u64;
        while received < size {
            let len = part_bytes.min(size - received);
            buffer.resize(len as usize, 0);
            file.seek(SeekFrom::Start(received))?;
            file.read_exact(&mut buffer)
                .context("the sealed file changed while it was sent")?;
            let sent = self.json::<UploadProgress>(
                self.agent
                    .patch(&self.url(&path))
                    .header("content-type", UPLOAD_CONTENT_TYPE)
                    .header(UPLOAD_OFFSET_HEADER, &received.to_string())
                    .send(&buffer[..]),
            );
            received = match sent {
                Ok(answer) => answer.received,
                Err(error) => self.ask_received(&path, error)?,
            };
            progress(received);
        }
        let mut tries = 0;
        loop {
            match self.json::<Created>(
                self.agent
                    .post(&self.url(&format!("{path}/commit")))
                    .send_empty(),
            ) {
                Ok(created) => return relay_id(created.id, "item").map(Some),
                Err(error) if tries > 0 && status_of(&error) == Some(404) => {
                    return Ok(None);
                }
                Err(error) if tries + 1 < TRIES && passing(&error) => {
                    tries += 1;
                    wait(tries, &error);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// After a failed part: waits, longer each time, until the relay says how
    /// many bytes of the session it holds.
    fn ask_received(&self, path: &str, mut error: anyhow::Error) -> Result<u64> {
        for tries in 1..TRIES {
            if !passing(&error) {
                break;
            }
            wait(tries, &error);
            match self.json::<UploadProgress>(self.agent.get(&self.url(path)).call()) {
                Ok(answer) => return Ok(answer.received),
                Err(again) => error = again,
            }
        }
        Err(error)
    }

    /// An agency's public profile: name, recipients, form.
    pub fn profile(&self, agency: &str) -> Result<AgencyProfile> {
        self.json(
            self.agent
                .get(&self.url(&format!("/agencies/{}", segment(agency)?)))
                .call(),
        )
    }

    /// The agency's inbox listing.
    pub fn inbox(&self, agency: &str, token: &str) -> Result<Inbox> {
        let url = self.url(&format!("/agencies/{}/inbox", segment(agency)?));
        let inbox: Inbox = self.json(
            self.agent
                .get(&url)
                .header("authorization", &format!("Bearer {token}"))
                .call(),
        )?;
        for item in &inbox.items {
            check_relay_id(&item.id, "inbox item")?;
        }
        Ok(inbox)
    }

    /// Streams one inbox item into `out`; returns its size.
    pub fn download(
        &self,
        agency: &str,
        token: &str,
        item: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let url = self.url(&format!(
            "/agencies/{}/inbox/{}",
            segment(agency)?,
            segment(item)?
        ));
        let response = self.ok(self
            .agent
            .get(&url)
            .header("authorization", &format!("Bearer {token}"))
            .call())?;
        copy_with_progress(&mut response.into_body().into_reader(), out, progress)
    }

    /// Deletes one inbox item on the relay.
    pub fn delete(&self, agency: &str, token: &str, item: &str) -> Result<()> {
        let url = self.url(&format!(
            "/agencies/{}/inbox/{}",
            segment(agency)?,
            segment(item)?
        ));
        self.ok(self
            .agent
            .delete(&url)
            .header("authorization", &format!("Bearer {token}"))
            .call())?;
        Ok(())
    }

    /// The sealed replies in a tipster's mailbox.
    pub fn mailbox(&self, agency: &str, mailbox: &str) -> Result<Mailbox> {
        let url = self.url(&format!(
            "/agencies/{}/mailboxes/{}",
            segment(agency)?,
            segment(mailbox)?
        ));
        let mailbox: Mailbox = self.json(self.agent.get(&url).call())?;
        for reply in &mailbox.replies {
            check_relay_id(&reply.id, "reply")?;
        }
        Ok(mailbox)
    }

    /// One sealed reply from a mailbox, in memory (replies are small).
    pub fn reply(&self, agency: &str, mailbox: &str, reply: &str) -> Result<Vec<u8>> {
        let url = self.url(&format!(
            "/agencies/{}/mailboxes/{}/{}",
            segment(agency)?,
            segment(mailbox)?,
            segment(reply)?
        ));
        let response = self.ok(self.agent.get(&url).call())?;
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(64 << 20)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Deletes one reply from a tipster's mailbox, proving the codename with
    /// the mailbox `secret` it derives (the mailbox id alone is not enough).
    /// The relay answers 403 to a wrong secret and 404 once the reply is gone
    /// ([`status_of`] tells them apart).
    pub fn delete_reply(
        &self,
        agency: &str,
        mailbox: &str,
        reply: &str,
        secret: &[u8; 32],
    ) -> Result<()> {
        let url = self.url(&format!(
            "/agencies/{}/mailboxes/{}/{}",
            segment(agency)?,
            segment(mailbox)?,
            segment(reply)?
        ));
        // Written in place, so the secret is in one buffer, zeroized on drop.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut body = zeroize::Zeroizing::new(String::with_capacity(80));
        body.push_str("{\"proof\":\"");
        for byte in secret {
            body.push(char::from(HEX[usize::from(byte >> 4)]));
            body.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        body.push_str("\"}");
        self.ok(self
            .agent
            .delete(&url)
            .header("content-type", "application/json")
            .force_send_body()
            .send(body.as_bytes()))?;
        Ok(())
    }

    fn ok(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut response = result.map_err(|err| RelayError::Unreachable {
            base: display::line(&self.base).to_string(),
            cause: display::line(&err.to_string()).to_string(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let reason = response
            .body_mut()
            .read_json::<ErrorBody>()
            .map(|body| body.error)
            .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_string());
        // The relay's words: shown, never obeyed, on one short line.
        let reason = display::line(&shortened(&reason, 300)).to_string();
        Err(RelayError::Refused {
            status: status.as_u16(),
            reason,
        }
        .into())
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut response = self.ok(result)?;
        response
            .body_mut()
            .read_json::<T>()
            .context("the relay's answer is not what sealtip expects")
    }
}

/// Why a request to the relay failed.
#[derive(Debug)]
enum RelayError {
    /// No answer.
    Unreachable { base: String, cause: String },
    /// An error status, with the relay's one-line reason.
    Refused { status: u16, reason: String },
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayError::Unreachable { base, cause } => {
                write!(f, "cannot reach the relay at {base}: {cause}")
            }
            RelayError::Refused { status, reason } => {
                write!(f, "the relay refused: {reason} (HTTP {status})")
            }
        }
    }
}

impl std::error::Error for RelayError {}

/// The HTTP status of a refusal, if `error` is one.
pub fn status_of(error: &anyhow::Error) -> Option<u16> {
    match error.downcast_ref::<RelayError>() {
        Some(RelayError::Refused { status, .. }) => Some(*status),
        _ => None,
    }
}

/// Whether `error` is a relay that did not answer at all.
pub fn is_unreachable(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<RelayError>(),
        Some(RelayError::Unreachable { .. })
    )
}

/// Whether a failed request may succeed when tried again: no answer, a busy
/// or failing relay, or a part that crossed another.
fn passing(error: &anyhow::Error) -> bool {
    match error.downcast_ref::<RelayError>() {
        Some(RelayError::Unreachable { .. }) => true,
        Some(RelayError::Refused { status, .. }) => {
            matches!(status, 408 | 409 | 429 | 500..=599)
        }
        None => false,
    }
}

/// Waits 1, 2, 4… seconds (at most 30) before try `tries`, saying why.
fn wait(tries: u32, error: &anyhow::Error) {
    let seconds = (1u64 << (tries - 1).min(5)).min(30);
    eprintln!("{error}; trying again in {seconds} s");
    std::thread::sleep(Duration::from_secs(seconds));
}

/// An id the relay issued (an inbox item, a reply, an upload session), checked
/// before it goes into a path, a URL or a file name: the relay writes
/// exactly 32 lowercase hex digits, and anything else is refused.
pub fn relay_id(id: String, what: &str) -> Result<String> {
    check_relay_id(&id, what)?;
    Ok(id)
}

fn check_relay_id(id: &str, what: &str) -> Result<()> {
    if is_valid_id(id) {
        return Ok(());
    }
    let problem = if id.is_empty() {
        "an empty".to_string()
    } else if id.len() != 32 {
        format!("a {}-byte", id.len())
    } else {
        "a malformed".to_string()
    };
    bail!(
        "the relay answered {problem} {what} id \"{}\" (a relay issues 32 lowercase hex digits)",
        display::line(&shortened(id, 40))
    )
}

/// At most `chars` characters of `text`, with `…` when cut.
fn shortened(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A path segment from user input: letters, digits, `-` and `_` only, so no
/// input can change the path it is put in.
fn segment(value: &str) -> Result<&str> {
    if value.is_empty()
        || value.len() > 128
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("{value:?} is not a valid agency, item or mailbox id");
    }
    Ok(value)
}

fn copy_with_progress(
    input: &mut dyn Read,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(anyhow!("the download broke off: {err}")),
        };
        out.write_all(&buf[..n])?;
        total += n as u64;
        progress(total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_failures_are_tried_again() {
        let refused = |status| {
            anyhow::Error::from(RelayError::Refused {
                status,
                reason: "no".into(),
            })
        };
        let unreachable = anyhow::Error::from(RelayError::Unreachable {
            base: "http://127.0.0.1:9".into(),
            cause: "connection refused".into(),
        });
        assert!(passing(&unreachable));
        assert!(passing(&refused(503)) && passing(&refused(409)) && passing(&refused(429)));
        assert!(!passing(&refused(400)) && !passing(&refused(404)) && !passing(&refused(413)));
        assert!(!passing(&anyhow!(
            "the sealed file changed while it was sent"
        )));
        assert_eq!(status_of(&refused(404)), Some(404));
        assert_eq!(refused(413).to_string(), "the relay refused: no (HTTP 413)");
    }

    #[test]
    fn long_words_from_the_relay_are_cut_short() {
        assert_eq!(shortened("abcdef", 3), "abc…");
        assert_eq!(shortened("abc", 3), "abc");
        assert_eq!(shortened("ééééé", 2), "éé…");
        let err = check_relay_id(&"a".repeat(5000), "reply")
            .err()
            .map(|err| err.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            format!(
                "the relay answered a 5000-byte reply id \"{}…\" (a relay issues 32 lowercase hex digits)",
                "a".repeat(40)
            )
        );
    }

    /// Answers one request on a port of 127.0.0.1 with `status` and `body`;
    /// returns the relay's base URL and the request as received.
    fn answer_once(
        status: &'static str,
        body: &'static str,
    ) -> (String, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream);
            let mut request = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                request.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut content = vec![0; length];
            reader.read_exact(&mut content).unwrap();
            request.push_str(&String::from_utf8(content).unwrap());
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
            request
        });
        (base, served)
    }

    #[test]
    fn a_reply_is_deleted_with_the_mailbox_secret_as_proof() {
        let secret = [0xab; 32];
        let (reply, mailbox) = ("c".repeat(32), "d".repeat(32));
        let (base, served) = answer_once("204 No Content", "");
        let relay = RelayClient::new(&base).unwrap();
        relay
            .delete_reply("demo", &mailbox, &reply, &secret)
            .unwrap();
        let request = served.join().unwrap();
        let head = format!("DELETE /api/v1/agencies/demo/mailboxes/{mailbox}/{reply} HTTP/1.1");
        assert!(request.starts_with(&head), "{request}");
        assert!(
            request
                .to_ascii_lowercase()
                .contains("content-type: application/json")
        );
        assert!(request.ends_with(&format!("{{\"proof\":\"{}\"}}", "ab".repeat(32))));

        let (base, served) = answer_once("403 Forbidden", r#"{"error":"wrong proof"}"#);
        let relay = RelayClient::new(&base).unwrap();
        let refused = relay
            .delete_reply("demo", &mailbox, &reply, &[0; 32])
            .unwrap_err();
        served.join().unwrap();
        assert_eq!(status_of(&refused), Some(403));
        assert!(refused.to_string().contains("wrong proof"), "{refused}");
        assert!(relay.delete_reply("demo", "../x", &reply, &secret).is_err());
    }
}
