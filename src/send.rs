//! Sending a tip: what is sealed and to whom ([`crate::sealing`]), handed
//! to the sealing worker ([`crate::seal_worker`]), which makes the
//! codename, solves the proof of work, seals and uploads; follow-ups in the
//! codename's thread, the same way; fetching and deleting its replies. It
//! fails closed: nothing reaches the network unless the whole tip was
//! sealed.

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
use crate::seal_worker::{self, Job, Thread};
use crate::sealing::{Attachment, build_tip, follow_up_recipients, recipients};
use crate::state::{Failure, Picked, Progress, Stage};

/// What stops a send under way, once.
type Stop = Box<dyn FnOnce()>;

/// A send under way can be cancelled from the page.
#[derive(Clone, Default)]
pub struct Cancel {
    cancelled: Rc<Cell<bool>>,
    abort: Rc<RefCell<Option<web_sys::AbortController>>>,
    stop: Rc<RefCell<Option<Stop>>>,
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.cancelled, &other.cancelled)
    }
}

impl Cancel {
    /// Stops the send: at once when it runs in the sealing worker (see
    /// [`Cancel::on_cancel`]), else at its next step, aborting an upload
    /// in flight.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        if let Some(abort) = self.abort.borrow().as_ref() {
            abort.abort();
        }
        let stop = self.stop.borrow_mut().take();
        if let Some(stop) = stop {
            stop();
        }
    }

    /// Has `stop` called when the send is cancelled (at once, if it was).
    pub fn on_cancel(&self, stop: impl FnOnce() + 'static) {
        if self.cancelled.get() {
            stop();
        } else {
            *self.stop.borrow_mut() = Some(Box::new(stop));
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

/// Sends a tip; returns its codename. `report` hears each step. The page
/// checks the agency's keys (its pins) and builds the tip; the sealing
/// worker does the rest.
pub async fn send_tip(
    profile: Rc<AgencyProfile>,
    lang: Lang,
    answers: BTreeMap<String, String>,
    files: Vec<Picked>,
    report: impl Fn(Progress) + 'static,
    cancel: Cancel,
) -> Result<Rc<str>, Failure> {
    report(Progress {
        stage: Stage::Preparing,
        fraction: 0.02,
    });
    let recipients = recipients(&profile).ok_or(failure(msg::REASON_SEAL, String::new()))?;
    let tip = build_tip(&profile, lang, &answers, &browser::today(), None);
    let (files, contents): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|file| {
            let attachment = Attachment::of(file);
            (attachment.described, attachment.contents)
        })
        .unzip();
    let job = Job {
        origin: browser::origin(),
        agency: profile.id.clone(),
        kind: ItemKind::Tip,
        recipients: recipients.iter().map(ToString::to_string).collect(),
        tip,
        files,
        thread: Thread::NewCodename,
        max_upload_bytes: profile.max_upload_bytes,
    };
    let codename = seal_worker::send(job, &contents, report, &cancel).await?;
    codename
        .map(|codename| Rc::from(codename.as_str()))
        .ok_or(failure(msg::REASON_SEAL, String::new()))
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
    let job = Job {
        origin: browser::origin(),
        agency: profile.id.clone(),
        kind: ItemKind::Message,
        recipients: recipients.iter().map(ToString::to_string).collect(),
        tip,
        files: Vec::new(),
        thread: Thread::Key(keys.thread_key.to_hex().to_string()),
        max_upload_bytes: profile.max_upload_bytes,
    };
    seal_worker::send(job, &[], |_| {}, &Cancel::default())
        .await
        .map(|_| ())
}
