//! The page in Chinese, Russian and Vietnamese on a phone (390 × 844) against
//! the real relay: the browser's `zh-CN` picks Simplified Chinese, the picker
//! lists all ten languages and switches to the others; each time `<html lang>`,
//! the title, the page's words and the demo agency's questions follow, and
//! nothing is wider than the screen. Screenshots of each first screen go to
//! `target/screenshots/lang-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use anyhow::{Context, Result};
use sealtip_e2e::{Browser, PHONE, Relay};

/// `<html lang>`, the title, a sentence of the page's own and the label of
/// the agency's first question, as a tipster sees them.
const SHOWN: [(&str, &str, &str, &str); 3] = [
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
];

#[tokio::test(flavor = "multi_thread")]
async fn chinese_from_the_browser_then_russian_and_vietnamese_from_the_picker() -> Result<()> {
    let relay = Relay::start(0)?;
    let mut browser = Browser::phone("lang", "zh-CN,zh").await?;
    browser.client.goto(&format!("{}/", relay.url)).await?;
    for (index, (tag, title, intro, question)) in SHOWN.into_iter().enumerate() {
        if index > 0 {
            browser
                .find("#language")
                .await?
                .select_by_value(tag)
                .await?;
        }
        browser.wait_for_text(intro).await?;
        let label = browser.find("label[for='q-what']").await?.text().await?;
        assert!(label.starts_with(question), "{tag}: {label}");
        let page = browser
            .eval(
                "const html = document.documentElement;
                 return {
                   lang: html.lang,
                   title: document.title,
                   options: [...document.querySelectorAll('#language option')].map(o => o.value),
                   width: html.scrollWidth,
                 };",
            )
            .await?;
        assert_eq!(page["lang"], tag, "{page}");
        assert_eq!(page["title"], title, "{page}");
        let options = page["options"].as_array().context("a list")?;
        let tags: Vec<&str> = options.iter().filter_map(|o| o.as_str()).collect();
        assert_eq!(
            tags,
            [
                "en", "es", "fr", "pt", "ar", "zh-Hans", "vi", "ru", "tl", "ht"
            ]
        );
        let width = page["width"].as_u64().context("a width")?;
        assert!(
            width <= u64::from(PHONE.0),
            "{tag}: the page is {width} px wide"
        );
        browser.screenshot(tag).await?;
    }
    browser.close().await
}
