//! Every request the page makes, to its own relay (`docs/api.md`), with one
//! error type; the sealing worker makes its requests (challenge, upload
//! session) through here too, to the page's origin ([`serve_from`]).
//! Nothing else touches the network but the workers' bootstraps, which
//! fetch their own wasm with the integrity hash the page gives them
//! (`crate::worker`).

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ProgressEvent, Request, RequestInit, Response, XmlHttpRequest};

use sealtip_api::{
    Agencies, AgencyProfile, Challenge, ChallengeRequest, Created, ErrorBody, ItemKind, Mailbox,
    UploadProgress, UploadRequest, UploadSession,
};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer: offline, refused, or aborted.
    #[error("the connection failed")]
    Network,
    /// The relay answered with an error status and its one-line reason.
    #[error("{status}: {reason}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The relay's `{"error"}` line, or empty.
        reason: String,
    },
    /// The answer was not what the API promises.
    #[error("the relay's answer could not be read")]
    Decode,
}

thread_local! {
    /// Where requests go: empty on the page (its own origin), the page's
    /// origin in the sealing worker, whose `blob:` address is no base for a path.
    static ORIGIN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sends every later request to `origin` (`http://127.0.0.1:8080`): the
/// page's own, which the sealing worker is told in its job.
pub fn serve_from(origin: &str) {
    ORIGIN.with_borrow_mut(|base| origin.clone_into(base));
}

/// The address of `path` at the page's origin.
fn address(path: &str) -> String {
    ORIGIN.with_borrow(|origin| format!("{origin}{path}"))
}

/// The default agency's id.
pub async fn default_agency() -> Result<String, ApiError> {
    let list: Agencies = json(get("/api/v1/agencies").await?).await?;
    list.default.ok_or(ApiError::Decode)
}

/// An agency's public profile.
pub async fn agency(id: &str) -> Result<AgencyProfile, ApiError> {
    json(get(&format!("/api/v1/agencies/{}", encode(id))).await?).await
}

/// A fresh proof-of-work challenge for `agency` and a sealed file of at
/// most `bytes`.
pub async fn challenge(agency: &str, bytes: u64) -> Result<Challenge, ApiError> {
    let asked = ChallengeRequest {
        agency: Some(agency.to_owned()),
        bytes: Some(bytes),
    };
    let body = serde_json::to_string(&asked).map_err(|_| ApiError::Decode)?;
    let headers = [("Content-Type", "application/json")];
    let body = JsValue::from_str(&body);
    json(request("POST", "/api/v1/challenges", Some(&body), &headers).await?).await
}

/// Where the page finds the codename wordlist (Trunk copies it into `dist/`).
pub const WORDLIST_PATH: &str = "/eff_large_wordlist.txt";

/// The codename wordlist file, as text.
pub async fn wordlist() -> Result<String, ApiError> {
    text(get(WORDLIST_PATH).await?).await
}

/// A script of the page itself, as text, fetched with Subresource
/// Integrity: the browser hands over only bytes whose hash is `integrity`
/// (`sha384-…`), and fails the request on any other.
pub async fn page_script(path: &str, integrity: &str) -> Result<String, ApiError> {
    let init = request_init("GET");
    init.set_integrity(integrity);
    text(fetch(path, &init, &[]).await?).await
}

/// A worker's wasm, fetched with Subresource Integrity (as
/// [`page_script`]) and compiled while it arrives: a `WebAssembly.Module`,
/// which the page hands to the workers it starts.
pub async fn page_wasm(path: &str, integrity: &str) -> Result<JsValue, ApiError> {
    let init = request_init("GET");
    init.set_integrity(integrity);
    let response = fetch(path, &init, &[]).await?;
    let compiling =
        js_sys::WebAssembly::compile_streaming(&js_sys::Promise::resolve(&JsValue::from(response)));
    // A body whose bytes do not have the hash fails here, like one that is
    // not wasm.
    JsFuture::from(compiling)
        .await
        .map_err(|_| ApiError::Decode)
}

/// A file of the page itself (a language's words), as bytes.
pub async fn page_file(path: &str) -> Result<Vec<u8>, ApiError> {
    bytes(get(path).await?).await
}

/// Opens an upload session for a sealed tip or message, spending the proof
/// of work (`docs/api.md`, upload sessions).
pub async fn open_upload(
    agency: &str,
    kind: ItemKind,
    proof: &str,
) -> Result<UploadSession, ApiError> {
    let path = format!("/api/v1/agencies/{}/uploads", encode(agency));
    let body = serde_json::to_string(&UploadRequest { kind }).map_err(|_| ApiError::Decode)?;
    let headers = [
        (sealtip_api::PROOF_HEADER, proof),
        ("Content-Type", "application/json"),
    ];
    let body = JsValue::from_str(&body);
    json(request("POST", &path, Some(&body), &headers).await?).await
}

/// Appends `part` at `offset` to an upload session; the answer is how many
/// bytes the relay now holds, durably. `progress` hears the fraction of the
/// part sent.
pub async fn append(
    upload: String,
    offset: u64,
    part: js_sys::Uint8Array,
    progress: impl Fn(f64) + 'static,
    signal: Option<AbortSignal>,
) -> Result<u64, ApiError> {
    let path = format!("/api/v1/uploads/{}", encode(&upload));
    let offset = offset.to_string();
    let headers = [(sealtip_api::UPLOAD_OFFSET_HEADER, offset.as_str())];
    let text = with_progress("PATCH", &path, &headers, &part, progress, signal.as_ref()).await?;
    let answer: UploadProgress = serde_json::from_str(&text).map_err(|_| ApiError::Decode)?;
    Ok(answer.received)
}

/// How many bytes of an upload session the relay holds (after a lost answer).
pub async fn upload_received(upload: &str) -> Result<u64, ApiError> {
    let path = format!("/api/v1/uploads/{}", encode(upload));
    let answer: UploadProgress = json(get(&path).await?).await?;
    Ok(answer.received)
}

/// Stores what an upload session received as a tip or message; the answer
/// is the stored item's id.
pub async fn commit_upload(upload: &str) -> Result<String, ApiError> {
    let path = format!("/api/v1/uploads/{}/commit", encode(upload));
    json::<Created>(send("POST", &path).await?)
        .await
        .map(|created| created.id)
}

/// Drops an upload session and what it received.
pub async fn drop_upload(upload: &str) -> Result<(), ApiError> {
    let path = format!("/api/v1/uploads/{}", encode(upload));
    send("DELETE", &path).await.map(|_| ())
}

/// Sends `body` with XMLHttpRequest, which (unlike fetch) reports upload
/// progress; returns the answer's text on a 2xx status.
async fn with_progress(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &js_sys::Uint8Array,
    progress: impl Fn(f64) + 'static,
    signal: Option<&AbortSignal>,
) -> Result<String, ApiError> {
    let xhr = XmlHttpRequest::new().map_err(|_| ApiError::Network)?;
    xhr.open(method, &address(path))
        .map_err(|_| ApiError::Network)?;
    xhr.set_request_header("Content-Type", "application/octet-stream")
        .map_err(|_| ApiError::Network)?;
    for (name, value) in headers {
        xhr.set_request_header(name, value)
            .map_err(|_| ApiError::Network)?;
    }
    let on_progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            progress(event.loaded() / event.total());
        }
    });
    let events = xhr.upload().map_err(|_| ApiError::Network)?;
    events.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let on_abort = Closure::<dyn Fn()>::new({
        let xhr = xhr.clone();
        move || xhr.abort().unwrap_or_default()
    });
    if let Some(signal) = signal {
        signal.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    }
    let finished = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
        xhr.set_ontimeout(Some(&reject));
    });
    let sent = xhr.send_with_opt_buffer_source(Some(body));
    let done = match sent {
        Ok(()) => JsFuture::from(finished).await.is_ok(),
        Err(_) => false,
    };
    events.set_onprogress(None);
    if let Some(signal) = signal {
        signal.set_onabort(None);
    }
    if !done {
        return Err(ApiError::Network);
    }
    let status = xhr.status().map_err(|_| ApiError::Network)?;
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        let reason = serde_json::from_str::<ErrorBody>(&text)
            .map(|body| body.error)
            .unwrap_or_default();
        Err(ApiError::Status { status, reason })
    }
}

/// The replies in a mailbox.
pub async fn mailbox(agency: &str, mailbox: &str) -> Result<Mailbox, ApiError> {
    let path = format!("/api/v1/agencies/{}/mailboxes/{mailbox}", encode(agency));
    json(get(&path).await?).await
}

/// One sealed reply.
pub async fn reply(agency: &str, mailbox: &str, reply: &str) -> Result<Vec<u8>, ApiError> {
    let path = format!(
        "/api/v1/agencies/{}/mailboxes/{mailbox}/{reply}",
        encode(agency)
    );
    bytes(get(&path).await?).await
}

/// Deletes one reply from a mailbox, with the mailbox secret as proof
/// (`{"proof": "<64 hex digits>"}`); the relay answers 204.
pub async fn delete_reply(
    agency: &str,
    mailbox: &str,
    reply: &str,
    secret: &[u8; 32],
) -> Result<(), ApiError> {
    let path = format!(
        "/api/v1/agencies/{}/mailboxes/{mailbox}/{reply}",
        encode(agency)
    );
    // The secret is in one Rust buffer, zeroized on drop (the browser's copy
    // of the request body is beyond the page's reach).
    let mut body = zeroize::Zeroizing::new(String::with_capacity(80));
    body.push_str("{\"proof\":\"");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in secret {
        body.push(char::from(HEX[usize::from(byte >> 4)]));
        body.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    body.push_str("\"}");
    let body = JsValue::from_str(&body);
    let headers = [("Content-Type", "application/json")];
    request("DELETE", &path, Some(&body), &headers)
        .await
        .map(|_| ())
}

async fn bytes(response: Response) -> Result<Vec<u8>, ApiError> {
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| ApiError::Decode)?)
        .await
        .map_err(|_| ApiError::Network)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn get(path: &str) -> Result<Response, ApiError> {
    send("GET", path).await
}

/// One request without a body to the page's own origin.
async fn send(method: &str, path: &str) -> Result<Response, ApiError> {
    request(method, path, None, &[]).await
}

/// One request to the page's own origin, with `headers` (which name the
/// body's content type); a non-2xx answer becomes [`ApiError::Status`] with
/// the relay's reason.
async fn request(
    method: &str,
    path: &str,
    body: Option<&JsValue>,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let init = request_init(method);
    if let Some(body) = body {
        init.set_body(body);
    }
    fetch(path, &init, headers).await
}

/// How every request of the page is made: no credentials, no cache, no
/// referrer.
fn request_init(method: &str) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    init
}

/// Sends `init` to `path` with `headers`; see [`request`].
async fn fetch(
    path: &str,
    init: &RequestInit,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let request =
        Request::new_with_str_and_init(&address(path), init).map_err(|_| ApiError::Network)?;
    for (name, value) in headers {
        request
            .headers()
            .set(name, value)
            .map_err(|_| ApiError::Network)?;
    }
    let fetched = match web_sys::window() {
        Some(window) => window.fetch_with_request(&request),
        None => js_sys::global()
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .map_err(|_| ApiError::Network)?
            .fetch_with_request(&request),
    };
    let response: Response = JsFuture::from(fetched)
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Network)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let reason = match json::<ErrorBody>(response).await {
        Ok(body) => body.error,
        Err(_) => String::new(),
    };
    Err(ApiError::Status { status, reason })
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    serde_json::from_str(&text(response).await?).map_err(|_| ApiError::Decode)
}

async fn text(response: Response) -> Result<String, ApiError> {
    let text: JsValue = JsFuture::from(response.text().map_err(|_| ApiError::Decode)?)
        .await
        .map_err(|_| ApiError::Network)?;
    text.as_string().ok_or(ApiError::Decode)
}

/// Percent-encodes anything but `a-z0-9-` (agency ids are only those).
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
