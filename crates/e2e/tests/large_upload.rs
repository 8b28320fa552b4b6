//! A video larger than one upload part, sent from a phone over a connection
//! that fails twice (in the sealing worker, which sends the parts): once
//! before a part reaches the relay, once after the relay stored it but
//! before its answer came back. The page says it is
//! trying again, goes on from where the relay stopped, and the agency opens
//! one tip holding the video byte for byte. Screenshot:
//! `target/screenshots/tipster-large-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sealtip_harness::{Browser, Relay};

/// 10 MiB and a few bytes: two full 4 MiB parts and a shorter last one.
fn video() -> Vec<u8> {
    (0..(10 << 20) + 77u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Breaks the connection the way a phone network does, by wrapping
/// XMLHttpRequest in the sealing worker, which sends the parts: the 2nd
/// part sent fails before it leaves, and the 3rd reaches the relay but its
/// answer is lost. The worker tells the page how many parts it sent on a
/// `BroadcastChannel` ([`COUNT_PARTS`]).
const FLAKY_NETWORK: &str = "
    const told = new BroadcastChannel('parts-sent');
    const open = XMLHttpRequest.prototype.open;
    const send = XMLHttpRequest.prototype.send;
    let partsSent = 0;
    XMLHttpRequest.prototype.open = function (method, ...rest) {
        this.method = method;
        return open.call(this, method, ...rest);
    };
    XMLHttpRequest.prototype.send = function (body) {
        if (this.method === 'PATCH') {
            partsSent += 1;
            told.postMessage(partsSent);
            const fail = this.onerror;
            if (partsSent === 2) {
                setTimeout(() => fail(new ProgressEvent('error')), 0);
                return;
            }
            if (partsSent === 3) {
                this.onload = () => fail(new ProgressEvent('error'));
            }
        }
        return send.call(this, body);
    };";

/// Keeps the number of parts the worker sent in `window.partsSent`.
const COUNT_PARTS: &str = "
    window.partsSent = 0;
    new BroadcastChannel('parts-sent').onmessage = (event) => { window.partsSent = event.data; };
    return true;";

#[tokio::test(flavor = "multi_thread")]
async fn a_large_video_survives_a_lost_connection() -> Result<()> {
    let relay = Relay::start(8)?;
    let folder = tempfile::tempdir()?;
    let video = video();
    let path = folder.path().join("yard.mp4");
    std::fs::write(&path, &video)?;

    let mut browser = Browser::phone("tipster-large", "en").await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser
        .type_into("#q-what", "The trucks leave the yard at night.")
        .await?;
    browser.type_into("#q-where", "The yard").await?;
    browser.attach_file(&path).await?;
    let note = browser.find(".files .note").await?.text().await?;
    assert!(note.ends_with("Removed: file name."), "{note}");
    browser.eval(COUNT_PARTS).await?;
    browser.before_each_worker(FLAKY_NETWORK).await?;

    browser.find("button.send").await?.click().await?;
    let started = Instant::now();
    let mut saw_retry = false;
    loop {
        let state = browser
            .eval(
                "const stage = document.querySelector('.progress .stage');
                 return [stage ? stage.textContent : '',
                         !!document.querySelector('.codename .words'),
                         (document.querySelector('.alerts .error') || {}).textContent || ''];",
            )
            .await?;
        let stage = state[0].as_str().unwrap_or_default();
        if stage.contains("Trying again") && !saw_retry {
            saw_retry = true;
            browser.screenshot("reconnecting").await?;
        }
        if state[1].as_bool() == Some(true) {
            break;
        }
        let error = state[2].as_str().unwrap_or_default();
        anyhow::ensure!(error.is_empty(), "sending failed: {error}");
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "no codename after two minutes; last stage {stage:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_retry, "the page never said it was trying again");
    let parts = browser.eval("return window.partsSent;").await?;
    assert_eq!(parts.as_u64(), Some(4), "three parts, the second one twice");
    browser.screenshot("large-sent").await?;

    // The agency receives one tip, and the video in it is the tipster's.
    let sealed = relay.pull()?;
    assert_eq!(sealed.len(), 1, "{sealed:?}");
    let target = relay.open(&sealed[0])?;
    let text = std::fs::read_to_string(target.join("tip.txt"))?;
    assert!(text.contains("The trucks leave the yard"), "{text}");
    // The video's name on the phone stayed there.
    assert!(!text.contains("yard.mp4"), "{text}");
    let attachment = std::fs::read_dir(target.join("attachments"))?
        .next()
        .context("the tip has no attachment")??
        .path();
    assert_eq!(attachment.file_name().unwrap_or_default(), "01.mp4");
    assert!(
        std::fs::read(&attachment)? == video,
        "the video arrived changed"
    );
    browser.close().await
}
