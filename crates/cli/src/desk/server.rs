//! The desk's HTTP side, on loopback, guarded like a local admin page:
//!
//! - every address carries the desk's random secret (`/s/<secret>/…`), else 404;
//! - the `Host` header must be the desk's own address (`127.0.0.1:PORT` or
//!   `localhost:PORT`), so a web page that rebinds its name to 127.0.0.1 is
//!   refused;
//! - a form post from another origin is refused (`Origin`);
//! - every answer is `no-store`, `nosniff`, `no-referrer`, under a strict CSP.
//!
//! Attachments are inert: a download is `application/octet-stream` as an
//! attachment; a photo is served only when its bytes say JPEG, PNG, WebP or
//! GIF, sandboxed.

use std::io::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State as Shared};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::Desk;
use super::attachments::{download_name, image_type};
use super::case_form;
use super::find::Find;
use super::open::{Failure, open_attachment, seal_reply};
use super::pages::{self, Note, ThreadView};
use super::state::{Origin, reply_target};

/// The desk's pages' policy: its own stylesheet and images, forms to itself.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A photo's policy: nothing runs, even if opened on its own.
const IMAGE_CSP: &str = "default-src 'none'; sandbox";

/// The longest reply, in characters.
const REPLY_MAX_CHARS: usize = 20_000;

/// The desk's routes behind its guards.
pub fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/s/{secret}/", get(inbox))
        .route("/s/{secret}/desk.css", get(stylesheet))
        .route("/s/{secret}/item/{id}", get(thread))
        .route("/s/{secret}/item/{id}/reply", axum::routing::post(reply))
        .route(
            "/s/{secret}/item/{id}/case",
            axum::routing::post(case_form::change_case),
        )
        .route(
            "/s/{secret}/item/{id}/export",
            axum::routing::post(case_form::export),
        )
        .route(
            "/s/{secret}/item/{id}/delete",
            get(confirm_delete).post(delete),
        )
        .route("/s/{secret}/file/{id}/{number}", get(download))
        .route("/s/{secret}/image/{id}/{number}", get(image))
        .route("/s/{secret}/lock", axum::routing::post(lock))
        .route("/s/{secret}/check", axum::routing::post(check))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(desk.clone(), locked))
        .layer(middleware::from_fn_with_state(desk.clone(), guard))
        .layer(middleware::map_response(security_headers))
        .with_state(desk)
}

/// Host, secret and origin, before anything else.
async fn guard(Shared(desk): Shared<Arc<Desk>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !desk.hosts.contains(&host) {
        return refused();
    }
    let carries_secret = request
        .uri()
        .path()
        .strip_prefix("/s/")
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|secret| bool::from(secret.as_bytes().ct_eq(desk.secret.as_bytes())));
    if !carries_secret {
        return (StatusCode::NOT_FOUND, "Not found.\n").into_response();
    }
    if request.method() != Method::GET
        && request.method() != Method::HEAD
        && !own_form(&desk, headers)
    {
        return refused();
    }
    next.run(request).await
}

/// Whether a form post comes from the desk's own pages: its `Origin`, if
/// any, is the desk's; and the browser does not say it came from another
/// site (`Sec-Fetch-Site`, which pages cannot forge). Under the desk's
/// `Referrer-Policy: no-referrer` a browser sends `Origin: null` even for
/// the desk's own forms: that is taken only with `Sec-Fetch-Site: same-origin`.
fn own_form(desk: &Desk, headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    let site = value("sec-fetch-site");
    if site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    match value("origin") {
        None => true,
        Some("null") => site == Some("same-origin"),
        Some(origin) => desk
            .hosts
            .iter()
            .any(|host| origin.eq_ignore_ascii_case(&format!("http://{host}"))),
    }
}

fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Refused: open the desk at the address sealtip desk printed.\n",
    )
        .into_response()
}

/// Once locked, every page is the locked page.
async fn locked(Shared(desk): Shared<Arc<Desk>>, request: Request, next: Next) -> Response {
    let is_stylesheet = request.uri().path().ends_with("/desk.css");
    if desk.state().locked() && !is_stylesheet {
        return html(StatusCode::OK, pages::locked(&desk));
    }
    next.run(request).await
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

pub(super) fn html(status: StatusCode, page: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

async fn not_found(Shared(desk): Shared<Arc<Desk>>) -> Response {
    let page = pages::not_found(&desk, &desk.state(), "desk-no-such-page");
    html(StatusCode::NOT_FOUND, page)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::CSS,
    )
        .into_response()
}

/// `?note=` after a form: one of a few known words, never echoed.
#[derive(Deserialize, Default)]
struct PageQuery {
    note: Option<String>,
    show: Option<String>,
}

fn note_of(desk: &Desk, query: &PageQuery) -> Option<Note> {
    let key = match query.note.as_deref()? {
        "queued" => "desk-reply-queued",
        "case" => "desk-case-queued",
        "deleted" => "desk-deleted",
        _ => return None,
    };
    Note::info(desk.words.get(key))
}

/// The inbox, found and filtered by `?q=&status=&label=&officer=`; once
/// shown whole, what it lists is no longer new.
async fn inbox(
    Shared(desk): Shared<Arc<Desk>>,
    query: Result<Query<PageQuery>, QueryRejection>,
    find: Result<Query<Find>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let find = find.map(|q| q.0).unwrap_or_default();
    let note = note_of(&desk, &query);
    let mut state = desk.state();
    let page = pages::inbox(&desk, &state, note, &find);
    // A filtered list may hide what is new: only the whole inbox was seen.
    if !find.is_active() {
        state.look();
    }
    html(StatusCode::OK, page)
}

async fn thread(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let show = query.show.as_deref().and_then(|show| {
        let (item, number) = show.rsplit_once('-')?;
        Some((item, number.parse::<usize>().ok()?))
    });
    let view = ThreadView {
        show,
        note: note_of(&desk, &query),
        ..ThreadView::default()
    };
    thread_page(&desk, &id, view, StatusCode::OK)
}

pub(super) fn thread_page(desk: &Desk, id: &str, view: ThreadView, status: StatusCode) -> Response {
    let state = desk.state();
    match state.thread_of(id) {
        Some(items) => html(status, pages::thread(desk, &state, id, &items, view)),
        None => html(
            StatusCode::NOT_FOUND,
            pages::not_found(desk, &state, "desk-no-such-item"),
        ),
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    text: String,
}

/// Seals the reply now and queues it for the next round.
async fn reply(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
    form: Result<axum::Form<ReplyForm>, FormRejection>,
) -> Response {
    let text = form.map(|form| form.0.text).unwrap_or_default();
    let failed = |failure: Failure, text: &str| {
        let (key, detail) = failure;
        let view = ThreadView {
            reply_text: text,
            note: Note::error(desk.words.with(key, &[("detail", &detail)])),
            ..ThreadView::default()
        };
        thread_page(&desk, &id, view, StatusCode::BAD_REQUEST)
    };
    if text.trim().is_empty() {
        return failed(("desk-reply-empty", String::new()), &text);
    }
    if text.chars().count() > REPLY_MAX_CHARS {
        let limit = REPLY_MAX_CHARS.to_string();
        return failed(("desk-reply-too-long", limit), &text);
    }
    if desk.relay.is_none() {
        return failed(("desk-reply-offline", String::new()), &text);
    }
    let (keys, reply_to) = {
        let state = desk.state();
        let Some(keys) = state.keys.clone() else {
            return html(StatusCode::OK, pages::locked(&desk));
        };
        let target = state
            .thread_of(&id)
            .and_then(|thread| reply_target(&thread));
        (keys, target)
    };
    let Some(reply_to) = reply_to else {
        return failed(("desk-reply-unverified", String::new()), &text);
    };
    let (agency, reply_text) = (desk.agency.clone(), text.clone());
    let sealed = tokio::task::spawn_blocking(move || {
        let today = crate::time::today();
        seal_reply(&agency, &reply_to, &reply_text, &keys.identities, &today)
    })
    .await
    .unwrap_or_else(|error| Err(("desk-seal-failed", error.to_string())));
    match sealed {
        Ok((sealed, tip)) => {
            desk.state()
                .queue_reply(sealed, tip, crate::time::this_hour());
            Redirect::to(&format!("{}item/{id}?note=queued", desk.base())).into_response()
        }
        Err(failure) => failed(failure, &text),
    }
}

async fn confirm_delete(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let state = desk.state();
    match state.items.get(&id) {
        Some(item) if matches!(item.origin, Origin::Inbox(..)) => html(
            StatusCode::OK,
            pages::confirm_delete(&desk, &state, item, None),
        ),
        _ => html(
            StatusCode::NOT_FOUND,
            pages::not_found(&desk, &state, "desk-no-such-item"),
        ),
    }
}

async fn delete(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let is_inbox_item = desk
        .state()
        .items
        .get(&id)
        .is_some_and(|item| matches!(item.origin, Origin::Inbox(..)));
    if !is_inbox_item {
        let state = desk.state();
        return html(
            StatusCode::NOT_FOUND,
            pages::not_found(&desk, &state, "desk-no-such-item"),
        );
    }
    match desk.delete(id.clone()).await {
        Ok(()) => Redirect::to(&format!("{}?note=deleted", desk.base())).into_response(),
        Err((key, detail)) => {
            let state = desk.state();
            let note = Note::error(desk.words.with(key, &[("detail", &detail)]));
            match state.items.get(&id) {
                Some(item) => html(
                    StatusCode::BAD_GATEWAY,
                    pages::confirm_delete(&desk, &state, item, note),
                ),
                None => html(
                    StatusCode::OK,
                    pages::inbox(&desk, &state, note, &Find::default()),
                ),
            }
        }
    }
}

/// Attachment `number` of item `id`, opened now from its sealed bytes.
async fn attachment(
    desk: &Arc<Desk>,
    id: &str,
    number: &str,
) -> Result<(String, Vec<u8>), Response> {
    let gone = |desk: &Desk, key: &str| {
        html(
            StatusCode::NOT_FOUND,
            pages::not_found(desk, &desk.state(), key),
        )
    };
    let found = {
        let state = desk.state();
        let number: Option<usize> = number.parse().ok();
        state.items.get(id).and_then(|item| {
            let attachment = item.tip()?.attachments.get(number?)?;
            // The tipster's file name, cleaned; the archive's if left out.
            let name = match attachment.name.is_empty() {
                true => download_name(&attachment.path),
                false => download_name(&attachment.name),
            };
            Some((
                state.keys.clone()?,
                item.sealed.clone(),
                attachment.path.clone(),
                name,
            ))
        })
    };
    let Some((keys, sealed, path, name)) = found else {
        return Err(gone(desk, "desk-no-such-file"));
    };
    let opened = tokio::task::spawn_blocking(move || {
        let reader = sealed
            .reader()
            .map_err(|error| ("desk-corrupt", error.to_string()))?;
        open_attachment(reader, &keys.identities, &path)
    })
    .await
    .unwrap_or_else(|error| Err(("desk-corrupt", error.to_string())));
    match opened {
        // The bytes leave the zeroized buffer only for the response body.
        Ok(bytes) => Ok((name, bytes.to_vec())),
        Err((key, detail)) => {
            let state = desk.state();
            let note = Note::error(desk.words.with(key, &[("detail", &detail)]));
            let body = pages::inbox(desk, &state, note, &Find::default());
            Err(html(StatusCode::UNPROCESSABLE_ENTITY, body))
        }
    }
}

/// Any attachment, as a download: never shown in the desk's origin.
async fn download(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id, number)): Path<(String, String, String)>,
) -> Response {
    match attachment(&desk, &id, &number).await {
        Ok((name, bytes)) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            let disposition = format!("attachment; filename=\"{name}\"");
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            (headers, Body::from(bytes)).into_response()
        }
        Err(page) => page,
    }
}

/// A photo, only if its bytes are JPEG, PNG, WebP or GIF, sandboxed.
async fn image(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id, number)): Path<(String, String, String)>,
) -> Response {
    match attachment(&desk, &id, &number).await {
        Ok((_, bytes)) => match image_type(&bytes) {
            Some(media_type) => {
                let mut headers = HeaderMap::new();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(IMAGE_CSP),
                );
                (headers, Body::from(bytes)).into_response()
            }
            None => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                [(header::CONTENT_SECURITY_POLICY, IMAGE_CSP)],
                desk.words.get("desk-not-a-photo"),
            )
                .into_response(),
        },
        Err(page) => page,
    }
}

/// Forgets keys and token; the desk shows the locked page from now on.
async fn lock(Shared(desk): Shared<Arc<Desk>>) -> Response {
    desk.state().lock();
    desk.wake.notify_one();
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        desk.words.get("desk-locked-terminal")
    );
    html(StatusCode::OK, pages::locked(&desk))
}

/// A round now (every mailbox, as always), then back to the inbox.
async fn check(Shared(desk): Shared<Arc<Desk>>) -> Response {
    desk.round().await;
    Redirect::to(&desk.base()).into_response()
}
