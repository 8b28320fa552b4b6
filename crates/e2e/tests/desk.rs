//! `sealtip desk`, the officers' inbox, end to end against the real relay and
//! `sealtip`, in headless Chromium: a tip with a photo and a file (sealed to
//! the agency) and the tipster's follow-up are listed; the tip's thread shows
//! the text, answers and follow-up; the photo is drawn only when asked for;
//! the file is an inert download; a reply is queued, sent with the next check
//! and read back with the tipster's codename; a deleted follow-up is gone
//! from the relay; locking leaves only the locked page. Then the same desk
//! offline, from the folder it downloaded into, at a desktop's size. Case
//! work: a status, an officer, a label and a note set at the desk, posted
//! with the next check, the inbox filtered by them, and the case state
//! again from the folder offline.
//! Screenshots go to `target/screenshots/desk-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::Write;

use anyhow::{Context, Result};
use sealtip_envelope::{Answer, Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Codename, Identity, IdentityFile, Recipient, ReplyKeys};
use sealtip_harness::browser::Locator;
use sealtip_harness::{Browser, Desk, PATIENCE, Relay, sealtip_ok, workspace};

const CODENAME: &str = "abacus abdomen abdominal abide abiding ability ablaze able";
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread")]
async fn an_officer_reads_replies_and_deletes_at_the_desk() -> Result<()> {
    let relay = Relay::start(0)?;
    let dir = relay.dir.path();
    let token_file = relay.file("agency.token").display().to_string();
    let relay_args = |command: &str| -> Vec<String> {
        let args = [command, "--relay", &relay.url, "--agency", "demo"];
        args.map(String::from).to_vec()
    };
    let inbox = || -> Result<Vec<(String, String)>> {
        let mut args = relay_args("inbox");
        args.extend(["--token-file".into(), token_file.clone()]);
        Ok(sealtip_ok(dir, args)?
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let kind = *words.first()?;
                (kind == "tip" || kind == "message")
                    .then(|| (kind.to_string(), words.last().unwrap_or(&"").to_string()))
            })
            .collect())
    };

    // A tip with a photo, a text file and the tipster's reply key; then the
    // tipster's follow-up.
    let keys = Codename::parse(CODENAME)?.derive()?;
    // The tip goes to an officer's key of the codename's kind (a reply is
    // sealed to both, never to hybrid and X25519-only keys together); the
    // follow-up, sealed by `sealtip follow-up`, to the agency's key.
    let officer = Identity::generate_kind(keys.identity.kind())?;
    let officer_key = IdentityFile::to_text(&officer, "2026-11-29T00:00:00Z");
    let officer_file = dir.join("officer.key");
    std::fs::write(&officer_file, officer_key.as_bytes())?;
    let photo = std::fs::read(workspace().join("crates/scrub/tests/fixtures/gps.png"))?;
    let files: [(&str, &str, &[u8]); 2] = [
        ("van.png", "image/png", &photo),
        ("plates.txt", "text/plain", b"<b>AB-123-CD</b>"),
    ];
    std::fs::write(
        dir.join("tip.age"),
        sealed_tip(&[officer.recipient()], &keys, &files)?,
    )?;
    let mut args = relay_args("submit");
    args.push(dir.join("tip.age").display().to_string());
    let tip_id = sealtip_ok(dir, args)?.trim().to_string();
    let mut args = relay_args("follow-up");
    args.extend(["--codename", CODENAME, "--message", "It came again today."].map(String::from));
    sealtip_ok(dir, args)?;
    let follow_up_id = inbox()?
        .into_iter()
        .find(|(kind, _)| kind == "message")
        .map(|(_, id)| id)
        .context("the follow-up is in the inbox")?;

    // The officer's key protected by a passphrase, given as scripts do.
    let protected = dir.join("protected.key");
    let mut writer = sealtip_envelope::seal_with_passphrase(PASSPHRASE, Vec::new())?;
    writer.write_all(officer_key.as_bytes())?;
    std::fs::write(&protected, writer.finish()?)?;
    let folder = dir.join("desk-inbox");
    let desk = Desk::start(
        [
            "--relay",
            &relay.url,
            "--agency",
            "demo",
            "--token-file",
            &token_file,
            "-i",
            &protected.display().to_string(),
            "-i",
            &relay.file("agency.key").display().to_string(),
            "--inbox",
            &folder.display().to_string(),
            "--lang",
            "en",
            "--officer",
            "Ana",
        ],
        &[("SEALTIP_PASSPHRASE", PASSPHRASE)],
    )?;
    assert!(desk.url.starts_with("http://127.0.0.1:"), "{}", desk.url);

    // The inbox, once the first round is done: kind, size, received.
    let mut browser = Browser::phone("desk", "en").await?;
    let table = reload_until(&browser, &desk.url, "Follow-up").await?;
    for expected in ["Tip", "KiB", "UTC", "The van comes every Tuesday."] {
        assert!(table.contains(expected), "{expected:?} not in {table}");
    }
    assert_eq!(rows(&browser).await?, 2);
    browser.screenshot("inbox").await?;

    // The thread: text, answers, follow-up; files offered, no photo drawn yet.
    click(&browser, &format!("a[href$='/item/{tip_id}']")).await?;
    let thread = main_with(&browser, "Reply").await?;
    for expected in [
        "The van comes every Tuesday.",
        "Where",
        "Main street",
        "It came again today.",
        "Download plates.txt",
        "Show photo van.png",
        "Verified: proven to belong to this conversation.",
    ] {
        assert!(thread.contains(expected), "{expected:?} not in {thread}");
    }
    assert!(!thread.contains("Unverified"), "{thread}");
    let images = browser.client.find_all(Locator::Css("img")).await?;
    assert!(images.is_empty(), "a photo drawn before it was asked for");
    browser.screenshot("thread").await?;

    // The photo, once asked for.
    click(&browser, "a[href*='?show=']").await?;
    let drawn = photo_width(&browser).await?;
    assert!(drawn > 0, "the photo is not drawn");
    browser.screenshot("photo").await?;

    // The file: an inert download with its cleaned name (read here as the
    // browser gets it; the page itself may fetch nothing, by its CSP).
    let download = browser
        .find("a[download][href$='/1']")
        .await?
        .attr("href")
        .await?
        .context("a download link")?;
    let answer = sealtip_harness::http::get(&desk.url, &download)?;
    let head: String = answer
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {}\n", value.to_ascii_lowercase()))
        .collect();
    let body = answer.text();
    for expected in [
        "content-type: application/octet-stream",
        "content-disposition: attachment; filename=\"plates.txt\"",
        "cache-control: no-store",
        "x-content-type-options: nosniff",
    ] {
        assert!(head.contains(expected), "{expected:?} not in {head}");
    }
    assert_eq!(body, "<b>AB-123-CD</b>");

    // A reply: queued, then sent with the next check; the codename reads it.
    type_in(&browser, "#reply-text", "Thank you. Are you safe?").await?;
    click(&browser, ".reply button[type=submit]").await?;
    let queued = main_with(&browser, "The reply is sealed and queued").await?;
    assert!(queued.contains("Our reply, queued"), "{queued}");
    browser.scroll_to(".entry.from-agency").await?;
    browser.screenshot("queued").await?;
    let mut args = relay_args("replies");
    args.extend(["--codename".to_string(), CODENAME.to_string()]);
    let before = sealtip_ok(dir, args.clone())?;
    assert!(!before.contains("Are you safe?"), "sent before the check");
    click(&browser, ".bar button.secondary").await?;
    let checked = main_with(&browser, "Inbox of demo").await?;
    assert!(checked.contains("Last check with the relay"), "{checked}");
    assert!(!checked.contains("Replies waiting"), "{checked}");
    let replies = sealtip_ok(dir, args)?;
    assert!(replies.contains("Thank you. Are you safe?"), "{replies}");
    click(&browser, &format!("a[href$='/item/{tip_id}']")).await?;
    let thread = main_with(&browser, "Our reply").await?;
    assert!(!thread.contains("queued"), "{thread}");
    browser.scroll_to(".entry.from-agency").await?;
    browser.screenshot("replied").await?;

    // Case work: status, assignee, a label and a note, sealed to the
    // officers and posted with the next check; then the inbox filtered by
    // the label, and the case state on the thread page.
    browser
        .find("#case-status")
        .await?
        .select_by_value("in_progress")
        .await?;
    type_in(&browser, "#case-assignee", "Ana").await?;
    type_in(&browser, "#case-label", "urgent").await?;
    type_in(
        &browser,
        "#case-note",
        "Called the shelter; they call back today.",
    )
    .await?;
    click(&browser, ".case-form button[type=submit]").await?;
    let queued = main_with(&browser, "The change is sealed and queued").await?;
    assert!(queued.contains("Ana, "), "{queued}");
    click(&browser, ".bar button.secondary").await?;
    main_with(&browser, "Last check with the relay").await?;
    browser
        .client
        .goto(&format!("{}?q=tuesday&label=urgent", desk.url))
        .await?;
    let filtered = main_with(&browser, "1 of 2 items shown").await?;
    assert!(filtered.contains("In progress"), "{filtered}");
    browser.screenshot("filtered").await?;
    click(&browser, &format!("a[href$='/item/{tip_id}']")).await?;
    let case = main_with(&browser, "Called the shelter").await?;
    for expected in ["In progress", "urgent", "Change the case, as Ana"] {
        assert!(case.contains(expected), "{expected:?} not in {case}");
    }
    assert!(!case.contains("(queued)"), "{case}");
    browser.scroll_to("#case").await?;
    browser.screenshot("case").await?;

    // Delete the follow-up, after a confirmation: gone on the relay.
    click(&browser, ".name a").await?;
    main_with(&browser, "Inbox of demo").await?;
    click(&browser, &format!("a[href$='/item/{follow_up_id}/delete']")).await?;
    main_with(&browser, "This cannot be undone").await?;
    browser.screenshot("delete").await?;
    click(&browser, "button.danger").await?;
    main_with(&browser, "Deleted.").await?;
    assert_eq!(rows(&browser).await?, 1);
    assert_eq!(inbox()?, [("tip".to_string(), tip_id.clone())]);
    assert!(!folder.join(format!("message-{follow_up_id}.age")).exists());

    // Lock: only the locked page, at every address.
    click(&browser, "button.lock").await?;
    main_with(&browser, "The desk is locked").await?;
    browser.screenshot("locked").await?;
    let address = format!("{}item/{tip_id}", desk.url);
    browser.client.goto(&address).await?;
    let locked = main_with(&browser, "The desk is locked").await?;
    assert!(!locked.contains("van"), "{locked}");
    assert_eq!(browser.stored().await?["cookies"], 0);
    browser.close().await?;
    drop(desk);

    // The folder the desk downloaded into opens with no relay at all, at a
    // desktop's size: the tip, our reply and the photo.
    let offline = Desk::start(
        [
            "--agency",
            "demo",
            "-i",
            &officer_file.display().to_string(),
            "-i",
            &relay.file("agency.key").display().to_string(),
            "--inbox",
            &folder.display().to_string(),
        ],
        &[("LANG", "en_US.UTF-8")],
    )?;
    let mut desktop = Browser::desktop("desk-desktop", "en", (1280, 800)).await?;
    desktop.client.goto(&offline.url).await?;
    main_with(&desktop, "Offline").await?;
    assert_eq!(rows(&desktop).await?, 1);
    desktop.screenshot("inbox").await?;
    click(&desktop, &format!("a[href$='/item/{tip_id}']")).await?;
    main_with(&desktop, "Show photo").await?;
    click(&desktop, "a[href*='?show=']").await?;
    assert!(photo_width(&desktop).await? > 0, "the photo is not drawn");
    let thread = main_with(&desktop, "Thank you. Are you safe?").await?;
    assert!(thread.contains("Replies need the relay"), "{thread}");
    // The case state came with the folder: the same on any desk.
    for expected in ["In progress", "urgent", "Called the shelter"] {
        assert!(thread.contains(expected), "{expected:?} not in {thread}");
    }
    desktop.screenshot("thread").await?;
    desktop.scroll_to("#case").await?;
    desktop.screenshot("case").await?;
    desktop
        .client
        .goto(&format!("{}?q=tuesday&status=in_progress", offline.url))
        .await?;
    let filtered = main_with(&desktop, "1 of 1 items shown").await?;
    assert!(
        filtered.contains("The van comes every Tuesday."),
        "{filtered}"
    );
    desktop.screenshot("filtered").await?;
    desktop.close().await
}

/// A tip as the tipster's page seals it: text, one answer, files, reply key,
/// proven in the codename's thread.
fn sealed_tip(
    to: &[Recipient],
    keys: &ReplyKeys,
    files: &[(&str, &str, &[u8])],
) -> Result<Vec<u8>> {
    let mut sealing = sealtip_envelope::seal_tip(to, Vec::new())?;
    for (name, media_type, bytes) in files {
        let attachment = NewAttachment {
            name,
            media_type,
            size: bytes.len() as u64,
            metadata: MetadataStatus::NotChecked,
            removed: Vec::new(),
            keep_name: true,
        };
        sealing.add_attachment(attachment, &mut &bytes[..])?;
    }
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
    tip.text = "The van comes every Tuesday.".into();
    tip.answers.push(Answer {
        id: "where".into(),
        label: "Where".into(),
        value: "Main street".into(),
    });
    tip.reply = Some(ReplyTo::from_keys(keys));
    Ok(sealing.finish_in_thread(tip, &keys.thread_key)?.0)
}

/// Loads `url` again until the page holds `wanted` (the desk's pages are
/// plain HTML: nothing changes without a reload); returns the main text.
async fn reload_until(browser: &Browser, url: &str, wanted: &str) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        browser.client.goto(url).await?;
        let text = text_of(browser, "main").await?;
        if text.contains(wanted) {
            return Ok(text);
        }
        anyhow::ensure!(started.elapsed() < PATIENCE, "{wanted:?} not in {text:?}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// The text of the first `css` element (tried again while a page replaces
/// the last one).
async fn text_of(browser: &Browser, css: &str) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        match browser.find(css).await?.text().await {
            Ok(text) => return Ok(text),
            Err(error) if started.elapsed() > PATIENCE => return Err(error.into()),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

/// Waits until the page's main text holds `wanted` (after a click that
/// loads another page); returns the text.
async fn main_with(browser: &Browser, wanted: &str) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        let text = text_of(browser, "main").await?;
        if text.contains(wanted) {
            return Ok(text);
        }
        anyhow::ensure!(started.elapsed() < PATIENCE, "{wanted:?} not in {text:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn rows(browser: &Browser) -> Result<usize> {
    let rows = browser
        .client
        .find_all(Locator::Css("table.inbox tbody tr"))
        .await?;
    Ok(rows.len())
}

async fn click(browser: &Browser, css: &str) -> Result<()> {
    browser.find(css).await?.click().await?;
    Ok(())
}

async fn type_in(browser: &Browser, css: &str, text: &str) -> Result<()> {
    let input = browser.find(css).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// The drawn width of the photo, once it loaded (0 if it never does).
async fn photo_width(browser: &Browser) -> Result<u64> {
    let started = std::time::Instant::now();
    loop {
        let script = "const img = document.querySelector('img.photo');
                      return img && img.complete ? img.naturalWidth : 0;";
        let value = browser.eval(script).await?.as_u64().unwrap_or(0);
        if value > 0 || started.elapsed() > PATIENCE {
            return Ok(value);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
