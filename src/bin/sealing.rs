//! The worker that seals and sends a tip or follow-up (see
//! `sealtip_web::seal_worker`): a wasm binary of its own, started by the
//! page from bytes it checked (`sealtip_web::worker`) when the tipster
//! sends, so that proof of work, the codename's derivation, sealing and
//! uploading run off the page's main thread and outside its first load. It
//! says it is ready once it listens, then does the job it is handed,
//! reporting each step; the page ends it to cancel.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reporting = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let reporting = reporting.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let tell = move |report: sealtip_web::seal_worker::Report| {
                // A page that is gone hears nothing: nothing to do about it.
                let _ = reporting.post_message(&report.to_message());
            };
            sealtip_web::seal_worker::work::answer(&event.data(), tell).await;
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it; so does its listener.
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(sealtip_web::worker::READY));
}
