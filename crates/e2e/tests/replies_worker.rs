//! The replies worker runs only the build's bytes. A tipster's codename
//! reaches the worker that opens replies; a relay that served other code
//! for that worker would get the codename's keys. The page fetches the
//! worker's glue and wasm with the integrity hashes of its own HTML and
//! starts the worker from the checked bytes, so against a relay serving
//! one byte of the wasm changed, or glue of its own, the tipster sees that
//! the replies could not be opened, and neither the reply nor anything the
//! relay's code made up. Screenshots go to `target/screenshots/worker-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use anyhow::{Context, Result};
use sealtip_harness::{Browser, Engine, Relay, ServedCopy, built_page, sealtip_ok};

/// The agency's reply the tipster is waiting for.
const REPLY: &str = "Thank you. Which gate do the vans use?";

/// What the page says when it cannot open replies.
const FAILED: &str = "The replies could not be opened on this device.";

/// The worker's files, as the web build names them.
const GLUE: &str = "sealtip-replies.js";
const WASM: &str = "sealtip-replies_bg.wasm";

/// Glue a relay that wants the codename's keys might serve: a worker that
/// says it is ready without the wasm and answers a made-up reply carrying
/// the start of the reply identity it was handed.
const HOSTILE_GLUE: &str = "var wasm_bindgen = function () {
  self.onmessage = function (event) {
    self.postMessage(JSON.stringify({ replies: [{ id: '0'.repeat(32), date: '2026-12-07',
      text: 'The relay now holds ' + String(event.data[0]).slice(0, 24) }],
      unreadable: 0, agency_keys: [] }));
  };
  self.postMessage('ready');
  return Promise.resolve();
};";

/// A tip sent with a new codename (by `sealtip`, as a tipster without the
/// page would) and the agency's proven reply to it: the codename.
fn tip_with_reply(relay: &Relay) -> Result<String> {
    let dir = relay.dir.path();
    let codename = sealtip_ok(dir, ["codename"])?.trim().to_owned();
    let agency = std::fs::read_to_string(relay.file("agency.pub"))?;
    sealtip_ok(
        dir,
        [
            "seal",
            "--to",
            agency.trim(),
            "--agency",
            "demo",
            "--message",
            "Vans take workers from the square at 5 am.",
            "--codename",
            &codename,
            "-o",
            "tip.age",
        ],
    )?;
    sealtip_ok(
        dir,
        [
            "submit", "--relay", &relay.url, "--agency", "demo", "tip.age",
        ],
    )?;
    let sealed = relay.pull()?;
    let tip = relay.open(sealed.first().context("the tip did not arrive")?)?;
    relay.reply(&tip, REPLY)?;
    Ok(codename)
}

/// Opens the page afresh and checks for replies with `codename`.
async fn check_replies(browser: &Browser, relay: &Relay, codename: &str) -> Result<()> {
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.find(".check-replies button").await?.click().await?;
    browser.type_into("#codename", codename).await?;
    browser
        .find(".replies form button[type=submit]")
        .await?
        .click()
        .await?;
    Ok(())
}

/// The page says it could not open the replies, and shows nothing the
/// worker could have answered.
async fn refused(browser: &mut Browser, step: &str) -> Result<()> {
    browser.wait_for_text(FAILED).await?;
    browser.screenshot(step).await?;
    let shown = browser.text().await?;
    assert!(!shown.contains(REPLY), "{shown}");
    assert!(!shown.contains("The relay now holds"), "{shown}");
    Ok(())
}

sealtip_e2e::in_each_browser!(a_relay_serving_other_worker_code_gets_no_codename);

async fn a_relay_serving_other_worker_code_gets_no_codename(engine: Engine) -> Result<()> {
    // The relay serves a copy of the built page, which the test changes.
    let served = ServedCopy::new()?;
    let relay = Relay::start_with(8, |config| served.config(config))?;
    let codename = tip_with_reply(&relay)?;
    let mut browser = Browser::phone_in(engine, "worker", "en-US,en").await?;

    // The page as built opens the reply.
    check_replies(&browser, &relay, &codename).await?;
    browser.wait_for_text(REPLY).await?;
    browser.screenshot("as-built").await?;

    // One byte of the worker's wasm changed: the browser refuses it.
    let mut wasm = std::fs::read(built_page().join(WASM))?;
    let middle = wasm.len() / 2;
    wasm[middle] ^= 0x01;
    served.serve_instead(WASM, &wasm)?;
    check_replies(&browser, &relay, &codename).await?;
    refused(&mut browser, "wasm-changed").await?;
    served.serve_as_built(WASM)?;

    // The glue replaced by the relay's own: the browser refuses it, and no
    // worker is handed the codename's keys.
    served.serve_instead(GLUE, HOSTILE_GLUE.as_bytes())?;
    check_replies(&browser, &relay, &codename).await?;
    refused(&mut browser, "glue-changed").await?;
    served.serve_as_built(GLUE)?;

    // Served as built again, the reply opens again.
    check_replies(&browser, &relay, &codename).await?;
    browser.wait_for_text(REPLY).await?;
    browser.close().await
}
