//! `sealtip case` and the case state in `sealtip thread`, against the real
//! relay binary: two officers writing one thread at once lose nothing; a
//! case item the relay made up, or a tipster's follow-up dressed as one, is
//! never merged; a case item another officer saw and this one lacks is
//! reported; the tipster never sees case items.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::Path;

use sealtip_envelope::{
    CaseChange, CaseStatus, Codename, Kind, Recipient, ThreadKey, Tip, seal_tip,
};
use sealtip_harness::{RelayProcess, init_relay};

mod common;
use common::{fails_saying, ok, sealtip, tipster_args};

/// The demo agency at a real relay, a tip with a codename pulled and
/// opened into the officers' folders `a` and `b`.
struct Case {
    tmp: tempfile::TempDir,
    relay: RelayProcess,
    codename: String,
    /// The tip's relay id: names the thread for `--thread`.
    tip: String,
}

impl Case {
    fn start() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        init_relay(tmp.path()).unwrap();
        let relay = RelayProcess::start_on_free_port(tmp.path()).unwrap();
        let dir = tmp.path();
        let codename = ok(dir, &["codename"]).trim().to_string();
        std::fs::write(dir.join("codename.txt"), format!("{codename}\n")).unwrap();
        let tip = common::submit_tip(
            dir,
            relay.url.as_str(),
            "Workers locked in at night",
            &codename,
        );
        let case = Case {
            tmp,
            relay,
            codename,
            tip,
        };
        for folder in ["a", "b"] {
            case.pull(folder);
            let tip_file = format!("{folder}/tip-{}.age", case.tip);
            ok(case.dir(), &["open", "-i", "data/agency.key", &tip_file]);
        }
        case
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn pull(&self, folder: &str) -> String {
        let pull = ["pull", "--out", folder];
        ok(self.dir(), &[&pull[..], &self.agency()[..]].concat())
    }

    fn agency(&self) -> [&str; 6] {
        [
            "--relay",
            &self.relay.url,
            "--agency",
            "demo",
            "--token-file",
            "data/agency.token",
        ]
    }

    /// `sealtip case FOLDER --thread TIP -i data/agency.key` with `more`.
    fn case_args<'a>(&'a self, folder: &'a str, more: &[&'a str]) -> Vec<&'a str> {
        let case = [
            "case",
            folder,
            "--thread",
            &self.tip,
            "-i",
            "data/agency.key",
        ];
        [&case[..], more].concat()
    }

    /// A change by `officer`, posted from `folder`.
    fn change<'a>(&'a self, folder: &'a str, officer: &'a str, more: &[&'a str]) -> Vec<&'a str> {
        let who = ["--officer", officer];
        let case = self.case_args(folder, &[&who[..], more].concat());
        [&case[..], &self.agency()[..]].concat()
    }

    /// The merged state `folder` shows, as JSON.
    fn state(&self, folder: &str) -> serde_json::Value {
        let out = ok(self.dir(), &self.case_args(folder, &["--json"]));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["state"].clone()
    }

    /// The thread key and mailbox the codename derives: what the tipster holds.
    fn tipster_keys(&self) -> (ThreadKey, String) {
        let keys = Codename::parse(&self.codename).unwrap().derive().unwrap();
        (keys.thread_key.clone(), keys.mailbox.clone())
    }

    fn agency_recipient(&self) -> Recipient {
        let text = std::fs::read_to_string(self.dir().join("data/agency.pub")).unwrap();
        Recipient::parse(text.trim()).unwrap()
    }
}

fn notes(state: &serde_json::Value) -> Vec<String> {
    state["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap().to_string())
        .collect()
}

/// A case item for `mailbox`, sealed to the agency, proven with `key`.
fn case_item(case: &Case, mailbox: &str, key: &ThreadKey, note: &str) -> Vec<u8> {
    let mut tip = Tip::new(Kind::Case, "demo", "2026-12-07");
    tip.thread = Some(mailbox.to_string());
    tip.case = Some(CaseChange {
        officer: "Chief".into(),
        written: "2030-01-01T00:00:00Z".into(),
        status: Some(CaseStatus::Closed),
        note: Some(note.into()),
        ..CaseChange::default()
    });
    let sealing = seal_tip(&[case.agency_recipient()], Vec::new()).unwrap();
    sealing.finish_case(tip, key).unwrap().0
}

#[test]
fn two_officers_writing_one_thread_at_once_lose_nothing() {
    let case = Case::start();
    let dir = case.dir().to_path_buf();
    assert_eq!(case.state("a")["status"], serde_json::Value::Null);
    // Two desks, two processes, at the same time, neither seeing the other.
    let ana = case.change(
        "a",
        "Ana",
        &[
            "--status",
            "in_progress",
            "--label",
            "port",
            "--note",
            "Called the shelter.",
        ],
    );
    let ben = case.change(
        "b",
        "Ben",
        &[
            "--assign",
            "Ben",
            "--label",
            "urgent",
            "--note",
            "I take it.",
        ],
    );
    let (ana, ben): (Vec<String>, Vec<String>) = (
        ana.iter().map(|s| s.to_string()).collect(),
        ben.iter().map(|s| s.to_string()).collect(),
    );
    let runs: Vec<_> = [ana, ben]
        .into_iter()
        .map(|args| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                ok(&dir, &args)
            })
        })
        .collect();
    for run in runs {
        let out = run.join().unwrap();
        assert!(out.contains("posted for case"), "{out}");
    }
    for folder in ["a", "b"] {
        case.pull(folder);
    }
    let (a, b) = (case.state("a"), case.state("b"));
    assert_eq!(a, b, "every officer merges the same way");
    assert_eq!(a["status"]["value"], "in_progress");
    assert_eq!(a["status"]["officer"], "Ana");
    assert_eq!(a["assignee"]["value"], "Ben");
    assert_eq!(a["labels"], serde_json::json!(["port", "urgent"]));
    let mut both = notes(&a);
    both.sort();
    assert_eq!(both, ["Called the shelter.", "I take it."]);
    assert_eq!(a["missing"], serde_json::json!([]));

    // `sealtip thread` shows the same state, and its JSON has it.
    let text = ok(&dir, &["thread", "a", "-i", "data/agency.key"]);
    assert!(text.contains("Status: in_progress (Ana"), "{text}");
    assert!(text.contains("Assigned to: Ben"), "{text}");
    assert!(text.contains("Labels: port, urgent"), "{text}");
    assert!(text.contains("I take it."), "{text}");
    let threads: serde_json::Value = serde_json::from_str(&ok(
        &dir,
        &["thread", "a", "-i", "data/agency.key", "--json"],
    ))
    .unwrap();
    assert_eq!(threads[0]["state"], a);
    assert_eq!(
        threads[0]["items"].as_array().unwrap().len(),
        1,
        "case items are no entries"
    );

    // A later change by one of them takes its field, and keeps the rest.
    ok(&dir, &case.change("b", "Ben", &["--status", "closed"]));
    case.pull("a");
    let a = case.state("a");
    assert_eq!(a["status"]["value"], "closed");
    assert_eq!(a["assignee"]["value"], "Ben");
    assert_eq!(notes(&a).len(), 2);

    // The tipster's mailbox holds no case item, and no note reaches them.
    let replies = ok(
        &dir,
        &tipster_args("replies", &case.relay.url, "codename.txt"),
    );
    assert!(replies.contains("No replies yet"), "{replies}");
    assert!(!replies.contains("shelter"), "{replies}");
}

#[test]
fn made_up_and_tipster_case_items_are_never_merged_and_a_dropped_one_is_told() {
    let case = Case::start();
    let dir = case.dir().to_path_buf();
    let (key, mailbox) = case.tipster_keys();

    // The relay lists a case item of its own making in the inbox: sealed to
    // the officers' key, but without the thread key it cannot prove it.
    let made_up = case_item(&case, &mailbox, &ThreadKey::from_bytes([7; 32]), "Relay's");
    std::fs::write(
        dir.join("a").join(format!("case-{}.age", "e".repeat(32))),
        made_up,
    )
    .unwrap();
    // The tipster, who holds the thread key, sends a case item as a
    // follow-up: the relay lists it as a message.
    std::fs::write(
        dir.join("dressed.age"),
        case_item(&case, &mailbox, &key, "Tipster's"),
    )
    .unwrap();
    let submit = [
        "submit",
        "--relay",
        &case.relay.url,
        "--agency",
        "demo",
        "--kind",
        "message",
        "dressed.age",
    ];
    let message = ok(&dir, &submit).trim().to_string();
    case.pull("a");
    let opened = sealtip(
        &dir,
        &[
            "open",
            "-i",
            "data/agency.key",
            &format!("a/message-{message}.age"),
        ],
    );
    fails_saying(&opened, "lists it as a message, but it is sealed as a case");
    let shown = sealtip(&dir, &case.case_args("a", &["--json"]));
    assert!(shown.status.success());
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(stderr.contains("refused, not merged"), "{stderr}");
    let state: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(state["state"]["status"], serde_json::Value::Null, "{state}");
    assert_eq!(notes(&state["state"]), Vec::<String>::new());

    // Ana writes, Ben (who pulled it) writes after her; a third desk that
    // never gets Ana's item is told one is missing.
    ok(&dir, &case.change("a", "Ana", &["--note", "First."]));
    case.pull("b");
    ok(&dir, &case.change("b", "Ben", &["--note", "Second."]));
    let ana_item = std::fs::read_dir(dir.join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("case-") && !n.starts_with(&format!("case-{}", "e".repeat(32))))
        .unwrap();
    case.pull("c");
    ok(
        &dir,
        &[
            "open",
            "-i",
            "data/agency.key",
            &format!("c/tip-{}.age", case.tip),
        ],
    );
    std::fs::remove_file(dir.join("c").join(&ana_item)).unwrap();
    let text = ok(&dir, &case.case_args("c", &[]));
    assert!(
        text.contains("a case item another officer saw is missing"),
        "{text}"
    );
    assert!(text.contains("Second."), "{text}");
    assert!(!text.contains("First."), "{text}");
    let text = ok(&dir, &case.case_args("b", &[]));
    assert!(!text.contains("missing"), "{text}");
}

#[test]
fn a_change_needs_a_name_and_the_relay() {
    let case = Case::start();
    let dir = case.dir();
    let out = sealtip(dir, &case.case_args("a", &["--note", "x"]));
    fails_saying(&out, "--officer NAME");
    let out = sealtip(
        dir,
        &case.case_args("a", &["--officer", "Ana", "--note", "x"]),
    );
    fails_saying(&out, "give --relay, --agency and --token-file");
    let long = "x".repeat(101);
    let out = sealtip(dir, &case.change("a", "Ana", &["--assign", &long]));
    fails_saying(&out, "assignee is over 100 characters");
    let out = sealtip(dir, &case.change("a", "Ana", &["--status", "open"]));
    fails_saying(&out, "new, in_progress, passed_on, closed");
}
