//! The first screen before the wasm: on a slow connection, the agency's
//! page is readable and fillable from its HTML alone, and when the wasm
//! arrives it takes over what the tipster typed without losing a
//! character: every answer, the choice, the picked photo, the focused field
//! and its caret, with nothing moving on the screen; the tip sent carries it
//! all. The wasm is held back by a proxy in front of the relay until the
//! test releases it. Before it arrives the quick exit (`www/boot.js`) leaves
//! at once, and if the browser refuses the page's code the first screen says
//! so. Screenshots go to `target/screenshots/first-screen-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sealtip_harness::browser::{InputSource, KeyAction, KeyActions};
use sealtip_harness::http::ExitSite;
use sealtip_harness::{
    Browser, Engine, HoldingProxy, PATIENCE, Relay, ServedCopy, built_page, workspace,
};

/// What the tipster types before the wasm arrives, on two lines.
const WHAT: &str = "Vans leave the port at 5 am.\nThey stop at gate 4.";
/// Where the caret is put (after "Vans"), as a tipster's tap would.
const CARET: u64 = 4;
/// The place typed.
const WHERE: &str = "Port, gate 4";

/// Where each piece of the screen is (`x, y, width, height`), to see that
/// nothing moves when the wasm takes over.
const WHERE_THINGS_ARE: &str = "return ['h1', '.emergency', '.safer', '#q-what', '#q-where', \
     '#q-topic', '.pickers', '.quick-exit-button']
     .map(css => { const r = document.querySelector(css).getBoundingClientRect();
                   return css + ' ' + [r.x, r.y, r.width, r.height].map(Math.round).join(','); });";

sealtip_e2e::in_each_browser!(
    what_is_typed_before_the_wasm_is_kept_when_it_takes_over,
    a_page_whose_code_the_browser_refuses_says_so_on_its_first_screen,
    the_quick_exit_leaves_before_the_wasm_arrives,
);

/// Before the wasm arrives (held back by the proxy), the first screen's
/// quick exit (`www/boot.js`) leaves, by its button and by Shift pressed
/// three times while typing, replacing the page in the history, and
/// nothing of the page's code has run meanwhile.
async fn the_quick_exit_leaves_before_the_wasm_arrives(engine: Engine) -> Result<()> {
    let exit = ExitSite::start()?;
    let left = &exit.page;
    let relay = Relay::start_exiting_to(8, left)?;
    let proxy = HoldingProxy::start(&relay.url, |path| path.ends_with(".wasm"))?;
    let mut browser = Browser::phone_in(engine, "first-screen-exit", "en").await?;
    let page = format!("{}/a/demo", proxy.url);
    for way in ["button", "shift"] {
        browser.client.goto(&page).await?;
        let field = browser.find("#first-screen #q-what").await?;
        wait_until("the page asks for its wasm", || async {
            Ok(proxy.held() > 0)
        })
        .await?;
        let before = browser.eval("return history.length;").await?;
        if way == "button" {
            browser
                .find("#first-screen .quick-exit-button")
                .await?
                .click()
                .await?;
        } else {
            field.send_keys("Vans").await?;
            for _ in 0..3 {
                // The third may find the page gone already: that is the point.
                let _ = field.send_keys("\u{E008}").await;
            }
        }
        wait_until("the quick exit leaves the page", || async {
            Ok(browser.client.current_url().await?.as_str() == *left)
        })
        .await?;
        let after = browser.eval("return history.length;").await?;
        assert_eq!(after, before, "{way}: the page was replaced, not added to");
        assert!(
            !browser.text().await?.contains("Demo agency"),
            "{way}: the page is gone"
        );
    }
    // The wasm never ran: every request for it is still held.
    assert!(proxy.held() > 0);
    browser.screenshot("left").await?;
    browser.close().await
}

/// What the first screen says when the page's code cannot start.
const NOT_STARTED: &str = "This page did not finish loading, so nothing can be sent.";

/// The page's wasm, as the built HTML names it (`data-wasm="/…_bg.wasm"`).
fn page_wasm() -> Result<String> {
    let html = std::fs::read_to_string(built_page().join("index.html"))?;
    let (_, rest) = html
        .split_once("name=\"sealtip-app\"")
        .context("the built page has no loader element")?;
    let (_, rest) = rest
        .split_once("data-wasm=\"/")
        .context("the loader names no wasm")?;
    Ok(rest.split('"').next().unwrap_or("").to_owned())
}

/// A relay that serves other bytes for the page's wasm (one byte changed):
/// the browser refuses them, the page's code never starts, and the first
/// screen says so, focused, in its language, while Send stays disabled.
async fn a_page_whose_code_the_browser_refuses_says_so_on_its_first_screen(
    engine: Engine,
) -> Result<()> {
    let served = ServedCopy::new()?;
    let relay = Relay::start_with(8, |config| served.config(config))?;
    let wasm_name = page_wasm()?;
    let mut wasm = std::fs::read(built_page().join(&wasm_name))?;
    let middle = wasm.len() / 2;
    wasm[middle] ^= 0x01;
    served.serve_instead(&wasm_name, &wasm)?;

    let mut browser = Browser::phone_in(engine, "first-screen-refused", "en").await?;
    browser
        .client
        .goto(&format!("{}/a/demo", relay.url))
        .await?;
    browser.wait_for_text(NOT_STARTED).await?;
    let focused = browser.eval("return document.activeElement.id;").await?;
    assert_eq!(focused.as_str(), Some("not-started"));
    let send = browser.find("#first-screen button.send").await?;
    assert!(
        !send.is_enabled().await?,
        "nothing can be sent without the wasm"
    );
    // And for whoever runs the relay, the console says why (Chromium's
    // driver tells the console; Firefox's does not).
    if engine == Engine::Chromium {
        let console = browser.console().await?.join("\n");
        assert!(
            console.contains("sealtip: the page could not start"),
            "{console}"
        );
    }
    browser.screenshot("not-started").await?;
    browser.close().await
}

async fn what_is_typed_before_the_wasm_is_kept_when_it_takes_over(engine: Engine) -> Result<()> {
    let relay = Relay::start(8)?;
    let proxy = HoldingProxy::start(&relay.url, |path| path.ends_with(".wasm"))?;
    let mut browser = Browser::phone_in(engine, "first-screen", "en").await?;
    browser
        .client
        .goto(&format!("{}/a/demo", proxy.url))
        .await?;

    // The first screen, from the HTML alone: the page's code is held back.
    browser.find("#first-screen #q-what").await?;
    browser
        .wait_for_text("Only Demo agency can read what you send")
        .await?;
    browser
        .wait_for_text("In danger right now? Call 112.")
        .await?;
    browser.wait_for_text("use another device").await?;
    let served_send = browser.find("#first-screen button.send").await?;
    assert!(!served_send.is_enabled().await?, "sending needs the wasm");
    wait_until("the page asks for its wasm", || async {
        Ok(proxy.held() > 0)
    })
    .await?;
    browser.screenshot("before-the-wasm").await?;

    browser.type_into("#q-what", WHAT).await?;
    browser.type_into("#q-where", WHERE).await?;
    browser
        .find("#q-topic")
        .await?
        .select_by_value("held")
        .await?;
    let photo = workspace().join("crates/scrub/tests/fixtures/gps.jpg");
    browser
        .type_into("#files", &photo.canonicalize()?.display().to_string())
        .await?;
    // The tipster taps back into the first box, after its first word.
    browser
        .eval(&format!(
            "const box = document.querySelector('#q-what');
             box.focus(); box.setSelectionRange({CARET}, {CARET}); return null;"
        ))
        .await?;
    let before = browser.eval(WHERE_THINGS_ARE).await?;
    assert!(
        browser
            .eval(
                "const app = document.querySelector('#app');
                 return app === null || app.hidden;"
            )
            .await?
            == true,
        "the page's own form shows before it takes over"
    );
    browser.screenshot("typed-before-the-wasm").await?;

    proxy.release();
    wait_until("the page takes over the first screen", || async {
        let gone = browser
            .eval("return document.getElementById('first-screen') === null;")
            .await?;
        Ok(gone == true)
    })
    .await?;

    // The page's own form holds exactly what was typed, focused where it was.
    let typed = browser
        .eval(
            "const box = document.querySelector('#q-what');
             return { what: box.value, where: document.querySelector('#q-where').value,
                      topic: document.querySelector('#q-topic').value,
                      focused: document.activeElement.id,
                      start: box.selectionStart, end: box.selectionEnd,
                      app_shown: !document.querySelector('#app').hidden };",
        )
        .await?;
    assert_eq!(typed["what"], WHAT, "{typed}");
    assert_eq!(typed["where"], WHERE, "{typed}");
    assert_eq!(typed["topic"], "held", "{typed}");
    assert_eq!(typed["focused"], "q-what", "{typed}");
    assert_eq!(typed["start"], CARET, "{typed}");
    assert_eq!(typed["end"], CARET, "{typed}");
    assert_eq!(typed["app_shown"], true, "{typed}");
    let files = browser.find(".files li").await?.text().await?;
    assert!(files.contains("gps.jpg"), "{files}");
    // Nothing moved (the photo's row, listed by the page under the pickers,
    // and the send button below it are not measured).
    assert_eq!(browser.eval(WHERE_THINGS_ARE).await?, before);
    assert!(browser.find("button.send").await?.is_enabled().await?);

    // Typing on goes in at the caret, into the page's state.
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: '!' })
        .then(KeyAction::Up { value: '!' });
    browser.client.perform_actions(keys).await?;
    let expected = format!("{}!{}", &WHAT[..CARET as usize], &WHAT[CARET as usize..]);
    let value = browser
        .eval("return document.querySelector('#q-what').value;")
        .await?;
    assert_eq!(value, expected.as_str());
    browser.screenshot("taken-over").await?;

    // The tip sent carries it all.
    browser.find("button.send").await?.click().await?;
    browser.find(".codename .words").await?;
    let sealed = relay.pull()?;
    assert_eq!(sealed.len(), 1, "{sealed:?}");
    let tip = relay.open(&sealed[0])?;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(tip.join("tip.json"))?)?;
    let text = json.to_string();
    for wanted in [
        serde_json::to_string(&expected)?,
        serde_json::to_string(WHERE)?,
        // The choice, as the tip names it: its label.
        "\"Someone held or not free to leave\"".to_owned(),
    ] {
        assert!(text.contains(&wanted), "{wanted} not in {text}");
    }
    assert_eq!(
        json["attachments"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
    browser.close().await
}

/// Waits until `check` says yes, at most [`PATIENCE`].
async fn wait_until<F, Fut>(what: &str, check: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let started = Instant::now();
    while !check().await.context(what.to_owned())? {
        if started.elapsed() > PATIENCE {
            bail!("waited in vain: {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
