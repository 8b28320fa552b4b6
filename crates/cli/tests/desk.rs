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

/// A desk of the demo agency at the relay at `url`, run in `dir` (where
/// `sealtip-relay init` wrote `data/`), as `officer` if given, keeping its
/// items in `dir/<inbox>`.
fn officer_desk(dir: &std::path::Path, url: &str, officer: Option<&str>, inbox: &str) -> Desk {
    let data = dir.join("data");
    let (key, token) = (data.join("agency.key"), data.join("agency.token"));
    let inbox = dir.join(inbox);
    let mut args: Vec<std::ffi::OsString> = vec![
        "--relay".into(),
        url.into(),
        "--agency".into(),
        "demo".into(),
        "--token-file".into(),
        token.into(),
        "-i".into(),
        key.into(),
        "--inbox".into(),
        inbox.into(),
        "--lang".into(),
        "en".into(),
    ];
    if let Some(name) = officer {
        args.extend(["--officer".into(), name.into()]);
    }
    Desk::start(args, &[]).unwrap()
}

/// The address (`127.0.0.1:PORT`) and base path (`/s/<secret>/`) of a desk.
fn address_of(desk: &Desk) -> (String, String) {
    let rest = desk.url.strip_prefix("http://").unwrap();
    let (address, page) = rest.split_once('/').unwrap();
    (address.to_string(), format!("/{page}"))
}

/// `GET path` of the desk: its page.
fn page(desk: &Desk, path: &str) -> String {
    let (address, _) = address_of(desk);
    let (status, body) = get(&address, &address, path);
    assert!(status.contains("200"), "{path}: {status}\n{body}");
    body
}

/// A form posted to the desk as its own page posts it: the status line and
/// the body.
fn post(desk: &Desk, path: &str, fields: &[(&str, &str)]) -> (String, String) {
    use std::io::{Read, Write};
    let (address, _) = address_of(desk);
    let form: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{name}={}", form_encoded(value)))
        .collect();
    let form = form.join("&");
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: http://{address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A check with the relay now (post queued changes, list the inbox).
fn check(desk: &Desk) {
    let (_, base) = address_of(desk);
    let (status, _) = post(desk, &format!("{base}check"), &[]);
    assert!(status.contains("303"), "{status}");
}

/// The inbox once it lists every one of `words` (the desk's first round
/// runs at its start).
fn inbox_with(desk: &Desk, words: &[&str]) -> String {
    let (_, base) = address_of(desk);
    let started = std::time::Instant::now();
    loop {
        let body = page(desk, &base);
        if words.iter().all(|word| body.contains(word)) {
            return body;
        }
        assert!(
            started.elapsed() < sealtip_harness::PATIENCE,
            "{words:?} not in {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The id in the inbox row that holds `word`.
fn id_of_row(inbox: &str, word: &str) -> String {
    let row = inbox
        .split("<tr>")
        .find(|row| row.contains(word))
        .unwrap_or_else(|| panic!("no row with {word:?} in {inbox}"));
    let id = row.split("/item/").nth(1).unwrap();
    id.chars().take_while(char::is_ascii_hexdigit).collect()
}

/// Whether the inbox page lists a row holding `word`.
fn lists(inbox: &str, word: &str) -> bool {
    inbox.split("<tr>").skip(2).any(|row| row.contains(word))
}

/// A tip sealed with a fresh codename (so it offers replies and opens a
/// case), submitted to the demo agency.
fn submit_tip(dir: &std::path::Path, url: &str, text: &str) {
    let codename = common::ok(dir, &["codename"]).trim().to_string();
    common::submit_tip(dir, url, text, &codename);
}

#[test]
fn two_officers_work_one_case_at_once_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let config = sealtip_harness::init_relay(path).unwrap();
    sealtip_harness::relay::edit_config(&config, |text| {
        text.replace("# retention_days = 90", "retention_days = 30")
    })
    .unwrap();
    let relay = sealtip_harness::RelayProcess::start_on_free_port(path).unwrap();
    let url = relay.url.as_str();
    submit_tip(path, url, "Workers locked in at night near the harbour");
    submit_tip(path, url, "A van with no plates at the market");

    let ana = officer_desk(path, url, Some("Ana"), "ana");
    let ben = officer_desk(path, url, Some("Ben"), "ben");
    let (_, ana_base) = address_of(&ana);
    let (_, ben_base) = address_of(&ben);
    let inbox = inbox_with(&ana, &["harbour", "market"]);
    let harbour = id_of_row(&inbox, "harbour");
    inbox_with(&ben, &["harbour", "market"]);
    // Both are listed; once looked at, nothing is new any more.
    let again = page(&ana, &ana_base);
    assert!(!again.contains("new since you last looked"), "{again}");
    // Each item shows when the relay deletes it: received + 30 days.
    assert!(again.contains("Deleted from the relay"), "{again}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let hour = now - now % 3600 + 30 * 86_400;
    let expiry = |secs: u64| sealtip_api::time::rfc3339(secs).replace('T', " ");
    let this_or_last = [expiry(hour), expiry(hour - 3600)];
    let shown = this_or_last
        .iter()
        .any(|date| again.contains(&date.replace(":00:00Z", ":00 UTC")));
    assert!(shown, "{this_or_last:?} not in {again}");

    // Ana and Ben change the same case, neither having seen the other's change.
    let thread = format!("item/{harbour}");
    let ana_page = page(&ana, &format!("{ana_base}{thread}"));
    assert!(
        ana_page.contains("<legend>Change the case, as Ana</legend>"),
        "{ana_page}"
    );
    let (status, _) = post(
        &ana,
        &format!("{ana_base}{thread}/case"),
        &[
            ("status", "in_progress"),
            ("assignee", "Ana"),
            ("label", ""),
            ("note", "Called the shelter <b>now</b>"),
        ],
    );
    assert!(status.contains("303"), "{status}");
    let (status, _) = post(
        &ben,
        &format!("{ben_base}{thread}/case"),
        &[
            ("status", "new"),
            ("assignee", ""),
            ("label", "urgent"),
            ("note", "Plates seen again"),
        ],
    );
    assert!(status.contains("303"), "{status}");
    let queued = page(&ben, &format!("{ben_base}{thread}?note=case"));
    assert!(
        queued.contains("The change is sealed and queued"),
        "{queued}"
    );
    assert!(queued.contains("Plates seen again"), "{queued}");
    // Posted with the next check, listed by the relay as case items.
    check(&ana);
    check(&ben);
    check(&ana);
    let listed = common::ok(
        path,
        &[
            "inbox",
            "--relay",
            url,
            "--agency",
            "demo",
            "--token-file",
            "data/agency.token",
        ],
    );
    assert_eq!(listed.matches("case").count(), 2, "{listed}");
    for (desk, base) in [(&ana, &ana_base), (&ben, &ben_base)] {
        let case = page(desk, &format!("{base}{thread}"));
        for expected in [
            "<dd class=\"case-status\">In progress</dd>",
            "<dd class=\"case-assignee\">Ana</dd>",
            "<span class=\"label\">urgent</span>",
            "Called the shelter &lt;b&gt;now&lt;/b&gt;",
            "Plates seen again",
        ] {
            assert!(case.contains(expected), "{expected:?} not in {case}");
        }
        assert!(
            !case.contains("missing") && !case.contains("refused"),
            "{case}"
        );
    }

    // Find and filter, in memory: a word of a tip, of a note; status,
    // label, officer.
    let found = |query: &str| page(&ben, &format!("{ben_base}?{query}"));
    for query in [
        "q=HARBOUR",
        "q=shelter",
        "status=in_progress",
        "label=urgent",
        "officer=Ana",
    ] {
        let shown = found(query);
        assert!(lists(&shown, "harbour"), "{query}: {shown}");
        assert!(!lists(&shown, "market"), "{query}: {shown}");
        assert!(shown.contains("1 of 2 items shown"), "{query}: {shown}");
    }
    let shown = found("q=van+plates&status=new");
    assert!(
        lists(&shown, "market") && !lists(&shown, "harbour"),
        "{shown}"
    );

    // A new tip is new once, since the officer last looked at the whole
    // inbox (a filtered list, which may hide it, does not count).
    submit_tip(path, url, "Another boat at dawn");
    check(&ben);
    let filtered = page(&ben, &format!("{ben_base}?q=harbour"));
    assert!(
        filtered.contains("1 new since you last looked"),
        "{filtered}"
    );
    let inbox = page(&ben, &ben_base);
    assert!(inbox.contains("1 new since you last looked"), "{inbox}");
    assert!(!page(&ben, &ben_base).contains("new since you last looked"));

    // The export button writes a case folder that `sealtip export --verify`
    // accepts, and says where and how to check it.
    let (status, exported) = post(&ana, &format!("{ana_base}{thread}/export"), &[]);
    assert!(status.contains("200"), "{status}\n{exported}");
    let folder = exported
        .split("Exported to ")
        .nth(1)
        .and_then(|rest| rest.split(". To check it later").next())
        .unwrap_or_else(|| panic!("no folder in {exported}"))
        .to_string();
    assert!(
        folder.starts_with(&path.join("exports").display().to_string()),
        "{folder}"
    );
    assert!(exported.contains("sealtip export --verify"), "{exported}");
    let verified = common::ok(path, &["export", "--verify", &folder]);
    assert!(!verified.is_empty());
    let report =
        std::fs::read_to_string(std::path::Path::new(&folder).join("report.html")).unwrap();
    assert!(report.contains("harbour"), "{report}");
    // With the case state both officers wrote.
    let manifest =
        std::fs::read_to_string(std::path::Path::new(&folder).join("manifest.json")).unwrap();
    for expected in ["in_progress", "urgent", "Plates seen again"] {
        assert!(
            manifest.contains(expected),
            "{expected:?} not in {manifest}"
        );
    }
}

#[test]
fn without_an_officer_the_desk_says_what_case_work_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    sealtip_harness::init_relay(path).unwrap();
    let relay = sealtip_harness::RelayProcess::start_on_free_port(path).unwrap();
    submit_tip(path, &relay.url, "Workers locked in at night");
    let desk = officer_desk(path, &relay.url, None, "in");
    let (_, base) = address_of(&desk);
    let inbox = inbox_with(&desk, &["Workers"]);
    let thread = format!("{base}item/{}", id_of_row(&inbox, "Workers"));
    let page = page(&desk, &thread);
    assert!(
        page.contains("start the desk with --officer NAME"),
        "{page}"
    );
    assert!(!page.contains("case-form"), "{page}");
    let (status, body) = post(&desk, &format!("{thread}/case"), &[("note", "x")]);
    assert!(status.contains("400"), "{status}");
    assert!(body.contains("--officer NAME"), "{body}");
    let (status, _) = post(&desk, &format!("{thread}/export"), &[]);
    assert!(status.contains("400"), "{status}");
    assert!(!path.join("exports").exists());
}
