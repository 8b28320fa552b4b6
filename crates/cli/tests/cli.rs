//! `sealtip keygen`, `seal` and `open` as a user runs them: outputs, files
//! left on disk, exit codes, and interoperability with Debian's `age`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::in_terminal;

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sealtip(&self, args: &[&str]) -> Output {
        common::sealtip(self.dir.path(), args)
    }

    fn ok(&self, args: &[&str]) -> String {
        common::ok(self.dir.path(), args)
    }

    /// Runs a failing command: returns its one-line error.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.sealtip(args);
        assert!(!out.status.success(), "sealtip {args:?} should fail");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        stderr.trim_end().to_string()
    }

    /// Names in the folder, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A (hybrid) key, a 200 KB photo and a tip sealed to the key with them.
    fn sealed_tip(&self) -> String {
        self.sealed_tip_with(&["keygen", "-o", "agency.key"])
    }

    /// The same with an X25519 key, which Debian's `age` 1.1.1 opens.
    fn sealed_tip_x25519(&self) -> String {
        self.sealed_tip_with(&["keygen", "--x25519", "-o", "agency.key"])
    }

    fn sealed_tip_with(&self, keygen: &[&str]) -> String {
        let recipient = self.ok(keygen).trim().to_string();
        std::fs::write(self.path("photo.jpg"), pattern(200_000)).unwrap();
        self.ok(&[
            "seal",
            "--to",
            &recipient,
            "--message",
            "A van at pier 4, every night",
            "--attach",
            "photo.jpg",
            "-o",
            "tip.age",
        ]);
        recipient
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

#[test]
fn keygen_seal_open_round_trip() {
    let run = Run::new();
    let recipient = run.sealed_tip();
    assert!(recipient.starts_with("age1pq1"), "hybrid by default");
    let key = std::fs::read_to_string(run.path("agency.key")).unwrap();
    assert!(key.contains(&format!("# public key: {recipient}\nAGE-SECRET-KEY-PQ-1")));
    let summary = run.ok(&["open", "-i", "agency.key", "tip.age"]);
    assert!(
        summary.contains("What happened: A van at pier 4, every night"),
        "{summary}"
    );
    assert!(
        summary.contains("attachments/01.jpg (image/jpeg, 200000 bytes"),
        "{summary}"
    );
    assert!(summary.contains("Opened into tip/"), "{summary}");
    assert_eq!(
        std::fs::read(run.path("tip/attachments/01.jpg")).unwrap(),
        pattern(200_000)
    );
    let text = std::fs::read_to_string(run.path("tip/tip.txt")).unwrap();
    assert!(text.contains("What happened?\nA van at pier 4, every night"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.path("tip/tip.json")).unwrap()).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["reply"], serde_json::Value::Null);

    let report: serde_json::Value = serde_json::from_str(&run.ok(&[
        "open",
        "-i",
        "agency.key",
        "--json",
        "--out",
        "again",
        "tip.age",
    ]))
    .unwrap();
    assert_eq!(report["tip"]["text"], "A van at pier 4, every night");
    assert!(report["dir"].as_str().unwrap().ends_with("again"));
}

#[test]
fn open_unpacks_several_attachments_each_whole() {
    let run = Run::new();
    let recipient = run.ok(&["keygen", "-o", "agency.key"]).trim().to_string();
    // Over 16 MiB (synced while written) and not a whole number of pieces;
    // then an empty one and a small one, each hashed on its own.
    let video = pattern((17 << 20) + 5);
    std::fs::write(run.path("video.mp4"), &video).unwrap();
    std::fs::write(run.path("empty.txt"), b"").unwrap();
    std::fs::write(run.path("photo.jpg"), pattern(3000)).unwrap();
    run.ok(&[
        "seal",
        "--to",
        &recipient,
        "--message",
        "Three files",
        "--attach",
        "video.mp4",
        "--attach",
        "empty.txt",
        "--attach",
        "photo.jpg",
        "-o",
        "tip.age",
    ]);
    let summary = run.ok(&["open", "-i", "agency.key", "tip.age"]);
    assert!(summary.contains("Opened into tip/"), "{summary}");
    let mut names: Vec<String> = std::fs::read_dir(run.path("tip/attachments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["01.mp4", "02.txt", "03.jpg"]);
    assert_eq!(
        std::fs::read(run.path("tip/attachments/01.mp4")).unwrap(),
        video
    );
    assert_eq!(
        std::fs::read(run.path("tip/attachments/02.txt")).unwrap(),
        b""
    );
    assert_eq!(
        std::fs::read(run.path("tip/attachments/03.jpg")).unwrap(),
        pattern(3000)
    );
}

#[test]
fn a_codename_puts_reply_keys_in_the_tip() {
    let run = Run::new();
    let recipient = run.ok(&["keygen", "-o", "agency.key"]).trim().to_string();
    let codename = run.ok(&["codename"]).trim().to_string();
    assert_eq!(codename.split(' ').count(), 8);
    run.ok(&[
        "seal",
        "--to",
        &recipient,
        "--message",
        "hi",
        "--codename",
        &codename,
        "-o",
        "tip.age",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&run.ok(&["open", "-i", "agency.key", "--json", "tip.age"])).unwrap();
    let reply = &report["tip"]["reply"];
    assert!(reply["recipient"].as_str().unwrap().starts_with("age1pq1"));
    assert_eq!(reply["mailbox"].as_str().unwrap().len(), 32);
    assert_eq!(reply["thread_key"].as_str().unwrap().len(), 64);
    assert!(
        run.path("tip/tip.mac").exists(),
        "the tip carries its proof"
    );

    let typo = codename.replacen(' ', "x ", 1);
    let err = run.fails(&[
        "seal",
        "--to",
        &recipient,
        "--codename",
        &typo,
        "-o",
        "t2.age",
    ]);
    assert!(
        err.contains("is not a codename word; did you mean"),
        "{err}"
    );
    assert!(!run.path("t2.age").exists());
}

#[test]
fn keygen_and_seal_refuse_to_overwrite() {
    let run = Run::new();
    run.sealed_tip();
    let before = std::fs::read(run.path("agency.key")).unwrap();
    let err = run.fails(&["keygen", "-o", "agency.key"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(run.path("agency.key")).unwrap(), before);
    let err = run.fails(&["seal", "--to", "age1nothing", "-o", "x.age"]);
    assert!(err.contains("--to age1nothing"), "{err}");
    let err = run.fails(&["open", "-i", "agency.key", "tip.age", "--out", "photo.jpg"]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn keygen_without_output_prints_the_identity() {
    let out = Run::new().sealtip(&["keygen"]);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("\nAGE-SECRET-KEY-PQ-1")
    );
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("Public key: age1pq1")
    );
}

/// Where the payload's chunks start in a sealed file.
fn payload_start(sealed: &[u8]) -> usize {
    let mac_line = sealed.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let end_of_header = mac_line + sealed[mac_line..].iter().position(|b| *b == b'\n').unwrap() + 1;
    end_of_header + 16
}

fn assert_refused(run: &Run, sealed: &[u8], expected: &str) {
    std::fs::write(run.path("bad.age"), sealed).unwrap();
    let before = run.listing();
    let err = run.fails(&["open", "-i", "agency.key", "bad.age"]);
    assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    assert_eq!(run.listing(), before, "nothing is left behind");
}

#[test]
fn tampering_and_truncation_fail_and_leave_nothing() {
    let run = Run::new();
    run.sealed_tip();
    let sealed = std::fs::read(run.path("tip.age")).unwrap();
    let start = payload_start(&sealed);
    const CHUNK: usize = 65536 + 16;
    assert!(
        sealed.len() > start + 3 * CHUNK,
        "the tip spans several chunks"
    );

    // Flipped bits in the header: the stanza, the MAC.
    let mut changed = sealed.clone();
    changed[40] ^= 1;
    assert_refused(&run, &changed, "cannot open bad.age");
    let mut changed = sealed.clone();
    // A different base64 letter in the MAC (third from its end: all six of
    // its bits are MAC bits, so the encoding stays canonical).
    changed[start - 20] = if changed[start - 20] == b'A' {
        b'B'
    } else {
        b'A'
    };
    assert_refused(&run, &changed, "header MAC is wrong");
    // And in the payload: first byte, a chunk edge, the last byte.
    for at in [start, start + CHUNK - 1, start + CHUNK, sealed.len() - 1] {
        let mut changed = sealed.clone();
        changed[at] ^= 0x20;
        assert_refused(&run, &changed, "failed authentication");
    }
    // Truncated at chunk edges and between them.
    for cut in [start + CHUNK, start + 2 * CHUNK] {
        assert_refused(&run, &sealed[..cut], "truncated");
    }
    for cut in [start + 100, start + CHUNK + 5, sealed.len() - 1] {
        assert_refused(&run, &sealed[..cut], "cannot open bad.age");
    }
    assert_refused(&run, &sealed[..start - 16], "nonce is missing");
    // An appended chunk.
    let mut longer = sealed.clone();
    longer.extend_from_slice(&sealed[start..start + CHUNK]);
    assert_refused(&run, &longer, "cannot open bad.age");
    // A wrong key.
    run.ok(&["keygen", "-o", "other.key"]);
    std::fs::write(run.path("bad.age"), &sealed).unwrap();
    let err = run.fails(&["open", "-i", "other.key", "bad.age"]);
    assert!(
        err.ends_with("this file was sealed to 1 other key, not to this one"),
        "{err}"
    );
    assert!(!run.path("bad").exists());
}

fn age(run: &Run, args: &[&str], stdin: Option<&Path>) -> Output {
    let mut command = Command::new("age");
    command.args(args).current_dir(run.dir.path());
    if let Some(path) = stdin {
        command.stdin(std::fs::File::open(path).unwrap());
    }
    let out = command
        .output()
        .expect("Debian's `age` command is needed (cargo xtask test installs it)");
    assert!(
        out.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn debian_age_and_tar_open_a_sealed_tip() {
    let run = Run::new();
    run.sealed_tip_x25519();
    let plain = age(&run, &["-d", "-i", "agency.key", "tip.age"], None).stdout;
    std::fs::write(run.path("tip.tar"), &plain).unwrap();
    std::fs::create_dir(run.path("x")).unwrap();
    let status = Command::new("tar")
        .args(["-xf", "../tip.tar"])
        .current_dir(run.path("x"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read(run.path("x/attachments/01.jpg")).unwrap(),
        pattern(200_000)
    );
    assert!(
        std::fs::read_to_string(run.path("x/tip.txt"))
            .unwrap()
            .contains("A van at pier 4")
    );
}

#[test]
fn sealtip_opens_a_bundle_sealed_by_debian_age_to_an_age_keygen_key() {
    let run = Run::new();
    run.sealed_tip_x25519();
    // The bundle plaintext, re-sealed by age itself (binary and armored) to a key made by age-keygen.
    let plain = age(&run, &["-d", "-i", "agency.key", "tip.age"], None).stdout;
    std::fs::write(run.path("bundle.tar"), &plain).unwrap();
    let status = Command::new("age-keygen")
        .args(["-o", "officer.key"])
        .current_dir(run.dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let key = std::fs::read_to_string(run.path("officer.key")).unwrap();
    let recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    for (armor, name) in [(false, "bin.age"), (true, "armored.age")] {
        let mut args = vec!["-e", "-r", recipient.as_str(), "-o", name];
        if armor {
            args.push("-a");
        }
        age(&run, &args, Some(&run.path("bundle.tar")));
        let summary = run.ok(&["open", "-i", "officer.key", name]);
        assert!(summary.contains("A van at pier 4"), "{summary}");
    }
}

#[test]
fn passphrase_protected_keys_work_with_sealtip_and_debian_age() {
    let run = Run::new();
    let keygen = Command::new(env!("CARGO_BIN_EXE_sealtip"))
        .args(["keygen", "--x25519", "--passphrase", "-o", "protected.key"])
        .env("SEALTIP_PASSPHRASE", "long correct passphrase")
        .current_dir(run.dir.path())
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let recipient = String::from_utf8(keygen.stdout).unwrap().trim().to_string();
    let key = std::fs::read_to_string(run.path("protected.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN AGE ENCRYPTED FILE-----") && !key.contains("AGE-SECRET-KEY")
    );
    run.ok(&[
        "seal",
        "--to",
        &recipient,
        "--message",
        "sealed to a protected key",
        "-o",
        "tip.age",
    ]);

    // sealtip, from the environment and from the terminal.
    let open = |passphrase: &str, out: &str| {
        Command::new(env!("CARGO_BIN_EXE_sealtip"))
            .args(["open", "-i", "protected.key", "--out", out, "tip.age"])
            .env("SEALTIP_PASSPHRASE", passphrase)
            .current_dir(run.dir.path())
            .output()
            .unwrap()
    };
    assert!(open("long correct passphrase", "a").status.success());
    let wrong = open("wrong", "b");
    assert!(!wrong.status.success());
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr).trim(),
        "sealtip: error: cannot open identity file protected.key: wrong passphrase"
    );
    assert!(!run.path("b").exists());
    let typed = in_terminal(
        run.dir.path(),
        &format!(
            "{} open -i protected.key --out c tip.age",
            env!("CARGO_BIN_EXE_sealtip")
        ),
        &["long correct passphrase\n"],
    );
    assert!(
        typed.status.success(),
        "{}",
        String::from_utf8_lossy(&typed.stdout)
    );
    assert!(run.path("c/tip.txt").exists());
    // Without a terminal (setsid detaches it) and without the variable: a clear error.
    let detached = Command::new("setsid")
        .args([
            "-w",
            env!("CARGO_BIN_EXE_sealtip"),
            "open",
            "-i",
            "protected.key",
            "--out",
            "d",
            "tip.age",
        ])
        .current_dir(run.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!detached.status.success());
    let err = String::from_utf8_lossy(&detached.stderr);
    assert!(
        err.contains("protected by a passphrase: run in a terminal or set SEALTIP_PASSPHRASE"),
        "{err}"
    );

    // Debian's age opens the tip with the protected key, asking on the terminal.
    let age = in_terminal(
        run.dir.path(),
        "age -d -i protected.key -o plain.tar tip.age",
        &["long correct passphrase\n"],
    );
    assert!(
        age.status.success(),
        "{}",
        String::from_utf8_lossy(&age.stdout)
    );
    assert!(std::fs::metadata(run.path("plain.tar")).unwrap().len() > 1024);

    // A key protected by `age -p` opens tips with sealtip.
    let plain_key = Command::new("age-keygen").output().unwrap();
    std::fs::write(run.path("plain.key"), &plain_key.stdout).unwrap();
    let age_protect = in_terminal(
        run.dir.path(),
        "age -p -o age-protected.key plain.key",
        &["another passphrase\n", "another passphrase\n"],
    );
    assert!(
        age_protect.status.success(),
        "{}",
        String::from_utf8_lossy(&age_protect.stdout)
    );
    let recipient = String::from_utf8(plain_key.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(String::from))
        .unwrap();
    run.ok(&[
        "seal",
        "--to",
        &recipient,
        "--message",
        "for the age -p key",
        "-o",
        "tip2.age",
    ]);
    let opened = Command::new(env!("CARGO_BIN_EXE_sealtip"))
        .args(["open", "-i", "age-protected.key", "tip2.age"])
        .env("SEALTIP_PASSPHRASE", "another passphrase")
        .current_dir(run.dir.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&opened.stdout).contains("for the age -p key"),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
}

#[test]
fn a_text_ending_in_a_newline_prints_no_empty_line() {
    let run = Run::new();
    let recipient = run.ok(&["keygen", "-o", "agency.key"]).trim().to_string();
    std::fs::write(run.path("tip.txt"), "A van at the harbour.\nAt night.\n\n").unwrap();
    run.ok(&[
        "seal",
        "--to",
        &recipient,
        "--message-file",
        "tip.txt",
        "-o",
        "tip.age",
    ]);
    let summary = run.ok(&["open", "-i", "agency.key", "tip.age"]);
    assert!(
        summary.contains("What happened: A van at the harbour.\n    At night.\n"),
        "{summary}"
    );
    assert!(
        !summary
            .lines()
            .any(|line| !line.is_empty() && line.trim().is_empty()),
        "a blank indented line: {summary:?}"
    );
}
