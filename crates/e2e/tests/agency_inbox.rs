//! The agency inbox at `/agency`, end to end against the real relay and
//! `sealtip`: a tip with a photo and a file (sealed to two officers) and the
//! tipster's follow-up are in the inbox; a stranger's key gets the one-line
//! "wrong key" error; the agency's key, protected by a passphrase, asks for
//! it, refuses a wrong one, then opens the inbox; the tip's thread shows the
//! text, answers, the photo drawn and the follow-up; the reply reaches the
//! tipster's codename (`sealtip replies`); a deleted item is gone from the
//! relay; a pasted plain key works; nothing is stored on the device.
//! Screenshots go to `target/screenshots/agency-*.png` (phone and desktop).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use sealtip_e2e::{Browser, Relay, sealtip, workspace};
use sealtip_envelope::bundle::{Answer, Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Codename, Identity, IdentityFile, Recipient};

const CODENAME: &str = "abacus abdomen abdominal abide abiding ability ablaze able";
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread")]
async fn an_officer_opens_a_tip_with_a_photo_replies_and_deletes_in_the_browser() -> Result<()> {
    let relay = Relay::start(0)?;
    let dir = relay.dir.path();
    let agency_key = std::fs::read_to_string(relay.file("agency.key"))?;
    let agency = IdentityFile::parse(&agency_key)?.identities.remove(0);
    let token = std::fs::read_to_string(relay.file("agency.token"))?;
    let token = token.trim();
    let relay_args = |command: &str| {
        let mut args = vec![command.to_string(), "--relay".into(), relay.url.clone()];
        args.extend(["--agency".into(), "demo".into()]);
        args
    };
    let inbox = || -> Result<Vec<(String, String)>> {
        let mut args = relay_args("inbox");
        args.extend([
            "--token-file".into(),
            relay.file("agency.token").display().to_string(),
        ]);
        Ok(sealtip(args)?
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let kind = *words.first()?;
                (kind == "tip" || kind == "message")
                    .then(|| (kind.to_string(), words.last().unwrap_or(&"").to_string()))
            })
            .collect())
    };

    // A tip sealed to the agency and a second officer, with a photo, a text
    // file and the tipster's reply key; then the tipster's follow-up.
    let second = Identity::generate()?;
    let keys = Codename::parse(CODENAME)?.derive()?;
    let reply_to = ReplyTo {
        recipient: keys.recipient().to_string(),
        mailbox: keys.mailbox.clone(),
    };
    let photo = std::fs::read(workspace().join("crates/scrub/tests/fixtures/gps.png"))?;
    let tip = sealed_tip(
        &[agency.recipient(), second.recipient()],
        reply_to,
        &[
            ("van.png", "image/png", &photo),
            ("plates.txt", "text/plain", b"AB-123-CD"),
        ],
    )?;
    std::fs::write(dir.join("tip.age"), tip)?;
    let mut args = relay_args("submit");
    args.push(dir.join("tip.age").display().to_string());
    let tip_id = sealtip(args)?.trim().to_string();
    let mut args = relay_args("follow-up");
    args.extend(["--codename", CODENAME, "--message", "It came again today."].map(String::from));
    sealtip(args)?;
    let listed = inbox()?;
    let follow_up_id = listed
        .iter()
        .find(|(kind, _)| kind == "message")
        .map(|(_, id)| id.clone())
        .context("the follow-up is in the inbox")?;

    // Key files: a stranger's, and the agency's protected by a passphrase.
    let stranger = dir.join("stranger.key");
    let text = IdentityFile::to_text(&Identity::generate()?, "2026-11-29T00:00:00Z");
    std::fs::write(&stranger, text.as_bytes())?;
    let protected = dir.join("protected.key");
    let mut writer = sealtip_envelope::seal_with_passphrase(PASSPHRASE, Vec::new())?;
    writer.write_all(agency_key.as_bytes())?;
    std::fs::write(&protected, writer.finish()?)?;

    let mut browser = Browser::phone("agency", "en").await?;
    browser
        .client
        .goto(&format!("{}/agency", relay.url))
        .await?;
    browser.find("form.unlock").await?;
    browser.screenshot("unlock").await?;

    // A stranger's key: the token lists the inbox, the key opens nothing.
    unlock(&browser, Key::File(&stranger), token).await?;
    click(&browser, &row(&tip_id, "button.open")).await?;
    let error = wait_for(&browser, "[role=alert]", "not to this one").await?;
    assert!(
        error.contains("sealed to 2 other keys, not to this one") && !error.contains('\n'),
        "{error}"
    );
    browser.screenshot("wrong-key").await?;
    click(&browser, "button.lock").await?;

    // The agency's key protected by a passphrase: asked for, wrong, right.
    unlock(&browser, Key::File(&protected), token).await?;
    wait_for(&browser, "[role=alert]", "protected by a passphrase").await?;
    browser.screenshot("passphrase").await?;
    type_in(&browser, "#key-passphrase", "not it").await?;
    click(&browser, "form.unlock button[type=submit]").await?;
    let wrong = wait_for(&browser, "[role=alert]", "Wrong passphrase").await?;
    assert!(!wrong.contains('\n'), "{wrong}");
    type_in(&browser, "#key-passphrase", PASSPHRASE).await?;
    click(&browser, "form.unlock button[type=submit]").await?;

    // The inbox: kind, size, received.
    let table = wait_for(&browser, "table.inbox", "Follow-up").await?;
    for expected in ["Tip", "KiB", "UTC"] {
        assert!(table.contains(expected), "{expected:?} not in {table}");
    }
    assert_eq!(
        browser
            .client
            .find_all(fantoccini::Locator::Css("table.inbox tbody tr"))
            .await?
            .len(),
        2
    );
    browser.screenshot("inbox").await?;

    // The tip's thread: text, answers, the photo drawn, the file offered, the follow-up.
    click(&browser, &row(&tip_id, "button.open")).await?;
    let thread = wait_for(&browser, "section.thread", "It came again today.").await?;
    for expected in [
        "The van comes every Tuesday.",
        "Where",
        "Main street",
        "Download plates.txt",
    ] {
        assert!(thread.contains(expected), "{expected:?} not in {thread}");
    }
    let drawn = wait_for_number(
        &browser,
        "return document.querySelector('.photo img')?.naturalWidth || 0",
    )
    .await?;
    assert!(drawn > 0, "the photo is not drawn");
    let link = browser.find("a.download[download='plates.txt']").await?;
    let href = link.attr("href").await?.unwrap_or_default();
    assert!(href.starts_with("blob:"), "{href}");
    browser.screenshot("thread").await?;

    // Reply: the tipster's codename opens it.
    type_in(&browser, "#reply-text", "Thank you. Are you safe?").await?;
    click(&browser, "form.reply button[type=submit]").await?;
    wait_for(&browser, "[role=status]", "The reply was sealed and sent.").await?;
    wait_for(&browser, "section.thread", "Our reply").await?;
    browser.screenshot("replied").await?;
    let mut args = relay_args("replies");
    args.extend(["--codename".to_string(), CODENAME.to_string()]);
    let replies = sealtip(args)?;
    assert!(replies.contains("Thank you. Are you safe?"), "{replies}");

    // Delete the follow-up from the list: gone on the page and on the relay.
    click(&browser, "button.back").await?;
    click(&browser, &row(&follow_up_id, "button.delete")).await?;
    wait_for(&browser, "[role=status]", "Deleted from the relay.").await?;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("table.inbox tbody tr"))
        .await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(inbox()?, [("tip".to_string(), tip_id.clone())]);

    // Lock: the form again, nothing of the inbox left. A pasted plain key works.
    click(&browser, "button.lock").await?;
    browser.find("form.unlock").await?;
    assert!(!browser.text().await?.contains("The van comes"));
    unlock(&browser, Key::Paste(agency_key.trim()), token).await?;
    browser.find("table.inbox").await?;

    // Nothing stored on the device.
    let stored = browser.stored().await?;
    for (what, count) in stored.as_object().context("an object")? {
        assert_eq!(count, 0, "the page stored something ({what}): {stored}");
    }
    browser.close().await?;

    // The same pages at a desktop's size.
    let mut desktop = Browser::desktop("agency-desktop", "en", (1280, 800)).await?;
    desktop
        .client
        .goto(&format!("{}/agency", relay.url))
        .await?;
    unlock(&desktop, Key::Paste(agency_key.trim()), token).await?;
    desktop.find("table.inbox").await?;
    desktop.screenshot("inbox").await?;
    click(&desktop, &row(&tip_id, "button.open")).await?;
    wait_for(&desktop, "section.thread", "Our reply").await?;
    wait_for_number(
        &desktop,
        "return document.querySelector('.photo img')?.naturalWidth || 0",
    )
    .await?;
    desktop.screenshot("thread").await?;
    desktop.close().await
}

/// A tip as the tipster's page seals it: text, one answer, files, reply key.
fn sealed_tip(to: &[Recipient], reply: ReplyTo, files: &[(&str, &str, &[u8])]) -> Result<Vec<u8>> {
    let mut sealing = sealtip_envelope::seal_tip(to, Vec::new())?;
    for (name, media_type, bytes) in files {
        let attachment = NewAttachment {
            name,
            media_type,
            size: bytes.len() as u64,
            metadata: MetadataStatus::NotChecked,
            removed: Vec::new(),
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
    tip.reply = Some(reply);
    Ok(sealing.finish(tip)?.0)
}

/// How the officer gives the key.
enum Key<'a> {
    File(&'a Path),
    Paste(&'a str),
}

/// Fills the unlock form and submits it.
async fn unlock(browser: &Browser, key: Key<'_>, token: &str) -> Result<()> {
    match key {
        Key::File(path) => {
            let input = browser.find("#key-file").await?;
            input.send_keys(&path.display().to_string()).await?;
        }
        Key::Paste(text) => type_in(browser, "#key-paste", text).await?,
    }
    type_in(browser, "#inbox-token", token).await?;
    click(browser, "form.unlock button[type=submit]").await
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

/// The selector of a button in the inbox row of this item.
fn row(id: &str, button: &str) -> String {
    format!("tr[data-id='{id}'] {button}")
}

/// Waits until the element's text contains `wanted`; returns the text.
async fn wait_for(browser: &Browser, css: &str, wanted: &str) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        let text = match browser.client.find(fantoccini::Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(wanted) {
            return Ok(text);
        }
        anyhow::ensure!(
            started.elapsed() < sealtip_e2e::PATIENCE,
            "{css}: {wanted:?} not in {text:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until `script` returns a positive number; returns it.
async fn wait_for_number(browser: &Browser, script: &str) -> Result<u64> {
    let started = std::time::Instant::now();
    loop {
        let value = browser.eval(script).await?.as_u64().unwrap_or(0);
        if value > 0 || started.elapsed() > sealtip_e2e::PATIENCE {
            return Ok(value);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
