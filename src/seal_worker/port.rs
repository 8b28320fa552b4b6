//! One end of a `MessagePort` between two instances of the sealing worker
//! (the sealing worker and its helper, the sealing worker and its sender):
//! what comes in, read in order, and what goes out, bytes handed over
//! rather than copied.

use futures_util::StreamExt;
use js_sys::{Array, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, MessagePort};
use yew::platform::pinned::mpsc;
use zeroize::Zeroizing;

use crate::i18n::msg;
use crate::send::failure;
use crate::state::Failure;

/// One end of a port, listening from its creation.
pub struct Port {
    poster: Poster,
    heard: mpsc::UnboundedReceiver<JsValue>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
}

/// What posts on a port: a handle that can be moved into a closure.
#[derive(Clone)]
pub struct Poster(MessagePort);

/// The failure when the other end is gone or said something unreadable.
fn lost() -> Failure {
    failure(msg::REASON_SEAL, String::new())
}

impl Port {
    /// Listens on `port`.
    pub fn new(port: MessagePort) -> Port {
        let (tell, heard) = mpsc::unbounded();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let _ = tell.send_now(event.data());
        });
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Port {
            poster: Poster(port),
            heard,
            _on_message: on_message,
        }
    }

    /// The next message, waited for.
    pub async fn next(&mut self) -> Result<JsValue, Failure> {
        self.heard.next().await.ok_or_else(lost)
    }

    /// The next message, waited for if `wait`, else only one that is
    /// there already.
    pub async fn next_if(&mut self, wait: bool) -> Result<Option<JsValue>, Failure> {
        if wait {
            return self.next().await.map(Some);
        }
        match self.heard.try_next() {
            Ok(Some(data)) => Ok(Some(data)),
            Ok(None) => Err(lost()),
            Err(_) => Ok(None),
        }
    }

    /// What posts on this port.
    pub fn poster(&self) -> Poster {
        self.poster.clone()
    }

    /// Posts `value` as JSON text.
    pub fn say(&self, value: &impl Serialize) -> Result<(), Failure> {
        self.poster.say(value)
    }

    /// Posts `data` as it is.
    pub fn post(&self, data: &JsValue) -> Result<(), Failure> {
        self.poster.post(data)
    }

    /// Posts `data`, handing over the buffers of `arrays` (they are empty
    /// here after).
    pub fn hand_over(&self, data: &JsValue, arrays: &[Uint8Array]) -> Result<(), Failure> {
        self.poster.hand_over(data, arrays)
    }
}

impl Poster {
    /// Posts `value` as JSON text.
    pub fn say(&self, value: &impl Serialize) -> Result<(), Failure> {
        let json = Zeroizing::new(serde_json::to_string(value).map_err(|_| lost())?);
        self.post(&JsValue::from_str(&json))
    }

    /// Posts `data` as it is.
    pub fn post(&self, data: &JsValue) -> Result<(), Failure> {
        self.0.post_message(data).map_err(|_| lost())
    }

    /// Posts `data`, handing over the buffers of `arrays` (they are empty
    /// here after).
    pub fn hand_over(&self, data: &JsValue, arrays: &[Uint8Array]) -> Result<(), Failure> {
        // Each buffer once: arrays may share one.
        let buffers = Array::new();
        for array in arrays {
            let buffer = array.buffer();
            if !buffers.includes(&buffer, 0) {
                buffers.push(&buffer);
            }
        }
        self.0
            .post_message_with_transferable(data, &buffers)
            .map_err(|_| lost())
    }
}

/// Reads a message posted with [`Port::say`].
pub fn read<T: DeserializeOwned>(data: &JsValue) -> Result<T, Failure> {
    let text = Zeroizing::new(data.as_string().ok_or_else(lost)?);
    serde_json::from_str(&text).map_err(|_| lost())
}

/// The message the page posts to start a worker on a task: `[task as
/// JSON, its port]`, and what it hands over (the port).
pub fn task_message(task: &impl Serialize, port: &MessagePort) -> Option<(Array, Array)> {
    let json = serde_json::to_string(task).ok()?;
    Some((
        Array::of2(&JsValue::from_str(&json), port),
        Array::of1(port),
    ))
}

/// Reads a message of [`task_message`]; `None` if it is not one of `T`.
pub fn read_task<T: DeserializeOwned>(message: &JsValue) -> Option<(T, MessagePort)> {
    let message: &Array = message.dyn_ref()?;
    let task = serde_json::from_str(&message.get(0).as_string()?).ok()?;
    Some((task, message.get(1).dyn_into().ok()?))
}
