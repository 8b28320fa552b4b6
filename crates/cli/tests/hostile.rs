//! `sealtip` against hostile input: a tip written to attack the officer's
//! terminal or disk, and a relay that answers whatever it likes (a fake one
//! here, a few lines of HTTP on 127.0.0.1). Also the tipster's route to the
//! relay through a SOCKS proxy (a small one here, recording what it is asked).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use sealtip_envelope::{Answer, Kind, MetadataStatus, NewAttachment, Tip};
use sealtip_envelope::{Codename, Recipient, seal_tip, seal_to_vec};
use sealtip_harness::http::{Response, Server};
use sha2::{Digest, Sha256};

mod common;
use common::{in_terminal, ok, sealtip, sealtip_with, tipster_args};

/// Text a terminal would obey: a new window title, a cleared screen, a
/// cursor moved up, a bell, right-to-left override, a carriage return.
const ATTACK: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[1A\u{202e}evil\r\u{9b}31m";
/// What `ATTACK` looks like once escaped.
const ATTACK_SHOWN: &str = "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[1A\\u{202e}evil\\u{d}\\u{9b}31m";
/// A codename (six words of the list).
const CODENAME: &str = "abacus abdomen abide ablaze abrasion zoology";

/// A failed run's error: one line on standard error, no panic, nothing a
/// terminal obeys.
fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "should fail");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("sealtip: error: "), "{stderr:?}");
    assert_harmless(&stderr);
    stderr.trim_end().to_string()
}

/// Runs `sealtip ARGS MORE` in `dir`, which must fail with one harmless
/// line saying `says`.
fn refused(dir: &Path, args: &[&str], more: &[&str], says: &str) {
    let err = one_line_error(&sealtip(dir, &[args, more].concat()));
    assert!(err.contains(says), "{says:?} not in {err}");
}

/// No byte a terminal acts on, other than line breaks.
fn assert_harmless(shown: &str) {
    let bad = shown.chars().find(|c| {
        (c.is_control() && *c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
    });
    assert!(bad.is_none(), "{bad:?} printed raw in {shown:?}");
}

/// An agency key made by `sealtip keygen`; its recipient.
fn agency_key(dir: &Path) -> Recipient {
    let recipient = ok(dir, &["keygen", "-o", "agency.key"]);
    Recipient::parse(recipient.trim()).unwrap()
}

#[test]
fn a_tip_that_attacks_the_terminal_is_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let recipient = agency_key(dir);
    let mut tip = Tip::new(Kind::Tip, &format!("demo{ATTACK}"), "2026-12-06");
    tip.language = format!("en{ATTACK}");
    tip.text = format!("First line {ATTACK}\nsecond line\r\nthird");
    tip.answers.push(Answer {
        id: "where".into(),
        label: format!("Where{ATTACK}"),
        value: format!("Pier 4{ATTACK}"),
    });
    let sealed = std::fs::File::create(dir.join("tip.age")).unwrap();
    let mut sealing = seal_tip(&[recipient], sealed).unwrap();
    let media_type = format!("image/jpeg{ATTACK}");
    sealing
        .add_attachment(
            NewAttachment {
                name: &format!("photo{ATTACK}.jpg"),
                media_type: &media_type,
                size: 3,
                metadata: MetadataStatus::Removed,
                removed: vec![format!("location{ATTACK}")],
                keep_name: true,
            },
            &mut &b"abc"[..],
        )
        .unwrap();
    sealing.finish(tip).unwrap();

    let summary = ok(dir, &["open", "-i", "agency.key", "tip.age"]);
    assert_harmless(&summary);
    for expected in [
        format!("Tip for demo{ATTACK_SHOWN}, written 2026-12-06 (en{ATTACK_SHOWN})"),
        format!("  Where{ATTACK_SHOWN}: Pier 4{ATTACK_SHOWN}"),
        format!("  What happened: First line {ATTACK_SHOWN}\n    second line\\u{{d}}\n    third"),
        format!("(image/jpeg{ATTACK_SHOWN}, 3 bytes; removed: location{ATTACK_SHOWN})"),
    ] {
        assert!(summary.contains(&expected), "{expected:?} in {summary}");
    }

    // The JSON report holds the same strings, with nothing raw either.
    let json = ok(
        dir,
        &[
            "open",
            "-i",
            "agency.key",
            "--json",
            "--out",
            "again",
            "tip.age",
        ],
    );
    assert_harmless(&json);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["tip"]["answers"][0]["value"],
        format!("Pier 4{ATTACK}")
    );
    assert_eq!(
        report["tip"]["attachments"][0]["name"],
        format!("photo{ATTACK}.jpg")
    );
}

/// A ustar header for a regular file: written by hand, so that it can hold
/// names a careful writer refuses.
fn tar_entry(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name);
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut entry = header.to_vec();
    entry.extend_from_slice(data);
    entry.resize(entry.len().div_ceil(512) * 512, 0);
    entry
}

/// A sealed bundle whose one (empty) attachment is at `path`, listed in tip.json.
fn bundle_with_attachment_at(recipient: &Recipient, path: &str) -> Vec<u8> {
    let empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mut tip = serde_json::to_value(Tip::new(Kind::Tip, "demo", "2026-12-06")).unwrap();
    tip["text"] = "See the attachment".into();
    tip["attachments"] = serde_json::json!([{
        "path": path,
        "name": path,
        "media_type": "text/plain",
        "size": 0,
        "sha256": empty_sha256,
        "metadata": "not_checked",
        "removed": [],
    }]);
    let mut tar = tar_entry(b"tip.json", &serde_json::to_vec(&tip).unwrap());
    tar.extend(tar_entry(path.as_bytes(), b""));
    tar.extend([0u8; 1024]);
    seal_to_vec(std::slice::from_ref(recipient), &tar).unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn hostile_attachment_names_stay_inside_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("work");
    std::fs::create_dir(&dir).unwrap();
    let recipient = agency_key(&dir);

    // A name full of control characters is written as it is, inside
    // attachments/, and shown escaped.
    let name = format!("attachments/{ATTACK}.txt");
    std::fs::write(
        dir.join("odd.age"),
        bundle_with_attachment_at(&recipient, &name),
    )
    .unwrap();
    let summary = ok(&dir, &["open", "-i", "agency.key", "odd.age"]);
    assert_harmless(&summary);
    assert!(
        summary.contains(&format!(
            "Attachment attachments/{ATTACK_SHOWN}.txt \"attachments/{ATTACK_SHOWN}.txt\" (text/plain"
        )),
        "{summary}"
    );
    assert!(dir.join("odd").join(&name).is_file());

    // Names that climb out, are absolute or nest are refused: nothing is
    // written, here or anywhere above.
    let before = files_under(root);
    for path in [
        "attachments/../../escaped.txt",
        "attachments/../tip.txt",
        "../escaped.txt",
        "/tmp/sealtip-escaped.txt",
        "attachments/sub/inner.txt",
        "attachments/..\\escaped.txt",
        "attachments/./x.txt",
    ] {
        std::fs::write(
            dir.join("bad.age"),
            bundle_with_attachment_at(&recipient, path),
        )
        .unwrap();
        let before_this = files_under(root);
        let err = one_line_error(&sealtip(&dir, &["open", "-i", "agency.key", "bad.age"]));
        assert!(err.contains("cannot open bad.age"), "{path}: {err}");
        let mut after = files_under(root);
        after.retain(|p| !before_this.contains(p));
        assert!(after.is_empty(), "{path} left {after:?}");
        assert!(!dir.join("bad").exists());
        std::fs::remove_file(dir.join("bad.age")).unwrap();
    }
    assert_eq!(files_under(root), before);
    assert!(!Path::new("/tmp/sealtip-escaped.txt").exists());
}

#[test]
fn an_attachment_unlike_its_hash_in_tip_json_is_refused_and_nothing_unpacked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let recipient = agency_key(dir);
    // Several pieces of bytes; tip.json gives the size right and the hash
    // of the same bytes but the last.
    let data: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i % 251) as u8).collect();
    let mut claimed = data.clone();
    *claimed.last_mut().unwrap() ^= 1;
    let mut tip = serde_json::to_value(Tip::new(Kind::Tip, "demo", "2026-12-06")).unwrap();
    tip["attachments"] = serde_json::json!([{
        "path": "attachments/01.mp4",
        "name": "",
        "media_type": "video/mp4",
        "size": data.len(),
        "sha256": hex::encode(Sha256::digest(&claimed)),
        "metadata": "not_checked",
        "removed": [],
    }]);
    let mut tar = tar_entry(b"attachments/01.mp4", &data);
    tar.extend(tar_entry(b"tip.json", &serde_json::to_vec(&tip).unwrap()));
    tar.extend([0u8; 1024]);
    let sealed = seal_to_vec(std::slice::from_ref(&recipient), &tar).unwrap();
    std::fs::write(dir.join("tip.age"), sealed).unwrap();
    let before = files_under(dir);
    refused(
        dir,
        &["open", "-i", "agency.key", "tip.age"],
        &[],
        "attachment \"attachments/01.mp4\" does not match its SHA-256 or size in tip.json",
    );
    assert_eq!(files_under(dir), before, "nothing unpacked");
}

/// A fresh folder holding an inbox token, `token`, for a fake relay.
fn folder_with_token() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("token"), "secret-token\n").unwrap();
    tmp
}

/// What a fake relay answers: a status and a body.
type Canned = (u16, Vec<u8>);

/// A fake relay on 127.0.0.1: answers each request with `answer(method,
/// path)` (a JSON body), and records the requests' first lines. A part of
/// an upload session (`PATCH /api/v1/uploads/…`) that `answer` does not
/// know (404) is stored, as a relay would; `answer` opens the session
/// ([`session_opened`]) and commits it.
fn fake_relay(answer: impl Fn(&str, &str) -> Canned + Send + Sync + 'static) -> Server {
    Server::start("127.0.0.1", move |request| {
        let (method, path) = (request.method.as_str(), request.path.as_str());
        let (status, body) = match answer(method, path) {
            (404, _) if method == "PATCH" && path.starts_with("/api/v1/uploads/") => {
                let offset: usize = request
                    .header("upload-offset")
                    .and_then(|offset| offset.parse().ok())
                    .unwrap_or(0);
                json(serde_json::json!({"received": offset + request.body.len()}))
            }
            answered => answered,
        };
        Response::new(status, "application/json", body)
    })
    .unwrap()
}

fn json(value: serde_json::Value) -> Canned {
    (200, value.to_string().into_bytes())
}

fn not_found() -> Canned {
    (404, br#"{"error":"not found"}"#.to_vec())
}

/// The upload session the fake relay opens.
fn session_opened() -> Canned {
    let session = serde_json::json!({
        "upload": "00112233445566778899aabbccddeeff",
        "max_bytes": 1 << 30,
        "part_max_bytes": 16 << 20,
        "expires_in": 86400,
    });
    (201, session.to_string().into_bytes())
}

/// A challenge the fake relay hands out: easy, valid in form.
fn challenge() -> Canned {
    let token = sealtip_api::pow::issue(b"fake", 1, u64::MAX / 2, [7; 16]);
    json(serde_json::json!({"challenge": token, "difficulty": 1, "expires_in": 600}))
}

#[test]
fn ids_from_the_relay_are_checked_before_use() {
    let tmp = folder_with_token();
    let dir = tmp.path();
    std::fs::write(dir.join("codename"), CODENAME).unwrap();
    std::fs::write(
        dir.join("tip.age"),
        b"not really sealed, the fake relay does not care",
    )
    .unwrap();
    let bad_id = Arc::new(Mutex::new(String::new()));
    let id = bad_id.clone();
    let relay = fake_relay(move |method, path| {
        let id = id.lock().unwrap().clone();
        match (method, path) {
            ("GET", p) if p.ends_with("/inbox") => json(serde_json::json!({"items": [
                {"id": "0123456789abcdef0123456789abcdef", "kind": "tip", "size": 10, "received": "2026-12-06T10:00:00Z"},
                {"id": id, "kind": "message", "size": 10, "received": "2026-12-06T10:00:00Z"},
            ]})),
            ("GET", p) if p.contains("/mailboxes/") => json(serde_json::json!({"replies": [
                {"id": id, "size": 10, "received": "2026-12-06T10:00:00Z"},
            ]})),
            ("POST", "/api/v1/challenges") => challenge(),
            ("POST", p) if p.ends_with("/uploads") => session_opened(),
            ("POST", p) if p.ends_with("/commit") => {
                (201, serde_json::json!({"id": id}).to_string().into_bytes())
            }
            _ => not_found(),
        }
    });
    let url = relay.url.as_str();
    let agency = ["--relay", url, "--agency", "demo", "--token-file", "token"];
    let long = "a".repeat(5000);
    for (bad, problem) in [
        ("", "an empty"),
        ("0123456789abcdef", "a 16-byte"),
        (long.as_str(), "a 5000-byte"),
        ("0123456789ABCDEF0123456789abcdef", "a malformed"),
        ("../../../../../../../../etc/pass", "a malformed"),
        (
            "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}89abcdef0123456",
            "a malformed",
        ),
    ] {
        *bad_id.lock().unwrap() = bad.to_string();
        let err = one_line_error(&sealtip(dir, &[&["inbox"][..], &agency].concat()));
        assert!(
            err.contains(&format!("the relay answered {problem} inbox item id")),
            "{err}"
        );
        assert!(err.len() < 300, "a long id is cut short: {err}");
        let err = one_line_error(&sealtip(
            dir,
            &[&["pull", "--out", "pulled"][..], &agency].concat(),
        ));
        assert!(err.contains(&format!("{problem} inbox item id")), "{err}");
        assert!(!dir.join("pulled").exists(), "nothing is downloaded");
        let err = one_line_error(&sealtip(dir, &tipster_args("replies", url, "codename")));
        assert!(err.contains(&format!("{problem} reply id")), "{err}");
        let err = one_line_error(&sealtip(
            dir,
            &["submit", "--relay", url, "--agency", "demo", "tip.age"],
        ));
        assert!(err.contains(&format!("{problem} item id")), "{err}");
    }
    let shown = one_line_error(&sealtip(dir, &[&["inbox"][..], &agency].concat()));
    assert!(
        shown.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}"),
        "{shown}"
    );
    // Nothing ever asked the relay for a path built from a bad id.
    let requests = relay.requests.lock().unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.contains("..") && !r.contains("etc") && !r.contains(&long[..40])),
        "{requests:?}"
    );
}

#[test]
fn inbox_json_lists_what_the_relay_said() {
    let tmp = folder_with_token();
    let dir = tmp.path();
    let items = serde_json::json!([
        {"id": "0123456789abcdef0123456789abcdef", "kind": "tip", "size": 4096, "received": "2026-12-06T10:00:00Z"},
        {"id": "fedcba9876543210fedcba9876543210", "kind": "message", "size": 1536, "received": format!("2026-12-06T11:00:00Z{ATTACK}")},
    ]);
    let answer = items.clone();
    let relay = fake_relay(move |_, path| {
        if path == "/api/v1/agencies/demo/inbox" {
            json(serde_json::json!({"items": answer, "future_field": 1}))
        } else {
            not_found()
        }
    });
    let agency = [
        "--relay",
        relay.url.as_str(),
        "--agency",
        "demo",
        "--token-file",
        "token",
    ];
    let printed = ok(dir, &[&["inbox", "--json"][..], &agency].concat());
    assert_harmless(&printed);
    let listed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(listed, items);

    let table = ok(dir, &[&["inbox"][..], &agency].concat());
    assert_harmless(&table);
    assert!(
        table.contains(&format!(
            "2026-12-06T11:00:00Z{ATTACK_SHOWN} fedcba9876543210fedcba9876543210"
        )),
        "{table}"
    );
}

#[test]
fn replies_from_a_hostile_relay_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = Codename::parse(CODENAME).unwrap().derive().unwrap();
    let mut reply = Tip::new(Kind::Reply, &format!("demo{ATTACK}"), "2026-12-06");
    reply.text = format!("Thank you.{ATTACK}\nAre you safe?");
    // Proven as the agency's, as `sealtip replies` requires: in the
    // codename's thread, with its proof.
    reply.thread = Some(keys.mailbox.clone());
    let (sealed, _) = seal_tip(&[keys.recipient()], Vec::new())
        .unwrap()
        .finish_in_thread(reply, &keys.thread_key)
        .unwrap();
    let reply_id = "00112233445566778899aabbccddeeff";
    let mailbox = format!("/api/v1/agencies/demo/mailboxes/{}", keys.mailbox);
    let relay = fake_relay(move |_, path| {
        if path == mailbox {
            json(serde_json::json!({"replies": [
                {"id": reply_id, "size": sealed.len(), "received": "2026-12-06T10:00:00Z"}
            ]}))
        } else if path == format!("{mailbox}/{reply_id}") {
            (200, sealed.clone())
        } else if path.starts_with("/api/v1/agencies/wordy/") {
            let refusal = serde_json::json!({ "error": "blah ".repeat(100_000) });
            (400, refusal.to_string().into_bytes())
        } else {
            let refusal = serde_json::json!({ "error": format!("no such thing{ATTACK}") });
            (400, refusal.to_string().into_bytes())
        }
    });
    let url = relay.url.as_str();
    let out = sealtip_with(
        dir,
        &tipster_args("replies", url, "-"),
        &[],
        Some(&format!("{CODENAME}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(out.stdout).unwrap();
    assert_harmless(&shown);
    assert!(
        shown.contains(&format!(
            "Reply 1 from demo{ATTACK_SHOWN} (2026-12-06, id {reply_id}):\n  Thank you.{ATTACK_SHOWN}\n  Are you safe?\n"
        )),
        "{shown}"
    );
    // The relay's own words in a refusal are escaped too.
    let refusal_for = |agency: &str| {
        let replies = [
            "replies",
            "--relay",
            url,
            "--agency",
            agency,
            "--codename",
            CODENAME,
        ];
        one_line_error(&sealtip(dir, &replies))
    };
    let err = refusal_for("other");
    assert!(
        err.ends_with(&format!(
            "the relay refused: no such thing{ATTACK_SHOWN} (HTTP 400)"
        )),
        "{err}"
    );
    // And a long-winded refusal is cut to a line a person can read.
    let err = refusal_for("wordy");
    assert!(
        err.len() < 500 && err.ends_with("blah … (HTTP 400)"),
        "{err}"
    );
}

#[test]
fn the_codename_and_message_come_from_files_or_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let relay = fake_relay(|_, path| {
        if path.contains("/mailboxes/") {
            json(serde_json::json!({"replies": []}))
        } else {
            not_found()
        }
    });
    let url = relay.url.as_str();
    std::fs::write(dir.join("codename"), format!("  {CODENAME}\n")).unwrap();
    std::fs::write(dir.join("empty"), "\n").unwrap();
    let replies = ["replies", "--relay", url, "--agency", "demo"];
    let out = ok(
        dir,
        &[&replies[..], &["--codename-file", "codename"]].concat(),
    );
    assert!(out.contains("No replies yet"), "{out}");
    let out = ok(dir, &[&replies[..], &["--codename", CODENAME]].concat());
    assert!(out.contains("No replies yet"), "{out}");
    // SEALTIP_CODENAME works as before, and gives way to a file.
    let out = sealtip_with(dir, &replies, &[("SEALTIP_CODENAME", CODENAME)], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sealtip_with(
        dir,
        &[&replies[..], &["--codename-file", "codename"]].concat(),
        &[("SEALTIP_CODENAME", "not a codename")],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without a codename and without a terminal to type it: one clear line.
    refused(dir, &replies, &[], "no codename: give --codename-file F");
    refused(
        dir,
        &replies,
        &["--codename-file", "empty"],
        "empty holds no codename",
    );
    refused(
        dir,
        &replies,
        &["--codename-file", "missing"],
        "cannot read the codename from missing",
    );
    let out = sealtip(
        dir,
        &[
            &replies[..],
            &["--codename", CODENAME, "--codename-file", "codename"],
        ]
        .concat(),
    );
    assert!(!out.status.success(), "one or the other");

    // A follow-up needs a message: from a file, or one clear line.
    let follow_up = tipster_args("follow-up", url, "codename");
    refused(dir, &follow_up, &[], "no message: give --message-file F");
    refused(
        dir,
        &follow_up,
        &["--message-file", "empty"],
        "the message is empty",
    );
    let err = one_line_error(&sealtip(
        dir,
        &[
            &tipster_args("follow-up", url, "-")[..],
            &["--message-file", "-"],
        ]
        .concat(),
    ));
    assert!(
        err.contains("cannot both come from standard input"),
        "{err}"
    );

    // `seal` takes both from files, or the message from standard input.
    let recipient = agency_key(dir).to_string();
    std::fs::write(dir.join("message"), "A van at pier 4\n").unwrap();
    ok(
        dir,
        &[
            "seal",
            "--to",
            &recipient,
            "--message-file",
            "message",
            "--codename-file",
            "codename",
            "-o",
            "a.age",
        ],
    );
    let out = sealtip_with(
        dir,
        &[
            "seal",
            "--to",
            &recipient,
            "--message-file",
            "-",
            "--codename-file",
            "codename",
            "-o",
            "b.age",
        ],
        &[],
        Some("Typed into a pipe"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mailbox = Codename::parse(CODENAME).unwrap().derive().unwrap().mailbox;
    for (file, text) in [
        ("a.age", "A van at pier 4\n"),
        ("b.age", "Typed into a pipe"),
    ] {
        let report: serde_json::Value =
            serde_json::from_str(&ok(dir, &["open", "-i", "agency.key", "--json", file])).unwrap();
        assert_eq!(report["tip"]["text"], text);
        assert_eq!(report["tip"]["reply"]["mailbox"], mailbox.as_str());
    }
}

/// A SOCKS5 proxy on 127.0.0.1 (no authentication, CONNECT only) that
/// records each target as asked (`host:port`) and connects to that port on
/// 127.0.0.1 whatever the host, so it reaches the fake relay.
fn socks5_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let _ = socks5_session(stream, &seen);
            });
        }
    });
    (port, targets)
}

fn socks5_session(mut client: TcpStream, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head)?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods)?;
    client.write_all(&[5, 0])?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip)?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    let port = u16::from_be_bytes(port);
    seen.lock().unwrap().push(format!("{host}:{port}"));
    let mut upstream = TcpStream::connect(("127.0.0.1", port))?;
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
    Ok(())
}

#[test]
fn a_failed_part_is_sent_again_and_a_commit_whose_answer_was_lost_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("tip.age"), b"sealed bytes").unwrap();
    let (parts, commits) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    let (part, commit) = (parts.clone(), commits.clone());
    let relay = fake_relay(move |method, path| match (method, path) {
        ("POST", "/api/v1/challenges") => challenge(),
        ("POST", "/api/v1/agencies/demo/uploads") => session_opened(),
        // The first part fails on the relay; the second is stored.
        ("PATCH", _) => {
            *part.lock().unwrap() += 1;
            match *part.lock().unwrap() {
                1 => (503, br#"{"error":"busy"}"#.to_vec()),
                _ => not_found(),
            }
        }
        ("GET", p) if p.starts_with("/api/v1/uploads/") => json(serde_json::json!({"received": 0})),
        // The first commit is stored but its answer lost (a proxy's 502);
        // the second finds the session gone.
        ("POST", p) if p.ends_with("/commit") => {
            *commit.lock().unwrap() += 1;
            match *commit.lock().unwrap() {
                1 => (502, br#"{"error":"bad gateway"}"#.to_vec()),
                _ => not_found(),
            }
        }
        _ => not_found(),
    });
    let out = sealtip(
        dir,
        &[
            "submit", "--relay", &relay.url, "--agency", "demo", "tip.age",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the relay refused: busy (HTTP 503); trying again in 1 s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the relay stored the tip (its answer with the id was lost)"),
        "{stderr}"
    );
    let requests = relay.requests.lock().unwrap();
    let asked: Vec<&str> = requests
        .iter()
        .map(|r| r.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        asked,
        ["POST", "POST", "PATCH", "GET", "PATCH", "POST", "POST"],
        "challenge, open, part, how much is held, part again, commit twice: {requests:?}"
    );
}

#[test]
fn the_tipster_reaches_the_relay_through_a_socks_proxy_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("codename"), CODENAME).unwrap();
    let relay = fake_relay(|method, path| match (method, path) {
        ("GET", p) if p.contains("/mailboxes/") => json(serde_json::json!({"replies": []})),
        ("POST", "/api/v1/challenges") => challenge(),
        ("POST", "/api/v1/agencies/demo/uploads") => session_opened(),
        ("POST", p) if p.ends_with("/commit") => (
            201,
            br#"{"id":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
        ),
        _ => not_found(),
    });
    let (proxy_port, targets) = socks5_proxy();
    let socks5h = format!("socks5h://127.0.0.1:{proxy_port}");
    // The relay by name: with socks5h only the proxy resolves it.
    let by_name = format!("http://localhost:{}", relay.port);
    let replies = [
        "replies",
        "--relay",
        &by_name,
        "--agency",
        "demo",
        "--codename-file",
        "codename",
    ];

    let out = ok(dir, &[&replies[..], &["--proxy", &socks5h]].concat());
    assert!(out.contains("No replies yet"), "{out}");
    assert_eq!(
        targets.lock().unwrap().drain(..).collect::<Vec<_>>(),
        [format!("localhost:{}", relay.port)]
    );

    // ALL_PROXY (or all_proxy) when --proxy is absent.
    for variable in ["ALL_PROXY", "all_proxy"] {
        let out = sealtip_with(dir, &replies, &[(variable, &socks5h)], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            targets.lock().unwrap().drain(..).collect::<Vec<_>>(),
            [format!("localhost:{}", relay.port)],
            "{variable}"
        );
    }

    // submit goes the same way, proof-of-work and all.
    std::fs::write(dir.join("tip.age"), b"sealed bytes").unwrap();
    let id = ok(
        dir,
        &[
            "submit", "--relay", &by_name, "--agency", "demo", "--proxy", &socks5h, "tip.age",
        ],
    );
    assert_eq!(id.trim(), "0123456789abcdef0123456789abcdef");
    assert_eq!(
        targets.lock().unwrap().len(),
        4,
        "challenge, session, part and commit"
    );
    targets.lock().unwrap().clear();

    // socks5:// works but resolves the name here, and says so.
    let out = sealtip(
        dir,
        &[
            &replies[..],
            &["--proxy", &format!("socks5://127.0.0.1:{proxy_port}")],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warning = String::from_utf8(out.stderr).unwrap();
    assert!(
        warning.contains(
            "sealtip: warning: with --proxy socks5:// the relay's name is resolved on this machine"
        ),
        "{warning}"
    );
    let asked = targets.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert_eq!(asked.len(), 1);
    assert!(!asked[0].starts_with("localhost"), "an address: {asked:?}");

    // Other proxies are refused before anything is sent.
    let before = relay.requests.lock().unwrap().len();
    for (proxy, says) in [
        (
            "socks4://127.0.0.1:9050",
            "--proxy uses \"socks4://\"; sealtip takes socks5h://",
        ),
        ("https://127.0.0.1:9050", "--proxy uses \"https://\""),
        (
            "127.0.0.1:9050",
            "--proxy must be a URL such as socks5h://127.0.0.1:9050",
        ),
    ] {
        let err = one_line_error(&sealtip(dir, &[&replies[..], &["--proxy", proxy]].concat()));
        assert!(err.contains(says), "{err}");
    }
    let err = one_line_error(&sealtip_with(
        dir,
        &replies,
        &[("ALL_PROXY", "ftp://x")],
        None,
    ));
    assert!(err.contains("ALL_PROXY uses \"ftp://\""), "{err}");
    assert_eq!(relay.requests.lock().unwrap().len(), before);
    assert!(targets.lock().unwrap().is_empty());
}

#[test]
fn in_a_terminal_the_codename_is_asked_unseen_and_the_message_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let recipient = agency_key(dir).to_string();
    let profile = serde_json::json!({
        "id": "demo",
        "name": "Demo agency",
        "recipients": [recipient],
        "languages": ["en"],
        "form": {"id": "f", "questions": []},
        "emergency": {},
        "exit_url": "https://example.org/",
        "pow_difficulty": 1,
        "max_upload_bytes": 1 << 20,
    });
    let relay = fake_relay(move |method, path| match (method, path) {
        ("GET", "/api/v1/agencies/demo") => json(profile.clone()),
        ("GET", p) if p.starts_with("/api/v1/agencies/demo/mailboxes/") => {
            json(serde_json::json!({"replies": []}))
        }
        ("POST", "/api/v1/challenges") => challenge(),
        ("POST", "/api/v1/agencies/demo/uploads") => session_opened(),
        ("POST", p) if p.ends_with("/commit") => (
            201,
            br#"{"id":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
        ),
        _ => not_found(),
    });
    let command = format!(
        "{} follow-up --relay {} --agency demo",
        env!("CARGO_BIN_EXE_sealtip"),
        relay.url
    );
    // The codename, then the message's two lines and Ctrl-D.
    let out = in_terminal(
        dir,
        &command,
        &[
            &format!("{CODENAME}\n"),
            "Two people\nneed a doctor\n",
            "\u{4}",
        ],
    );
    let (ok, shown) = (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    );
    assert!(ok, "{shown}");
    assert!(
        shown.contains("Your codename (not shown as you type):"),
        "{shown}"
    );
    assert!(!shown.contains("abacus"), "the codename was shown: {shown}");
    assert!(
        shown.contains("Type the message; end it with Ctrl-D on a line of its own:"),
        "{shown}"
    );
    assert!(shown.contains("sealed to Demo agency and sent"), "{shown}");
    assert!(
        relay
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.starts_with("POST /api/v1/uploads/") && r.contains("/commit ")),
        "sent"
    );
}

#[test]
fn pull_takes_no_more_and_no_less_than_the_relay_listed() {
    let tmp = folder_with_token();
    let dir = tmp.path();
    let id = "0123456789abcdef0123456789abcdef";
    let sent = Arc::new(Mutex::new(0usize));
    let length = sent.clone();
    let relay = fake_relay(move |_, path| {
        if path == "/api/v1/agencies/demo/inbox" {
            json(serde_json::json!({"items": [
                {"id": id, "kind": "tip", "size": 1000, "received": "2026-12-06T10:00:00Z"},
            ]}))
        } else if path == format!("/api/v1/agencies/demo/inbox/{id}") {
            (200, vec![7u8; *length.lock().unwrap()])
        } else {
            not_found()
        }
    });
    let pull = [
        "pull",
        "--out",
        "pulled",
        "--relay",
        relay.url.as_str(),
        "--agency",
        "demo",
        "--token-file",
        "token",
    ];
    for (bytes, says) in [
        (
            4 << 20,
            "the relay sent more bytes than it listed for this item",
        ),
        (999, "the relay sent 999 of the 1000 bytes it listed"),
    ] {
        *sent.lock().unwrap() = bytes;
        let err = one_line_error(&sealtip(dir, &pull));
        assert!(err.contains(&format!("cannot download {id}")), "{err}");
        assert!(err.contains(says), "{err}");
        let items: Vec<_> = files_under(&dir.join("pulled"))
            .into_iter()
            .filter(|p| p != Path::new("relay-order.json"))
            .collect();
        assert!(items.is_empty(), "nothing half-pulled stays: {items:?}");
    }
    *sent.lock().unwrap() = 1000;
    assert!(ok(dir, &pull).contains("Pulled 1 new item(s)"));
    assert_eq!(
        std::fs::read(dir.join(format!("pulled/tip-{id}.age"))).unwrap(),
        vec![7u8; 1000]
    );
}
