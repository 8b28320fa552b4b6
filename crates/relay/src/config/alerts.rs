//! `[agencies.alerts]`: telling an agency that something arrived, and
//! nothing more: how often (an interval on the clock's grid), whether to
//! alert when nothing arrived too (cover), and where (a webhook, email).

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use serde::Deserialize;
use zeroize::Zeroizing;

/// The shortest interval: an hour, the precision of the relay's times.
const HOUR: u64 = crate::time::HOUR;
/// The longest interval: a week.
const MAX_INTERVAL: u64 = 7 * 86_400;

/// `[agencies.alerts]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// `"hourly"`, `"daily"`, or seconds (a whole number of hours, at most
    /// a week).
    pub interval: Interval,
    /// Also alert when nothing arrived, so that the alerts themselves do
    /// not tell when something did.
    #[serde(default)]
    pub cover: bool,
    /// POSTed a fixed-size JSON body: `https://…`, or `http://` to a
    /// loopback address.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The mail server.
    #[serde(default)]
    pub smtp_host: Option<String>,
    /// Its port (default 587 with STARTTLS, 465 with TLS, 25 without).
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// The sender address.
    #[serde(default)]
    pub smtp_from: Option<String>,
    /// The recipient addresses.
    #[serde(default)]
    pub smtp_to: Vec<String>,
    /// The account, if the server asks for one.
    #[serde(default)]
    pub smtp_username: Option<String>,
    /// A file holding its password.
    #[serde(default)]
    pub smtp_password_file: Option<PathBuf>,
    /// `"starttls"` (the default), `"tls"`, or `"none"` (loopback only).
    #[serde(default)]
    pub smtp_tls: SmtpTls,
}

/// An interval as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Interval {
    /// `"hourly"` or `"daily"`.
    Named(String),
    /// Seconds.
    Seconds(u64),
}

/// How the relay speaks to the mail server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP upgraded with STARTTLS, which must succeed.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only to a mail server on this machine.
    None,
}

/// An agency's alerts, checked.
#[derive(Debug)]
pub struct Alerts {
    /// Seconds between alerts, a whole number of hours; alerts go at the
    /// multiples of it in Unix time (UTC).
    pub interval: u64,
    /// Alert when nothing arrived too.
    pub cover: bool,
    /// Where to POST.
    pub webhook_url: Option<String>,
    /// Where to mail.
    pub email: Option<Email>,
}

/// The mail an agency's alerts go out as.
#[derive(Debug)]
pub struct Email {
    /// The mail server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How to speak to it.
    pub tls: SmtpTls,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The account and its password, if any.
    pub login: Option<(String, Zeroizing<String>)>,
}

/// Checks `[agencies.alerts]`.
pub(super) fn check_alerts(a: AlertsConfig) -> anyhow::Result<Alerts> {
    let interval = match &a.interval {
        Interval::Named(name) if name == "hourly" => HOUR,
        Interval::Named(name) if name == "daily" => 86_400,
        Interval::Named(name) => {
            bail!("alerts.interval {name:?} must be \"hourly\", \"daily\" or seconds")
        }
        Interval::Seconds(secs) => *secs,
    };
    ensure!(
        (HOUR..=MAX_INTERVAL).contains(&interval) && interval.is_multiple_of(HOUR),
        "alerts.interval must be a whole number of hours (3600 seconds) up to a week"
    );
    if let Some(url) = &a.webhook_url {
        check_webhook(url)?;
    }
    let email = match &a.smtp_host {
        None => {
            ensure!(
                a.smtp_from.is_none() && a.smtp_to.is_empty() && a.smtp_username.is_none(),
                "alerts.smtp_from, smtp_to and smtp_username need smtp_host"
            );
            None
        }
        Some(host) => Some(check_email(&a, host)?),
    };
    ensure!(
        a.webhook_url.is_some() || email.is_some(),
        "alerts need a webhook_url or an smtp_host"
    );
    Ok(Alerts {
        interval,
        cover: a.cover,
        webhook_url: a.webhook_url,
        email,
    })
}

fn check_webhook(url: &str) -> anyhow::Result<()> {
    ensure!(
        url.len() <= 2048 && url.bytes().all(|b| b.is_ascii_graphic()),
        "alerts.webhook_url must be a URL without spaces"
    );
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        ensure!(
            is_loopback(host.trim_start_matches('[').trim_end_matches(']')),
            "alerts.webhook_url must be https:// (http:// only to this machine)"
        );
    } else {
        ensure!(
            url.starts_with("https://") && url.len() > "https://".len(),
            "alerts.webhook_url must be https:// (http:// only to this machine)"
        );
    }
    Ok(())
}

fn check_email(a: &AlertsConfig, host: &str) -> anyhow::Result<Email> {
    ensure!(
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic()),
        "alerts.smtp_host must be a host name or address"
    );
    ensure!(
        a.smtp_tls != SmtpTls::None || is_loopback(host),
        "alerts.smtp_tls = \"none\" is only for a mail server on this machine (127.0.0.1, ::1, localhost)"
    );
    let from = a
        .smtp_from
        .clone()
        .context("alerts.smtp_from is needed with smtp_host")?;
    ensure!(
        !a.smtp_to.is_empty(),
        "alerts.smtp_to is needed with smtp_host"
    );
    for address in std::iter::once(&from).chain(&a.smtp_to) {
        ensure!(
            address.parse::<lettre::Address>().is_ok(),
            "alerts: {address:?} is not an email address"
        );
    }
    let login = match (&a.smtp_username, &a.smtp_password_file) {
        (None, None) => None,
        (Some(user), Some(file)) => {
            let text = Zeroizing::new(std::fs::read_to_string(file).with_context(|| {
                format!("cannot read alerts.smtp_password_file {}", file.display())
            })?);
            Some((user.clone(), Zeroizing::new(text.trim_end().to_owned())))
        }
        _ => bail!("alerts.smtp_username and smtp_password_file go together"),
    };
    let port = a.smtp_port.unwrap_or(match a.smtp_tls {
        SmtpTls::Starttls => 587,
        SmtpTls::Tls => 465,
        SmtpTls::None => 25,
    });
    Ok(Email {
        host: host.to_owned(),
        port,
        tls: a.smtp_tls,
        from,
        to: a.smtp_to.clone(),
        login,
    })
}

/// Whether `host` is this machine: `localhost` or a loopback address.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, TEST_STORAGE};

    fn with(lines: &str) -> anyhow::Result<crate::Relay> {
        let recipient = sealtip_envelope::Identity::generate()?.recipient();
        let text = format!(
            "storage = \"{TEST_STORAGE}\"\n[[agencies]]\nid = \"demo\"\nname = \"Demo\"\nrecipients = [\"{recipient}\"]\n[agencies.form]\nid = \"f\"\nquestions = []\n[agencies.alerts]\n{lines}\n"
        );
        toml::from_str::<Config>(&text)?.check()
    }

    fn error(lines: &str) -> String {
        format!("{:#}", with(lines).err().unwrap())
    }

    #[test]
    fn intervals_are_whole_hours_on_the_grid() {
        let interval = |lines: &str| {
            with(lines).unwrap().agencies["demo"]
                .alerts
                .as_ref()
                .unwrap()
                .interval
        };
        let hook = "webhook_url = \"https://hooks.example/x\"\n";
        assert_eq!(interval(&format!("{hook}interval = \"hourly\"")), 3600);
        assert_eq!(interval(&format!("{hook}interval = \"daily\"")), 86_400);
        assert_eq!(interval(&format!("{hook}interval = 21600")), 21_600);
        for bad in ["interval = 60", "interval = 5400", "interval = 1209600"] {
            assert!(error(&format!("{hook}{bad}")).contains("whole number of hours"));
        }
        assert!(error(&format!("{hook}interval = \"weekly\"")).contains("\"weekly\""));
    }

    #[test]
    fn plain_channels_only_to_this_machine() {
        let smtp = "interval = \"daily\"\nsmtp_from = \"relay@example.org\"\nsmtp_to = [\"desk@example.org\"]\n";
        assert!(
            with(&format!(
                "{smtp}smtp_host = \"127.0.0.1\"\nsmtp_tls = \"none\""
            ))
            .is_ok()
        );
        assert!(with(&format!("{smtp}smtp_host = \"mail.example.org\"")).is_ok());
        assert!(
            error(&format!(
                "{smtp}smtp_host = \"mail.example.org\"\nsmtp_tls = \"none\""
            ))
            .contains("only for a mail server on this machine")
        );
        assert!(
            error("interval = \"daily\"\nwebhook_url = \"http://hooks.example/x\"")
                .contains("https://")
        );
        assert!(with("interval = \"daily\"\nwebhook_url = \"http://127.0.0.1:9000/x\"").is_ok());
        assert!(error("interval = \"daily\"").contains("webhook_url or an smtp_host"));
        assert!(
            error(&format!(
                "{smtp}smtp_host = \"mail.example.org\"\nsmtp_username = \"relay\""
            ))
            .contains("go together")
        );
        assert!(
            error("interval = \"daily\"\nsmtp_host = \"mail.example.org\"\nsmtp_from = \"nobody\"\nsmtp_to = [\"desk@example.org\"]")
                .contains("not an email address")
        );
    }
}
