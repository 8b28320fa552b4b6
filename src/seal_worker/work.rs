//! What the sealing worker does with a job, off the page's main thread:
//! reading the files in slices and sealing, telling the page how far it
//! is, while two other instances of this worker work beside it: its helper
//! ([`super::helper`]) makes the codename and hashes the sealed slices, its
//! sender ([`super::sender`]) solves the proof of work and sends the sealed
//! parts. The page ends all three to cancel, so nothing here waits for a
//! word from it.

use std::cell::Cell;
use std::rc::Rc;

use sealtip_envelope::{Recipient, ThreadKey};

use super::helper::{self, Helper};
use super::job::{Job, Report, Thread};
use super::port;
use super::sender::{self, Order, Sender};
use crate::api;
use crate::i18n::msg;
use crate::sealing::{Attachment, seal};
use crate::send::{Cancel, failure};
use crate::state::{Contents, Failure, Progress, Stage};
use crate::upload::Sending;

/// Answers a message from the page: a job is done, `tell` hearing each
/// [`Report`], the last one how it ended; a helper's or a sender's task is
/// served (see [`helper::serve`], [`sender::serve`]); anything else is
/// ignored.
pub async fn answer(message: &wasm_bindgen::JsValue, tell: impl Fn(Report) + Clone + 'static) {
    let Some((job, contents, ports)) = Job::read(message) else {
        if let Some((task, port)) = port::read_task::<helper::Task>(message) {
            helper::serve(task, port).await;
        } else if let Some((task, port)) = port::read_task::<sender::Task>(message) {
            sender::serve(task, port).await;
        }
        return;
    };
    let helper = Helper::new(ports.helper, job.thread == Thread::NewCodename);
    let ended = match work(&job, contents, helper, ports.sender, tell.clone()).await {
        Ok(codename) => Report::Sent(codename),
        Err(failed) => Report::failed(failed),
    };
    tell(ended);
}

/// How far the bar moves between two progress reports to the page.
const REPORT_STEP: f64 = 0.005;

/// What a sealed tip may add to its attachments, at most: Padmé's padding
/// (under an eighth), age's 16 bytes per 64 KiB, the text and the header
/// with its stanzas. The challenge names the sealed size this bounds.
fn sealed_bound(attachment_bytes: u64) -> u64 {
    attachment_bytes
        .saturating_add(attachment_bytes / 4)
        .saturating_add(256 * 1024)
}

/// Seals `job` with the files' `contents`, with `helper` beside, and sends
/// it through the sender at the other end of `to_sender`; returns the
/// codename if the helper made one. It fails closed: nothing reaches the
/// relay unless the whole item was sealed.
async fn work(
    job: &Job,
    contents: Vec<Contents>,
    mut helper: Helper,
    to_sender: web_sys::MessagePort,
    tell: impl Fn(Report) + Clone + 'static,
) -> Result<Option<String>, Failure> {
    let seal_failed = || failure(msg::REASON_SEAL, String::new());
    api::serve_from(&job.origin);
    // Each report is a message the page draws: at most one per
    // [`REPORT_STEP`] of the bar, or when the stage changes, so that a
    // large file's thousands of chunks and upload events do not keep the
    // page's main thread drawing.
    let reported = Rc::new(Cell::new(None::<Progress>));
    let step = {
        let tell = tell.clone();
        move |stage, fraction: f64| {
            let moved = reported.get().is_none_or(|last| {
                last.stage != stage || (fraction - last.fraction).abs() >= REPORT_STEP
            });
            if moved {
                reported.set(Some(Progress { stage, fraction }));
                tell(Report::Progress(Progress { stage, fraction }));
            }
        }
    };
    step(Stage::Preparing, 0.02);
    let recipients = job
        .recipients
        .iter()
        .map(|r| Recipient::parse(r).ok())
        .collect::<Option<Vec<_>>>()
        .filter(|recipients| !recipients.is_empty())
        .ok_or_else(seal_failed)?;
    let files: Vec<Attachment> = job
        .files
        .iter()
        .cloned()
        .zip(contents)
        .map(|(described, contents)| Attachment {
            described,
            contents,
        })
        .collect();
    let attachment_bytes: u64 = files.iter().map(|file| file.contents.len()).sum();
    if attachment_bytes > job.max_upload_bytes {
        return Err(failure(msg::REASON_TOO_BIG, String::new()));
    }
    let thread = match &job.thread {
        Thread::NewCodename => None,
        Thread::Key(hex) => Some(ThreadKey::from_hex(hex).map_err(|_| seal_failed())?),
    };

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
            step(stage, 0.05 + 0.94 * (now.0 + now.1) / 2.0);
        }
    };
    let hear = {
        let bar = bar.clone();
        move |sending: Sending| match sending {
            Sending::Opened(session) => tell(Report::Session(session)),
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
    // The sender solves the proof of work while the first parts are sealed.
    let order = Order {
        agency: job.agency.clone(),
        kind: job.kind,
        sealed_bound: sealed_bound(attachment_bytes),
    };
    let mut sender = Sender::new(to_sender, &order, hear)?;
    // Never cancelled here: the page ends the whole worker instead.
    let cancel = Cancel::default();
    step(Stage::Sealing, 0.05);
    let sent = seal(
        &recipients,
        &files,
        job.tip.clone(),
        thread.as_ref(),
        &mut sender,
        &mut helper,
        |done| bar(Stage::Sealing, Some(done as f64 / total), None),
        &cancel,
    )
    .await;
    if let Err(failed) = sent {
        sender.abandon();
        return Err(failed);
    }
    step(Stage::Done, 1.0);
    Ok(helper.codename())
}
