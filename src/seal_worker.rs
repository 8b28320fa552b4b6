//! Sealing and sending in a worker, so that the page's main thread only
//! draws and answers the tipster (the quick exit above all) while a large
//! video is sealed.
//!
//! The sealing worker is a wasm binary of its own (`src/bin/sealing.rs`,
//! built by Trunk as `sealtip-sealing`), started from bytes the browser
//! checked against the page's own HTML ([`crate::worker`]) when the
//! tipster sends, so its code is not part of the page's first load. Three
//! instances start from those bytes, on cores of their own where the
//! device has them: the sealing worker, its helper ([`helper`]) and its
//! sender ([`sender`]), the sealing worker joined to each by a
//! `MessageChannel`. The page decides what is sealed and to whom (the
//! answers, the pinned keys, the files as the tipster left them) and posts
//! it as a [`Job`]; the worker reads the files in slices and seals
//! ([`work`]), reporting each step ([`Report`]), which the page draws,
//! while the helper makes the codename and hashes each sealed slice, and
//! the sender solves the proof of work and drives the upload session. To
//! cancel, or to leave, the page ends all three at once
//! (`Worker.terminate()`, which stops the upload too) and asks the relay to
//! drop the session it opened.

pub mod helper;
pub mod job;
pub mod port;
pub mod sender;
pub mod work;

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageChannel, MessageEvent};
use yew::platform::pinned::mpsc;

pub use job::{Job, Report, Thread};

use crate::api;
use crate::i18n::msg;
use crate::send::{Cancel, failure};
use crate::state::{Contents, Failure, Progress};
use crate::worker;

/// The sealing worker's code, fetched and compiled once: a shared future,
/// so that [`prepare`] and a send that comes before it finished wait for
/// the same fetch.
type Preparing = Shared<LocalBoxFuture<'static, Option<Rc<worker::Code>>>>;

thread_local! {
    static PREPARED: RefCell<Option<Preparing>> = const { RefCell::new(None) };
}

/// How long after the form is drawn the sealing worker's code is fetched:
/// after the page's own loading, which it would slow on a slow connection,
/// and before a tipster has written a tip.
const PREPARE_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// Fetches and compiles the sealing worker's code in the background, a
/// little after the page calls it (once its form is drawn), so that Send
/// starts sealing at once. Every visitor's page does it at the same time,
/// whether or not they type or send: the relay learns nothing from it.
pub fn prepare() {
    wasm_bindgen_futures::spawn_local(async move {
        crate::browser::sleep(PREPARE_AFTER).await;
        preparing().await;
    });
}

/// The fetch of the sealing worker's code under way or done, started if
/// none is, or if the last one failed.
fn preparing() -> Preparing {
    PREPARED.with_borrow_mut(|prepared| match prepared {
        Some(preparing) if preparing.peek().is_none_or(Option::is_some) => preparing.clone(),
        _ => {
            let fetching: LocalBoxFuture<'static, _> =
                Box::pin(async { worker::code(worker::SEALING).await.map(Rc::new) });
            let preparing = fetching.shared();
            *prepared = Some(preparing.clone());
            preparing
        }
    })
}

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
    let to_helper = MessageChannel::new().map_err(|_| failed())?;
    let to_sender = MessageChannel::new().map_err(|_| failed())?;
    let ports = job::Ports {
        helper: to_helper.port1(),
        sender: to_sender.port1(),
    };
    let (message, handed_over) = job.message(contents, &ports).ok_or_else(failed)?;
    let helper_task = helper::Task {
        origin: job.origin.clone(),
        make_codename: job.thread == Thread::NewCodename,
    };
    let sender_task = sender::Task {
        sends_to: job.origin.clone(),
    };
    let tasks = [
        port::task_message(&helper_task, &to_helper.port2()),
        port::task_message(&sender_task, &to_sender.port2()),
    ];
    drop(job);
    let code = preparing().await.ok_or_else(failed)?;
    let mut started = code.start().ok_or_else(failed)?;
    let mut beside = [
        code.start().ok_or_else(failed)?,
        code.start().ok_or_else(failed)?,
    ];
    drop(code);
    cancel.check()?;
    for worker in std::iter::once(&mut started).chain(&mut beside) {
        if !worker.ready().await {
            return Err(failed());
        }
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
    // The helper and the sender say nothing to the page; if one fails,
    // sending cannot end.
    let besides: Vec<_> = beside
        .iter()
        .map(|started| started.worker().clone())
        .collect();
    for worker in &besides {
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    }
    let session = Rc::new(RefCell::new(None::<String>));
    cancel.on_cancel({
        let session = session.clone();
        move || {
            running.terminate();
            for worker in &besides {
                worker.terminate();
            }
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
    for (worker, task) in beside.iter().zip(tasks) {
        let (task, handed_over) = task.ok_or_else(failed)?;
        worker
            .worker()
            .post_message_with_transfer(&task, &handed_over)
            .map_err(|_| failed())?;
    }
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
            Some(Report::Failed(failed)) => break Err(failed.failure()),
            None => break Err(failed()),
        }
    };
    // Nothing left to drop once it ended; the workers end when `started`
    // and `beside` are dropped, whatever happened.
    session.borrow_mut().take();
    drop((started, beside));
    drop((on_message, on_error));
    ended
}
