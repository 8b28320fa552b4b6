//! A small static file server for `cargo xtask run`, std only: GET and HEAD of
//! the files under one folder, one thread per connection, `Connection: close`.
//! It is a stand-in until the relay serves the web client itself.
//!
//! Every answer carries the Content-Security-Policy the page is written for, so
//! an inline script or style, or anything fetched from another origin, shows up
//! as a CSP error in the browser console during development.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The policy of the tipster's page: its own code and wasm, nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'";

/// The longest request head read before giving up on a connection.
const MAX_HEAD_BYTES: u64 = 16 * 1024;

/// Serves the files under `root` on `listener` until the process ends.
pub fn serve(root: &Path, listener: TcpListener) -> Result<()> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot serve {}: not found", root.display()))?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = root.clone();
        std::thread::spawn(move || {
            // A client that goes away mid-answer is no error of ours.
            let _ = answer(&root, stream);
        });
    }
    Ok(())
}

/// Reads one request from `stream` and answers it.
fn answer(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new((&stream).take(MAX_HEAD_BYTES));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers: nothing in them changes the answer.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 0 && header != "\r\n" && header != "\n" {
        header.clear();
    }

    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
            true,
        );
    }
    let with_body = method == "GET";
    let file = file_for(root, target).and_then(|path| Some((std::fs::read(&path).ok()?, path)));
    match file {
        Some((body, path)) => respond(&mut stream, "200 OK", content_type(&path), &body, with_body),
        None => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            with_body,
        ),
    }
}

/// The file under `root` a request target names, if it is a plain path to an
/// existing file: `/` means `/index.html`; the query is ignored; no segment may
/// be empty, start with a dot (no `..`, no hidden files) or need decoding.
fn file_for(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.strip_prefix('/')?;
    let path = if path.is_empty() { "index.html" } else { path };
    let mut file = root.to_path_buf();
    for segment in path.split('/') {
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
        if !plain {
            return None;
        }
        file.push(segment);
    }
    file.is_file().then_some(file)
}

/// The media type for a file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "webmanifest" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {length}\r\n\
         Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Cache-Control: no-store\r\n\
         Connection: close\r\n\r\n",
        length = body.len(),
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder with `index.html`, `app_bg.wasm` and `.hidden`, removed on drop.
    struct Site(PathBuf);

    impl Site {
        fn new(name: &str) -> std::io::Result<Self> {
            let dir =
                std::env::temp_dir().join(format!("xtask-serve-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("index.html"), "<h1>hi</h1>")?;
            std::fs::write(dir.join("app_bg.wasm"), b"\0asm")?;
            std::fs::write(dir.join(".hidden"), "secret")?;
            Ok(Self(dir))
        }
    }

    impl Drop for Site {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn maps_request_targets_to_files() -> std::io::Result<()> {
        let site = Site::new("paths")?;
        let root = &site.0;
        assert_eq!(file_for(root, "/"), Some(root.join("index.html")));
        assert_eq!(
            file_for(root, "/index.html?x=1"),
            Some(root.join("index.html"))
        );
        assert_eq!(
            file_for(root, "/app_bg.wasm"),
            Some(root.join("app_bg.wasm"))
        );
        for refused in [
            "/.hidden",
            "/../etc/passwd",
            "/x/../index.html",
            "//index.html",
            "/%2e%2e/",
            "index.html",
            "/missing.js",
        ] {
            assert_eq!(file_for(root, refused), None, "{refused}");
        }
        Ok(())
    }

    #[test]
    fn serves_wasm_with_its_media_type_and_the_policy() -> anyhow::Result<()> {
        let site = Site::new("http")?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let root = site.0.clone();
        std::thread::spawn(move || serve(&root, listener));

        let mut stream = TcpStream::connect(address)?;
        stream.write_all(b"GET /app_bg.wasm HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let response = String::from_utf8_lossy(&response);
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("Content-Type: application/wasm\r\n"),
            "{response}"
        );
        assert!(
            response.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{response}"
        );
        assert!(response.ends_with("\r\n\r\n\0asm"), "{response}");
        Ok(())
    }
}
