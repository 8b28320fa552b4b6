//! `sealtip export` as an officer runs it: a thread (a tip with a photo, the
//! agency's reply, a follow-up) pulled and opened, exported, checked with
//! `sha256sum` and `--verify`, then changed in each way an export can be
//! changed, each change named.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::Command;

use sealtip_envelope::{CaseChange, CaseStatus, Codename, Kind, Recipient, Tip, seal_tip};

mod common;
use common::{fails_saying, ok, sealtip, sealtip_with};

const CODENAME: &str = "abacus abdomen abide ablaze abrasion zoology";
const TIP_ID: &str = "0123456789abcdef0123456789abcdef";
const REPLY_ID: &str = "22222222222222222222222222222222";
const MESSAGE_ID: &str = "33333333333333333333333333333333";
const CASE_ID: &str = "55555555555555555555555555555555";
const TIP_TEXT: &str = "<script>alert(1)</script> A van at pier 4\u{202e}, every night";

/// A JPEG's first bytes, then a pattern: a photo as far as anyone looks.
fn photo() -> Vec<u8> {
    let mut bytes = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    bytes.extend((0..50_000).map(|i| (i % 251) as u8));
    bytes
}

/// A folder pulled into and opened in: `inbox/` holds the three sealed
/// items, `relay-order.json` and the folders `sealtip open` made beside
/// them.
fn pulled_and_opened() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let recipient = ok(dir, &["keygen", "-o", "agency.key"]).trim().to_string();
    let agency = Recipient::parse(&recipient).unwrap();
    std::fs::create_dir(dir.join("inbox")).unwrap();
    std::fs::write(dir.join("photo.jpg"), photo()).unwrap();
    let tip_file = format!("inbox/tip-{TIP_ID}.age");
    ok(
        dir,
        &[
            "seal",
            "--to",
            &recipient,
            "--agency",
            "demo",
            "--codename",
            CODENAME,
            "--message",
            TIP_TEXT,
            "--attach",
            "photo.jpg",
            "-o",
            &tip_file,
        ],
    );
    let keys = Codename::parse(CODENAME).unwrap().derive().unwrap();
    let in_thread = |kind: Kind, text: &str| {
        let mut tip = Tip::new(kind, "demo", "2026-12-07");
        tip.text = text.into();
        tip.thread = Some(keys.mailbox.clone());
        let (sealed, _) = seal_tip(std::slice::from_ref(&agency), Vec::new())
            .unwrap()
            .finish_in_thread(tip, &keys.thread_key)
            .unwrap();
        sealed
    };
    let reply = in_thread(Kind::Reply, "Thank you. Is anyone hurt?");
    std::fs::write(dir.join(format!("inbox/reply-{REPLY_ID}.age")), reply).unwrap();
    let message = in_thread(Kind::Message, "Two people need a doctor");
    std::fs::write(dir.join(format!("inbox/message-{MESSAGE_ID}.age")), message).unwrap();
    // An officer's case item: status, a label and a note, sealed to the
    // officers and proven with the thread's case key.
    let mut case = Tip::new(Kind::Case, "demo", "2026-12-07");
    case.thread = Some(keys.mailbox.clone());
    case.case = Some(CaseChange {
        officer: "Officer A".into(),
        written: "2026-12-07T05:10:00Z".into(),
        status: Some(CaseStatus::InProgress),
        labels_added: vec!["forced-labour".into()],
        note: Some("<b>Call</b> the shelter".into()),
        ..CaseChange::default()
    });
    let (sealed_case, _) = seal_tip(std::slice::from_ref(&agency), Vec::new())
        .unwrap()
        .finish_case(case, &keys.thread_key)
        .unwrap();
    std::fs::write(dir.join(format!("inbox/case-{CASE_ID}.age")), sealed_case).unwrap();
    let order = serde_json::json!([
        {"id": TIP_ID, "kind": "tip", "received": "2026-12-07T03:00:00Z"},
        {"id": REPLY_ID, "kind": "reply", "received": ""},
        {"id": MESSAGE_ID, "kind": "message", "received": "2026-12-07T05:00:00Z"},
        {"id": CASE_ID, "kind": "case", "received": "2026-12-07T05:00:00Z"},
    ]);
    std::fs::write(dir.join("inbox/relay-order.json"), order.to_string()).unwrap();
    for name in [
        format!("tip-{TIP_ID}"),
        format!("reply-{REPLY_ID}"),
        format!("message-{MESSAGE_ID}"),
    ] {
        ok(
            dir,
            &["open", "-i", "agency.key", &format!("inbox/{name}.age")],
        );
    }
    tmp
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// What `sha256sum FILE` prints for it.
fn sha256sum(file: &Path) -> String {
    let out = Command::new("sha256sum").arg(file).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `sealtip export --verify` of `case` refuses it, printing (among its
/// lines) one that starts with `file` and says `says`.
fn verify_names(dir: &Path, case: &str, file: &str, says: &str) {
    let out = sealtip(dir, &["export", "--verify", case]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a changed export passed: {stdout}");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with(&format!("{file}: ")) && line.contains(says)),
        "no line for {file} saying {says:?}: {stdout}"
    );
    fails_saying(&out, "difference(s) from the manifest");
}

#[test]
fn a_thread_is_exported_checked_and_every_change_named() {
    let tmp = pulled_and_opened();
    let dir = tmp.path();
    let tip_folder = format!("inbox/tip-{TIP_ID}");
    let exported = ok(
        dir,
        &[
            "export",
            &tip_folder,
            "--out",
            "case",
            "--officer",
            "Officer <Jane> Doe",
        ],
    );
    assert!(
        exported.contains("Exported case/ (manifest.json SHA-256 "),
        "{exported}"
    );
    let case = dir.join("case");
    let manifest = read_json(&case.join("manifest.json"));
    assert_eq!(manifest["format"], "sealtip-export/1");
    assert_eq!(
        manifest["case_state"],
        serde_json::Value::Null,
        "no case state without the officer's key"
    );
    assert_eq!(manifest["officer"], "Officer <Jane> Doe");
    assert_eq!(manifest["thread"]["verified"], true);

    // The thread in the relay's order, each item with its sealed file.
    let items = manifest["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["tip", "reply", "message"]);
    assert!(items.iter().all(|i| i["standing"] == "verified"));
    assert_eq!(items[0]["received"], "2026-12-07T03:00:00Z");
    assert_eq!(items[1]["received"], serde_json::Value::Null);
    assert_eq!(items[2]["received"], "2026-12-07T05:00:00Z");
    for (item, pulled) in items.iter().zip([
        format!("tip-{TIP_ID}"),
        format!("reply-{REPLY_ID}"),
        format!("message-{MESSAGE_ID}"),
    ]) {
        let sealed = &item["sealed"];
        assert_eq!(sealed["path"], format!("sealed/{pulled}.age"));
        let original = dir.join(format!("inbox/{pulled}.age"));
        assert_eq!(sealed["sha256"].as_str().unwrap(), sha256sum(&original));
        assert_eq!(
            std::fs::read(case.join(sealed["path"].as_str().unwrap())).unwrap(),
            std::fs::read(&original).unwrap()
        );
    }

    // The photo byte for byte, as tip.json declares it.
    let photo_entry = &items[0]["attachments"][0];
    assert_eq!(photo_entry["matches_declaration"], true);
    let photo_path = photo_entry["file"]["path"].as_str().unwrap().to_string();
    assert_eq!(
        photo_path,
        format!("items/01-tip-{TIP_ID}/attachments/01.jpg")
    );
    assert_eq!(std::fs::read(case.join(&photo_path)).unwrap(), photo());

    // Every file's hash is what sha256sum says, and SHA256SUMS checks.
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() >= 12, "{files:?}");
    for file in files {
        let path = case.join(file["path"].as_str().unwrap());
        assert_eq!(
            file["sha256"].as_str().unwrap(),
            sha256sum(&path),
            "{path:?}"
        );
        assert_eq!(
            file["size"].as_u64().unwrap(),
            std::fs::metadata(&path).unwrap().len()
        );
    }
    let checked = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&case)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );

    // The report: no script, nothing from elsewhere, the tip's words as text.
    let report = std::fs::read_to_string(case.join("report.html")).unwrap();
    let lower = report.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{report}");
    assert!(
        !lower.contains("http:") && !lower.contains("https:"),
        "{report}"
    );
    assert!(
        report.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; A van at pier 4\\u{202e}, every night"
        ),
        "{report}"
    );
    assert!(!report.contains('\u{202e}'));
    assert!(report.contains("Officer &lt;Jane&gt; Doe"));
    assert!(report.contains(
        "content=\"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline';"
    ));
    assert!(report.contains(&format!("<img src=\"{photo_path}\"")));
    assert!(report.contains("@media print"));
    let (tip_at, reply_at, message_at) = (
        report.find("A van at pier 4").unwrap(),
        report.find("Is anyone hurt?").unwrap(),
        report.find("Two people need a doctor").unwrap(),
    );
    assert!(tip_at < reply_at && reply_at < message_at);

    // The export checks, also opened again with the agency's key.
    let verified = ok(dir, &["export", "--verify", "case"]);
    assert_eq!(verified.lines().count(), 1, "{verified}");
    assert!(
        verified.starts_with("OK: case: 1 case(s), 3 item(s), "),
        "{verified}"
    );
    let reopened = ok(dir, &["export", "--verify", "case", "-i", "agency.key"]);
    assert!(
        reopened.contains("3 sealed file(s) opened again and matching"),
        "{reopened}"
    );

    // Never over an existing folder.
    let again = sealtip(
        dir,
        &["export", &tip_folder, "--out", "case", "--officer", "J"],
    );
    fails_saying(&again, "already exists");

    // One byte of the photo changed.
    copy_tree(&case, &dir.join("changed"));
    let mut bytes = std::fs::read(dir.join("changed").join(&photo_path)).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(dir.join("changed").join(&photo_path), bytes).unwrap();
    verify_names(
        dir,
        "changed",
        &photo_path,
        "SHA-256 is not the one in the manifest",
    );
    // With the key, the change is also not what was sealed.
    let out = sealtip(dir, &["export", "--verify", "changed", "-i", "agency.key"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "{photo_path}: not the bytes sealed in sealed/tip-{TIP_ID}.age"
        )),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A file added.
    copy_tree(&case, &dir.join("added"));
    std::fs::write(dir.join("added/items/note.txt"), "planted").unwrap();
    verify_names(
        dir,
        "added",
        "items/note.txt",
        "not in the manifest (added)",
    );

    // A file removed.
    copy_tree(&case, &dir.join("removed"));
    let removed = format!("items/02-reply-{REPLY_ID}/tip.txt");
    std::fs::remove_file(dir.join("removed").join(&removed)).unwrap();
    verify_names(dir, "removed", &removed, "missing");

    // The manifest edited: another officer's name.
    copy_tree(&case, &dir.join("edited"));
    let text = std::fs::read_to_string(dir.join("edited/manifest.json")).unwrap();
    std::fs::write(
        dir.join("edited/manifest.json"),
        text.replace("Officer <Jane> Doe", "Someone Else"),
    )
    .unwrap();
    verify_names(
        dir,
        "edited",
        "manifest.json",
        "not the one SHA256SUMS lists",
    );
}

#[test]
fn with_the_officers_key_the_case_state_is_exported() {
    let tmp = pulled_and_opened();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "export",
            &format!("inbox/message-{MESSAGE_ID}"),
            "--out",
            "case",
            "--officer",
            "J",
            "-i",
            "agency.key",
        ],
    );
    let case = dir.join("case");
    let manifest = read_json(&case.join("manifest.json"));
    let state = &manifest["case_state"];
    assert_eq!(state["status"]["value"], "in_progress", "{state}");
    assert_eq!(state["status"]["officer"], "Officer A");
    assert_eq!(state["labels"], serde_json::json!(["forced-labour"]));
    assert_eq!(state["notes"][0]["text"], "<b>Call</b> the shelter");
    // The case item merged is in the export, named by its SHA-256.
    let sealed_case = case.join(format!("sealed/case-{CASE_ID}.age"));
    assert_eq!(state["items"], serde_json::json!([sha256sum(&sealed_case)]));
    let report = std::fs::read_to_string(case.join("report.html")).unwrap();
    assert!(report.contains("Case state"), "{report}");
    assert!(report.contains("Status: in_progress"), "{report}");
    assert!(report.contains("forced-labour"), "{report}");
    assert!(
        report.contains("&lt;b&gt;Call&lt;/b&gt; the shelter"),
        "{report}"
    );
    let verified = ok(dir, &["export", "--verify", "case", "-i", "agency.key"]);
    assert!(
        verified.starts_with("OK: case: 1 case(s), 3 item(s), "),
        "{verified}"
    );
}

#[test]
fn a_whole_folder_exports_one_case_per_thread_by_the_officer_in_the_environment() {
    let tmp = pulled_and_opened();
    let dir = tmp.path();
    // A tip of its own, without replies, opened beside the thread.
    let recipient = std::fs::read_to_string(dir.join("agency.key"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    let alone_id = "44444444444444444444444444444444";
    let alone = format!("inbox/tip-{alone_id}.age");
    ok(
        dir,
        &[
            "seal",
            "--to",
            &recipient,
            "--message",
            "quiet",
            "-o",
            &alone,
        ],
    );
    ok(dir, &["open", "-i", "agency.key", &alone]);

    let no_officer = sealtip(dir, &["export", "inbox", "--out", "all"]);
    fails_saying(&no_officer, "--officer NAME (or SEALTIP_OFFICER");
    assert!(!dir.join("all").exists());

    let out = sealtip_with(
        dir,
        &["export", "inbox", "--out", "all"],
        &[("SEALTIP_OFFICER", "Desk Sergeant")],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("all"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let names: Vec<String> = cases
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [format!("01-tip-{TIP_ID}"), format!("02-tip-{alone_id}")]
    );
    let manifest = read_json(&cases[0].join("manifest.json"));
    assert_eq!(manifest["officer"], "Desk Sergeant");
    assert_eq!(manifest["items"].as_array().unwrap().len(), 3);
    let alone_manifest = read_json(&cases[1].join("manifest.json"));
    assert_eq!(alone_manifest["items"][0]["standing"], "alone");
    assert_eq!(alone_manifest["thread"]["verified"], false);

    fails_saying(
        &sealtip(dir, &["export", "--verify", "nowhere"]),
        "cannot read nowhere",
    );
    fails_saying(
        &sealtip(dir, &["export", "--verify", "inbox"]),
        "inbox is not an export: it holds no manifest.json",
    );
    let verified = ok(dir, &["export", "--verify", "all"]);
    assert!(
        verified.starts_with("OK: all: 2 case(s), 4 item(s), "),
        "{verified}"
    );
    std::fs::write(dir.join("all/stray.txt"), "x").unwrap();
    verify_names(dir, "all", "stray.txt", "not part of the export");
}

#[test]
fn a_link_in_an_opened_folder_stops_the_export_and_leaves_nothing() {
    let tmp = pulled_and_opened();
    let dir = tmp.path();
    std::fs::write(dir.join("secret.txt"), "not evidence").unwrap();
    let attachments = dir.join(format!("inbox/tip-{TIP_ID}/attachments"));
    std::fs::remove_file(attachments.join("01.jpg")).unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), attachments.join("01.jpg")).unwrap();
    let out = sealtip(
        dir,
        &[
            "export",
            &format!("inbox/tip-{TIP_ID}"),
            "--out",
            "case",
            "--officer",
            "J",
        ],
    );
    fails_saying(&out, "01.jpg is not a plain file; refused");
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("export") || name == "case")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn with_the_key_an_opened_file_changed_since_opening_is_refused() {
    let tmp = pulled_and_opened();
    let dir = tmp.path();
    let photo = dir.join(format!("inbox/tip-{TIP_ID}/attachments/01.jpg"));
    let mut bytes = std::fs::read(&photo).unwrap();
    bytes[2000] ^= 1;
    std::fs::write(&photo, bytes).unwrap();
    let tip_folder = format!("inbox/tip-{TIP_ID}");
    let export = |out: &str, more: &[&str]| {
        let args = [
            "export",
            tip_folder.as_str(),
            "--out",
            out,
            "--officer",
            "J",
        ];
        sealtip(dir, &[&args[..], more].concat())
    };
    let out = export("checked", &["-i", "agency.key"]);
    fails_saying(
        &out,
        &format!(
            "the opened files are not what the sealed files hold, nothing exported: \
             items/01-tip-{TIP_ID}/attachments/01.jpg: not the bytes sealed in sealed/tip-{TIP_ID}.age"
        ),
    );
    assert!(!dir.join("checked").exists());
    // Without the key the copy is made, and its report says the photo is
    // not what tip.json declares.
    assert!(export("unchecked", &[]).status.success());
    let report = std::fs::read_to_string(dir.join("unchecked/report.html")).unwrap();
    assert!(
        report.contains("NOT the size and SHA-256 tip.json declares"),
        "{report}"
    );
}
