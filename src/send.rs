//! Sending a tip: codename, proof of work, sealing to every agency key
//! ([`crate::sealing`]), upload ([`crate::upload`]); follow-ups in the
//! codename's thread; fetching and deleting its replies. It fails closed:
//! nothing reaches the network unless the whole tip was sealed.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use sealtip_api::{AgencyProfile, ItemKind};
use sealtip_envelope::{Kind, Tip};
use sealtip_envelope::{ReplyKeys, Wordlist};

use crate::api::{self, ApiError};
use crate::browser;
use crate::i18n::Lang;
use crate::i18n::msg;
use crate::replies::{self, OpenedMailbox};
use crate::sealing::{build_tip, follow_up_recipients, recipients, seal};
use crate::state::{Failure, Picked, Progress, Stage};
use crate::upload::{Sending, Uploader};

/// Nonces tried between two yields to the event loop: each is an Argon2id
/// hash of 256 KiB, about half a millisecond in a desktop browser.
const POW_SLICE: u64 = 32;

/// What a sealed tip may add to its attachments, at most: Padmé's padding
/// (under an eighth), age's 16 bytes per 64 KiB, the text and the header
/// with its stanzas. The challenge names the sealed size this bounds.
fn sealed_bound(attachment_bytes: u64) -> u64 {
    attachment_bytes
        .saturating_add(attachment_bytes / 4)
        .saturating_add(256 * 1024)
}

/// A send under way can be cancelled from the page.
#[derive(Clone, Default)]
pub struct Cancel {
    cancelled: Rc<Cell<bool>>,
    abort: Rc<RefCell<Option<web_sys::AbortController>>>,
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.cancelled, &other.cancelled)
    }
}

impl Cancel {
    /// Stops the send at its next step, and aborts an upload in flight.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        if let Some(abort) = self.abort.borrow().as_ref() {
            abort.abort();
        }
    }

    /// The signal that aborts requests when the send is cancelled.
    pub fn signal(&self) -> Option<web_sys::AbortSignal> {
        let mut abort = self.abort.borrow_mut();
        if abort.is_none() {
            *abort = web_sys::AbortController::new().ok();
        }
        abort.as_ref().map(|controller| controller.signal())
    }

    /// Fails once the send was cancelled.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        if self.cancelled.get() {
            Err(failure(msg::SEND_CANCELLED, String::new()))
        } else {
            Ok(())
        }
    }
}

pub(crate) fn failure(key: &'static str, detail: String) -> Failure {
    Failure { key, detail }
}

pub(crate) fn from_api(error: ApiError) -> Failure {
    match error {
        ApiError::Network => failure(msg::REASON_NETWORK, String::new()),
        ApiError::Status { status: 413, .. } => failure(msg::REASON_TOO_BIG, String::new()),
        ApiError::Status { status, reason } => {
            failure(msg::REASON_RELAY, format!("{status} {reason}"))
        }
        ApiError::Decode => failure(msg::REASON_RELAY, error.to_string()),
    }
}

/// Sends a tip; returns its codename. `report` hears each step.
pub async fn send_tip(
    profile: Rc<AgencyProfile>,
    lang: Lang,
    answers: BTreeMap<String, String>,
    files: Vec<Picked>,
    report: impl Fn(Progress) + Clone + 'static,
    cancel: Cancel,
) -> Result<Rc<str>, Failure> {
    let step = {
        let report = report.clone();
        move |stage, fraction| report(Progress { stage, fraction })
    };
    step(Stage::Preparing, 0.02);
    browser::yield_now().await;
    let recipients = recipients(&profile).ok_or(failure(msg::REASON_SEAL, String::new()))?;
    let attachment_bytes: u64 = files.iter().map(|file| file.to_send().0.len()).sum();
    if attachment_bytes > profile.max_upload_bytes {
        return Err(failure(msg::REASON_TOO_BIG, String::new()));
    }
    let codename = wordlist()
        .await?
        .generate(sealtip_envelope::DEFAULT_WORDS)
        .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
    let keys = codename
        .derive()
        .map_err(|_| failure(msg::REASON_SEAL, String::new()))?;
    cancel.check()?;
    step(Stage::Preparing, 0.15);
    let tip = build_tip(&profile, lang, &answers, &browser::today(), Some(&keys));

    let bound = sealed_bound(attachment_bytes);
    let (proof, proof_expires_in) = solve_challenge(&cancel, &profile.id, bound, |f| {
        step(Stage::Preparing, 0.15 + 0.2 * f)
    })
    .await?;

    // Sealing and sending overlap: the bar is half each.
    let total = attachment_bytes.max(1) as f64;
    let shares = Rc::new(Cell::new((0.0, 0.0)));
    let bar = {
        let step = step.clone();
        let shares = shares.clone();
        move |stage, sealed: Option<f64>, sent: Option<f64>| {
            let (was_sealed, was_sent) = shares.get();
            let now = (
                sealed.unwrap_or(was_sealed).min(1.0),
                sent.unwrap_or(was_sent).min(1.0),
            );
            shares.set(now);
            step(stage, 0.35 + 0.64 * (now.0 + now.1) / 2.0);
        }
    };
    let hear = {
        let bar = bar.clone();
        let shares = shares.clone();
        move |sending: Sending| match sending {
            Sending::Sent(bytes) => {
                let stage = if shares.get().0 < 1.0 {
                    Stage::Sealing
                } else {
                    Stage::Sending
                };
                bar(stage, None, Some(bytes as f64 / total));
            }
            Sending::Sealed => bar(Stage::Sending, Some(1.0), None),
            Sending::Waiting => bar(Stage::Reconnecting, None, None),
        }
    };
    let mut uploader = Uploader::new(
        &profile.id,
        ItemKind::Tip,
        proof,
        proof_expires_in,
        cancel.clone(),
        hear,
    );
    step(Stage::Sealing, 0.35);
    browser::yield_now().await;
    let sent = seal(
        &recipients,
        &files,
        tip,
        None,
        &mut uploader,
        |done| bar(Stage::Sealing, Some(done as f64 / total), None),
        &cancel,
    )
    .await;
    if let Err(failed) = sent {
        uploader.abandon().await;
        return Err(failed);
    }
    step(Stage::Done, 1.0);
    Ok(Rc::from(codename.as_str()))
}

thread_local! {
    static WORDLIST: RefCell<Option<Rc<Wordlist>>> = const { RefCell::new(None) };
}

/// The codename wordlist: fetched from the page's own origin the first time
/// a codename is made or typed (it is not part of the first load), checked
/// against its published SHA-256, then kept for the visit.
pub async fn wordlist() -> Result<Rc<Wordlist>, Failure> {
    if let Some(list) = WORDLIST.with_borrow(Clone::clone) {
        return Ok(list);
    }
    let text = api::wordlist().await.map_err(from_api)?;
    let list =
        Rc::new(Wordlist::from_text(&text).map_err(|_| failure(msg::REASON_SEAL, String::new()))?);
    WORDLIST.with_borrow_mut(|slot| *slot = Some(list.clone()));
    Ok(list)
}

/// Fetches a challenge for `agency` and a sealed file of at most `bytes`,
/// and solves it in slices, yielding between them; `report` hears an
/// estimate of how far it is (0.0–1.0). Returns the `Sealtip-Proof` value
/// and the seconds the challenge lives.
async fn solve_challenge(
    cancel: &Cancel,
    agency: &str,
    bytes: u64,
    report: impl Fn(f64),
) -> Result<(String, u64), Failure> {
    let challenge = api::challenge(agency, bytes).await.map_err(from_api)?;
    let work = sealtip_api::pow::parse(&challenge.challenge)
        .map_err(|_| failure(msg::REASON_RELAY, "challenge".into()))?
        .work;
    let expected = f64::from(work);
    let mut start = 0u64;
    loop {
        cancel.check()?;
        match sealtip_api::pow::solve_range(&challenge.challenge, start, POW_SLICE) {
            Ok(Some(nonce)) => {
                let proof = sealtip_api::pow::proof_header(&challenge.challenge, nonce);
                return Ok((proof, challenge.expires_in));
            }
            Ok(None) => start += POW_SLICE,
            Err(_) => return Err(failure(msg::REASON_RELAY, "challenge".into())),
        }
        report(1.0 - (-(start as f64) / expected).exp());
        browser::yield_now().await;
    }
}

/// Whether `id` is what the relay's ids are: 32 lowercase hex digits. Any
/// other id is not put into an address.
fn is_relay_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Fetches the mailbox `keys` names and every reply in it, and opens them
/// in the replies worker ([`crate::replies`], not part of the first load).
/// A reply is the agency's only if it is proven with the thread key; any
/// other is counted in [`OpenedMailbox::unreadable`].
pub async fn open_replies(agency: &str, keys: &ReplyKeys) -> Result<OpenedMailbox, Failure> {
    let mailbox = api::mailbox(agency, &keys.mailbox)
        .await
        .map_err(from_api)?;
    let mut sealed = Vec::new();
    let mut unreadable = 0;
    for reply in mailbox.replies {
        if !is_relay_id(&reply.id) {
            unreadable += 1;
            continue;
        }
        let bytes = api::reply(agency, &keys.mailbox, &reply.id)
            .await
            .map_err(from_api)?;
        sealed.push((reply.id, bytes));
    }
    let mut opened = if sealed.is_empty() {
        OpenedMailbox::default()
    } else {
        replies::open_in_worker(keys, sealed).await?
    };
    opened.unreadable += unreadable;
    Ok(opened)
}

/// Deletes one reply from the codename's mailbox; the relay checks the
/// mailbox secret, which only the codename gives.
pub async fn delete_reply(agency: &str, keys: &ReplyKeys, reply: &str) -> Result<(), Failure> {
    if !is_relay_id(reply) {
        return Err(failure(msg::REASON_RELAY, "reply".into()));
    }
    api::delete_reply(agency, &keys.mailbox, reply, &keys.mailbox_secret)
        .await
        .map_err(from_api)
}

/// Seals a follow-up message in the codename's thread, proven with its
/// thread key, to the keys the agency named (`agency_keys`, see
/// [`follow_up_recipients`]), and sends it.
pub async fn send_message(
    profile: Rc<AgencyProfile>,
    lang: Lang,
    keys: &ReplyKeys,
    agency_keys: &[String],
    text: String,
) -> Result<(), Failure> {
    let recipients = follow_up_recipients(&profile, agency_keys)
        .ok_or(failure(msg::REASON_SEAL, String::new()))?;
    let mut tip = Tip::new(Kind::Message, &profile.id, &browser::today());
    tip.language = lang.tag().to_string();
    tip.text = text.trim().to_string();
    tip.thread = Some(keys.mailbox.clone());
    let cancel = Cancel::default();
    let bound = sealed_bound(0);
    let (proof, proof_expires_in) = solve_challenge(&cancel, &profile.id, bound, |_| {}).await?;
    let mut uploader = Uploader::new(
        &profile.id,
        ItemKind::Message,
        proof,
        proof_expires_in,
        cancel.clone(),
        |_| {},
    );
    seal(
        &recipients,
        &[],
        tip,
        Some(&keys.thread_key),
        &mut uploader,
        |_| {},
        &cancel,
    )
    .await
}
