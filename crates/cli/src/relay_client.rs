//! Every HTTP call the CLI makes to a relay, in one place, with errors a
//! person understands: the relay's own one-line reason, or why it could not
//! be reached.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sealtip_api::pow;
use sealtip_api::{AgencyProfile, Challenge, Created, ErrorBody, Inbox, Mailbox};

/// The content type of every upload: a sealed age file.
const UPLOAD_CONTENT_TYPE: &str = "application/octet-stream";

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
    /// relay on this machine).
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            bail!("--relay must be an http:// or https:// URL, not {base:?}");
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(20)))
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
        Ok(created.id)
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
        self.json(
            self.agent
                .get(&url)
                .header("authorization", &format!("Bearer {token}"))
                .call(),
        )
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
        self.json(self.agent.get(&url).call())
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

    fn ok(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut response =
            result.map_err(|err| anyhow!("cannot reach the relay at {}: {err}", self.base))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let reason = response
            .body_mut()
            .read_json::<ErrorBody>()
            .map(|body| body.error)
            .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_string());
        Err(anyhow!(
            "the relay refused: {reason} (HTTP {})",
            status.as_u16()
        ))
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
