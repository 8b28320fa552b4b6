//! `/a/{agency}`: the page with the agency's first screen already in its
//! `<body>` (agency name, emergency line, safer-device notice, the form's
//! fields), so that a tipster can read and type before the wasm arrives.
//!
//! The HTML is `sealtip_api::first_screen::render_page` of the built
//! `index.html`, the built language files (`i18n/*.ftl`) and the profile
//! `GET /api/v1/agencies/{agency}` serves: `sealtip verify-client` makes
//! the same page from the release's files and compares byte for byte. It is
//! made at each request from the files in `dist` (a few KB of templating, no
//! cache to go stale when the page is rebuilt), gzipped for a browser that
//! accepts it (7.6 KB become 3.3 for the demo agency: on a slow connection,
//! the bytes before the tipster can type, `xtask/src/before_typing.rs`),
//! and `no-store` like every page. When the build holds no place for the
//! first screen, the page is served as built.

use std::io::Write;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;
use sealtip_api::AgencyProfile;
use sealtip_api::first_screen::{Languages, render_page};

use crate::assets;
use crate::error::ApiError;

/// The agency's page: the built page with its first screen, else as built.
pub async fn serve(
    dist: &Path,
    profile: &AgencyProfile,
    path: &str,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    match page(dist, profile).await {
        Some(html) => {
            let accepts_gzip = request_headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| assets::accepts(value, "gzip"));
            let compressed = accepts_gzip.then(|| gzipped(html.as_bytes())).flatten();
            let gzip = compressed.is_some();
            let body = compressed.unwrap_or_else(|| html.into_bytes());
            let length = body.len();
            let mut response = Response::new(Body::from(body));
            let headers = response.headers_mut();
            if gzip {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            *response.status_mut() = StatusCode::OK;
            Ok(response)
        }
        None => assets::serve(dist, path, request_headers).await,
    }
}

/// `bytes` gzipped (`None` if the encoder failed: then served as they are).
fn gzipped(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::default());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// The page with `profile`'s first screen, or `None` when the built files
/// cannot make one.
async fn page(dist: &Path, profile: &AgencyProfile) -> Option<String> {
    let template = tokio::fs::read_to_string(dist.join("index.html"))
        .await
        .ok()?;
    let folder = dist.join("i18n");
    let languages = tokio::task::spawn_blocking(move || Languages::from_folder(&folder))
        .await
        .ok()?
        .ok()?;
    render_page(&template, profile, &languages).ok()
}
