//! Plain HTTP/1.1 over loopback, for what a test plays itself: a tiny
//! server of canned answers (a partner's site, a hostile relay), and a
//! `GET` that shows every header as it came.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

/// A request the [`Server`] received.
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without query or fragment.
    pub path: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body (as long as `Content-Length` said).
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// An answer: status, content type, more headers and body.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Headers besides `Content-Type`, `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// `status` with `body` of `content_type`.
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    /// `200` with `body` of `content_type`.
    pub fn ok(content_type: &'static str, body: Vec<u8>) -> Response {
        Response::new(200, content_type, body)
    }

    /// `404`, "not found".
    pub fn not_found() -> Response {
        Response::new(404, "text/plain", b"not found".to_vec())
    }

    /// The same with the header `name: value` too.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A harmless page on loopback for a quick exit to go to: [`Server`]
/// answering every path with a weather page; [`ExitSite::page`] is its
/// `/left`.
pub struct ExitSite {
    /// The server, until the test ends.
    pub server: Server,
    /// `http://127.0.0.1:PORT/left`.
    pub page: String,
}

impl ExitSite {
    /// Starts it on a free port of 127.0.0.1.
    pub fn start() -> Result<ExitSite> {
        let server = Server::start("127.0.0.1", |_| {
            Response::ok(
                "text/html; charset=utf-8",
                b"<!doctype html><title>Weather</title><p>Sunny.</p>".to_vec(),
            )
        })?;
        let page = format!("{}/left", server.url);
        Ok(ExitSite { server, page })
    }
}

/// A server on a free port of one loopback address; each connection gets
/// one answer, then is closed. It runs until the test ends.
pub struct Server {
    /// `http://HOST:PORT`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// The first line of every request received (`GET /path HTTP/1.1`).
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves `respond(request)` on a free port of `host` (`127.0.0.1`,
    /// `127.0.0.2`, …: other hosts are other origins to a browser).
    pub fn start(
        host: &str,
        respond: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Result<Server> {
        let listener = TcpListener::bind((host, 0))?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let respond = Arc::new(respond);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, respond) = (seen.clone(), respond.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, &seen, &*respond);
                });
            }
        });
        Ok(Server {
            url: format!("http://{host}:{port}"),
            port,
            requests,
        })
    }

    /// The first lines of the requests received so far.
    pub fn requests(&self) -> Vec<String> {
        match self.requests.lock() {
            Ok(requests) => requests.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Reads one request from `stream` and writes `respond`'s answer.
fn answer(
    stream: TcpStream,
    seen: &Mutex<Vec<String>>,
    respond: &dyn Fn(&Request) -> Response,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length: u64 = find_header(&headers, "content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = Vec::new();
    reader.by_ref().take(length).read_to_end(&mut body)?;
    let first = first.trim().to_string();
    if let Ok(mut seen) = seen.lock() {
        seen.push(first.clone());
    }
    let mut words = first.split(' ');
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let response = respond(&Request {
        method,
        path,
        headers,
        body,
    });
    let mut head = format!(
        "HTTP/1.1 {} -\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    stream.write_all(head.as_bytes())?;
    stream.write_all(&response.body)
}

/// An answer to [`get`]: the status line, the headers, the body.
pub struct Answer {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body as sent (not decoded from chunks).
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of header `name` (lower case), or "" when not sent.
    pub fn header(&self, name: &str) -> &str {
        find_header(&self.headers, name).unwrap_or_default()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET origin+path` (`origin`: `http://HOST:PORT`, `localhost` reached
/// on 127.0.0.1), saying `Connection: close`.
pub fn get(origin: &str, path: &str) -> Result<Answer> {
    let host = origin.trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    get_as(&host.replace("localhost", "127.0.0.1"), host, path)
}

/// `GET path` from `address` (`IP:PORT`) with `host` as the `Host` header.
pub fn get_as(address: &str, host: &str, path: &str) -> Result<Answer> {
    let mut stream =
        TcpStream::connect(address).with_context(|| format!("cannot connect to {address}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no HTTP answer")?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer {
        status_line,
        headers,
        body: response[split + 4..].to_vec(),
    })
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
