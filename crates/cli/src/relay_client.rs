//! Every HTTP call the CLI makes to a relay, in one place, with errors a
//! person understands: the relay's own one-line reason, or why it could not
//! be reached.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sealtip_api::pow;
use sealtip_api::{
    AgencyProfile, Challenge, ChallengeRequest, Created, ErrorBody, Inbox, Mailbox, is_valid_id,
};

use crate::display;

mod upload_session;

/// The content type of every upload: a sealed age file.
const UPLOAD_CONTENT_TYPE: &str = "application/octet-stream";

/// A relay at one base URL.
pub struct RelayClient {
    base: String,
    agent: ureq::Agent,
}

/// Where a one-request upload goes.
#[derive(Clone, Copy)]
pub enum Upload<'a> {
    /// An agency's reply to a tipster's mailbox.
    Reply {
        /// The mailbox id from the tip.
        mailbox: &'a str,
        /// The agency's inbox token.
        token: &'a str,
    },
    /// An officer's case item, to the agency's inbox (kind `case`).
    Case {
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

    /// Fetches and solves a proof-of-work challenge for `agency` and a
    /// sealed file of `bytes` (any size if `None`); returns the header value
    /// and the seconds it lives.
    fn proof(&self, agency: &str, bytes: Option<u64>) -> Result<(String, u64)> {
        let asked = serde_json::to_string(&ChallengeRequest {
            agency: Some(agency.to_owned()),
            bytes,
        })?;
        let challenge: Challenge = self.json(
            self.agent
                .post(&self.url("/challenges"))
                .header("content-type", "application/json")
                .send(asked.as_str()),
        )?;
        let nonce = pow::solve(&challenge.challenge)
            .map_err(|err| anyhow!("cannot solve the relay's challenge: {err}"))?;
        Ok((
            pow::proof_header(&challenge.challenge, nonce),
            challenge.expires_in,
        ))
    }

    /// Posts an agency's sealed reply to a tipster's mailbox, or an
    /// officer's case item to the agency's inbox, in one request
    /// (tips and follow-ups go through an upload session, [`Self::send_sealed`]);
    /// returns the id the relay gave it.
    pub fn upload(
        &self,
        agency: &str,
        what: Upload<'_>,
        body: &mut dyn Read,
        size: u64,
    ) -> Result<String> {
        let agency = segment(agency)?;
        let (path, token) = match what {
            Upload::Reply { mailbox, token } => (
                format!("/agencies/{agency}/mailboxes/{}", segment(mailbox)?),
                token,
            ),
            Upload::Case { token } => (format!("/agencies/{agency}/case-items"), token),
        };
        let request = self
            .agent
            .post(&self.url(&path))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", UPLOAD_CONTENT_TYPE)
            .header("content-length", &size.to_string());
        let created: Created = self.json(request.send(ureq::SendBody::from_reader(body)))?;
        relay_id(created.id, "item")
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
    fn a_refusal_says_the_relay_s_reason_and_status() {
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
        assert!(is_unreachable(&unreachable) && !is_unreachable(&refused(503)));
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
