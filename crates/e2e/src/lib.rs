//! End-to-end test support: the real `sealtip-relay` and `sealtip` binaries,
//! the built page (`dist/`, by `trunk build`), and headless Chromium driven
//! through chromedriver (WebDriver). `cargo xtask test` builds all three,
//! then runs the tests in `tests/`.
//!
//! - [`Relay`]: a relay of its own in a temporary folder, with the demo agency;
//! - [`Browser`]: a Chromium session at a phone's size, with screenshots;
//! - [`Desk`]: `sealtip desk`, the officers' inbox, and the address it printed;
//! - [`sealtip`]: runs the command-line tool and returns what it printed.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

pub use fantoccini::elements::Element;

/// How long to wait for the page to show something before failing.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The workspace root (where `dist/` and `target/screenshots/` are).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the binaries are: `SEALTIP_BIN_DIR`, else the profile folder of the
/// target folder this test runs from (`target/debug`).
fn bin(name: &str) -> Result<PathBuf> {
    let dir = match std::env::var_os("SEALTIP_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("the test binary has no parent folder")?
            .to_path_buf(),
    };
    let path = dir.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (cargo build -p sealtip-relay -p sealtip-cli), \
             or set SEALTIP_BIN_DIR",
            path.display()
        );
    }
    Ok(path)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts connections on `address`.
fn wait_for_port(address: SocketAddr, what: &str, child: &mut Child) -> Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before it listened: {status}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("{what} did not listen on {address} within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A relay of its own: `sealtip-relay init` in a temporary folder (the demo
/// agency, its key and token), serving the built page on a free port.
pub struct Relay {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The folder holding relay.toml, agency.key, agency.token and the data.
    pub dir: tempfile::TempDir,
    _process: Killed,
}

impl Relay {
    /// Starts a relay whose proof of work is `difficulty` bits, serving
    /// `SEALTIP_DIST` (default: the workspace's `dist/`).
    pub fn start(difficulty: u8) -> Result<Relay> {
        Relay::start_with(difficulty, |config| config)
    }

    /// Like [`Relay::start`], with `edit` changing relay.toml's text first.
    pub fn start_with(difficulty: u8, edit: impl FnOnce(String) -> String) -> Result<Relay> {
        let relay = bin("sealtip-relay")?;
        let dist = match std::env::var_os("SEALTIP_DIST") {
            Some(dist) => PathBuf::from(dist),
            None => workspace().join("dist"),
        };
        if !dist.join("index.html").exists() {
            bail!(
                "{} has no built page: run `cargo xtask test` (or trunk build --release --cargo-profile web)",
                dist.display()
            );
        }
        let dir = tempfile::tempdir()?;
        let status = Command::new(&relay)
            .args(["init", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("sealtip-relay init failed: {status}");
        }
        let config_path = dir.path().join("relay.toml");
        let config = std::fs::read_to_string(&config_path)?
            .replace(
                "dist = \"dist\"",
                &format!("dist = {:?}", dist.canonicalize()?.display().to_string()),
            )
            .replace("difficulty = 18 ", &format!("difficulty = {difficulty} "));
        std::fs::write(&config_path, edit(config))?;
        let port = free_port()?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = Command::new(&relay)
            .arg("--config")
            .arg(&config_path)
            .args(["--listen", &address.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start sealtip-relay")?;
        wait_for_port(address, "sealtip-relay", &mut child)?;
        Ok(Relay {
            url: format!("http://{address}"),
            dir,
            _process: Killed(child),
        })
    }

    /// A file in the relay's folder (`agency.key`, `agency.token`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `sealtip pull` of the demo agency's inbox into a fresh folder (inside
    /// the relay's): the sealed files fetched.
    pub fn pull(&self) -> Result<Vec<PathBuf>> {
        let inbox = tempfile::tempdir_in(self.dir.path())?.keep();
        sealtip([
            "pull".as_ref(),
            "--relay".as_ref(),
            self.url.as_ref(),
            "--agency".as_ref(),
            "demo".as_ref(),
            "--token-file".as_ref(),
            self.file("agency.token").as_os_str(),
            "--out".as_ref(),
            inbox.as_os_str(),
        ])?;
        let mut sealed = Vec::new();
        for entry in std::fs::read_dir(&inbox)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "age") {
                sealed.push(path);
            }
        }
        Ok(sealed)
    }

    /// `sealtip open` of a pulled file with the demo agency's key, into a
    /// fresh folder (inside the relay's) holding `tip.txt`, `tip.json` and
    /// `attachments/`.
    pub fn open(&self, sealed: &Path) -> Result<PathBuf> {
        let target = tempfile::tempdir_in(self.dir.path())?.keep().join("tip");
        sealtip([
            "open".as_ref(),
            "-i".as_ref(),
            self.file("agency.key").as_os_str(),
            "--out".as_ref(),
            target.as_os_str(),
            sealed.as_os_str(),
        ])?;
        Ok(target)
    }

    /// Opens a pulled file with an independent age implementation (the npm
    /// package `age-encryption`, run with Node, as the envelope's interop
    /// tests do) and the demo agency's key; then lists the tar inside with
    /// the system's `tar`. Returns the archive's entry names.
    pub fn open_with_typage(&self, sealed: &Path) -> Result<Vec<String>> {
        let key = std::fs::read_to_string(self.file("agency.key"))?;
        let identity = key
            .lines()
            .find(|line| line.starts_with("AGE-SECRET-KEY-"))
            .context("agency.key holds no identity line")?;
        let root = workspace();
        let module = root.join(".tools/node/node_modules/age-encryption/dist/index.js");
        let script = root.join("crates/envelope/tests/typage.mjs");
        let output = Command::new("node")
            .arg(&script)
            .arg(&module)
            .arg("decrypt")
            .arg(identity)
            .stdin(std::fs::File::open(sealed)?)
            .output()
            .context("Node.js and .tools/node/node_modules/age-encryption are needed")?;
        if !output.status.success() {
            bail!(
                "age-encryption could not open {}: {}",
                sealed.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let tar_path = tempfile::NamedTempFile::new_in(self.dir.path())?.into_temp_path();
        std::fs::write(&tar_path, &output.stdout)?;
        let listing = Command::new("tar").arg("-tf").arg(&tar_path).output()?;
        if !listing.status.success() {
            bail!("tar cannot list what age-encryption opened");
        }
        Ok(String::from_utf8_lossy(&listing.stdout)
            .lines()
            .map(str::to_string)
            .collect())
    }
}

/// `sealtip desk` running, killed when dropped.
pub struct Desk {
    /// The address it printed: `http://127.0.0.1:PORT/s/<secret>/`.
    pub url: String,
    _process: Killed,
}

impl Desk {
    /// Starts `sealtip desk` with `args` and `env` (such as
    /// `SEALTIP_PASSPHRASE`); waits for the address it prints.
    pub fn start<I, S>(args: I, env: &[(&str, &str)]) -> Result<Desk>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = Command::new(bin("sealtip")?)
            .arg("desk")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("the desk's output")?;
        let process = Killed(child);
        let (lines, printed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if lines.send(line).is_err() {
                    // Nobody listens any more: keep draining the pipe.
                    continue;
                }
            }
        });
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            match printed.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.trim().starts_with("http://") => {
                    return Ok(Desk {
                        url: line.trim().to_string(),
                        _process: process,
                    });
                }
                Ok(_) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("sealtip desk exited before it printed its address")
                }
            }
        }
        bail!("sealtip desk printed no address within {PATIENCE:?}")
    }
}

/// Runs `sealtip` with `args`; its standard output, or an error with what it
/// printed on standard error.
pub fn sealtip<I, S>(args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(bin("sealtip")?)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        bail!(
            "sealtip failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

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
