//! `sealtip desk` as an officer starts it: what it refuses with one line,
//! the address it prints, and what that address answers (the binary itself,
//! on loopback, with no relay).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use sealtip_harness::Desk;

mod common;
use common::sealtip;

/// The one line a refused start prints.
fn refusal(dir: &std::path::Path, args: &[&str]) -> String {
    let out = sealtip(dir, args);
    assert!(!out.status.success(), "sealtip {args:?} started");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

/// `GET path` from `address` with `host` as the Host header: the status
/// line and the body.
fn get(address: &str, host: &str, path: &str) -> (String, String) {
    let answer = sealtip_harness::http::get_as(address, host, path).unwrap();
    (answer.status_line.clone(), answer.text())
}

/// A fresh folder holding an officer's key, `officer.key`.
fn folder_with_officer_key() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let keygen = sealtip(dir.path(), &["keygen", "-o", "officer.key"]);
    assert!(keygen.status.success());
    dir
}

#[test]
fn the_desk_refuses_what_it_cannot_keep_to_this_machine() {
    let dir = folder_with_officer_key();
    let path = dir.path();
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
    let dir = folder_with_officer_key();
    let path = dir.path();
    let (key, inbox) = (path.join("officer.key"), path.join("in"));
    let desk = Desk::start(
        [
            "--agency".as_ref(),
            "demo".as_ref(),
            "-i".as_ref(),
            key.as_os_str(),
            "--inbox".as_ref(),
            inbox.as_os_str(),
            "--lang".as_ref(),
            "fr".as_ref(),
        ],
        &[],
    )
    .unwrap();
    let url = desk.url.as_str();
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
