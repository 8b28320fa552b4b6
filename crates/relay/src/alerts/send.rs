//! Sending an alert: the webhook's POST, and the email over SMTP (STARTTLS
//! by default). Each try is bounded in time; a failure is the caller's to
//! log, and the next interval tries again.

use std::time::Duration;

use anyhow::{Context, bail};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Email, SmtpTls};

/// The longest one alert may take to send.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client webhooks are POSTed with: no redirects followed, no
/// proxy from the environment, bounded in time.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .context("cannot build the webhook client")
}

/// POSTs `body` to `url` as JSON; any answer but 2xx is a failure.
pub async fn webhook(client: &reqwest::Client, url: &str, body: Vec<u8>) -> anyhow::Result<()> {
    let answer = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .context("no answer")?;
    if !answer.status().is_success() {
        bail!("answered {}", answer.status());
    }
    Ok(())
}

/// Sends `message` through the agency's mail server.
pub async fn email(email: &Email, message: Message) -> anyhow::Result<()> {
    let tls = match email.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(TlsParameters::new(email.host.clone())?),
        SmtpTls::Tls => Tls::Wrapper(TlsParameters::new(email.host.clone())?),
    };
    // Greets as the sender's domain, not as this machine's name.
    let hello = email
        .from
        .rsplit_once('@')
        .map_or("localhost", |(_, domain)| domain)
        .trim_end_matches('>');
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.host)
        .port(email.port)
        .tls(tls)
        .hello_name(ClientId::Domain(hello.to_owned()))
        .timeout(Some(TIMEOUT));
    if let Some((user, password)) = &email.login {
        transport =
            transport.credentials(Credentials::new(user.clone(), password.as_str().to_owned()));
    }
    let transport = transport.build();
    tokio::time::timeout(TIMEOUT, transport.send(message))
        .await
        .context("timed out")??;
    Ok(())
}
