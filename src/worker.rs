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
//! fetches the wasm with its own hash. The paths and hashes come from the
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
}

impl Started {
    /// The worker.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// Waits for the worker's first word and lets the blob go (nothing else
    /// may start from it): true if the worker said it is [`READY`].
    pub async fn ready(&mut self) -> bool {
        let first = JsFuture::from(next_message(&self.worker)).await;
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

/// Fetches the glue of the worker `name` ([`REPLIES`], [`SEALING`]) with its
/// hash, and starts the worker from it and a bootstrap that loads the wasm
/// with its hash. `None` when the page names no such worker, the browser
/// refused the glue's bytes, or the worker could not be made.
pub async fn start(name: &str) -> Option<Started> {
    let pinned = pinned(name)?;
    let glue = api::page_script(&pinned.js, &pinned.js_integrity)
        .await
        .ok()?;
    let location = web_sys::window()?.location().href().ok()?;
    // The worker runs at a blob: address, so it is given the wasm's full one.
    let wasm = Url::new_with_base(&pinned.wasm, &location).ok()?.href();
    let source = script(&glue, &wasm, &pinned.wasm_integrity);
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let parts = Array::of1(&JsValue::from_str(&source));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    match Worker::new(&url) {
        Ok(worker) => Some(Started {
            worker,
            url: Some(url),
        }),
        Err(_) => {
            let _ = Url::revoke_object_url(&url);
            None
        }
    }
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

/// A worker's whole script: the checked glue, then a bootstrap that
/// starts it with the wasm at `wasm` fetched with `integrity` (the browser
/// refuses other bytes), and says [`FAILED`] if that fails. The strings
/// are written as JSON literals, never spliced in raw.
pub fn script(glue: &str, wasm: &str, integrity: &str) -> String {
    let literal = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        "{glue}\n;wasm_bindgen({{ module_or_path: fetch({wasm}, {{ integrity: {integrity}, \
         credentials: \"omit\", cache: \"no-store\", referrerPolicy: \"no-referrer\" }}) }})\
         .catch(function () {{ self.postMessage({failed}); }});\n",
        wasm = literal(wasm),
        integrity = literal(integrity),
        failed = literal(FAILED),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_loads_the_wasm_with_its_hash_after_the_glue() {
        let script = script(
            "let wasm_bindgen = 1;",
            "http://127.0.0.1:8080/sealtip-replies_bg.wasm",
            "sha384-AbC+/=",
        );
        assert!(script.starts_with("let wasm_bindgen = 1;\n;wasm_bindgen("));
        assert!(script.contains(
            "fetch(\"http://127.0.0.1:8080/sealtip-replies_bg.wasm\", { integrity: \"sha384-AbC+/=\","
        ));
        assert!(script.contains("self.postMessage(\"failed\")"));
    }

    #[test]
    fn names_from_the_page_cannot_break_out_of_their_strings() {
        let script = script("", "/x\"); postMessage(1); (\"\n", "sha384-\"\\");
        assert!(
            script.contains(r#"fetch("/x\"); postMessage(1); (\"\n", { integrity: "sha384-\"\\","#)
        );
    }
}
