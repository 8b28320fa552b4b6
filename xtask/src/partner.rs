//! The demo partner page `cargo xtask run` serves on a second port: a news
//! site on another origin than the relay, embedding the form in both modes
//! (`www/partner/index.html`, with `{{RELAY}}` and `{{PIN}}` filled in).

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;

/// The page's template.
const TEMPLATE: &str = "www/partner/index.html";

/// Serves the demo page on `address` in a background thread, for the relay
/// at `relay` (an origin) whose demo agency's recipient is in `public_key`.
/// Returns the page's origin.
pub fn serve(address: SocketAddr, relay: &str, public_key: &Path) -> Result<String> {
    let recipient = std::fs::read_to_string(public_key)
        .with_context(|| format!("cannot read {}", public_key.display()))?;
    let pin = sealtip_envelope::Recipient::parse(recipient.trim())
        .with_context(|| format!("{} holds no age recipient", public_key.display()))?
        .fingerprint();
    let page = std::fs::read_to_string(TEMPLATE)
        .with_context(|| format!("cannot read {TEMPLATE}"))?
        .replace("{{RELAY}}", relay)
        .replace("{{PIN}}", &pin);
    let listener =
        TcpListener::bind(address).with_context(|| format!("cannot listen on {address}"))?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &page);
        }
    });
    Ok(match address.ip().is_unspecified() {
        true => format!("http://127.0.0.1:{}", address.port()),
        false => format!("http://{address}"),
    })
}

/// The page for `/`, 404 for anything else; one request per connection.
fn answer(mut stream: TcpStream, page: &str) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let is_page = request.split_whitespace().nth(1) == Some("/");
    let (status, body) = match is_page {
        true => ("200 OK", page),
        false => ("404 Not Found", "not found"),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
