//! The built web client, served from the `dist` folder.
//!
//! - The page's routes (`/`, `/a/{agency}`, `/embed`) serve `index.html`
//!   (an existing agency's page with its first screen: `first_screen`).
//!   Nothing an officer runs is served: officers read tips with `sealtip`
//!   and `sealtip desk` on their own machine, and `/agency` is a 404.
//! - `/.well-known/sealtip/manifest.json` serves `manifest.json`, the web
//!   build's list of every served file with its SHA-256 (`cargo xtask web`),
//!   which `sealtip verify-client` checks a relay against; a 404 when the
//!   dist folder has none.
//! - Types come from a fixed table (`.wasm` is `application/wasm`).
//! - A `.br` or `.gz` file beside an asset is served instead when the client
//!   accepts that encoding.
//! - Assets whose name carries a content hash (16+ hex digits, as Trunk
//!   writes them) are cached for a year, immutable; HTML is `no-store`;
//!   anything else is revalidated (`no-cache`).
//! - Paths are accepted only as plain names (`[A-Za-z0-9._-]`, no segment
//!   starting with a dot, no percent-escapes), so no request reaches outside `dist`.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio_util::io::ReaderStream;

use crate::error::ApiError;

/// Serves the file for `path` from `dist`.
pub async fn serve(
    dist: &Path,
    path: &str,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let relative = page_file(path)
        .or_else(|| well_known_file(path))
        .or_else(|| asset_path(path))
        .ok_or_else(|| ApiError::not_found("not found"))?;
    let plain = dist.join(&relative);
    let accepted = request_headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut chosen = None;
    for (encoding, suffix) in [("br", "br"), ("gzip", "gz")] {
        if accepts(accepted, encoding) {
            let candidate = with_suffix(&plain, suffix);
            if is_file(&candidate).await {
                chosen = Some((candidate, encoding));
                break;
            }
        }
    }
    let (file_path, encoding) = match chosen {
        Some((p, e)) => (p, Some(e)),
        None if is_file(&plain).await => (plain.clone(), None),
        None if relative.ends_with("index.html") => {
            return Err(ApiError::not_found(
                "the web client is not built (run cargo xtask run)",
            ));
        }
        None => return Err(ApiError::not_found("not found")),
    };
    let file = tokio::fs::File::open(&file_path)
        .await
        .map_err(|_| ApiError::not_found("not found"))?;
    let len = file
        .metadata()
        .await
        .map_err(|_| ApiError::not_found("not found"))?
        .len();
    let name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut response = Response::new(Body::from_stream(ReaderStream::new(file)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control(name)),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

/// The page's own routes, which all load the app.
fn page_file(path: &str) -> Option<PathBuf> {
    let is_page = matches!(path, "/" | "/embed" | "/index.html") || agency_page(path).is_some();
    is_page.then(|| PathBuf::from("index.html"))
}

/// The agency id of an agency's page (`/a/{agency}`, `/a/{agency}/`), whose
/// first screen `first_screen` puts in the HTML when the agency exists.
pub fn agency_page(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/a/")?.trim_end_matches('/');
    crate::config::is_agency_id(id).then_some(id)
}

/// Where the web build's manifest is published.
pub const MANIFEST_PATH: &str = "/.well-known/sealtip/manifest.json";

/// The dist folder's `manifest.json` for [`MANIFEST_PATH`].
fn well_known_file(path: &str) -> Option<PathBuf> {
    (path == MANIFEST_PATH).then(|| PathBuf::from("manifest.json"))
}

fn asset_path(path: &str) -> Option<PathBuf> {
    let rest = path.strip_prefix('/')?;
    let mut relative = PathBuf::new();
    for segment in rest.split('/') {
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !plain {
            return None;
        }
        relative.push(segment);
    }
    Some(relative)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_file())
}

/// Whether an `Accept-Encoding` value accepts `encoding` (not with `q=0`).
pub fn accepts(header: &str, encoding: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        name.eq_ignore_ascii_case(encoding) && !refused
    })
}

fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" | "ftl" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn cache_control(name: &str) -> &'static str {
    if name.ends_with(".html") {
        "no-store"
    } else if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Whether a file name carries a content hash: a run of 12 or more hex
/// digits between separators (`app-3f2a…9c_bg.wasm`, `style-1a2b….css`).
fn is_hashed(name: &str) -> bool {
    // Trunk writes its 64-bit hash in hex without leading zeros: 16 digits,
    // sometimes fewer (`favicon-918dc8833b9e5e0.svg`).
    name.split(['-', '_', '.'])
        .any(|part| part.len() >= 12 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_reach_the_folder() {
        assert_eq!(asset_path("/style.css"), Some(PathBuf::from("style.css")));
        assert_eq!(
            asset_path("/img/a-b_c.png"),
            Some(PathBuf::from("img/a-b_c.png"))
        );
        for bad in [
            "/../Cargo.toml",
            "/a/../../x",
            "/.git/config",
            "/%2e%2e/x",
            "/a//b",
            "/",
            "x",
            "/a\\b",
        ] {
            assert_eq!(asset_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_routes_load_the_app() {
        for page in ["/", "/embed", "/a/demo", "/a/demo/"] {
            assert_eq!(page_file(page), Some(PathBuf::from("index.html")), "{page}");
        }
        for page in ["/agency", "/agency/"] {
            assert_eq!(page_file(page), None, "{page}");
        }
        assert_eq!(page_file("/a/../x"), None);
    }

    #[test]
    fn the_manifest_is_published_under_well_known() {
        assert_eq!(
            well_known_file("/.well-known/sealtip/manifest.json"),
            Some(PathBuf::from("manifest.json"))
        );
        assert_eq!(well_known_file("/.well-known/sealtip/other.json"), None);
        assert_eq!(asset_path("/.well-known/sealtip/manifest.json"), None);
        assert_eq!(content_type("manifest.json"), "application/json");
        assert_eq!(cache_control("manifest.json"), "no-cache");
    }

    #[test]
    fn caching_follows_the_name() {
        assert_eq!(cache_control("index.html"), "no-store");
        assert_eq!(
            cache_control("sealtip-web-3fa2b81c09d4e6f7_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_control("style-0123456789abcdef.css"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_control("favicon-918dc8833b9e5e0.svg"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("boot.js"), "no-cache");
        assert_eq!(cache_control("eff_large_wordlist.txt"), "no-cache");
        assert_eq!(content_type("x_bg.wasm"), "application/wasm");
        // A language file: its name carries no hash, so it is revalidated.
        assert_eq!(content_type("es.ftl"), "text/plain; charset=utf-8");
        assert_eq!(cache_control("zh-Hans.ftl"), "no-cache");
    }

    #[test]
    fn accept_encoding_is_read_with_weights() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0, gzip", "gzip"));
        assert!(!accepts("", "gzip"));
    }
}
