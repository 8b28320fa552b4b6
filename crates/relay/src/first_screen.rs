//! `/a/{agency}`: the page with the agency's first screen already in its
//! `<body>` (agency name, emergency line, safer-device notice, the form's
//! fields), so that a tipster can read and type before the wasm arrives.
//!
//! The HTML is `sealtip_api::first_screen::render_page` of the built
//! `index.html`, the built language files (`i18n/*.ftl`) and the profile
//! `GET /api/v1/agencies/{agency}` serves: `sealtip verify-client` makes
//! the same page from the release's files and compares byte for byte. It is
//! made once per agency and kept, with its gzipped copy ([`Pages`]), for as
//! long as the files it was made from are unchanged (their sizes and times
//! of change are checked at each request, so a rebuilt page is served at
//! once): made at each request, it cost the relay 2.1 ms of CPU time (268
//! pages a second on one connection), kept 0.15 to 0.19 ms (3,100 to 3,900),
//! the agency's profile 0.07. Gzipped for a browser that accepts it (7.6 KB
//! become 3.3 for the demo agency: on a slow connection, the bytes before
//! the tipster can type, `xtask/src/before_typing.rs`), and `no-store` like
//! every page. When the build holds no place for the first screen, the
//! page is served as built.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;
use sealtip_api::AgencyProfile;
use sealtip_api::first_screen::{Languages, render_page};

use crate::assets;
use crate::error::ApiError;

/// The agencies' pages as made, by agency id.
#[derive(Default)]
pub struct Pages(Mutex<HashMap<String, Arc<Made>>>);

/// An agency's page as made, and what it was made from.
struct Made {
    /// The built files it was made from.
    stamp: Stamp,
    /// The page (each answer shares these bytes, not a copy).
    html: Bytes,
    /// The page gzipped (`None` if the encoder failed: then served as it is).
    gzip: Option<Bytes>,
}

/// The built files a page is made from (`index.html` and `i18n/*`), each
/// with its size and time of change: a rebuild changes them.
#[derive(PartialEq)]
struct Stamp(Vec<(PathBuf, u64, Option<SystemTime>)>);

impl Stamp {
    /// The files of `dist` as they are now; `None` if they cannot be read.
    fn of(dist: &Path) -> Option<Stamp> {
        let mut files = vec![dist.join("index.html")];
        for entry in std::fs::read_dir(dist.join("i18n")).ok()? {
            files.push(entry.ok()?.path());
        }
        files.sort();
        let stamp = files
            .into_iter()
            .map(|path| {
                let metadata = std::fs::metadata(&path).ok()?;
                Some((path, metadata.len(), metadata.modified().ok()))
            })
            .collect::<Option<_>>()?;
        Some(Stamp(stamp))
    }
}

impl Pages {
    /// `profile`'s page made from `dist`: the one kept, if its files have
    /// not changed since, else made now and kept.
    async fn get(&self, dist: &Path, profile: &AgencyProfile) -> Option<Arc<Made>> {
        let folder = dist.to_path_buf();
        let stamp = tokio::task::spawn_blocking(move || Stamp::of(&folder))
            .await
            .ok()??;
        if let Some(made) = self.kept(&profile.id)
            && made.stamp == stamp
        {
            return Some(made);
        }
        let html = page(dist, profile).await?.into_bytes();
        let made = Arc::new(Made {
            stamp,
            gzip: gzipped(&html).map(Bytes::from),
            html: Bytes::from(html),
        });
        if let Ok(mut pages) = self.0.lock() {
            pages.insert(profile.id.clone(), made.clone());
        }
        Some(made)
    }

    fn kept(&self, agency: &str) -> Option<Arc<Made>> {
        self.0.lock().ok()?.get(agency).cloned()
    }
}

/// The agency's page: the built page with its first screen, else as built.
pub async fn serve(
    pages: &Pages,
    dist: &Path,
    profile: &AgencyProfile,
    path: &str,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    match pages.get(dist, profile).await {
        Some(made) => {
            let accepts_gzip = request_headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| assets::accepts(value, "gzip"));
            let compressed = made.gzip.as_ref().filter(|_| accepts_gzip);
            let gzip = compressed.is_some();
            let body = compressed.unwrap_or(&made.html).clone();
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
