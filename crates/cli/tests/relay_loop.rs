//! The whole loop against the real relay binary, as an agency and a tipster
//! without WebAssembly would run it: codename → seal → submit → pull → open →
//! reply → replies (with the codename) → follow-up → pull → open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::Path;

use sealtip_harness::{RelayProcess, init_relay};

mod common;
use common::{fails_saying, ok, sealtip, tipster_args};

/// A fresh folder where `sealtip-relay init` wrote the demo agency
/// (`data/`), with the relay serving it; `sealtip` runs there.
struct AgencyFolder {
    tmp: tempfile::TempDir,
    relay: RelayProcess,
}

impl AgencyFolder {
    fn start() -> AgencyFolder {
        let tmp = tempfile::tempdir().unwrap();
        init_relay(tmp.path()).unwrap();
        let relay = RelayProcess::start_on_free_port(tmp.path()).unwrap();
        AgencyFolder { tmp, relay }
    }
}

/// `sealtip agency add-officer` or `remove-officer` of `key` for `agency`
/// in `data/relay.toml`.
fn officers<'a>(change: &'a str, agency: &'a str, key: &'a str) -> [&'a str; 7] {
    [
        "agency",
        change,
        "--config",
        "data/relay.toml",
        "--agency",
        agency,
        key,
    ]
}

/// `sealtip reply` with the demo agency's key: `message` to the tip (file
/// or folder) `tip`, posted to the relay at `url`.
fn reply_args<'a>(tip: &'a str, message: &'a str, url: &'a str) -> Vec<&'a str> {
    let reply = [
        "reply",
        "-i",
        "data/agency.key",
        "--to-tip",
        tip,
        "--message",
        message,
    ];
    [&reply[..], &agency_args(url)[..]].concat()
}

/// The arguments that name the demo agency at the relay at `url`, with its
/// inbox token.
fn agency_args(url: &str) -> [&str; 6] {
    [
        "--relay",
        url,
        "--agency",
        "demo",
        "--token-file",
        "data/agency.token",
    ]
}

fn single_file(dir: &Path, prefix: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names.remove(0)
}

/// The demo agency's recipient (`age1…`), from `sealtip-relay init`.
fn demo_recipient(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("data/agency.pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// `sealtip seal` of `message` (with `more` arguments) to the demo agency
/// into `tip.age`, then `sealtip submit` of it: the stored id.
fn seal_and_submit(dir: &Path, url: &str, message: &str, more: &[&str]) -> String {
    let recipient = demo_recipient(dir);
    let seal = [
        "seal",
        "--to",
        &recipient,
        "--agency",
        "demo",
        "--message",
        message,
    ];
    ok(dir, &[&seal[..], more, &["-o", "tip.age"]].concat());
    submit(dir, url, "tip.age")
}

/// `sealtip submit` of a sealed file to the demo agency; the stored id.
fn submit(dir: &Path, url: &str, file: &str) -> String {
    let id = ok(dir, &["submit", "--relay", url, "--agency", "demo", file])
        .trim()
        .to_string();
    assert_eq!(id.len(), 32, "{id}");
    id
}

#[test]
fn tip_reply_and_follow_up_through_the_real_relay() {
    let folder = AgencyFolder::start();
    let (dir, url) = (folder.tmp.path(), folder.relay.url.as_str());
    let agency_args = agency_args(url);

    // The tipster seals with a codename and submits.
    let recipient = demo_recipient(dir);
    let codename = ok(dir, &["codename"]).trim().to_string();
    let id = seal_and_submit(
        dir,
        url,
        "Workers locked in at night",
        &["--codename", &codename],
    );

    // The agency lists, pulls and opens it.
    let inbox = ok(dir, &[&["inbox"][..], &agency_args].concat());
    assert!(inbox.contains(&id) && inbox.contains("tip"), "{inbox}");
    let pulled = ok(
        dir,
        &[&["pull", "--out", "inbox"][..], &agency_args].concat(),
    );
    assert!(pulled.contains("Pulled 1 new item(s)"), "{pulled}");
    let again = ok(
        dir,
        &[&["pull", "--out", "inbox"][..], &agency_args].concat(),
    );
    assert!(
        again.contains("Pulled 0 new item(s) into inbox/ (1 already there)"),
        "running twice downloads nothing twice: {again}"
    );
    let tip_file = format!("inbox/{}", single_file(&dir.join("inbox"), "tip-"));
    let summary = ok(
        dir,
        &[
            "open",
            "-i",
            "data/agency.key",
            "--out",
            "opened-tip",
            &tip_file,
        ],
    );
    assert!(
        summary.contains("Workers locked in at night") && summary.contains("can receive replies"),
        "{summary}"
    );

    // The agency replies; the tipster reads it with the codename alone. Both
    // come from files, so neither lands in a shell's history.
    std::fs::write(dir.join("reply.txt"), "Thank you. Is anyone hurt?\n").unwrap();
    std::fs::write(dir.join("codename.txt"), format!("{codename}\n")).unwrap();
    let replied = ok(
        dir,
        &[
            &[
                "reply",
                "-i",
                "data/agency.key",
                "--to-tip",
                "opened-tip",
                "--message-file",
                "reply.txt",
            ][..],
            &agency_args[..],
        ]
        .concat(),
    );
    assert!(
        replied.contains("posted to the tipster's mailbox"),
        "{replied}"
    );
    let replies = ok(dir, &tipster_args("replies", url, "codename.txt"));
    assert!(replies.contains("Thank you. Is anyone hurt?"), "{replies}");

    // The tipster answers; the agency pulls the follow-up and sees the same mailbox.
    std::fs::write(dir.join("follow-up.txt"), "Two people need a doctor").unwrap();
    let sent = ok(
        dir,
        &[
            &tipster_args("follow-up", url, "codename.txt")[..],
            &["--message-file", "follow-up.txt"],
        ]
        .concat(),
    );
    assert!(sent.contains("sealed to"), "{sent}");
    let pulled = ok(
        dir,
        &[&["pull", "--out", "inbox", "--delete"][..], &agency_args].concat(),
    );
    assert!(
        pulled
            .contains("Pulled 1 new item(s) into inbox/ (1 already there, 2 deleted on the relay)"),
        "{pulled}"
    );
    let message_file = format!("inbox/{}", single_file(&dir.join("inbox"), "message-"));
    let report: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &[
            "open",
            "-i",
            "data/agency.key",
            "--json",
            "--out",
            "opened-message",
            &message_file,
        ],
    ))
    .unwrap();
    assert_eq!(report["tip"]["kind"], "message");
    assert_eq!(report["tip"]["text"], "Two people need a doctor");
    let tip: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("opened-tip/tip.json")).unwrap()).unwrap();
    assert_eq!(
        report["tip"]["thread"], tip["reply"]["mailbox"],
        "the follow-up names the tip's thread"
    );
    // The thread: the tip, the agency's reply (kept beside the tip), the follow-up.
    let thread = ok(dir, &["thread", "."]);
    let tip_at = thread
        .find("Tip: Workers locked in at night")
        .expect(&thread);
    let reply_at = thread
        .find("Agency: Thank you. Is anyone hurt?")
        .expect(&thread);
    let follow_up_at = thread
        .find("Tipster: Two people need a doctor")
        .expect(&thread);
    assert!(tip_at < reply_at && reply_at < follow_up_at, "{thread}");
    assert!(
        thread.starts_with("Thread 1 (3 item(s); verified; replies go to the tipster's key "),
        "{thread}"
    );
    let empty = ok(dir, &[&["inbox"][..], &agency_args].concat());
    assert!(empty.contains("is empty"), "{empty}");

    // A tip without a codename cannot be replied to: one clear line.
    ok(
        dir,
        &[
            "seal",
            "--to",
            &recipient,
            "--message",
            "no replies please",
            "-o",
            "quiet.age",
        ],
    );
    let out = sealtip(dir, &reply_args("quiet.age", "hello?", url));
    fails_saying(&out, "is not in a verified conversation");

    // A wrong token is refused with the relay's reason.
    std::fs::write(dir.join("wrong.token"), "not-the-token\n").unwrap();
    let out = sealtip(
        dir,
        &[
            "inbox",
            "--relay",
            url,
            "--agency",
            "demo",
            "--token-file",
            "wrong.token",
        ],
    );
    fails_saying(&out, "the relay refused");
}

#[test]
fn a_relay_that_is_down_is_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sealtip(
        tmp.path(),
        &[
            "replies",
            "--relay",
            "http://127.0.0.1:9",
            "--agency",
            "demo",
            "--codename",
            "abacus abdomen abide ablaze abrasion zoology",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.lines()
            .last()
            .unwrap()
            .contains("cannot reach the relay at http://127.0.0.1:9"),
        "{err}"
    );
}

#[test]
fn officers_are_added_and_removed_without_editing_the_file() {
    let folder = AgencyFolder::start();
    let dir = folder.tmp.path();
    drop(folder.relay);
    let officer = ok(dir, &["keygen", "-o", "officer.key"]).trim().to_string();
    let config = std::fs::read_to_string(dir.join("data/relay.toml")).unwrap();

    // Bad changes are refused and leave the file as it was.
    for args in [
        officers("add-officer", "demo", "age1notakey"),
        officers("add-officer", "nobody", &officer),
        officers("remove-officer", "demo", &officer),
    ] {
        assert!(!sealtip(dir, &args).status.success(), "{args:?}");
        assert_eq!(
            std::fs::read_to_string(dir.join("data/relay.toml")).unwrap(),
            config
        );
    }

    let added = ok(dir, &officers("add-officer", "demo", &officer));
    let fingerprint = sealtip_envelope::Recipient::parse(&officer)
        .unwrap()
        .fingerprint();
    assert!(
        added.contains(&fingerprint) && added.contains("Restart sealtip-relay"),
        "{added}"
    );
    let changed = std::fs::read_to_string(dir.join("data/relay.toml")).unwrap();
    assert!(
        changed.contains("# The agency's age recipients"),
        "comments are kept"
    );
    // An X25519-only officer cannot join a post-quantum agency.
    let legacy = ok(dir, &["keygen", "--x25519", "-o", "legacy.key"])
        .trim()
        .to_string();
    let mixed = sealtip(dir, &officers("add-officer", "demo", &legacy));
    assert!(!mixed.status.success());
    let reason = String::from_utf8_lossy(&mixed.stderr);
    assert!(reason.contains("must all be post-quantum"), "{reason}");
    assert_eq!(reason.trim().lines().count(), 1, "{reason}");
    assert_eq!(
        std::fs::read_to_string(dir.join("data/relay.toml")).unwrap(),
        changed,
        "relay.toml unchanged"
    );

    // With the officer added, a follow-up opens with the officer's key.
    let codename = ok(dir, &["codename"]).trim().to_string();
    let send_and_pull = |message: &str| {
        let relay = RelayProcess::start_on_free_port(dir).unwrap();
        let url = relay.url.clone();
        ok(
            dir,
            &[
                "follow-up",
                "--relay",
                &url,
                "--agency",
                "demo",
                "--codename",
                &codename,
                "--message",
                message,
            ],
        );
        ok(
            dir,
            &[
                &["pull", "--out", "inbox", "--delete"][..],
                &agency_args(&url),
            ]
            .concat(),
        );
        format!("inbox/{}", single_file(&dir.join("inbox"), "message-"))
    };
    let first = send_and_pull("for both officers");
    assert!(
        ok(dir, &["open", "-i", "officer.key", "--out", "o1", &first])
            .contains("for both officers")
    );
    std::fs::remove_file(dir.join(&first)).unwrap();

    // Removed: what is sealed afterwards has no stanza for that officer.
    let removed = ok(dir, &officers("remove-officer", "demo", &officer));
    let (_, remaining) = removed.split_once("now seals new tips to:").unwrap();
    assert!(!remaining.contains(&fingerprint), "{removed}");
    let second = send_and_pull("for the agency only");
    let out = sealtip(dir, &["open", "-i", "officer.key", "--out", "o2", &second]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sealed to 1 other key, not to this one"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ok(
            dir,
            &["open", "-i", "data/agency.key", "--out", "o3", &second]
        )
        .contains("for the agency only")
    );
    let agency_key = std::fs::read_to_string(dir.join("data/agency.pub")).unwrap();
    let last = sealtip(dir, &officers("remove-officer", "demo", agency_key.trim()));
    assert!(
        String::from_utf8_lossy(&last.stderr).contains("is the last recipient"),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
}

#[test]
fn a_large_tip_is_submitted_in_parts_and_opens_whole() {
    let folder = AgencyFolder::start();
    let (dir, url) = (folder.tmp.path(), folder.relay.url.as_str());
    // 20 MiB and a little: three parts of an upload session.
    let video: Vec<u8> = (0..(20u32 << 20) + 999)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(dir.join("video.mp4"), &video).unwrap();
    let id = seal_and_submit(dir, url, "The yard at night", &["--attach", "video.mp4"]);
    ok(
        dir,
        &[&["pull", "--out", "inbox"][..], &agency_args(url)].concat(),
    );
    let tip_file = format!("inbox/tip-{id}.age");
    assert_eq!(
        std::fs::read(dir.join(&tip_file)).unwrap(),
        std::fs::read(dir.join("tip.age")).unwrap(),
        "the relay holds other bytes than were sealed"
    );
    ok(
        dir,
        &[
            "open",
            "-i",
            "data/agency.key",
            "--out",
            "opened",
            &tip_file,
        ],
    );
    assert!(
        std::fs::read(dir.join("opened/attachments/01.mp4")).unwrap() == video,
        "the video came back changed"
    );
}

/// The hostile relay knows a tipster's mailbox id (it sees every mailbox a
/// tipster polls). It seals items to the agency's public key that claim
/// that mailbox, with its own reply key and thread key and an old date:
/// none of them joins the tipster's thread, and no reply is sealed to it.
#[test]
fn a_forged_tip_or_follow_up_never_joins_the_thread_nor_gets_a_reply() {
    use sealtip_envelope::{Codename, Identity, Recipient, ThreadKey, seal_tip};
    use sealtip_envelope::{Kind, ReplyTo, Tip};

    let folder = AgencyFolder::start();
    let (dir, url) = (folder.tmp.path(), folder.relay.url.as_str());
    let agency_args = agency_args(url);
    let recipient = demo_recipient(dir);
    let codename = ok(dir, &["codename"]).trim().to_string();
    std::fs::write(dir.join("codename.txt"), format!("{codename}\n")).unwrap();
    seal_and_submit(
        dir,
        url,
        "The real tip",
        &["--codename-file", "codename.txt"],
    );

    // What the relay knows: the victim's mailbox id.
    let victim = Codename::parse(&codename).unwrap().derive().unwrap();
    let agency = Recipient::parse(&recipient).unwrap();
    let forger_reply = Identity::generate().unwrap().recipient();
    let forger_key = ThreadKey::from_bytes([0x42; 32]);
    let seal = |tip: Tip, key: Option<&ThreadKey>, name: &str| {
        let sealing = seal_tip(std::slice::from_ref(&agency), Vec::new()).unwrap();
        let (sealed, _) = match key {
            Some(key) => sealing.finish_in_thread(tip, key).unwrap(),
            None => sealing.finish(tip).unwrap(),
        };
        std::fs::write(dir.join(name), sealed).unwrap();
    };
    let mut forged_tip = Tip::new(Kind::Tip, "demo", "2020-01-01");
    forged_tip.text = "Forged tip".into();
    forged_tip.reply = Some(ReplyTo {
        recipient: forger_reply.to_string(),
        mailbox: victim.mailbox.clone(),
        thread_key: Some(forger_key.to_hex().to_string()),
    });
    seal(forged_tip, None, "forged-tip.age");
    let mut forged_message = Tip::new(Kind::Message, "demo", "2020-01-01");
    forged_message.text = "Forged follow-up".into();
    forged_message.thread = Some(victim.mailbox.clone());
    seal(forged_message, Some(&forger_key), "forged-message.age");
    submit(dir, url, "forged-tip.age");
    let id = ok(
        dir,
        &[
            "submit",
            "--relay",
            url,
            "--agency",
            "demo",
            "--kind",
            "message",
            "forged-message.age",
        ],
    );
    assert_eq!(id.trim().len(), 32);

    ok(
        dir,
        &[&["pull", "--out", "inbox"][..], &agency_args].concat(),
    );
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir.join("inbox")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".age") {
            ok(
                dir,
                &["open", "-i", "data/agency.key", &format!("inbox/{name}")],
            );
            folders.push(format!("inbox/{stem}"));
        }
    }
    assert_eq!(folders.len(), 3);

    let threads: serde_json::Value =
        serde_json::from_str(&ok(dir, &["thread", "inbox", "--json"])).unwrap();
    let threads = threads.as_array().unwrap();
    assert_eq!(threads.len(), 3, "each forgery stands apart: {threads:?}");
    for thread in threads {
        let items = thread["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{threads:?}");
        let item = &items[0];
        assert!(item["id"].as_str().unwrap().len() == 32);
        let real = item["text"] == "The real tip";
        assert_eq!(item["verified"], real, "{item}");
    }
    let text = ok(dir, &["thread", "inbox"]);
    assert!(text.contains("UNVERIFIED"), "{text}");

    // No reply is sealed to the forger: both forgeries are refused.
    let folder_of = |text: &str| {
        folders
            .iter()
            .find(|f| {
                std::fs::read_to_string(dir.join(f).join("tip.json"))
                    .unwrap()
                    .contains(text)
            })
            .unwrap()
            .clone()
    };
    for forged in ["Forged tip", "Forged follow-up"] {
        let out = sealtip(dir, &reply_args(&folder_of(forged), "hi", url));
        fails_saying(&out, "is not in a verified conversation");
    }
    // The real thread gets its reply, which the tipster reads.
    ok(
        dir,
        &reply_args(&folder_of("The real tip"), "We read you.", url),
    );
    let replies = ok(dir, &tipster_args("replies", url, "codename.txt"));
    assert!(replies.contains("We read you."), "{replies}");
    assert!(!replies.contains("could not be opened"), "{replies}");
}
