//! The page in a real browser through WebDriver, at a phone's size or as a
//! desktop window, with screenshots of each step: headless Chromium
//! ([`chromium`]) or headless Firefox ESR ([`firefox`]), chosen by [`Engine`].

mod chromium;
mod firefox;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub use fantoccini::actions::{InputSource, KeyAction, KeyActions};
pub use fantoccini::elements::{Element, ShadowRoot};
pub use fantoccini::{Client, Locator};

use crate::paths::{PATIENCE, workspace};
use crate::process::KilledGroup;

/// A phone's screen: 390 × 844 CSS pixels, twice as dense.
pub const PHONE: (u32, u32) = (390, 844);

/// The browsers the end-to-end tests run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Chromium, through chromedriver: device emulation and the DevTools protocol.
    Chromium,
    /// Firefox ESR, the engine of Tor Browser, through geckodriver: plain
    /// WebDriver only (no `location.ancestorOrigins`, no DevTools calls).
    Firefox,
}

impl Engine {
    /// Both, Chromium first.
    pub const ALL: [Engine; 2] = [Engine::Chromium, Engine::Firefox];

    /// `chromium` or `firefox`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }
}

/// A headless browser session, at a phone's size or as a desktop window.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// Which browser it is.
    pub engine: Engine,
    /// Screenshots go to `target/screenshots/{prefix}-NN-{name}.png`.
    prefix: String,
    shots: u32,
    _profile: tempfile::TempDir,
    _driver: KilledGroup,
}

impl Browser {
    /// Starts Chromium at a phone's size, its languages `languages`
    /// (`"es,en"`), naming screenshots after `prefix`.
    pub async fn phone(prefix: &str, languages: &str) -> Result<Browser> {
        Browser::phone_sized(prefix, languages, PHONE).await
    }

    /// Starts Chromium emulating a touch screen of `size` CSS pixels.
    pub async fn phone_sized(prefix: &str, languages: &str, size: (u32, u32)) -> Result<Browser> {
        Browser::phone_sized_in(Engine::Chromium, prefix, languages, size).await
    }

    /// Starts `engine` at a phone's size ([`PHONE`]).
    pub async fn phone_in(engine: Engine, prefix: &str, languages: &str) -> Result<Browser> {
        Browser::phone_sized_in(engine, prefix, languages, PHONE).await
    }

    /// Starts `engine` with a page of `size` CSS pixels, twice as dense
    /// (Chromium emulates a touch screen; Firefox sizes its window).
    /// Firefox's screenshots are named `{prefix}-firefox-NN-…`.
    pub async fn phone_sized_in(
        engine: Engine,
        prefix: &str,
        languages: &str,
        size: (u32, u32),
    ) -> Result<Browser> {
        let profile = tempfile::tempdir()?;
        let (client, driver) = match engine {
            Engine::Chromium => {
                let screen = chromium::Screen::Phone(size.0, size.1);
                chromium::launch(languages, profile.path(), screen).await?
            }
            Engine::Firefox => firefox::launch(languages, profile.path(), size).await?,
        };
        let prefix = match engine {
            Engine::Chromium => prefix.to_string(),
            Engine::Firefox => format!("{prefix}-firefox"),
        };
        Ok(Browser::new(client, engine, prefix, profile, driver))
    }

    /// Starts Chromium as a desktop window of `size` CSS pixels.
    pub async fn desktop(prefix: &str, languages: &str, size: (u32, u32)) -> Result<Browser> {
        let profile = tempfile::tempdir()?;
        let screen = chromium::Screen::Desktop(size.0, size.1);
        let (client, driver) = chromium::launch(languages, profile.path(), screen).await?;
        Ok(Browser::new(
            client,
            Engine::Chromium,
            prefix.to_string(),
            profile,
            driver,
        ))
    }

    fn new(
        client: Client,
        engine: Engine,
        prefix: String,
        profile: tempfile::TempDir,
        driver: KilledGroup,
    ) -> Browser {
        Browser {
            client,
            engine,
            prefix,
            shots: 0,
            _profile: profile,
            _driver: driver,
        }
    }

    /// Waits for the first element matching `css`.
    pub async fn find(&self, css: &str) -> Result<Element> {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => Ok(element),
            Err(error) => Err(error).context(format!(
                "nothing on the page matches {css}{}",
                self.console_report().await
            )),
        }
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let body = self.text().await?;
            if body.contains(text) {
                return Ok(());
            }
            if started.elapsed() > PATIENCE {
                bail!(
                    "the page never showed {text:?}; it shows:\n{body}{}",
                    self.console_report().await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What the page wrote to its console since it was last asked, a line
    /// each (`LEVEL message`): Chromium only, empty in Firefox, whose
    /// driver does not tell it.
    pub async fn console(&self) -> Result<Vec<String>> {
        if self.engine != Engine::Chromium {
            return Ok(Vec::new());
        }
        let entries = self.client.issue_cmd(chromium::console_log()).await?;
        Ok(entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| {
                        format!(
                            "{} {}",
                            entry["level"].as_str().unwrap_or("?"),
                            entry["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The page's console, for a failure's report: nothing when it is empty
    /// or cannot be had.
    async fn console_report(&self) -> String {
        match self.console().await {
            Ok(lines) if !lines.is_empty() => {
                format!("\nthe page's console:\n  {}", lines.join("\n  "))
            }
            _ => String::new(),
        }
    }

    /// Types `text` into the first element matching `css`, after what it holds.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.find(css).await?.send_keys(text).await?;
        Ok(())
    }

    /// Scrolls the first element matching `css` to the top of the screen.
    pub async fn scroll_to(&self, css: &str) -> Result<()> {
        let script = format!("document.querySelector({css:?}).scrollIntoView(); return null;");
        self.eval(&script).await?;
        Ok(())
    }

    /// Picks `file` in the tipster's form (its file field, `#files`) and
    /// waits until the form lists it.
    pub async fn attach_file(&self, file: &Path) -> Result<()> {
        self.type_into("#files", &file.display().to_string())
            .await?;
        self.find(".files li").await?;
        Ok(())
    }

    /// The page's visible text.
    pub async fn text(&self) -> Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// Runs `script` in each document the browser opens from now on, before
    /// the page's own scripts (Chromium's `Page.addScriptToEvaluateOnNewDocument`;
    /// Chromium only).
    pub async fn before_each_page(&self, script: &str) -> Result<()> {
        if self.engine != Engine::Chromium {
            bail!(
                "before_each_page is Chromium's DevTools protocol: not in {:?}",
                self.engine
            );
        }
        let params = serde_json::json!({ "source": script });
        self.client
            .issue_cmd(chromium::cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                params,
            ))
            .await?;
        Ok(())
    }

    /// Runs `script` in each worker the page starts from now on, before
    /// the worker's own code: the page starts its workers from a `Blob` of
    /// their checked code (`src/worker.rs`), so `script` is put in front of
    /// every script `Blob` it makes. Until the page is left.
    pub async fn before_each_worker(&self, script: &str) -> Result<()> {
        let wrapper = format!(
            "const before = {};
             const PageBlob = window.Blob;
             window.Blob = function (parts, options) {{
                 const script = options && options.type === 'text/javascript';
                 return new PageBlob(script ? [before].concat(parts) : parts, options);
             }};
             window.Blob.prototype = PageBlob.prototype;
             return true;",
            serde_json::Value::from(script)
        );
        self.eval(&wrapper).await?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn eval(&self, script: &str) -> Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Runs an async `script`: its last argument is the callback to call with the result.
    pub async fn eval_async(&self, script: &str) -> Result<serde_json::Value> {
        Ok(self.client.execute_async(script, vec![]).await?)
    }

    /// Saves a screenshot as `target/screenshots/{prefix}-NN-{name}.png`
    /// (the whole page, not only the first screen) and returns its path.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        self.shots += 1;
        let dir = workspace().join("target/screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}-{:02}-{name}.png", self.prefix, self.shots));
        let png = self.client.screenshot().await?;
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Everything the page keeps on the device, as `{"cookies": …, "local": …}`:
    /// cookies, localStorage, sessionStorage, IndexedDB databases, Cache
    /// Storage and service workers. A page that writes nothing gives all zero.
    pub async fn stored(&self) -> Result<serde_json::Value> {
        self.eval_async(
            "const done = arguments[arguments.length - 1];
             (async () => {
               const dbs = indexedDB.databases ? await indexedDB.databases() : [];
               const caches_ = self.caches ? await caches.keys() : [];
               const workers = navigator.serviceWorker
                 ? await navigator.serviceWorker.getRegistrations() : [];
               return {
                 cookies: document.cookie.length,
                 local: localStorage.length,
                 session: sessionStorage.length,
                 indexeddb: dbs.length,
                 caches: caches_.length,
                 service_workers: workers.length,
               };
             })().then(done, e => done({ error: String(e) }));",
        )
        .await
    }

    /// Every address the page loaded or asked for (Resource Timing), and the page itself.
    pub async fn requested(&self) -> Result<Vec<String>> {
        self.eval_strings(
            "return performance.getEntriesByType('navigation')
               .concat(performance.getEntriesByType('resource'))
               .map(e => e.name);",
        )
        .await
    }

    /// Runs `script`, which returns a list of strings.
    pub async fn eval_strings(&self, script: &str) -> Result<Vec<String>> {
        let value = self.eval(script).await?;
        Ok(value
            .as_array()
            .context("a list")?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    }

    /// The browser's profile folder (on every Chromium process's command line).
    pub fn profile_dir(&self) -> &Path {
        self._profile.path()
    }

    /// Ends the session.
    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// A WebDriver session with `capabilities` (a JSON object) on the driver
/// listening on `port`, which starts `browser`.
async fn new_session(port: u16, capabilities: serde_json::Value, browser: &str) -> Result<Client> {
    let serde_json::Value::Object(capabilities) = capabilities else {
        bail!("capabilities are an object");
    };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .with_context(|| format!("cannot start a {browser} session"))
}
