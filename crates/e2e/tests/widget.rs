//! The widget in a real headless Chromium, across two origins: a partner page
//! on `http://127.0.0.1:P` embeds the form with `embed.js` from a real relay
//! on `http://localhost:R` (another origin and another site), and the agency
//! opens what was sent with `sealtip`. Screenshots of the demo partner page
//! in both modes, and of its own quick exit after scrolling, go to
//! `target/screenshots/widget-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use sealtip_envelope::Recipient;
use sealtip_harness::browser::{Client, Element, Locator, ShadowRoot};
use sealtip_harness::http::{Response, Server};
use sealtip_harness::{Browser, Engine, PATIENCE, workspace};
use serde_json::Value;

/// What the tipster types; it must reach the agency and nobody else.
const TYPED: &str = "Six men sleep in the back room of the car wash on Ring Road 4";

/// The only heights the frame may ask the partner page for
/// (`HEIGHT_STEPS` in `src/embed.rs`).
const HEIGHT_STEPS: [f64; 4] = [1200.0, 1600.0, 2000.0, 2400.0];

/// Put in the partner page before its own scripts: keeps every
/// message any frame posts to it in `window.seen`, as JSON.
const RECORD_MESSAGES: &str = "if (window.top === window) { window.seen = [];\
    addEventListener('message', e => seen.push(JSON.stringify(e.data))); }";

// What `cargo xtask run` does to the demo agency's `embed_origins`.
#[allow(dead_code)] // its file-writing half is xtask's alone
#[path = "../../../xtask/src/embed_origins.rs"]
mod embed_origins;

async fn a_tip_sent_through_the_frame_opens_with_sealtip_open(engine: Engine) -> Result<()> {
    let (_partner, relay, mut browser) = demo(engine).await;

    // Both modes on one page: the inline form, and the button that opens one.
    screenshot(&mut browser, "inline", 1).await;
    let button = widget(&browser.client, 0)
        .await
        .find(Locator::Css("button"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Send a tip safely");
    assert_eq!(
        button.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    button.click().await.unwrap();
    assert_eq!(
        button.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    screenshot(&mut browser, "button", 0).await;
    let c = &browser.client;
    // The partner's hostile styles (Comic Sans, red) do not reach the widget.
    let font: String = script(
        c,
        "return getComputedStyle(document.querySelector('.sealtip-widget')\
         .shadowRoot.querySelector('button')).fontFamily",
    )
    .await;
    assert!(!font.contains("Comic"), "{font}");

    type_what_happened(c, 1).await;
    let title = send_from_ring_road(c).await;
    assert!(!title.text().await.unwrap().is_empty());

    // The frame keeps the one height step it asked for when it loaded.
    c.enter_parent_frame().await.unwrap();
    let shown = shown_messages(c).await;
    assert_eq!(shown.len(), 2, "one from each open widget: {shown:?}");
    let step = shown[1]["height"].as_f64().unwrap();
    assert_eq!(frame_height(c, 1).await, step);

    let tip = relay.open_only_tip();
    assert!(tip.contains(TYPED), "{tip}");
    assert!(tip.contains("Ring Road 4"), "{tip}");
    browser.close().await.unwrap();
    Ok(())
}

async fn a_script_on_the_partner_page_cannot_read_the_frame(engine: Engine) -> Result<()> {
    // The partner records every message the frame sends it.
    let (_partner, relay, browser) = demo(engine).await;
    let c = &browser.client;
    type_what_happened(c, 1).await;
    c.enter_parent_frame().await.unwrap();

    let seen: Value = script(
        c,
        "const frame = document.querySelectorAll('.sealtip-widget')[1].shadowRoot\
           .querySelector('iframe');\
         let read;\
         try { read = frame.contentWindow.document.body.innerText; } catch (e) { read = e.name; }\
         return { contentDocument: String(frame.contentDocument), read,\
                  sandbox: frame.getAttribute('sandbox'), referrer: frame.referrerPolicy,\
                  src: frame.src, page: document.documentElement.outerHTML, seen: window.seen }",
    )
    .await;
    assert_eq!(seen["contentDocument"], "null", "{seen}");
    assert_eq!(seen["read"], "SecurityError", "{seen}");
    assert_eq!(
        seen["sandbox"],
        "allow-scripts allow-same-origin allow-forms allow-top-navigation-by-user-activation"
    );
    assert_eq!(seen["referrer"], "no-referrer");
    let src = seen["src"].as_str().unwrap();
    assert!(
        src.starts_with(&format!("{}/embed?agency=demo", relay.origin)),
        "{src}"
    );
    assert!(!seen["page"].as_str().unwrap().contains("Ring Road"));
    // Messages: the hello and the one "shown" only, nothing typed.
    let messages = seen["seen"].as_array().unwrap();
    assert!(!messages.is_empty());
    for message in messages {
        let message: Value = serde_json::from_str(message.as_str().unwrap()).unwrap();
        assert!(
            ["hello", "shown"].contains(&message["type"].as_str().unwrap_or_default()),
            "{message}"
        );
        assert!(!message.to_string().contains("Ring Road"), "{message}");
    }
    browser.close().await.unwrap();
    Ok(())
}

async fn a_relay_that_does_not_list_the_partner_refuses_to_be_framed(engine: Engine) -> Result<()> {
    let partner = Partner::start();
    let relay = Relay::start(&["https://news.example"], &partner.url("/left"));

    // The header: only the listed origin may frame the form.
    let answer = sealtip_harness::http::get(&relay.origin, "/embed?agency=demo").unwrap();
    let csp = answer.header("content-security-policy");
    assert!(
        csp.contains("frame-ancestors https://news.example"),
        "{csp}"
    );
    assert!(!csp.contains(&partner.origin), "{csp}");

    // The browser keeps the form out of the partner's page.
    partner.page("/", &widget_page(&relay.origin, &[]));
    let browser = Browser::phone_in(engine, "widget", "en").await.unwrap();
    let c = &browser.client;
    c.goto(&partner.url("/")).await.unwrap();
    enter_widget(c, 0).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let inside = c.source().await.unwrap_or_default();
    assert!(c.find(Locator::Css("form")).await.is_err(), "{inside}");
    assert!(!inside.contains("What happened?"), "{inside}");
    c.enter_parent_frame().await.unwrap();

    // And if something strips the header (a proxy, an old browser), the page
    // itself refuses: a copy of the relay that sends no CSP at all.
    let copy = Copy::start(&relay);
    partner.page("/copy", &widget_page(&copy.origin, &[]));
    c.goto(&partner.url("/copy")).await.unwrap();
    enter_widget(c, 0).await;
    let refusal = wait_visible(c, "[role=alert]").await.text().await.unwrap();
    assert!(
        refusal.contains("cannot be used on this website"),
        "{refusal}"
    );
    assert!(c.find(Locator::Css("form")).await.is_err());
    assert!(c.find(Locator::Css("textarea")).await.is_err());
    browser.close().await.unwrap();
    Ok(())
}

async fn a_wrong_pin_blocks_sealing_with_a_visible_message(engine: Engine) -> Result<()> {
    let partner = Partner::start();
    let relay = Relay::start(&[&partner.origin], &partner.url("/left"));
    // Well formed (eight groups of four hex digits), but not the agency's.
    let wrong = "0123-4567-89ab-cdef-0123-4567-89ab-cdef";
    partner.page("/", &widget_page(&relay.origin, &[("pin", wrong)]));
    let browser = Browser::phone_in(engine, "widget", "en").await.unwrap();
    let c = &browser.client;

    // In the widget, and on the plain page with the pin in its address.
    for (page, framed) in [
        (partner.url("/"), true),
        (format!("{}/a/demo#pin={wrong}", relay.origin), false),
    ] {
        c.goto(&page).await.unwrap();
        if framed {
            enter_widget(c, 0).await;
        }
        let alert = wait_visible(c, "#pin-mismatch").await;
        assert_eq!(alert.attr("role").await.unwrap().as_deref(), Some("alert"));
        let text = alert.text().await.unwrap();
        assert!(text.contains("Sending is blocked"), "{text}");
        assert!(text.contains(&relay.fingerprint), "{text}");
        // The 39-character fingerprint breaks between its groups rather
        // than sticking out of a phone's screen.
        let fits: bool = script(
            c,
            "const alert = document.querySelector('#pin-mismatch');\
             return alert.scrollWidth <= alert.clientWidth",
        )
        .await;
        assert!(fits, "the fingerprint sticks out of the alert: {text}");
        let send = c.find(Locator::Css("button.send")).await.unwrap();
        assert!(!send.is_enabled().await.unwrap());
        // Pressing Enter in a field submits the form: still nothing is sealed.
        c.find(Locator::Css("textarea#q-what"))
            .await
            .unwrap()
            .send_keys(TYPED)
            .await
            .unwrap();
        let place = c.find(Locator::Css("input#q-where")).await.unwrap();
        place.send_keys("Ring Road 4\u{E007}").await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(c.find(Locator::Css("#sent-title")).await.is_err());
        assert!(c.find(Locator::Css("progress")).await.is_err());
        if framed {
            c.enter_parent_frame().await.unwrap();
        }
    }
    assert_eq!(relay.pull().len(), 0, "nothing reached the relay");
    browser.close().await.unwrap();
    Ok(())
}

async fn quick_exit_leaves_the_partner_page(engine: Engine) -> Result<()> {
    let (partner, _relay, browser) = demo(engine).await;
    let c = &browser.client;

    // The button inside the frame.
    let before: u64 = script(c, "return history.length").await;
    enter_widget(c, 1).await;
    wait_visible(c, "textarea#q-what").await;
    let exit = c.find(Locator::Css(".quick-exit-button")).await.unwrap();
    // The click may report the frame gone: the page left while it ran.
    let _ = exit.click().await;
    // The partner's page was replaced, not added to: Back does not return to it.
    wait_to_leave(c, &partner.url("/left"), before).await;

    // Shift three times while typing in the frame.
    c.goto(&partner.url("/")).await.unwrap();
    let before: u64 = script(c, "return history.length").await;
    enter_widget(c, 1).await;
    let field = wait_visible(c, "textarea#q-what").await;
    field.send_keys("Ring").await.unwrap();
    for _ in 0..3 {
        // Each call presses Shift and releases it at its end. The third one
        // may find the frame gone already: that is the point.
        let _ = field.send_keys("\u{E008}").await;
    }
    wait_to_leave(c, &partner.url("/left"), before).await;
    browser.close().await.unwrap();
    Ok(())
}

async fn the_partner_page_hears_one_fixed_height_whatever_the_tipster_does(
    engine: Engine,
) -> Result<()> {
    let (_partner, _relay, browser) = demo(engine).await;
    let c = &browser.client;
    wait_for_frame_content(c, 1).await;
    let shown = shown_messages(c).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let step = shown[0]["height"].as_f64().unwrap();
    assert!(HEIGHT_STEPS.contains(&step), "{step}");
    assert_eq!(frame_height(c, 1).await, step);

    // Focus, type many lines, send, see the codename: the form grows and
    // changes screens inside the frame, and the partner hears nothing of it.
    enter_widget(c, 1).await;
    let what = wait_visible(c, "textarea#q-what").await;
    what.click().await.unwrap();
    for _ in 0..12 {
        what.send_keys(&format!("{TYPED}\n")).await.unwrap();
    }
    send_from_ring_road(c).await;
    c.enter_parent_frame().await.unwrap();

    let messages = recorded_messages(c).await;
    for message in &messages {
        let kind = message["type"].as_str().unwrap_or_default();
        assert!(["hello", "shown"].contains(&kind), "{message}");
        if kind == "shown" {
            let height = message["height"].as_f64().unwrap();
            assert!(HEIGHT_STEPS.contains(&height), "{message}");
        }
    }
    assert_eq!(shown_messages(c).await, shown, "{messages:?}");
    assert_eq!(frame_height(c, 1).await, step);
    browser.close().await.unwrap();
    Ok(())
}

async fn the_partner_pages_own_quick_exit_stays_in_view_and_leaves(engine: Engine) -> Result<()> {
    // A French reader: the form starts in French, and so does the exit.
    let (partner, _relay, mut browser) = demo_in(engine, "fr").await;
    let c = &browser.client;
    wait_for_frame_content(c, 1).await;
    let exit = widget(c, 1)
        .await
        .find(Locator::Css("button.exit"))
        .await
        .unwrap();
    assert!(exit.is_displayed().await.unwrap());
    assert_eq!(exit.text().await.unwrap(), "Sortie rapide");
    // The closed button-mode widget shows no exit: it has no form yet.
    let closed = widget(c, 0)
        .await
        .find(Locator::Css("button.exit"))
        .await
        .unwrap();
    assert!(!closed.is_displayed().await.unwrap());

    // Scrolled to the end of the article, the exit is still on screen.
    for place in ["0", "document.documentElement.scrollHeight"] {
        let seen: Value = script(
            c,
            &format!(
                "scrollTo(0, {place});\
                 const box = document.querySelectorAll('.sealtip-widget')[1].shadowRoot\
                   .querySelector('button.exit').getBoundingClientRect();\
                 return {{ scrolled: scrollY, top: box.top, bottom: box.bottom,\
                          left: box.left, right: box.right,\
                          width: innerWidth, height: innerHeight }}"
            ),
        )
        .await;
        let number = |key: &str| seen[key].as_f64().unwrap();
        assert!(number("top") >= 0.0 && number("left") >= 0.0, "{seen}");
        assert!(number("bottom") <= number("height"), "{seen}");
        assert!(number("right") <= number("width"), "{seen}");
        assert!(number("bottom") - number("top") >= 44.0, "{seen}");
    }
    let scrolled: f64 = script(c, "return scrollY").await;
    assert!(scrolled > 500.0, "the page did not scroll: {scrolled}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot("own-quick-exit-scrolled").await.unwrap();
    let c = &browser.client;

    // Reached with the keyboard (a button in the tab order), pressed with Enter.
    let tab_index: i64 = script(
        c,
        "return document.querySelectorAll('.sealtip-widget')[1].shadowRoot\
           .querySelector('button.exit').tabIndex",
    )
    .await;
    assert_eq!(tab_index, 0);
    let before: u64 = script(c, "return history.length").await;
    let _ = exit.send_keys("\u{E007}").await;
    // Replaced, not added to.
    wait_to_leave(c, &partner.url("/left"), before).await;
    browser.close().await.unwrap();
    Ok(())
}

sealtip_e2e::in_each_browser!(
    a_tip_sent_through_the_frame_opens_with_sealtip_open,
    a_script_on_the_partner_page_cannot_read_the_frame,
    a_relay_that_does_not_list_the_partner_refuses_to_be_framed,
    an_allowed_page_framed_by_another_site_gets_no_form,
    a_wrong_pin_blocks_sealing_with_a_visible_message,
    quick_exit_leaves_the_partner_page,
    the_partner_page_hears_one_fixed_height_whatever_the_tipster_does,
    the_partner_pages_own_quick_exit_stays_in_view_and_leaves,
);

async fn an_allowed_page_framed_by_another_site_gets_no_form(engine: Engine) -> Result<()> {
    // The listed partner's page, itself framed by a site nobody listed. The
    // relay's copy sends no CSP, so only the page's own check stands: every
    // ancestor where the browser lists them (Chromium), the parent alone and
    // no deeper framing where it does not (Firefox).
    let partner = Partner::start();
    let relay = Relay::start(&[&partner.origin], &partner.url("/left"));
    let copy = Copy::start(&relay);
    partner.page("/", &widget_page(&copy.origin, &[]));
    let outsider = Partner::start();
    outsider.page(
        "/",
        &format!(
            "<!doctype html><title>Outsider</title><iframe src=\"{}\" width=380 height=800></iframe>",
            partner.url("/")
        ),
    );
    let browser = Browser::phone_in(engine, "widget-nested", "en").await?;
    let c = &browser.client;
    c.goto(&outsider.url("/")).await?;
    c.find(Locator::Css("iframe")).await?.enter_frame().await?;
    enter_widget(c, 0).await;
    let refusal = wait_visible(c, "[role=alert]").await.text().await?;
    assert!(
        refusal.contains("cannot be used on this website"),
        "{refusal}"
    );
    assert!(c.find(Locator::Css("form")).await.is_err());

    // The same partner page, not framed: the form is there.
    c.goto(&partner.url("/")).await?;
    enter_widget(c, 0).await;
    wait_visible(c, "textarea#q-what").await;
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_partner_page_frames_the_form_on_a_second_port() {
    // `cargo xtask run` once with its partner page on one port, then again
    // with it on another: the demo agency's list follows the second.
    let first = Partner::start();
    let second = Partner::start();
    let relay = Relay::start_with(&second.url("/left"), |config| {
        let once = embed_origins::follow(&config, &first.origin);
        embed_origins::follow(&once, &second.origin)
    });
    second.page("/", &relay.demo_page());
    let browser = Browser::phone("widget", "en").await.unwrap();
    let c = &browser.client;
    c.goto(&second.url("/")).await.unwrap();
    wait_for_frame_content(c, 1).await;
    enter_widget(c, 1).await;
    assert!(c.find(Locator::Css("[role=alert]")).await.is_err());
    c.enter_parent_frame().await.unwrap();

    let answer = sealtip_harness::http::get(&relay.origin, "/embed?agency=demo").unwrap();
    let csp = answer.header("content-security-policy");
    assert!(csp.contains(&second.origin), "{csp}");
    assert!(!csp.contains(&first.origin), "{csp}");
    browser.close().await.unwrap();
}

/// The demo partner page, allowed to frame the relay's form, open in a
/// browser that records the messages the page receives.
async fn demo(engine: Engine) -> (Partner, Relay, Browser) {
    demo_in(engine, "en").await
}

/// [`demo`] in a browser whose languages are `languages`.
async fn demo_in(engine: Engine, languages: &str) -> (Partner, Relay, Browser) {
    let partner = Partner::start();
    let relay = Relay::start(&[&partner.origin], &partner.url("/left"));
    // The recorder first in the page's head, before the page's own scripts.
    let page = relay.demo_page().replacen(
        "<head>",
        &format!("<head><script>{RECORD_MESSAGES}</script>"),
        1,
    );
    assert!(
        page.contains(RECORD_MESSAGES),
        "the demo page has no <head>"
    );
    partner.page("/", &page);
    let browser = Browser::phone_in(engine, "widget", languages)
        .await
        .unwrap();
    browser.client.goto(&partner.url("/")).await.unwrap();
    (partner, relay, browser)
}

// --- The pieces: a relay, a partner site, a browser ------------------------------

/// A relay of its own (the harness's), whose demo agency may be framed by
/// the given origins, reached by the browser as `http://localhost:PORT`.
struct Relay {
    relay: sealtip_harness::Relay,
    origin: String,
    fingerprint: String,
}

impl Relay {
    /// Starts one whose demo agency may be framed by `embed_origins` and
    /// sends quick exits to `exit_url`. Light proof of work: these tests are
    /// about the frame, not the puzzle.
    fn start(embed_origins: &[&str], exit_url: &str) -> Relay {
        let origins: Vec<String> = embed_origins.iter().map(|o| format!("{o:?}")).collect();
        Relay::start_with(exit_url, |config| {
            config.replace(
                "embed_origins = []",
                &format!("embed_origins = [{}]", origins.join(", ")),
            )
        })
    }

    /// Starts one whose `relay.toml` (as `sealtip-relay init` writes it)
    /// `edit` changes, and that sends quick exits to `exit_url`.
    fn start_with(exit_url: &str, edit: impl FnOnce(String) -> String) -> Relay {
        let relay = sealtip_harness::Relay::start_with(8, |config| {
            sealtip_harness::relay::exiting_to(edit(config), exit_url)
        })
        .unwrap();
        assert!(
            workspace().join("dist/embed.js").is_file(),
            "dist/ has no embed.js: build the client again"
        );
        let port = relay.url.rsplit(':').next().unwrap().to_string();
        let public = std::fs::read_to_string(relay.file("agency.pub")).unwrap();
        let fingerprint = Recipient::parse(public.trim()).unwrap().fingerprint();
        Relay {
            relay,
            // Another host name than the partner's: another origin, another site.
            origin: format!("http://localhost:{port}"),
            fingerprint,
        }
    }

    /// The demo partner page (`www/partner/index.html`) for this relay.
    fn demo_page(&self) -> String {
        std::fs::read_to_string(workspace().join("www/partner/index.html"))
            .unwrap()
            .replace("{{RELAY}}", &self.origin)
            .replace("{{PIN}}", &self.fingerprint)
    }

    /// `sealtip pull` into a fresh folder: the sealed files fetched.
    fn pull(&self) -> Vec<PathBuf> {
        self.relay.pull().unwrap()
    }

    /// Pulls the one tip there is, opens it with `sealtip open`, returns its `tip.txt`.
    fn open_only_tip(&self) -> String {
        let sealed = self.pull();
        assert_eq!(sealed.len(), 1, "{sealed:?}");
        let opened = self.relay.open(&sealed[0]).unwrap();
        std::fs::read_to_string(opened.join("tip.txt")).unwrap()
    }
}

/// The partner's site: pages by path, on `http://127.0.0.1:P`, no CSP.
struct Partner {
    origin: String,
    pages: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Partner {
    fn start() -> Partner {
        let pages = Arc::new(std::sync::Mutex::new(vec![(
            "/left".to_string(),
            "<!doctype html><title>Weather</title><p>Sunny, 21 degrees.</p>".to_string(),
        )]));
        let served = pages.clone();
        let server = Server::start("127.0.0.1", move |request| {
            let pages = served.lock().unwrap();
            match pages.iter().find(|(path, _)| *path == request.path) {
                Some((_, page)) => {
                    Response::ok("text/html; charset=utf-8", page.clone().into_bytes())
                }
                None => Response::not_found(),
            }
        })
        .unwrap();
        Partner {
            origin: server.url,
            pages,
        }
    }

    fn page(&self, path: &str, html: &str) {
        self.pages
            .lock()
            .unwrap()
            .push((path.to_string(), html.to_string()));
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

/// A page with one inline widget from `relay`, with more `data-` options.
fn widget_page(relay: &str, options: &[(&str, &str)]) -> String {
    let options: String = options
        .iter()
        .map(|(k, v)| format!(" data-{k}=\"{v}\""))
        .collect();
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Partner</title>\
         <h1>Partner</h1><script src=\"{relay}/embed.js\" data-agency=\"demo\"{options} async></script>"
    )
}

/// A copy of the relay's page that sends no security headers: the built
/// client from `dist/` and the demo agency's profile, fetched from the relay.
struct Copy {
    origin: String,
}

impl Copy {
    fn start(relay: &Relay) -> Copy {
        let profile = sealtip_harness::http::get(&relay.origin, "/api/v1/agencies/demo")
            .unwrap()
            .body;
        let dist = workspace().join("dist");
        // 127.0.0.2: yet another origin, neither the partner's nor the relay's.
        let server = Server::start("127.0.0.2", move |request| {
            let path = request.path.as_str();
            if path == "/api/v1/agencies/demo" {
                return Response::ok("application/json", profile.clone());
            }
            let name = if path == "/embed" {
                "index.html"
            } else {
                path.trim_start_matches('/')
            };
            if name.contains("..") || name.contains('/') {
                return Response::not_found();
            }
            let kind = match name.rsplit('.').next() {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript",
                Some("wasm") => "application/wasm",
                Some("css") => "text/css",
                _ => "application/octet-stream",
            };
            match std::fs::read(dist.join(name)) {
                Ok(bytes) => Response::ok(kind, bytes),
                Err(_) => Response::not_found(),
            }
        })
        .unwrap();
        Copy { origin: server.url }
    }
}

/// The shadow root of the `index`th widget on the page.
async fn widget(c: &Client, index: usize) -> ShadowRoot {
    let boxes = wait_all(c, ".sealtip-widget", index + 1).await;
    boxes[index].shadow_root().await.unwrap()
}

/// Switches into the `index`th widget's frame and types [`TYPED`] as what happened.
async fn type_what_happened(c: &Client, index: usize) {
    enter_widget(c, index).await;
    let field = wait_visible(c, "textarea#q-what").await;
    field.send_keys(TYPED).await.unwrap();
}

/// In a widget's frame: clicks the place field, types "Ring Road 4", sends,
/// and waits for the sent screen; returns its title.
async fn send_from_ring_road(c: &Client) -> Element {
    let place = c.find(Locator::Css("input#q-where")).await.unwrap();
    place.click().await.unwrap();
    place.send_keys("Ring Road 4").await.unwrap();
    c.find(Locator::Css("button.send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_visible(c, "#sent-title").await
}

/// Switches into the `index`th widget's frame.
async fn enter_widget(c: &Client, index: usize) {
    let frame = widget(c, index)
        .await
        .find(Locator::Css("iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
}

async fn wait_all(c: &Client, css: &str, count: usize) -> Vec<Element> {
    let started = Instant::now();
    loop {
        let found = c.find_all(Locator::Css(css)).await.unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        assert!(started.elapsed() < PATIENCE, "{count} × {css} not found");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_visible(c: &Client, css: &str) -> Element {
    let started = Instant::now();
    loop {
        if let Ok(element) = c.find(Locator::Css(css)).await
            && element.is_displayed().await.unwrap_or(false)
        {
            return element;
        }
        assert!(started.elapsed() < PATIENCE, "{css} did not appear");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the browser is at `url`, then checks the history still holds
/// `length` pages, as before leaving (quick exit replaces the page it leaves).
async fn wait_to_leave(c: &Client, url: &str, length: u64) {
    wait_for_url(c, url).await;
    // Back to the new page itself: a frame left from is gone (Firefox keeps
    // the driver in it).
    let window = c.window().await.unwrap();
    c.switch_to_window(window).await.unwrap();
    let now: u64 = script(c, "return history.length").await;
    assert_eq!(now, length, "quick exit added to the history");
}

async fn wait_for_url(c: &Client, url: &str) {
    let started = Instant::now();
    while c.current_url().await.map(|u| u.to_string()).ok().as_deref() != Some(url) {
        assert!(started.elapsed() < PATIENCE, "never reached {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `index`th widget's frame's height on the partner page, in CSS pixels.
async fn frame_height(c: &Client, index: usize) -> f64 {
    script(
        c,
        &format!(
            "return document.querySelectorAll('.sealtip-widget')[{index}].shadowRoot\
             .querySelector('iframe').getBoundingClientRect().height"
        ),
    )
    .await
}

/// Every message the partner page received so far ([`RECORD_MESSAGES`]).
async fn recorded_messages(c: &Client) -> Vec<Value> {
    let seen: Vec<String> = script(c, "return window.seen").await;
    seen.iter()
        .map(|message| serde_json::from_str(message).unwrap())
        .collect()
}

/// The "shown" messages among them.
async fn shown_messages(c: &Client) -> Vec<Value> {
    let mut messages = recorded_messages(c).await;
    messages.retain(|message| message["type"] == "shown");
    messages
}

async fn script<T: serde::de::DeserializeOwned>(c: &Client, code: &str) -> T {
    let value = c.execute(code, Vec::new()).await.unwrap();
    serde_json::from_value(value).unwrap()
}

/// Saves a screenshot as `target/screenshots/widget-NN-NAME.png`, with the
/// `index`th widget's section scrolled into view once its form is drawn.
async fn screenshot(browser: &mut Browser, name: &str, index: usize) {
    let c = &browser.client;
    wait_for_frame_content(c, index).await;
    let _: Value = script(
        c,
        &format!("document.querySelectorAll('aside')[{index}].scrollIntoView(); return null"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot(name).await.unwrap();
}

/// Waits until the form is drawn in the widget's frame.
async fn wait_for_frame_content(c: &Client, index: usize) {
    enter_widget(c, index).await;
    wait_visible(c, "textarea#q-what").await;
    c.enter_parent_frame().await.unwrap();
}
