//! Starting the replies worker from bytes the browser checked.
//!
//! Browsers check no integrity hash on a worker's own script: `new
//! Worker(url)` runs whatever the relay answers for `url`, and checking a
//! first fetch of it proves nothing about the second, which the worker
//! makes. So the page fetches the worker's code itself, with Subresource
//! Integrity, and starts the worker from those bytes, held in a `Blob`: the
//! wasm-bindgen glue (`sealtip-replies.js`) followed by a bootstrap that
//! fetches the wasm with its own hash. The paths and hashes come from the
//! page's own HTML (`<meta name="sealtip-replies">`, written by `cargo
//! xtask web`), never from anything else the relay serves. Other bytes make
//! the browser fail the fetch: then no worker starts, or the one that
//! started never says [`READY`](super::READY), and the page hands the
//! codename's keys to neither.

use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag, Url, Worker};

use crate::api;

/// The `name` of the element in the page's HTML that pins the worker's code.
const META: &str = "meta[name=\"sealtip-replies\"]";

/// What the worker posts, instead of [`READY`](super::READY), when its wasm
/// did not load (the browser refused its bytes, or the connection failed).
const FAILED: &str = "failed";

/// The worker's files and their Subresource Integrity hashes, as the page's
/// own HTML names them.
struct Pinned {
    /// The glue's path (`/sealtip-replies.js`).
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

    /// Lets the blob go once the worker has started (it said something, or
    /// failed): nothing else may start from it.
    pub fn forget_script(&mut self) {
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

/// Fetches the worker's glue with its hash, and starts the worker from it
/// and a bootstrap that loads the wasm with its hash. `None` when the page
/// names no worker, the browser refused the glue's bytes, or the worker
/// could not be made.
pub async fn start() -> Option<Started> {
    let pinned = pinned()?;
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

/// The worker's files and hashes, from the page's own HTML.
fn pinned() -> Option<Pinned> {
    let element = web_sys::window()?.document()?.query_selector(META).ok()??;
    let value = |name: &str| element.get_attribute(name).filter(|v| !v.is_empty());
    Some(Pinned {
        js: value("data-js")?,
        js_integrity: value("data-js-integrity")?,
        wasm: value("data-wasm")?,
        wasm_integrity: value("data-wasm-integrity")?,
    })
}

/// The worker's whole script: the checked glue, then a bootstrap that
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
