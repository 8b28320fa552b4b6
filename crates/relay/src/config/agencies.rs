//! `[[agencies]]`: each agency as written, and checked (recipients of one
//! kind, token hashes, languages, the form, the exit URL and the origins
//! that may embed it, its retention; its alerts in [`super::alerts`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::{Context, ensure};
use sealtip_api::{AgencyProfile, Form, Localized, QuestionKind};
use sealtip_envelope::Recipient;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::alerts::{Alerts, AlertsConfig, check_alerts};
use super::{Limits, PowConfig};

/// One agency, as written in `relay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// Short id used in URLs: `[a-z0-9-]`, 1 to 63 characters.
    pub id: String,
    /// Display name.
    pub name: String,
    /// age recipients, one per officer key, all of one kind: hybrid
    /// post-quantum (`age1pq1…`, the default) or X25519-only (`age1…`).
    pub recipients: Vec<String>,
    /// SHA-256 (hex) of each inbox token; the tokens themselves stay with the agency.
    #[serde(default)]
    pub token_hashes: Vec<String>,
    /// Form languages, the first being the default (default `["en"]`).
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// The tip form.
    pub form: Form,
    /// Emergency contact text, per language.
    #[serde(default)]
    pub emergency: Localized,
    /// Origins allowed to embed the form in a frame (`https://host[:port]`).
    #[serde(default)]
    pub embed_origins: Vec<String>,
    /// Where the quick-exit button leads.
    #[serde(default = "default_exit_url")]
    pub exit_url: String,
    /// The agency served at `/`.
    #[serde(default)]
    pub default: bool,
    /// Bytes this agency's items, replies and upload sessions may take
    /// (default and at most: `limits.max_bytes`).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Days this agency's items (tips, messages, case items) and replies
    /// are kept, counted from the hour each arrived; then the relay deletes
    /// them with their bytes. Absent: kept until deleted (replies still
    /// go after `limits.reply_retention_days`).
    #[serde(default)]
    pub retention_days: Option<u64>,
    /// `[agencies.alerts]`: telling the agency that something arrived.
    #[serde(default)]
    pub alerts: Option<AlertsConfig>,
}

fn default_languages() -> Vec<String> {
    vec!["en".into()]
}

fn default_exit_url() -> String {
    "https://www.wikipedia.org/".into()
}

/// One agency, checked.
#[derive(Debug)]
pub struct Agency {
    /// Its public profile, as `GET /api/v1/agencies/{id}` serves it.
    pub profile: AgencyProfile,
    /// SHA-256 of each inbox token.
    pub token_hashes: Vec<[u8; 32]>,
    /// The CSP `frame-ancestors` source list for its pages.
    pub frame_ancestors: String,
    /// Bytes its items, replies and upload sessions may take.
    pub max_bytes: u64,
    /// Days its items and replies are kept, if limited.
    pub retention_days: Option<u64>,
    /// Its alerts, if it asked for them.
    pub alerts: Option<Alerts>,
}

impl Agency {
    /// Whether `token` is one of this agency's inbox tokens (constant time in
    /// the token; the number of tokens is not secret).
    pub fn accepts_token(&self, token: &str) -> bool {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut ok = subtle::Choice::from(0);
        for stored in &self.token_hashes {
            ok |= stored.ct_eq(&hash);
        }
        ok.into()
    }

    /// The hour before which its items and replies are deleted at `now`,
    /// if it keeps them a limited time.
    pub fn retention_cutoff(&self, now: u64) -> Option<u64> {
        self.retention_days
            .map(|days| crate::time::retention_cutoff(now, days))
    }
}

/// Whether `id` can name an agency: `[a-z0-9-]`, 1 to 63 characters, not starting with `-`.
pub fn is_agency_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn check_agency(
    a: AgencyConfig,
    limits: &Limits,
    pow: &PowConfig,
) -> anyhow::Result<Agency> {
    ensure!(
        is_agency_id(&a.id),
        "id must be 1 to 63 characters of a-z, 0-9 and -"
    );
    ensure!(!a.name.trim().is_empty(), "name is empty");
    ensure!(!a.recipients.is_empty(), "recipients is empty");
    let mut recipients = Vec::new();
    let mut kinds = BTreeSet::new();
    for text in &a.recipients {
        let recipient = Recipient::parse(text).with_context(|| {
            format!("recipient {:?}", text.chars().take(24).collect::<String>())
        })?;
        kinds.insert(format!("{:?}", recipient.kind()));
        recipients.push(recipient.to_string());
    }
    // The page could seal to no one: a file is never sealed to hybrid and
    // X25519-only keys together.
    ensure!(
        kinds.len() == 1,
        "recipients mix hybrid post-quantum (age1pq1…) and X25519-only (age1…) keys; an agency's officers must all be of one kind"
    );
    let mut token_hashes = Vec::new();
    for text in &a.token_hashes {
        let bytes = hex::decode(text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .with_context(|| format!("token hash {text:?} is not 64 hex digits"))?;
        token_hashes.push(bytes);
    }
    ensure!(!a.languages.is_empty(), "languages is empty");
    for lang in &a.languages {
        ensure!(
            (2..=35).contains(&lang.len())
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "language {lang:?} is not a language tag"
        );
    }
    check_form(&a.form, &a.languages[0])?;
    ensure!(
        is_plain_url(&a.exit_url),
        "exit_url must be an http(s) URL without spaces or quotes"
    );
    let mut sources = Vec::new();
    for origin in &a.embed_origins {
        ensure!(
            is_origin(origin),
            "embed origin {origin:?} must be scheme://host[:port] with no path"
        );
        sources.push(origin.as_str());
    }
    ensure!(a.max_bytes != Some(0), "max_bytes must be > 0");
    if let Some(days) = a.retention_days {
        ensure!(
            (1..=36_500).contains(&days),
            "retention_days must be 1 to 36500"
        );
    }
    let max_bytes = a.max_bytes.unwrap_or(u64::MAX).min(limits.max_bytes);
    let alerts = a.alerts.map(check_alerts).transpose()?;
    let frame_ancestors = if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    };
    Ok(Agency {
        profile: AgencyProfile {
            id: a.id,
            name: a.name,
            recipients,
            languages: a.languages,
            form: a.form,
            emergency: a.emergency,
            exit_url: a.exit_url,
            embed_origins: a.embed_origins,
            pow_difficulty: pow.difficulty,
            max_upload_bytes: limits.max_upload_bytes,
        },
        token_hashes,
        frame_ancestors,
        max_bytes,
        retention_days: a.retention_days,
        alerts,
    })
}

fn check_form(form: &Form, first_language: &str) -> anyhow::Result<()> {
    ensure!(!form.id.is_empty(), "form.id is empty");
    let mut ids = HashSet::new();
    for q in &form.questions {
        ensure!(
            is_agency_id(&q.id.replace('_', "-")),
            "question id {:?} must be a-z, 0-9, - and _",
            q.id
        );
        ensure!(ids.insert(&q.id), "question id {:?} appears twice", q.id);
        ensure!(
            q.label.contains_key(first_language),
            "question {:?} has no label in {first_language:?}",
            q.id
        );
        match q.kind {
            QuestionKind::Choice => {
                ensure!(
                    !q.choices.is_empty(),
                    "choice question {:?} has no choices",
                    q.id
                );
                let mut choice_ids = HashSet::new();
                for c in &q.choices {
                    ensure!(
                        choice_ids.insert(&c.id) && !c.id.is_empty(),
                        "question {:?}: choice ids must be unique and non-empty",
                        q.id
                    );
                    ensure!(
                        c.label.contains_key(first_language),
                        "question {:?}: choice {:?} has no label in {first_language:?}",
                        q.id,
                        c.id
                    );
                }
            }
            _ => ensure!(
                q.choices.is_empty(),
                "question {:?} has choices but is not a choice question",
                q.id
            ),
        }
    }
    Ok(())
}

fn is_plain_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'))
}

/// `scheme://host[:port]`: what a CSP source expression may hold safely.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && rest.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'*' | b'[' | b']')
        })
}

/// Builds the `[agencies.form]` of a config from a form, for `init`.
pub fn localized(pairs: &[(&str, &str)]) -> Localized {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<BTreeMap<_, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, TEST_STORAGE};

    #[test]
    fn origins_are_checked_so_they_cannot_break_the_csp() {
        for good in [
            "https://news.example",
            "http://localhost:8000",
            "https://*.city.example",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "news.example",
            "https://news.example/path",
            "https://a.example; script-src *",
            "https://",
            "javascript://x",
            "https://a.example 'unsafe-inline'",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn an_agency_never_mixes_hybrid_and_x25519_officers() {
        use sealtip_envelope::{Identity, KeyKind};
        let hybrid = Identity::generate().unwrap().recipient().to_string();
        let legacy = Identity::generate_kind(KeyKind::X25519)
            .unwrap()
            .recipient()
            .to_string();
        let with = |keys: &[&str]| {
            let list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
            let text = format!(
                "storage = \"{TEST_STORAGE}\"\n[[agencies]]\nid = \"demo\"\nname = \"Demo\"\nrecipients = [{}]\n[agencies.form]\nid = \"f\"\n[[agencies.form.questions]]\nid = \"what\"\nkind = \"long_text\"\nlabel = {{ en = \"What?\" }}\n",
                list.join(", ")
            );
            toml::from_str::<Config>(&text).unwrap().check()
        };
        assert!(with(&[&hybrid]).is_ok());
        assert!(with(&[&legacy]).is_ok());
        let error = with(&[&hybrid, &legacy]).err().unwrap();
        assert!(format!("{error:#}").contains("one kind"), "{error:#}");
    }

    #[test]
    fn agency_ids_are_plain() {
        assert!(is_agency_id("demo"));
        assert!(is_agency_id("city-police-2"));
        for bad in [
            "",
            "-x",
            "Demo",
            "a/b",
            "..",
            "a.b",
            "a%2fb",
            &"a".repeat(64),
        ] {
            assert!(!is_agency_id(bad), "{bad}");
        }
    }
}
