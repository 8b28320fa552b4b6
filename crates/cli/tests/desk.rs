//! `sealtip desk` as an officer starts it: what it refuses with one line,
//! the address it prints, and what that address answers (the binary itself,
//! on loopback, with no relay).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};

fn sealtip(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sealtip"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The one line a refused start prints.
fn refusal(dir: &std::path::Path, args: &[&str]) -> String {
    let out = sealtip(dir, args);
    assert!(!out.status.success(), "sealtip {args:?} started");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

/// A desk killed when dropped.
struct Desk(Child);

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` with `host` as the Host header: the status line and the body.
fn get(address: &str, host: &str, path: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split_once("\r\n\r\n")
        .unwrap_or_default()
        .1
        .to_string();
    (status, body)
}

#[test]
fn the_desk_refuses_what_it_cannot_keep_to_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    assert!(
        sealtip(path, &["keygen", "-o", "officer.key"])
            .status
            .success()
    );
    let base = ["desk", "--agency", "demo", "-i", "officer.key"];
    let with = |more: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(more.iter().copied()).collect()
    };
    let error = refusal(path, &with(&["--inbox", "in", "--listen", "0.0.0.0:0"]));
    assert!(error.contains("not a loopback address"), "{error}");
    let error = refusal(path, &with(&["--inbox", "in", "--listen", "localhost"]));
    assert!(error.contains("is not an address and port"), "{error}");
    let error = refusal(path, &with(&[]));
    assert!(error.contains("--relay"), "{error}");
    let error = refusal(path, &with(&["--inbox", "in", "--lang", "xx"]));
    assert!(error.contains("not a language of the desk"), "{error}");
    // Arguments clap refuses (its usage follows the error line).
    let out = sealtip(path, &with(&["--relay", "http://127.0.0.1:9"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-file"));
}

#[test]
fn the_printed_address_opens_the_desk_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    assert!(
        sealtip(path, &["keygen", "-o", "officer.key"])
            .status
            .success()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealtip"))
        .args([
            "desk",
            "--agency",
            "demo",
            "-i",
            "officer.key",
            "--inbox",
            "in",
        ])
        .args(["--lang", "fr"])
        .current_dir(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let desk = Desk(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.trim().starts_with("http://"))
        .expect("the desk prints its address");
    // Keep reading what else it prints, as a terminal would.
    std::thread::spawn(move || for _ in lines {});
    let url = url.trim();
    let rest = url.strip_prefix("http://").unwrap();
    let (address, page) = rest.split_once('/').unwrap();
    let page = format!("/{page}");
    assert!(address.starts_with("127.0.0.1:"), "{url}");
    // The secret is 128 random bits, in hex.
    let secret = page.trim_matches('/').strip_prefix("s/").unwrap();
    assert_eq!(secret.len(), 32, "{url}");

    let (status, body) = get(address, address, &page);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("<html lang=\"fr\""), "{body}");
    assert!(body.contains("Boîte de réception de demo"), "{body}");
    let (status, _) = get(address, address, "/");
    assert!(status.contains("404"), "{status}");
    let (status, _) = get(address, "attacker.example", &page);
    assert!(status.contains("403"), "{status}");
    drop(desk);
    assert!(path.join("in").is_dir());
}
