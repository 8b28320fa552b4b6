//! A proxy in front of a relay that holds back the requests a test names
//! (the page's wasm, say) until the test releases them: the page as a
//! tipster on a slow connection meets it, its HTML and stylesheets there
//! and its code still on the way. Each request goes to the relay on a
//! connection of its own (`Connection: close`), so the browser opens a new
//! connection for the next and every request is seen.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::{Context, Result};

/// The proxy; it runs until the test ends.
pub struct HoldingProxy {
    /// `http://127.0.0.1:PORT`, the address to open pages at.
    pub url: String,
    gate: Arc<Gate>,
}

/// Whether held requests may go, and how many wait.
#[derive(Default)]
struct Gate {
    released: Mutex<bool>,
    opened: Condvar,
    waiting: AtomicUsize,
}

impl HoldingProxy {
    /// A proxy to `upstream` (`http://HOST:PORT`) on a free loopback port,
    /// holding every request whose path (without the query) `hold` accepts.
    pub fn start(
        upstream: &str,
        hold: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Result<HoldingProxy> {
        let upstream = upstream
            .strip_prefix("http://")
            .context("the upstream is http://HOST:PORT")?
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let gate = Arc::new(Gate::default());
        let hold = Arc::new(hold);
        {
            let gate = gate.clone();
            std::thread::spawn(move || {
                for client in listener.incoming().flatten() {
                    let (gate, hold, upstream) = (gate.clone(), hold.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        let _ = pass(client, &upstream, &gate, |path| hold(path));
                    });
                }
            });
        }
        Ok(HoldingProxy { url, gate })
    }

    /// How many requests are held now.
    pub fn held(&self) -> usize {
        self.gate.waiting.load(Ordering::SeqCst)
    }

    /// Lets every held request (and any later one) go.
    pub fn release(&self) {
        if let Ok(mut released) = self.gate.released.lock() {
            *released = true;
        }
        self.gate.opened.notify_all();
    }
}

/// One request: its head read, held if asked, sent on with
/// `Connection: close`, and the relay's answer passed back.
fn pass(client: TcpStream, upstream: &str, gate: &Gate, hold: impl Fn(&str) -> bool) -> Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut first = true;
    let mut path = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if first {
            path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("")
                .to_owned();
            first = false;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    if hold(&path) {
        gate.waiting.fetch_add(1, Ordering::SeqCst);
        let mut released = gate
            .released
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        while !*released {
            released = gate
                .opened
                .wait(released)
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
        }
        drop(released);
        gate.waiting.fetch_sub(1, Ordering::SeqCst);
    }
    let mut relay = TcpStream::connect(upstream)?;
    relay.write_all(&head)?;
    // The body, if any, then whatever else the client sends.
    let mut to_relay = relay.try_clone()?;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut to_relay);
    });
    let mut to_client = client;
    std::io::copy(&mut relay, &mut to_client)?;
    to_client.shutdown(std::net::Shutdown::Both)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::{self, Response, Server};

    #[test]
    fn held_requests_wait_for_the_release_and_others_pass() -> Result<()> {
        let relay = Server::start("127.0.0.1", |request| {
            Response::ok("text/plain", request.path.clone().into_bytes())
        })?;
        let proxy = HoldingProxy::start(&relay.url, |path| path.ends_with(".wasm"))?;
        assert_eq!(http::get(&proxy.url, "/a/demo")?.text(), "/a/demo");
        let url = proxy.url.clone();
        let held = std::thread::spawn(move || http::get(&url, "/app_bg.wasm?v=1"));
        while proxy.held() == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!held.is_finished());
        assert!(!relay.requests().iter().any(|line| line.contains(".wasm")));
        proxy.release();
        let answer = held.join().map_err(|_| anyhow::anyhow!("panicked"))??;
        assert_eq!(answer.text(), "/app_bg.wasm");
        assert_eq!(proxy.held(), 0);
        Ok(())
    }
}
