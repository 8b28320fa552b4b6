//! Every request the page makes, to its own relay (`docs/api.md`), with one
//! error type. Nothing else in the page touches the network.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ProgressEvent, Request, RequestInit, Response, XmlHttpRequest};

use sealtip_api::{AgencyProfile, Challenge, Created, ErrorBody, Inbox, Mailbox};

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

/// `GET /api/v1/agencies`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Agencies {
    /// The default agency's id.
    pub default: String,
}

/// The default agency's id.
pub async fn default_agency() -> Result<String, ApiError> {
    let list: Agencies = json(get("/api/v1/agencies").await?).await?;
    Ok(list.default)
}

/// An agency's public profile.
pub async fn agency(id: &str) -> Result<AgencyProfile, ApiError> {
    json(get(&format!("/api/v1/agencies/{}", encode(id))).await?).await
}

/// A fresh proof-of-work challenge.
pub async fn challenge() -> Result<Challenge, ApiError> {
    json(send("POST", "/api/v1/challenges").await?).await
}

/// Where the page finds the codename wordlist (Trunk copies it into `dist/`).
pub const WORDLIST_PATH: &str = "/eff_large_wordlist.txt";

/// The codename wordlist file, as text.
pub async fn wordlist() -> Result<String, ApiError> {
    let response = get(WORDLIST_PATH).await?;
    let text: JsValue = JsFuture::from(response.text().map_err(|_| ApiError::Decode)?)
        .await
        .map_err(|_| ApiError::Network)?;
    text.as_string().ok_or(ApiError::Decode)
}

/// What an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// A new tip.
    Tip,
    /// A follow-up to an earlier tip.
    Message,
}

/// Uploads a sealed tip or message with its proof-of-work header value.
/// `progress` hears the fraction of the body sent (0.0–1.0) as the browser
/// sends it; aborting `signal` stops the upload.
pub async fn upload(
    agency: &str,
    kind: Upload,
    sealed: &web_sys::Blob,
    proof: &str,
    progress: impl Fn(f64) + 'static,
    signal: Option<&AbortSignal>,
) -> Result<Created, ApiError> {
    let route = match kind {
        Upload::Tip => "tips",
        Upload::Message => "messages",
    };
    let path = format!("/api/v1/agencies/{}/{route}", encode(agency));
    // XMLHttpRequest rather than fetch: only it reports upload progress.
    let xhr = XmlHttpRequest::new().map_err(|_| ApiError::Network)?;
    xhr.open("POST", &path).map_err(|_| ApiError::Network)?;
    xhr.set_request_header("Content-Type", "application/octet-stream")
        .map_err(|_| ApiError::Network)?;
    xhr.set_request_header(sealtip_api::PROOF_HEADER, proof)
        .map_err(|_| ApiError::Network)?;
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
    let sent = xhr.send_with_opt_blob(Some(sealed));
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
        serde_json::from_str(&text).map_err(|_| ApiError::Decode)
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

/// The agency's inbox (`token` is its inbox token).
pub async fn inbox(agency: &str, token: &str) -> Result<Inbox, ApiError> {
    let path = format!("/api/v1/agencies/{}/inbox", encode(agency));
    json(with_token("GET", &path, token, None).await?).await
}

/// One sealed inbox item.
pub async fn inbox_item(agency: &str, token: &str, item: &str) -> Result<Vec<u8>, ApiError> {
    let path = format!("/api/v1/agencies/{}/inbox/{item}", encode(agency));
    bytes(with_token("GET", &path, token, None).await?).await
}

/// Deletes an inbox item (deleting one already gone is no error).
pub async fn delete_item(agency: &str, token: &str, item: &str) -> Result<(), ApiError> {
    let path = format!("/api/v1/agencies/{}/inbox/{item}", encode(agency));
    match with_token("DELETE", &path, token, None).await {
        Ok(_) | Err(ApiError::Status { status: 404, .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Posts the agency's sealed reply to a tipster's mailbox (token, no proof
/// of work: `docs/api.md`).
pub async fn post_reply(
    agency: &str,
    token: &str,
    mailbox: &str,
    sealed: &[u8],
) -> Result<Created, ApiError> {
    let path = format!("/api/v1/agencies/{}/mailboxes/{mailbox}", encode(agency));
    let body = js_sys::Uint8Array::from(sealed);
    json(with_token("POST", &path, token, Some(&body)).await?).await
}

/// A request with the agency's token (`Authorization: Bearer`).
async fn with_token(
    method: &str,
    path: &str,
    token: &str,
    body: Option<&js_sys::Uint8Array>,
) -> Result<Response, ApiError> {
    let bearer = zeroize::Zeroizing::new(format!("Bearer {token}"));
    request(method, path, body, &[("Authorization", &bearer)]).await
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

/// One request to the page's own origin, with `headers` (a body is sent as
/// an octet stream); a non-2xx answer becomes [`ApiError::Status`] with the
/// relay's reason.
async fn request(
    method: &str,
    path: &str,
    body: Option<&js_sys::Uint8Array>,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    if let Some(body) = body {
        init.set_body(body);
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::Network)?;
    if body.is_some() {
        request
            .headers()
            .set("Content-Type", "application/octet-stream")
            .map_err(|_| ApiError::Network)?;
    }
    for (name, value) in headers {
        request
            .headers()
            .set(name, value)
            .map_err(|_| ApiError::Network)?;
    }
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
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
    let text: JsValue = JsFuture::from(response.text().map_err(|_| ApiError::Decode)?)
        .await
        .map_err(|_| ApiError::Network)?;
    let text = text.as_string().ok_or(ApiError::Decode)?;
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
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
