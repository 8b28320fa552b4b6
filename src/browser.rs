//! The thin layer over the browser: everything here is a call into web-sys
//! or js-sys, with no logic of the page's own, so the rest stays testable.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Document, KeyboardEvent, Window};

/// The window; the page cannot run without one.
fn window() -> Option<Window> {
    web_sys::window()
}

fn document() -> Option<Document> {
    window().and_then(|w| w.document())
}

/// The path of the page's address (`/a/demo`).
pub fn path() -> String {
    window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// The page's origin (`http://127.0.0.1:8080`).
pub fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The query of the page's address, without `?`.
pub fn query() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .map(|q| q.trim_start_matches('?').to_string())
        .unwrap_or_default()
}

/// The browser's preferred languages, most preferred first.
pub fn languages() -> Vec<String> {
    let Some(navigator) = window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let mut tags: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|tag| tag.as_string())
        .collect();
    if tags.is_empty() {
        tags.extend(navigator.language());
    }
    tags
}

/// Sets `lang` and `dir` on `<html>`, so screen readers and right-to-left
/// layout follow the page's language.
pub fn set_document_language(tag: &str, rtl: bool) {
    if let Some(html) = document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", tag);
        let _ = html.set_attribute("dir", if rtl { "rtl" } else { "ltr" });
    }
}

/// Sets the document title.
pub fn set_title(title: &str) {
    if let Some(document) = document() {
        document.set_title(title);
    }
}

/// What `leave` calls instead of `location.replace`, in tests.
type LeaveStub = Box<dyn Fn(&str)>;

thread_local! {
    static LEAVE: RefCell<Option<LeaveStub>> = const { RefCell::new(None) };
}

/// Replaces `location.replace` for tests: `leave` calls `stub` instead.
pub fn stub_location_replace(stub: impl Fn(&str) + 'static) {
    LEAVE.with(|leave| *leave.borrow_mut() = Some(Box::new(stub)));
}

/// The fragment of the page's address, with its `#` (never sent to the server).
pub fn fragment() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Quick exit: blanks the page at once (class `exiting` on `<html>` hides
/// everything; the title goes) and replaces this page in the history with
/// `url`, so Back does not return here. Inside a frame it replaces the whole
/// window (the partner's page), which the sandbox allows on a click or key
/// press; if the browser refuses, the frame alone leaves.
pub fn leave(url: &str) {
    if let Some(document) = document() {
        document.set_title("");
        if let Some(html) = document.document_element() {
            let _ = html.class_list().add_1("exiting");
        }
    }
    let stubbed = LEAVE.with(|leave| leave.borrow().as_ref().map(|stub| stub(url)).is_some());
    if !stubbed && let Some(window) = window() {
        let top = window.top().ok().flatten();
        if top.is_none_or(|top| top.location().replace(url).is_err()) {
            let _ = window.location().replace(url);
        }
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Today's date in UTC, `YYYY-MM-DD` (day precision, as tips record it).
pub fn today() -> String {
    let date = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02}",
        date.get_utc_full_year(),
        date.get_utc_month() + 1,
        date.get_utc_date()
    )
}

/// Lets the browser paint and handle input before the next slice of work.
pub async fn yield_now() {
    yew::platform::time::sleep(std::time::Duration::ZERO).await;
}

/// Waits `time` without holding up the page.
pub async fn sleep(time: std::time::Duration) {
    yew::platform::time::sleep(time).await;
}

/// Copies `text` to the clipboard; false if the browser refused.
pub async fn copy(text: &str) -> bool {
    let Some(clipboard) = window().map(|w| w.navigator().clipboard()) else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
}

/// Reads a picked file (or any blob) into memory.
pub async fn read_file(file: &web_sys::Blob) -> Option<Vec<u8>> {
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Reads bytes `start..end` of a file, without reading the rest.
pub async fn read_slice(file: &web_sys::Blob, start: u64, end: u64) -> Option<Vec<u8>> {
    let slice = file.slice_with_f64_and_f64(start as f64, end as f64).ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(slice.array_buffer())
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A file read from its start to its end in one stream, as the browser
/// hands it out, and taken in pieces of the caller's size. One stream, not
/// a read of each slice: reading 200 MiB in 4 MiB slices costs Chromium
/// about 0.65 s of CPU time, streamed 0.4 s (README, "Benchmarks").
pub struct FileStream {
    reader: web_sys::ReadableStreamDefaultReader,
    /// Bytes read past the last piece taken, the start of the next.
    carry: Vec<u8>,
}

impl FileStream {
    /// Starts reading `file`.
    pub fn new(file: &web_sys::Blob) -> Option<FileStream> {
        let reader = file.stream().get_reader().dyn_into().ok()?;
        Some(FileStream {
            reader,
            carry: Vec::new(),
        })
    }

    /// Fills `into` with the next `length` bytes, copied into this worker's
    /// memory, and adds to `arrays` the browser's arrays they were copied
    /// from (each whole: the last may also hold the start of the next
    /// piece, which stays here for it). `None` when the file ends sooner or
    /// cannot be read.
    pub async fn read_into(
        &mut self,
        into: &mut Vec<u8>,
        length: usize,
        arrays: &js_sys::Array,
    ) -> Option<()> {
        into.clear();
        let carried = self.carry.len().min(length);
        into.extend_from_slice(&self.carry[..carried]);
        self.carry.drain(..carried);
        while into.len() < length {
            let read = wasm_bindgen_futures::JsFuture::from(self.reader.read())
                .await
                .ok()?;
            if js_sys::Reflect::get(&read, &"done".into())
                .ok()?
                .is_truthy()
            {
                return None;
            }
            let chunk: js_sys::Uint8Array = js_sys::Reflect::get(&read, &"value".into())
                .ok()?
                .dyn_into()
                .ok()?;
            let size = chunk.length() as usize;
            let taken = size.min(length - into.len());
            let at = into.len();
            into.resize(at + taken, 0);
            chunk.subarray(0, taken as u32).copy_to(&mut into[at..]);
            if taken < size {
                self.carry.resize(size - taken, 0);
                chunk
                    .subarray(taken as u32, size as u32)
                    .copy_to(&mut self.carry);
            }
            arrays.push(&chunk);
        }
        Some(())
    }

    /// Whether every byte read so far was taken: false when the file held
    /// more than the pieces asked for.
    pub fn all_taken(&self) -> bool {
        self.carry.is_empty()
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        // Stops a stream left before its end (a failure, Cancel).
        let _ = self.reader.cancel();
    }
}

/// Copies the browser's array `bytes` into `into`, which takes their
/// length (a buffer used again for every slice, not a new one each time).
pub fn copy_into(bytes: &js_sys::Uint8Array, into: &mut Vec<u8>) {
    into.resize(bytes.length() as usize, 0);
    bytes.copy_to(into);
}

/// Calls `on_key` with each key pressed anywhere on the page (first press
/// only, not auto-repeat), until the returned guard is dropped.
pub fn on_key_down(on_key: impl Fn(&str) + 'static) -> Listener {
    listen("keydown", move |event| {
        if let Some(event) = event.dyn_ref::<KeyboardEvent>()
            && !event.repeat()
        {
            on_key(&event.key());
        }
    })
}

/// Calls `on_event` with each `event` on the window until the returned
/// guard is dropped.
fn listen(event: &'static str, on_event: impl Fn(web_sys::Event) + 'static) -> Listener {
    let closure = Closure::<dyn Fn(web_sys::Event)>::new(on_event);
    if let Some(window) = window() {
        let _ = window.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    }
    Listener { event, closure }
}

/// Removes its window event listener when dropped.
pub struct Listener {
    event: &'static str,
    closure: Closure<dyn Fn(web_sys::Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(window) = window() {
            let _ = window.remove_event_listener_with_callback(
                self.event,
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Moves keyboard focus to the element with id `id` (after a render)
/// without scrolling to it, and scrolls the element with id `whole`, which
/// holds it, to the middle of the screen: all of it shows, with room for it
/// to grow (a longer line of words).
pub fn focus_showing(id: &str, whole: &str) {
    let (id, whole) = (id.to_string(), whole.to_string());
    wasm_bindgen_futures::spawn_local(async move {
        yield_now().await;
        let Some(document) = document() else {
            return;
        };
        if let Some(element) = document
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let options = web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = element.focus_with_options(&options);
        }
        if let Some(whole) = document.get_element_by_id(&whole) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            whole.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
}

/// Moves keyboard focus to the element with this id (after a render).
pub fn focus(id: &str) {
    let id = id.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        yield_now().await;
        if let Some(element) = document()
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}
