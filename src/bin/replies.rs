//! The worker that opens a codename's replies (see `sealtip_web::replies`):
//! a wasm binary of its own, started by the page only when a tipster checks
//! for replies, so that the code that opens age files is not part of the
//! page's first load; the page starts it from bytes it checked
//! (`sealtip_web::worker`). It says it is ready once it listens,
//! then answers each job with what it opened.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let replying = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let answer = sealtip_web::replies::answer(&event.data());
        // A page that is gone hears nothing: nothing to do about it.
        let _ = replying.post_message(&JsValue::from_str(&answer));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it; so does its listener.
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(sealtip_web::worker::READY));
}
