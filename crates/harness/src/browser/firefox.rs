//! Headless Firefox ESR (Debian's `firefox-esr`, the engine of Tor Browser)
//! through geckodriver (from crates.io, installed by `cargo xtask test`).
//! Firefox has no device emulation: the window is sized so that the page
//! gets the phone's CSS pixels, drawn twice as dense.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use fantoccini::Client;

use crate::ports::{free_port, wait_for_port};
use crate::process::{KilledGroup, in_own_group};

/// The Firefox ESR binary Debian installs.
const FIREFOX: &str = "/usr/bin/firefox-esr";

/// The browser's own style (`userChrome.css`): no minimum width.
const NARROW_WINDOW: &str = ":root, #navigator-toolbox, toolbar { min-width: 0 !important; }\n";

/// Starts geckodriver and a headless Firefox session with `languages`
/// (`"es,en"`), its profile in `profile`, whose page is `size` CSS pixels;
/// the driver (and with it Firefox) dies with the returned guard.
pub(super) async fn launch(
    languages: &str,
    profile: &Path,
    size: (u32, u32),
) -> Result<(Client, KilledGroup)> {
    let driver_path = geckodriver();
    let port = free_port()?;
    let mut child = in_own_group(&mut Command::new(&driver_path))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        // Each driver its own remote-agent port, so that drivers may run side by side.
        .args(["--websocket-port", &free_port()?.to_string()])
        .env("MOZ_HEADLESS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (cargo xtask test installs it)",
                driver_path.display()
            )
        })?;
    wait_for_port(([127, 0, 0, 1], port).into(), "geckodriver", &mut child)?;
    let driver = KilledGroup(child);
    // Firefox's toolbars keep a window at least 500 CSS pixels wide; a
    // phone's page is narrower. The profile's own browser style lets it be.
    let chrome = profile.join("chrome");
    std::fs::create_dir_all(&chrome)?;
    std::fs::write(chrome.join("userChrome.css"), NARROW_WINDOW)?;
    let capabilities = serde_json::json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": FIREFOX,
            "args": ["-headless", "-profile", profile.display().to_string()],
            "env": { "MOZ_HEADLESS": "1" },
            "prefs": {
                "intl.accept_languages": languages,
                // A phone's density: screenshots as sharp as Chromium's.
                "layout.css.devPixelsPerPx": "2.0",
                // A phone's scrollbars, drawn over the page rather than beside it.
                "ui.useOverlayScrollbars": 1,
                "toolkit.legacyUserProfileCustomizations.stylesheets": true,
                "browser.shell.checkDefaultBrowser": false,
                "app.update.disabledForTesting": true,
            },
        },
    });
    let client = super::new_session(port, capabilities, "Firefox").await?;
    fit_page(&client, size).await?;
    Ok((client, driver))
}

/// Sizes the window so that the page (`innerWidth` × `innerHeight`) is
/// `size` CSS pixels: the window's frame and toolbars are measured, not guessed.
async fn fit_page(client: &Client, size: (u32, u32)) -> Result<()> {
    client.set_window_size(size.0, size.1).await?;
    for _ in 0..3 {
        let inner = client
            .execute("return [innerWidth, innerHeight];", vec![])
            .await?;
        let measured = |i: usize| inner[i].as_i64().context("a number");
        let (width, height) = (measured(0)?, measured(1)?);
        if (width, height) == (i64::from(size.0), i64::from(size.1)) {
            return Ok(());
        }
        let (outer_width, outer_height) = client.get_window_size().await?;
        let outer = |outer: u64, want: u32, got: i64| {
            let grown = i64::try_from(outer).unwrap_or(i64::MAX) + i64::from(want) - got;
            u32::try_from(grown.max(1)).unwrap_or(want)
        };
        client
            .set_window_size(
                outer(outer_width, size.0, width),
                outer(outer_height, size.1, height),
            )
            .await?;
    }
    let inner = client
        .execute("return [innerWidth, innerHeight];", vec![])
        .await?;
    bail!("Firefox's page is {inner} CSS pixels, not {size:?}")
}

/// `GECKODRIVER`, else the one `cargo install` put in cargo's bin folder,
/// else `geckodriver` on `PATH`.
fn geckodriver() -> PathBuf {
    if let Some(path) = std::env::var_os("GECKODRIVER") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    cargo_home
        .map(|home| home.join("bin/geckodriver"))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("geckodriver"))
}
