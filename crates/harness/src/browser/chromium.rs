//! Headless Chromium through chromedriver (Debian's `chromium` and
//! `chromium-driver`), and the one DevTools command the harness sends it.

use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use fantoccini::Client;

use crate::ports::{free_port, wait_for_port};
use crate::process::{KilledGroup, in_own_group};

/// How Chromium shows the page.
pub(super) enum Screen {
    /// A touch screen of this many CSS pixels, twice as dense (device emulation).
    Phone(u32, u32),
    /// A desktop window of this many CSS pixels.
    Desktop(u32, u32),
}

/// Starts chromedriver and a Chromium session with `languages` (`"es,en"`)
/// and its profile in `profile`; the driver dies with the returned guard.
pub(super) async fn launch(
    languages: &str,
    profile: &std::path::Path,
    screen: Screen,
) -> Result<(Client, KilledGroup)> {
    let driver_path = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
    let port = free_port()?;
    let mut child = in_own_group(&mut Command::new(&driver_path))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {driver_path} (apt install chromium-driver)"))?;
    wait_for_port(([127, 0, 0, 1], port).into(), "chromedriver", &mut child)?;
    let driver = KilledGroup(child);
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-extensions".into(),
        // performance.memory exact and current (benchmarks read it).
        "--enable-precise-memory-info".into(),
        format!("--lang={}", languages.split(',').next().unwrap_or("en")),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut options = serde_json::json!({
        "binary": "/usr/bin/chromium",
        "prefs": { "intl.accept_languages": languages },
    });
    match screen {
        Screen::Phone(width, height) => {
            options["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "touch": true },
            });
        }
        Screen::Desktop(width, height) => args.push(format!("--window-size={width},{height}")),
    }
    options["args"] = serde_json::json!(args);
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
        // The page's console, for a failed test's report (`console_log`).
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let client = super::new_session(port, capabilities, "Chromium").await?;
    Ok((client, driver))
}

/// A chromedriver command of its own: a POST of a JSON body to
/// `session/{id}/{path}`.
#[derive(Debug)]
pub(super) struct Post(&'static str, serde_json::Value);

/// A Chrome DevTools Protocol command, through chromedriver's
/// `goog/cdp/execute`: its method and parameters.
pub(super) fn cdp(method: &str, params: serde_json::Value) -> Post {
    Post(
        "goog/cdp/execute",
        serde_json::json!({ "cmd": method, "params": params }),
    )
}

/// The page's console since it was last asked, through chromedriver's log
/// endpoint: `[{"level", "message", "timestamp"}, …]`.
pub(super) fn console_log() -> Post {
    Post("se/log", serde_json::json!({ "type": "browser" }))
}

impl fantoccini::wd::WebDriverCompatibleCommand for Post {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.0
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.1.to_string()))
    }
}
