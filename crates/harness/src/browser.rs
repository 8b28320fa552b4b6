//! Headless Chromium through chromedriver (WebDriver), at a phone's size
//! or as a desktop window, with screenshots of each step.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::ClientBuilder;

pub use fantoccini::elements::{Element, ShadowRoot};
pub use fantoccini::{Client, Locator};

use crate::paths::{PATIENCE, workspace};
use crate::ports::{free_port, wait_for_port};
use crate::process::Killed;

/// A phone's screen: 390 × 844 CSS pixels, twice as dense.
pub const PHONE: (u32, u32) = (390, 844);

/// Headless Chromium through chromedriver, emulating a phone or as a desktop window.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// Screenshots go to `target/screenshots/{prefix}-NN-{name}.png`.
    prefix: String,
    shots: u32,
    _profile: tempfile::TempDir,
    _driver: Killed,
}

impl Browser {
    /// Starts Chromium at a phone's size, its languages `languages`
    /// (`"es,en"`), naming screenshots after `prefix`.
    pub async fn phone(prefix: &str, languages: &str) -> Result<Browser> {
        Browser::phone_sized(prefix, languages, PHONE).await
    }

    /// Starts Chromium emulating a touch screen of `size` CSS pixels.
    pub async fn phone_sized(prefix: &str, languages: &str, size: (u32, u32)) -> Result<Browser> {
        let emulation = serde_json::json!({
            "deviceMetrics": { "width": size.0, "height": size.1, "pixelRatio": 2.0, "touch": true },
        });
        Browser::launch(prefix, languages, "mobileEmulation", emulation).await
    }

    /// Starts Chromium as a desktop window of `size` CSS pixels.
    pub async fn desktop(prefix: &str, languages: &str, size: (u32, u32)) -> Result<Browser> {
        let size = serde_json::json!([format!("--window-size={},{}", size.0, size.1)]);
        Browser::launch(prefix, languages, "args", size).await
    }

    /// Starts Chromium with `extra` under `goog:chromeOptions.{option}`
    /// (appended to the arguments when `option` is `args`).
    async fn launch(
        prefix: &str,
        languages: &str,
        option: &str,
        extra: serde_json::Value,
    ) -> Result<Browser> {
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
        let port = free_port()?;
        let mut child = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {driver_path} (apt install chromium-driver)"))?;
        wait_for_port(([127, 0, 0, 1], port).into(), "chromedriver", &mut child)?;
        let driver = Killed(child);
        let profile = tempfile::tempdir()?;
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    // performance.memory exact and current (benchmarks read it).
                    "--enable-precise-memory-info",
                    format!("--lang={}", languages.split(',').next().unwrap_or("en")),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": languages },
            },
        });
        let serde_json::Value::Object(mut capabilities) = capabilities else {
            bail!("capabilities are an object");
        };
        let options = capabilities
            .get_mut("goog:chromeOptions")
            .and_then(serde_json::Value::as_object_mut)
            .context("chromeOptions are an object")?;
        match (options.get_mut(option), extra) {
            (Some(serde_json::Value::Array(list)), serde_json::Value::Array(more)) => {
                list.extend(more)
            }
            (_, extra) => {
                options.insert(option.to_string(), extra);
            }
        }
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("cannot start a Chromium session")?;
        Ok(Browser {
            client,
            prefix: prefix.to_string(),
            shots: 0,
            _profile: profile,
            _driver: driver,
        })
    }

    /// Waits for the first element matching `css`.
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("nothing on the page matches {css}"))
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
                bail!("the page never showed {text:?}; it shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
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
    /// the page's own scripts (Chromium's `Page.addScriptToEvaluateOnNewDocument`).
    pub async fn before_each_page(&self, script: &str) -> Result<()> {
        let params = serde_json::json!({ "source": script });
        self.client
            .issue_cmd(Cdp("Page.addScriptToEvaluateOnNewDocument", params))
            .await?;
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

/// A Chrome DevTools Protocol command, through chromedriver's
/// `goog/cdp/execute`: its method and parameters.
#[derive(Debug)]
struct Cdp(&'static str, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.0, "params": self.1 });
        (http::Method::POST, Some(body.to_string()))
    }
}
