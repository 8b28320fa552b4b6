//! Sealing and sending in a worker, so that the page's main thread only
//! draws and answers the tipster (the quick exit above all) while a large
//! video is sealed.
//!
//! The sealing worker is a wasm binary of its own (`src/bin/sealing.rs`,
//! built by Trunk as `sealtip-sealing`), started from bytes the browser
//! checked against the page's own HTML ([`crate::worker`]) when the
//! tipster sends, so its code is not part of the page's first load. The
//! page decides what is sealed and to whom (the answers, the pinned keys,
//! the files as the tipster left them) and posts it as a [`Job`]; the
//! worker makes the codename, solves the proof of work, reads the files in
//! slices, seals, and drives the upload session ([`work`]), reporting each
//! step ([`Report`]), which the page draws. To cancel, or to leave, the
//! page ends the worker at once (`Worker.terminate()`, which stops its
//! upload too) and asks the relay to drop the session it opened.

pub mod job;
pub mod work;

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;
use yew::platform::pinned::mpsc;

pub use job::{Job, Report, Thread};

use crate::api;
use crate::i18n::msg;
use crate::send::{Cancel, failure};
use crate::state::{Contents, Failure, Progress};
use crate::worker;

/// Seals and sends `job` with the files' `contents` in the sealing worker;
/// `report` hears its progress. Returns the codename if the worker made
/// one. `cancel` ends the worker and the send at once.
pub async fn send(
    job: Job,
    contents: &[Contents],
    report: impl Fn(Progress),
    cancel: &Cancel,
) -> Result<Option<String>, Failure> {
    let failed = || failure(msg::REASON_SEAL, String::new());
    let (message, handed_over) = job.message(contents).ok_or_else(failed)?;
    drop(job);
    let mut started = worker::start(worker::SEALING).await.ok_or_else(failed)?;
    cancel.check()?;
    if !started.ready().await {
        return Err(failed());
    }
    let (tell, mut heard) = mpsc::unbounded();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new({
        let tell = tell.clone();
        move |event: MessageEvent| {
            if let Some(report) = Report::read(&event.data()) {
                let _ = tell.send_now(report);
            }
        }
    });
    let on_error = Closure::<dyn Fn(JsValue)>::new({
        let tell = tell.clone();
        move |_| {
            let _ = tell.send_now(Report::failed(failed()));
        }
    });
    let running = started.worker().clone();
    running.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    running.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let session = Rc::new(RefCell::new(None::<String>));
    cancel.on_cancel({
        let session = session.clone();
        move || {
            running.terminate();
            if let Some(session) = session.borrow_mut().take() {
                // Best effort, and not waited for: the relay drops
                // forgotten sessions by itself.
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = api::drop_upload(&session).await;
                });
            }
            let cancelled = failure(msg::SEND_CANCELLED, String::new());
            let _ = tell.send_now(Report::failed(cancelled));
        }
    });
    started
        .worker()
        .post_message_with_transfer(&message, &handed_over)
        .map_err(|_| failed())?;
    drop((message, handed_over));
    let ended = loop {
        match heard.next().await {
            Some(Report::Progress(progress)) => report(progress),
            Some(Report::Session(id)) => *session.borrow_mut() = Some(id),
            Some(Report::Sent(codename)) => break Ok(codename),
            Some(Report::Failed { key, detail }) => break Err(Report::failure(&key, detail)),
            None => break Err(failed()),
        }
    };
    // Nothing left to drop once it ended; the worker ends when `started`
    // is dropped, whatever happened.
    session.borrow_mut().take();
    drop(started);
    drop((on_message, on_error));
    ended
}
