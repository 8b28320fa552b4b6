//! A large video is sealed and sent in a worker, so the page answers the
//! tipster while it goes: the quick exit leaves at once, and Cancel stops
//! the send, and in both cases the agency receives nothing; after Cancel
//! the form still holds what the tipster typed and picked. Screenshots go
//! to `target/screenshots/stop-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sealtip_harness::http::ExitSite;
use sealtip_harness::{Browser, Engine, Relay};

/// The video's size: large enough that sending it takes a while.
const VIDEO_MIB: usize = 160;

/// What the tipster types.
const WHAT: &str = "The trucks leave the yard at night.";
const WHERE: &str = "The yard";

/// What the page says once sending stopped.
const CANCELLED: &str = "Sending was cancelled. Nothing was sent.";

/// Writes a video of [`VIDEO_MIB`] MiB at `path`.
fn write_video(path: &Path) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let piece: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for _ in 0..VIDEO_MIB {
        file.write_all(&piece)?;
    }
    file.flush()?;
    Ok(())
}

/// A send of a large video under way from a phone: the relay (whose quick
/// exit goes to `exit`), the browser, and the folder holding the video.
struct Sending {
    relay: Relay,
    browser: Browser,
    _folder: tempfile::TempDir,
}

/// Fills the form, picks the video, presses Send, and waits until the page
/// says it is sealing (its stage, in words).
async fn start_sending(engine: Engine, exit: &str) -> Result<Sending> {
    let relay = Relay::start_exiting_to(8, exit)?;
    let folder = tempfile::tempdir()?;
    let video = folder.path().join("yard.mp4");
    write_video(&video)?;
    let browser = Browser::phone_in(engine, "stop", "en-US,en").await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.type_into("#q-what", WHAT).await?;
    browser.type_into("#q-where", WHERE).await?;
    browser.attach_file(&video).await?;
    browser.find("button.send").await?.click().await?;
    let started = Instant::now();
    loop {
        let state = browser
            .eval(
                "const stage = document.querySelector('.progress .stage');
                 return [stage ? stage.textContent : '',
                         !!document.querySelector('.codename .words')];",
            )
            .await?;
        if state[0]
            .as_str()
            .unwrap_or("")
            .starts_with("Locking your tip")
        {
            break;
        }
        if state[1].as_bool() == Some(true) {
            bail!("the video was sent before the test could stop it");
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the page never said it was sealing");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Sending {
        relay,
        browser,
        _folder: folder,
    })
}

/// The agency receives nothing: the relay holds no tip now, nor a little
/// later, when an upload that went on would have delivered more parts.
fn nothing_arrives(relay: &Relay) -> Result<()> {
    for _ in 0..6 {
        let sealed = relay.pull()?;
        assert!(sealed.is_empty(), "the relay holds a tip: {sealed:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}

sealtip_e2e::in_each_browser!(
    quick_exit_during_a_large_send_leaves_at_once_and_sends_nothing,
    cancel_during_a_large_send_sends_nothing_and_keeps_the_form,
);

async fn quick_exit_during_a_large_send_leaves_at_once_and_sends_nothing(
    engine: Engine,
) -> Result<()> {
    let exit = ExitSite::start()?;
    let left = exit.page.clone();
    // The folder stays bound: the video must stay on the disk while the
    // page reads it.
    let Sending {
        relay,
        mut browser,
        _folder,
    } = start_sending(engine, &left).await?;
    browser.screenshot("sealing").await?;
    browser.find(".quick-exit-button").await?.click().await?;
    let started = Instant::now();
    while browser.client.current_url().await?.as_str() != left {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the quick exit did not leave the page");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.screenshot("left").await?;
    nothing_arrives(&relay)?;
    browser.close().await
}

async fn cancel_during_a_large_send_sends_nothing_and_keeps_the_form(engine: Engine) -> Result<()> {
    // The folder stays bound: the video must stay on the disk while the
    // page reads it.
    let Sending {
        relay,
        mut browser,
        _folder,
    } = start_sending(engine, "https://example.org/").await?;
    // The tipster pressed Send at the bottom of the screen: the progress
    // that took its place is in view whole, Cancel with it, below the
    // quick exit, and its stage in words has the focus.
    let shown = browser
        .eval(
            "const whole = document.getElementById('send-progress').getBoundingClientRect();
             const top = document.querySelector('.quick-exit').getBoundingClientRect().bottom;
             return [document.activeElement.className,
                     whole.top >= top - 1 && whole.bottom <= innerHeight + 1];",
        )
        .await?;
    assert_eq!(shown[0].as_str(), Some("stage"), "{shown}");
    assert_eq!(
        shown[1].as_bool(),
        Some(true),
        "the progress is out of view"
    );
    browser.screenshot("sending").await?;
    browser.find(".progress button").await?.click().await?;
    browser.wait_for_text(CANCELLED).await?;
    // The tipster pressed Cancel at the bottom of the form: the reason,
    // above the fields, is brought into view and focused.
    let shown = browser
        .eval(
            "const reason = document.activeElement;
             const box = reason.getBoundingClientRect();
             return [reason.textContent, box.top >= 0 && box.bottom <= innerHeight];",
        )
        .await?;
    assert_eq!(shown[0].as_str(), Some(CANCELLED), "{shown}");
    assert_eq!(shown[1].as_bool(), Some(true), "the reason is out of view");
    browser.screenshot("cancelled").await?;
    // The form holds what the tipster typed and picked, to send again.
    let what = browser.find("#q-what").await?.prop("value").await?;
    assert_eq!(what.as_deref(), Some(WHAT));
    let place = browser.find("#q-where").await?.prop("value").await?;
    assert_eq!(place.as_deref(), Some(WHERE));
    let files = browser.find(".files").await?.text().await?;
    assert!(files.contains("yard.mp4"), "{files}");
    assert!(browser.find("button.send").await?.is_enabled().await?);
    nothing_arrives(&relay)?;
    browser.close().await
}
