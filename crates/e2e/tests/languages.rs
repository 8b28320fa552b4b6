//! The page in Chinese, Russian, Vietnamese and Arabic on a phone (390 × 844)
//! against the real relay: the browser's `zh-CN` picks Simplified Chinese,
//! with no English shown before it; the picker lists all ten languages by
//! their own names and switches to the others; each time `<html lang dir>`,
//! the title, the page's words and the demo agency's questions follow, and
//! nothing is wider than the screen (the agency's 39-character key
//! fingerprint included, which reads left to right in Arabic too). Each
//! language's file is fetched from the page's own origin once, only when
//! that language is chosen; an English reader fetches none. The same holds
//! in the widget's frame (`/embed`). Screenshots of each first screen go to
//! `target/screenshots/lang-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use anyhow::{Context, Result};
use sealtip_harness::{Browser, PHONE, Relay};

/// `<html lang>`, the title, a sentence of the page's own and the label of
/// the agency's first question, as a tipster sees them.
const SHOWN: [(&str, &str, &str, &str); 4] = [
    (
        "zh-Hans",
        "安全地提交举报",
        "只有 Demo agency 能看到您发送的内容。",
        "发生了什么？",
    ),
    (
        "ru",
        "Безопасно отправить сообщение",
        "Только Demo agency может прочитать то, что вы отправите.",
        "Что произошло?",
    ),
    (
        "vi",
        "Gửi tin báo an toàn",
        "Chỉ Demo agency mới đọc được những gì bạn gửi.",
        "Chuyện gì đã xảy ra?",
    ),
    (
        "ar",
        "أرسل بلاغًا بأمان",
        "لا يستطيع قراءة ما ترسله إلا Demo agency.",
        "ماذا حدث؟",
    ),
];

/// Records each text the page shows, from the document's first moment
/// (`window.seenTexts`), so that a test sees what flashed by.
const RECORD_TEXTS: &str = "
    window.seenTexts = [];
    new MutationObserver(() => {
      const text = document.body ? document.body.innerText.trim() : '';
      if (text && window.seenTexts[window.seenTexts.length - 1] !== text) {
        window.seenTexts.push(text);
      }
    }).observe(document, { childList: true, subtree: true, characterData: true });";

/// The language files the page has asked for so far.
async fn language_files(browser: &Browser) -> Result<Vec<String>> {
    let requested = browser.requested().await?;
    Ok(requested
        .into_iter()
        .filter(|a| a.ends_with(".ftl"))
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn chinese_from_the_browser_then_three_more_from_the_picker() -> Result<()> {
    let relay = Relay::start(0)?;
    let mut browser = Browser::phone("lang", "zh-CN,zh").await?;
    browser.before_each_page(RECORD_TEXTS).await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    let mut fetched = Vec::new();
    for (index, (tag, title, intro, question)) in SHOWN.into_iter().enumerate() {
        if index > 0 {
            browser
                .find("#language")
                .await?
                .select_by_value(tag)
                .await?;
        }
        browser.wait_for_text(intro).await?;
        fetched.push(format!("{}/i18n/{tag}.ftl", relay.url));
        assert_eq!(language_files(&browser).await?, fetched);
        let label = browser.find("label[for='q-what']").await?.text().await?;
        assert!(label.starts_with(question), "{tag}: {label}");
        let page = browser
            .eval(
                "const html = document.documentElement;
                 return {
                   lang: html.lang,
                   dir: html.dir,
                   title: document.title,
                   options: [...document.querySelectorAll('#language option')]
                     .map(o => [o.value, o.textContent.trim()]),
                   width: html.scrollWidth,
                   keys: [...document.querySelectorAll('.fingerprint .key-fingerprint')]
                     .map(k => [k.textContent, getComputedStyle(k).direction,
                                Math.round(k.getBoundingClientRect().right)]),
                 };",
            )
            .await?;
        assert_eq!(page["lang"], tag, "{page}");
        let dir = if tag == "ar" { "rtl" } else { "ltr" };
        assert_eq!(page["dir"], dir, "{page}");
        assert_eq!(page["title"], title, "{page}");
        let options: Vec<(String, String)> = serde_json::from_value(page["options"].clone())?;
        let listed: Vec<(&str, &str)> = options
            .iter()
            .map(|(tag, name)| (tag.as_str(), name.as_str()))
            .collect();
        assert_eq!(listed, PICKER, "{page}");
        let width = page["width"].as_u64().context("a width")?;
        assert!(
            width <= u64::from(PHONE.0),
            "{tag}: the page is {width} px wide"
        );
        let keys: Vec<(String, String, u64)> = serde_json::from_value(page["keys"].clone())?;
        assert_eq!(keys.len(), 1, "{page}");
        let (fingerprint, direction, right) = &keys[0];
        assert_eq!(fingerprint.len(), 39, "{tag}: {fingerprint}");
        assert_eq!(direction, "ltr", "{tag}: the fingerprint reads {direction}");
        assert!(
            *right <= u64::from(PHONE.0),
            "{tag}: the fingerprint ends at {right} px"
        );
        browser.screenshot(tag).await?;
        if index == 0 {
            first_words_are_chinese(&browser).await?;
        }
    }
    // Back to Chinese: its file is not fetched again.
    browser
        .find("#language")
        .await?
        .select_by_value("zh-Hans")
        .await?;
    browser.wait_for_text(SHOWN[0].2).await?;
    assert_eq!(language_files(&browser).await?, fetched);
    browser.close().await
}

/// The picker: each language by its own name, in the order of those names.
const PICKER: [(&str, &str); 10] = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ht", "Kreyòl ayisyen"),
    ("pt", "Português"),
    ("tl", "Tagalog"),
    ("vi", "Tiếng Việt"),
    ("ru", "Русский"),
    ("ar", "العربية"),
    ("zh-Hans", "简体中文"),
];

/// Every text the page showed before its Chinese words was free of English:
/// while the Chinese file loaded, the page showed its loading state.
async fn first_words_are_chinese(browser: &Browser) -> Result<()> {
    let seen: Vec<String> =
        serde_json::from_value(browser.eval("return window.seenTexts;").await?)?;
    let first_words = seen
        .iter()
        .find(|text| text.chars().any(char::is_alphabetic))
        .context("the page showed no words")?;
    assert!(
        first_words.contains("快速离开"),
        "first words: {first_words:?}"
    );
    for text in &seen {
        for english in ["Loading", "Quick exit", "Language", "Send a tip"] {
            assert!(
                !text.contains(english),
                "English shown: {text:?} (all: {seen:?})"
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_english_reader_fetches_no_language_file() -> Result<()> {
    let relay = Relay::start(0)?;
    let browser = Browser::phone("lang-en", "en-US,en").await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.wait_for_text("Only Demo agency can read").await?;
    assert_eq!(language_files(&browser).await?, Vec::<String>::new());

    // The form as a partner's frame loads it, in the snippet's language.
    let embed = format!("{}/embed?agency=demo&lang=es", relay.url);
    browser.client.goto(&embed).await?;
    browser.wait_for_text("Solo Demo agency puede leer").await?;
    let es = format!("{}/i18n/es.ftl", relay.url);
    assert_eq!(language_files(&browser).await?, [es]);
    browser.close().await
}
