//! Starting one of the page's workers from bytes the browser checked: the
//! replies worker (`src/bin/replies.rs`) and the sealing worker
//! (`src/bin/sealing.rs`), each a wasm binary of its own.
//!
//! Browsers check no integrity hash on a worker's own script: `new
//! Worker(url)` runs whatever the relay answers for `url`, and checking a
//! first fetch of it proves nothing about the second, which the worker
//! makes. So the page fetches the worker's code itself, with Subresource
//! Integrity, and starts the worker from those bytes, held in a `Blob`: the
//! wasm-bindgen glue (`sealtip-replies.js`) followed by a bootstrap that
//! waits for the wasm, which the page also fetched with its hash and
//! compiled, and posts to the worker ([`Code`]: fetched and compiled once,
//! however many workers start from it). The paths and hashes come from the
//! page's own HTML (`<meta name="sealtip-replies">`, `<meta
//! name="sealtip-sealing">`, written by `cargo xtask web`), never from
//! anything else the relay serves. Other bytes make the browser fail the
//! fetch: then no worker starts, or the one that started never says
//! [`READY`], and the page hands it nothing (no codename's keys, no tip).
//! This is why the page's CSP allows `worker-src blob:`, where a worker
//! started from its own address (`worker-src 'self'`) would run bytes no
//! one checked.

use js_sys::{Array, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

use crate::api;

/// The replies worker's name: its files (`sealtip-replies.js`,
/// `sealtip-replies_bg.wasm`) and the `<meta name>` that pins them.
pub const REPLIES: &str = "sealtip-replies";

/// The sealing worker's name (see [`REPLIES`]).
pub const SEALING: &str = "sealtip-sealing";

/// What a worker posts once it listens for a job: its wasm, checked, runs.
pub const READY: &str = "ready";

/// What the worker posts, instead of [`READY`], when its wasm did not load
/// (the browser refused its bytes, or the connection failed).
const FAILED: &str = "failed";

/// The worker's files and their Subresource Integrity hashes, as the page's
/// own HTML names them.
struct Pinned {
    /// The glue's path (`/sealtip-replies.js`, `/sealtip-sealing.js`).
    js: String,
    /// Its hash (`sha384-…`).
    js_integrity: String,
    /// The wasm's path (`/sealtip-replies_bg.wasm`).
    wasm: String,
    /// Its hash.
    wasm_integrity: String,
}

/// A worker started from checked bytes; it ends when dropped.
pub struct Started {
    worker: Worker,
    /// The blob's address, until the worker has read it.
    url: Option<String>,
    /// The worker's first word, listened for from its start: a worker's
    /// message that finds no listener is lost.
    first: Promise,
}

impl Started {
    /// The worker.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// Waits for the worker's first word and lets the blob go (nothing else
    /// may start from it): true if the worker said it is [`READY`].
    pub async fn ready(&mut self) -> bool {
        let first = JsFuture::from(self.first.clone()).await;
        self.forget_script();
        text(first).as_deref() == Some(READY)
    }

    /// Lets the blob go once the worker has started (it said something, or
    /// failed).
    fn forget_script(&mut self) {
        if let Some(url) = self.url.take() {
            // A URL that is gone already is as good as revoked.
            let _ = Url::revoke_object_url(&url);
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        self.forget_script();
        self.worker.terminate();
    }
}

/// A promise of the worker's next message (or its error).
pub fn next_message(worker: &Worker) -> Promise {
    Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    })
}

/// The text a worker posted, if it posted text.
pub fn text(message: Result<JsValue, JsValue>) -> Option<String> {
    message
        .ok()
        .and_then(|event| event.dyn_into::<MessageEvent>().ok())
        .and_then(|event| event.data().as_string())
}

/// A worker's code, fetched and checked once: its script (the glue and the
/// bootstrap) and its wasm, compiled. Any number of workers start from it
/// ([`Code::start`]) without fetching or compiling again.
pub struct Code {
    /// The checked glue, then the bootstrap ([`script`]).
    script: String,
    /// The checked wasm, compiled (a `WebAssembly.Module`).
    module: JsValue,
}

/// Fetches the code of the worker `name` ([`REPLIES`], [`SEALING`]), the
/// glue and the wasm each with its hash, and compiles the wasm. `None` when
/// the page names no such worker or the browser refused the bytes.
pub async fn code(name: &str) -> Option<Code> {
    let pinned = pinned(name)?;
    let glue = api::page_script(&pinned.js, &pinned.js_integrity)
        .await
        .ok()?;
    let module = api::page_wasm(&pinned.wasm, &pinned.wasm_integrity)
        .await
        .ok()?;
    Some(Code {
        script: script(&glue),
        module,
    })
}

impl Code {
    /// Starts a worker from this code and hands it the compiled wasm;
    /// `None` if the browser would not make the worker.
    pub fn start(&self) -> Option<Started> {
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let parts = Array::of1(&JsValue::from_str(&self.script));
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        let url = Url::create_object_url_with_blob(&blob).ok()?;
        let worker = match Worker::new(&url) {
            Ok(worker) => worker,
            Err(_) => {
                let _ = Url::revoke_object_url(&url);
                return None;
            }
        };
        let started = Started {
            first: next_message(&worker),
            worker,
            url: Some(url),
        };
        started.worker.post_message(&self.module).ok()?;
        Some(started)
    }
}

/// Fetches the code of the worker `name` and starts one worker from it
/// (see [`code`]).
pub async fn start(name: &str) -> Option<Started> {
    code(name).await?.start()
}

/// The files and hashes of the worker `name`, from the page's own HTML.
fn pinned(name: &str) -> Option<Pinned> {
    let selector = format!("meta[name=\"{name}\"]");
    let element = web_sys::window()?
        .document()?
        .query_selector(&selector)
        .ok()??;
    let value = |name: &str| element.get_attribute(name).filter(|v| !v.is_empty());
    Some(Pinned {
        js: value("data-js")?,
        js_integrity: value("data-js-integrity")?,
        wasm: value("data-wasm")?,
        wasm_integrity: value("data-wasm-integrity")?,
    })
}

/// A worker's whole script: the checked glue, then a bootstrap that starts
/// it with the compiled wasm the page posts first (checked by the page
/// against its hash), and says [`FAILED`] if that fails.
pub fn script(glue: &str) -> String {
    format!(
        "{glue}\n;self.onmessage = function (event) {{ self.onmessage = null; \
         wasm_bindgen({{ module_or_path: event.data }})\
         .catch(function () {{ self.postMessage(\"{FAILED}\"); }}); }};\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_starts_the_glue_with_the_wasm_the_page_posts() {
        let script = script("let wasm_bindgen = 1;");
        assert!(script.starts_with("let wasm_bindgen = 1;\n;self.onmessage = function (event)"));
        assert!(script.contains("wasm_bindgen({ module_or_path: event.data })"));
        assert!(script.contains("self.postMessage(\"failed\")"));
    }
}
