//! The tipster's page on a phone (390 × 844), end to end against the real
//! relay: a tip in Spanish with a photo carrying GPS (its file name left
//! out), a second in English (the file name kept, and a 9 MiB document
//! read from the device as it is sealed), the agency pulls and
//! opens them with `sealtip`, replies, and the reply reaches the tipster
//! through the codename page, beside a reply nobody can prove, which is
//! reported; the tipster answers in the thread and deletes the reply.
//! Throughout, the page keeps nothing on the device and asks nothing of
//! another origin, and each of its addresses names an icon of its own
//! origin (no /favicon.ico 404). Screenshots of each step go to
//! `target/screenshots/tipster-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::PathBuf;

use anyhow::{Context, Result};
use sealtip_envelope::Recipient;
use sealtip_envelope::{BundleWriter, Kind, Tip};
use sealtip_harness::{Browser, Desk, Engine, Relay, workspace};

/// The photo: a JPEG whose EXIF holds a GPS position.
fn gps_photo() -> PathBuf {
    workspace()
        .join("crates/scrub/tests/fixtures/gps.jpg")
        .canonicalize()
        .unwrap()
}

/// A document on the device: 9 MiB and 77 bytes of varied bytes.
fn ledger() -> Vec<u8> {
    (0..(9u32 << 20) + 77)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// The SHA-256 of `bytes` in lowercase hex, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Nothing stored on the device, and every request to the relay's own origin.
async fn assert_private(browser: &Browser, relay: &Relay) -> Result<()> {
    let stored = browser.stored().await?;
    for (what, count) in stored.as_object().context("an object")? {
        assert_eq!(count, 0, "the page stored something ({what}): {stored}");
    }
    for address in browser.requested().await? {
        assert!(
            address.starts_with(&format!("{}/", relay.url)),
            "the page asked another origin for {address}"
        );
    }
    Ok(())
}

/// Answers the form the way a tipster does, in whatever language it shows.
async fn fill(browser: &Browser, text: &str, place: &str, topic: &str) -> Result<()> {
    browser.type_into("#q-what", text).await?;
    browser.type_into("#q-where", place).await?;
    browser
        .find("#q-topic")
        .await?
        .select_by_value(topic)
        .await?;
    Ok(())
}

/// Sends, waits for the codename, and returns it.
async fn send(browser: &mut Browser, step: &str) -> Result<String> {
    browser.find("button.send").await?.click().await?;
    let words = browser.find(".codename .words").await?;
    browser.screenshot(step).await?;
    let codename = words.text().await?.trim().to_string();
    assert_eq!(codename.split_whitespace().count(), 8, "{codename:?}");
    Ok(codename)
}

sealtip_e2e::in_each_browser!(a_tip_from_a_phone_reaches_the_agency_and_the_reply_comes_back);

async fn a_tip_from_a_phone_reaches_the_agency_and_the_reply_comes_back(
    engine: Engine,
) -> Result<()> {
    let relay = Relay::start(8)?;
    let mut browser = Browser::phone_in(engine, "tipster", "es-ES,es").await?;

    // The first screen speaks Spanish, the browser's language.
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.find("#q-what").await?;
    browser.wait_for_text("Solo Demo agency").await?;
    let history_before = browser.eval("return history.length;").await?;
    browser.screenshot("first-screen-es").await?;

    // A tip in Spanish with a photo: the page says what it removed.
    fill(
        &browser,
        "Vi a tres personas encerradas en el almacén del puerto.",
        "Puerto, almacén 4",
        "held",
    )
    .await?;
    browser.attach_file(&gps_photo()).await?;
    let files = browser.find(".files").await?.text().await?;
    assert!(files.contains("gps.jpg"), "{files}");
    assert!(
        files.contains("ubicación"),
        "the page does not say the location was removed: {files}"
    );
    // The device's file name is removed unless the tipster keeps it.
    assert!(
        files.contains("nombre del archivo."),
        "the page does not say the file name is removed: {files}"
    );
    let keep_name = browser.find("#keep-name-0").await?;
    assert!(!keep_name.is_selected().await?, "kept by default");
    let label = browser
        .find("label[for='keep-name-0']")
        .await?
        .text()
        .await?;
    assert_eq!(label, "Conservar el nombre del archivo");
    browser.scroll_to(".files li").await?;
    browser.screenshot("photo-cleaned").await?;
    let codename = send(&mut browser, "codename-es").await?;
    assert_private(&browser, &relay).await?;
    let history_after = browser.eval("return history.length;").await?;
    assert_eq!(
        history_before, history_after,
        "the page added history entries"
    );

    // A second tip, in English, picked on the page.
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser
        .find("#language")
        .await?
        .select_by_value("en")
        .await?;
    browser
        .wait_for_text("Only Demo agency can read what you send")
        .await?;
    fill(
        &browser,
        "A van takes workers from the square at 5 am.",
        "Main square",
        "forced-work",
    )
    .await?;
    // This time the tipster keeps the photo's file name.
    browser.attach_file(&gps_photo()).await?;
    let before = browser.find(".files .note").await?.text().await?;
    assert!(before.contains("file name"), "{before}");
    browser.find("#keep-name-0").await?.click().await?;
    assert!(browser.find("#keep-name-0").await?.is_selected().await?);
    let after = browser.find(".files .note").await?.text().await?;
    assert!(
        after.contains("location") && !after.contains("file name"),
        "{after}"
    );
    // And a document from the device, sealed as it is: read from the
    // device as it is sealed, more than two 4 MiB slices and an odd tail.
    let folder = tempfile::tempdir()?;
    let ledger_path = folder.path().join("ledger.pdf");
    std::fs::write(&ledger_path, ledger())?;
    browser
        .type_into("#files", &ledger_path.display().to_string())
        .await?;
    browser.find(".files li:nth-child(2)").await?;
    browser.scroll_to(".files li").await?;
    browser.screenshot("form-filled-en").await?;
    let english = send(&mut browser, "codename-en").await?;
    assert_ne!(english, codename);
    assert_private(&browser, &relay).await?;

    // The agency pulls both and opens them.
    let (key, token) = (relay.file("agency.key"), relay.file("agency.token"));
    let sealed = relay.pull()?;
    assert_eq!(sealed.len(), 2, "{sealed:?}");
    let mut spanish_tip = None;
    for file in &sealed {
        let target = relay.open(file)?;
        let text = std::fs::read_to_string(target.join("tip.txt"))?;
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(target.join("tip.json"))?)?;
        let attachment = &json["attachments"][0];
        if text.contains("almacén del puerto") {
            // Left out by default: the name, in tip.json, tip.txt and the archive.
            assert_eq!(attachment["name"], "", "{json}");
            assert_eq!(attachment["path"], "attachments/01.jpg", "{json}");
            let removed = attachment["removed"].to_string();
            assert!(removed.contains("\"file name\""), "{json}");
            assert!(!text.contains("gps.jpg"), "{text}");
            // The photo arrived, and it carries no location any more.
            let photo = std::fs::read_dir(target.join("attachments"))?
                .next()
                .context("the tip has no attachment")??
                .path();
            let bytes = std::fs::read(&photo)?;
            let again = sealtip_scrub::scrub(&bytes, Some("image/jpeg"))?;
            assert!(
                again.removed.is_empty(),
                "the photo still carries {:?}",
                again.removed
            );
            assert!(text.contains("Puerto, almacén 4"), "{text}");
            spanish_tip = Some(target);
        } else {
            assert!(text.contains("A van takes workers"), "{text}");
            // Kept, because the tipster ticked the box.
            assert_eq!(attachment["name"], "gps.jpg", "{json}");
            assert!(!attachment["removed"].to_string().contains("file name"));
            // The document arrived byte for byte, its evidence hash (taken
            // by the sealing worker's helper) that of the file.
            let document = &json["attachments"][1];
            assert_eq!(document["path"], "attachments/02.pdf", "{json}");
            assert_eq!(document["size"], ledger().len(), "{json}");
            assert_eq!(document["sha256"], sha256_hex(&ledger()), "{json}");
            let arrived = std::fs::read(target.join("attachments/02.pdf"))?;
            assert!(arrived == ledger(), "the document arrived changed");
        }
    }
    let spanish_tip = spanish_tip.context("the Spanish tip did not arrive")?;
    // An independent age (npm age-encryption, run with Node) opens what the
    // page sealed to the hybrid agency, and so does the officer's desk,
    // offline from the pulled folder.
    for file in &sealed {
        let entries = relay.open_with_typage(file)?;
        for entry in ["tip.json", "tip.mac", "tip.txt", "attachments/01.jpg"] {
            assert!(entries.iter().any(|e| e == entry), "{entries:?}");
        }
    }
    let pulled = sealed[0].parent().context("the pulled folder")?;
    let desk = Desk::start(
        [
            "--agency",
            "demo",
            "-i",
            key.to_str().unwrap(),
            "--inbox",
            pulled.to_str().unwrap(),
        ],
        &[("LANG", "en_US.UTF-8")],
    )?;
    browser.client.goto(&desk.url).await?;
    browser.wait_for_text("A van takes workers").await?;
    browser.wait_for_text("almacén del puerto").await?;
    drop(desk);

    // The agency replies; the tipster reads it through the codename page.
    let tip_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(spanish_tip.join("tip.json"))?)?;
    let mailbox = tip_json["reply"]["mailbox"]
        .as_str()
        .context("the tip offers no mailbox")?
        .to_string();
    let reply_key = tip_json["reply"]["recipient"]
        .as_str()
        .context("the tip offers no reply key")?;
    assert!(reply_key.starts_with("age1pq1"), "{reply_key}");
    relay.reply(
        &spanish_tip,
        "Gracias. ¿Puede decirnos a qué hora llegan los camiones?",
    )?;
    // And a reply that claims the thread, sealed to the tipster's reply key
    // but without the thread's proof (what the relay, or anyone who knows
    // the mailbox and the reply key, could post): never shown as the agency's.
    let token = std::fs::read_to_string(&token)?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    post_reply(
        &browser,
        &relay,
        token.trim(),
        &mailbox,
        &unproven_reply(reply_key, &mailbox)?,
    )
    .await?;
    browser
        .find("#language")
        .await?
        .select_by_value("es")
        .await?;
    browser.find(".check-replies button").await?.click().await?;
    // A typo gets the nearest word, in the page's language.
    let mut words: Vec<&str> = codename.split_whitespace().collect();
    let misspelt = format!("{}x", words[0]);
    words[0] = &misspelt;
    let typo = words.join(" ");
    browser.find("#codename").await?.send_keys(&typo).await?;
    browser
        .find(".replies form button[type=submit]")
        .await?
        .click()
        .await?;
    browser.wait_for_text("¿Quería decir").await?;
    browser.screenshot("replies-typo").await?;
    browser.find("#codename").await?.clear().await?;
    browser
        .find("#codename")
        .await?
        .send_keys(&codename)
        .await?;
    browser.screenshot("replies-codename").await?;
    browser
        .find(".replies form button[type=submit]")
        .await?
        .click()
        .await?;
    browser
        .wait_for_text("a qué hora llegan los camiones")
        .await?;
    let unreadable = browser.find(".unreadable").await?.text().await?;
    assert!(
        unreadable.starts_with("No se pudo abrir una respuesta."),
        "{unreadable}"
    );
    let shown = browser.find(".reply-list").await?.text().await?;
    assert!(!shown.contains("Send your codename"), "{shown}");
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.reply-list li').length;")
            .await?,
        1
    );
    browser.screenshot("replies-opened").await?;

    // The tipster answers; the agency opens the answer as a follow-up.
    browser
        .find("#answer")
        .await?
        .send_keys("Llegan a las dos de la mañana.")
        .await?;
    browser
        .find("form:has(#answer) button[type=submit]")
        .await?
        .click()
        .await?;
    browser.wait_for_text("Su respuesta se envió.").await?;
    browser.screenshot("replies-answered").await?;
    let mut found = false;
    for file in relay.pull()? {
        let target = relay.open(&file)?;
        let text = std::fs::read_to_string(target.join("tip.txt"))?;
        if text.contains("Llegan a las dos de la mañana.") {
            found = true;
            // A follow-up in the thread, proven with the thread key.
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(target.join("tip.json"))?)?;
            assert_eq!(json["kind"], "message", "{json}");
            assert_eq!(json["thread"], mailbox.as_str(), "{json}");
            assert!(
                target.join("tip.mac").is_file(),
                "the follow-up carries no proof"
            );
        }
    }
    assert!(found, "the tipster's answer did not reach the agency");

    // The tipster deletes the agency's reply, after a confirmation.
    browser.find(".delete-reply").await?.click().await?;
    let question = browser.find(".confirm-delete p").await?.text().await?;
    assert!(
        question.starts_with("¿Eliminar esta respuesta"),
        "{question}"
    );
    browser.screenshot("reply-delete-confirm").await?;
    browser
        .find(".confirm-delete button.danger")
        .await?
        .click()
        .await?;
    browser.wait_for_text("Se eliminó la respuesta.").await?;
    let left = browser.text().await?;
    assert!(!left.contains("a qué hora llegan los camiones"), "{left}");
    browser.screenshot("reply-deleted").await?;
    // The relay holds only the unproven one now.
    let listed = mailbox_size(&browser, &relay, &mailbox).await?;
    assert_eq!(listed, 1, "the relay still lists the deleted reply");
    assert_private(&browser, &relay).await?;
    browser.close().await
}

/// A reply sealed to `reply_key` that names the thread `mailbox` without
/// its proof.
fn unproven_reply(reply_key: &str, mailbox: &str) -> Result<Vec<u8>> {
    let recipient = Recipient::parse(reply_key)?;
    let mut tip = Tip::new(Kind::Reply, "demo", "2026-12-07");
    tip.text = "Send your codename to this number.".into();
    let output = sealtip_envelope::seal(&[recipient], Vec::new())?;
    // `finish` refuses an item naming a thread without its key: the forger
    // writes the claim with a key of its own.
    tip.thread = Some(mailbox.to_string());
    let forged = sealtip_envelope::ThreadKey::from_bytes([7; 32]);
    let (stream, _) = BundleWriter::new(output).finish_in_thread(tip, &forged)?;
    Ok(stream.finish()?)
}

/// Posts `sealed` to the mailbox as the agency does (its token), from the
/// page's own origin.
async fn post_reply(
    browser: &Browser,
    relay: &Relay,
    token: &str,
    mailbox: &str,
    sealed: &[u8],
) -> Result<()> {
    let hex: String = sealed.iter().map(|b| format!("{b:02x}")).collect();
    let status = browser
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1];
             const hex = '{hex}';
             const body = new Uint8Array(hex.length / 2);
             for (let i = 0; i < body.length; i++) body[i] = parseInt(hex.substr(i * 2, 2), 16);
             fetch('{}/api/v1/agencies/demo/mailboxes/{mailbox}', {{
               method: 'POST', body,
               headers: {{ 'Authorization': 'Bearer {token}', 'Content-Type': 'application/octet-stream' }},
             }}).then(r => done(r.status), e => done(String(e)));",
            relay.url
        ))
        .await?;
    assert_eq!(status, 201, "the relay refused the reply");
    Ok(())
}

/// How many replies the relay lists in `mailbox`.
async fn mailbox_size(browser: &Browser, relay: &Relay, mailbox: &str) -> Result<u64> {
    let count = browser
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1];
             fetch('{}/api/v1/agencies/demo/mailboxes/{mailbox}', {{ cache: 'no-store' }})
               .then(r => r.json()).then(m => done(m.replies.length), e => done(String(e)));",
            relay.url
        ))
        .await?;
    count.as_u64().context("a count")
}

/// What sticks out of the screen sideways, described by tag, id and class
/// (empty when everything fits).
async fn overflowing(browser: &Browser) -> Result<Vec<String>> {
    browser
        .eval_strings(
            "const width = document.documentElement.clientWidth;
             const out = [];
             if (document.documentElement.scrollWidth > width) {
               out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
             }
             for (const el of document.querySelectorAll('main *, .quick-exit *')) {
               const r = el.getBoundingClientRect();
               if (r.width > 0 && (r.left < -1 || r.right > width + 1)) {
                 out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                          (el.className ? '.' + el.className : '') + ' spans ' +
                          Math.round(r.left) + '..' + Math.round(r.right));
               }
             }
             return out;",
        )
        .await
}

sealtip_e2e::in_each_browser!(the_page_fits_a_320_pixel_screen_with_text_at_200_percent);

async fn the_page_fits_a_320_pixel_screen_with_text_at_200_percent(engine: Engine) -> Result<()> {
    let relay = Relay::start(8)?;
    let mut browser =
        Browser::phone_sized_in(engine, "tipster-small", "fr-FR,fr", (320, 640)).await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.find("#q-what").await?;
    // The reader's text size at 200%, as a browser's accessibility setting does.
    browser
        .eval("document.documentElement.style.fontSize = '200%'; return null;")
        .await?;
    browser.attach_file(&gps_photo()).await?;
    browser.screenshot("form-320px-200-percent").await?;
    browser.scroll_to(".files li").await?;
    browser.screenshot("files-320px-200-percent").await?;
    let problems = overflowing(&browser).await?;
    assert!(
        problems.is_empty(),
        "at 320 px and 200% text: {problems:#?}"
    );

    // The codename screen, the longest words at the largest size.
    fill(
        &browser,
        "Des enfants travaillent la nuit dans l'atelier.",
        "Rue du port",
        "child",
    )
    .await?;
    send(&mut browser, "codename-320px-200-percent").await?;
    let problems = overflowing(&browser).await?;
    assert!(
        problems.is_empty(),
        "codename at 320 px and 200% text: {problems:#?}"
    );
    browser.close().await
}

sealtip_e2e::in_each_browser!(the_page_names_its_icon_and_the_relay_serves_it);

/// A page that names no icon makes the browser ask for `/favicon.ico`: a
/// 404, an error in the console. Each of the page's addresses names an SVG
/// icon of its own origin, which the relay serves.
async fn the_page_names_its_icon_and_the_relay_serves_it(engine: Engine) -> Result<()> {
    let relay = Relay::start(8)?;
    let browser = Browser::phone_in(engine, "tipster-icon", "en").await?;
    for page in ["/", "/a/demo", "/embed"] {
        browser.client.goto(&format!("{}{page}", relay.url)).await?;
        let icon = browser
            .eval_async(
                "const done = arguments[arguments.length - 1];
                 const link = document.querySelector('link[rel~=icon]');
                 if (!link) { done({ error: 'no icon link' }); }
                 else fetch(link.href).then(
                   r => done({ href: link.href, status: r.status,
                               type: r.headers.get('content-type') }),
                   e => done({ error: String(e) }));",
            )
            .await?;
        let href = icon["href"].as_str().unwrap_or_default();
        assert!(
            href.starts_with(&format!("{}/", relay.url)) && href.ends_with(".svg"),
            "{page}: {icon}"
        );
        assert_eq!(icon["status"], 200, "{page}: {icon}");
        assert_eq!(icon["type"], "image/svg+xml", "{page}: {icon}");
    }
    browser.close().await
}
