//! The real `sealtip-relay`: `init` in a folder, the binary serving that
//! folder ([`RelayProcess`]), and a relay of its own in a temporary folder
//! serving the built page, with the demo agency's pull, open and reply
//! ([`Relay`]).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::cli::sealtip_ok;
use crate::paths::{binary, workspace};
use crate::ports::{free_port, wait_for_port};
use crate::process::Killed;

/// Runs `sealtip-relay init --dir data` in `dir`: `data/relay.toml` (its
/// paths relative to `dir`) and the demo agency's `agency.key`,
/// `agency.pub` and `agency.token` beside it. Returns the config's path.
pub fn init_relay(dir: &Path) -> Result<PathBuf> {
    let output = Command::new(binary("sealtip-relay")?)
        .current_dir(dir)
        .args(["init", "--dir", "data"])
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        bail!(
            "sealtip-relay init failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(dir.join("data/relay.toml"))
}

/// Rewrites the config at `config` with `edit`.
pub fn edit_config(config: &Path, edit: impl FnOnce(String) -> String) -> Result<()> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    std::fs::write(config, edit(text))?;
    Ok(())
}

/// Sets the proof-of-work difficulty `init` wrote (its `difficulty = …`
/// line, whatever the default) to `bits`.
pub fn set_difficulty(config: &Path, bits: u8) -> Result<()> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    if !text.lines().any(|line| line.starts_with("difficulty =")) {
        bail!("{} has no `difficulty =` line", config.display());
    }
    edit_config(config, |text| {
        text.lines()
            .map(|line| {
                if line.starts_with("difficulty =") {
                    format!("difficulty = {bits}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect()
    })
}

/// Switches the config `init` wrote to PostgreSQL storage at `url` (and no
/// blob folder).
pub fn use_postgres(config: &Path, url: &str) -> Result<()> {
    edit_config(config, |text| {
        text.lines()
            .filter(|line| !line.starts_with("blobs ="))
            .map(|line| {
                if line.starts_with("storage =") {
                    format!("storage = \"{url}\"\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect()
    })
}

/// The `sealtip-relay` binary serving a folder `init` wrote; killed
/// (SIGKILL) when dropped.
pub struct RelayProcess {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    process: Killed,
}

impl RelayProcess {
    /// Starts `sealtip-relay --config data/relay.toml` in `dir`, listening
    /// on 127.0.0.1:`port`, its output appended to `dir/relay.log`; waits
    /// until it listens (it opens its storage first, so it then answers).
    pub fn start(dir: &Path, port: u16) -> Result<RelayProcess> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("relay.log"))?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = Command::new(binary("sealtip-relay")?)
            .current_dir(dir)
            .args(["--config", "data/relay.toml", "--listen"])
            .arg(address.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start sealtip-relay")?;
        if let Err(error) = wait_for_port(address, "sealtip-relay", &mut child) {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("relay.log")).unwrap_or_default();
            bail!("{error:#}; its log:\n{log}");
        }
        Ok(RelayProcess {
            url: format!("http://{address}"),
            port,
            process: Killed(child),
        })
    }

    /// Starts it on a free port: see [`RelayProcess::start`].
    pub fn start_on_free_port(dir: &Path) -> Result<RelayProcess> {
        RelayProcess::start(dir, free_port()?)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// A relay of its own: `sealtip-relay init` in a temporary folder (the demo
/// agency, its key and token), serving the built page on a free port.
pub struct Relay {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The folder the relay runs in; `data/` holds relay.toml, agency.key,
    /// agency.token and what is stored.
    pub dir: tempfile::TempDir,
    _process: RelayProcess,
}

impl Relay {
    /// Starts a relay whose proof of work is `difficulty` bits, serving
    /// `SEALTIP_DIST` (default: the workspace's `dist/`).
    pub fn start(difficulty: u8) -> Result<Relay> {
        Relay::start_with(difficulty, |config| config)
    }

    /// Like [`Relay::start`], with the agency's quick exit going to `exit`
    /// (the tests have no internet, and must see where the page went).
    pub fn start_exiting_to(difficulty: u8, exit: &str) -> Result<Relay> {
        Relay::start_with(difficulty, |config| exiting_to(config, exit))
    }

    /// Like [`Relay::start`], with `edit` changing relay.toml's text first.
    pub fn start_with(difficulty: u8, edit: impl FnOnce(String) -> String) -> Result<Relay> {
        let dist = crate::served_copy::built_page();
        if !dist.join("index.html").exists() {
            bail!(
                "{} has no built page: run `cargo xtask test` (or trunk build --release --cargo-profile web)",
                dist.display()
            );
        }
        let dist = dist.canonicalize()?.display().to_string();
        let dir = tempfile::tempdir()?;
        let config = init_relay(dir.path())?;
        set_difficulty(&config, difficulty)?;
        edit_config(&config, |text| {
            edit(text.replace("dist = \"dist\"", &format!("dist = {dist:?}")))
        })?;
        let process = RelayProcess::start_on_free_port(dir.path())?;
        Ok(Relay {
            url: process.url.clone(),
            dir,
            _process: process,
        })
    }

    /// A file `init` wrote (`agency.key`, `agency.token`, `agency.pub`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("data").join(name)
    }

    /// `sealtip pull` of the demo agency's inbox into a fresh folder (inside
    /// the relay's): the sealed files fetched.
    pub fn pull(&self) -> Result<Vec<PathBuf>> {
        let inbox = tempfile::tempdir_in(self.dir.path())?.keep();
        let mut args = vec![OsString::from("pull")];
        args.extend(self.agency_args());
        args.extend([OsString::from("--out"), inbox.clone().into()]);
        sealtip_ok(self.dir.path(), args)?;
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
        sealtip_ok(
            self.dir.path(),
            [
                "open".as_ref(),
                "-i".as_ref(),
                self.file("agency.key").as_os_str(),
                "--out".as_ref(),
                target.as_os_str(),
                sealed.as_os_str(),
            ],
        )?;
        Ok(target)
    }

    /// `sealtip reply` as the demo agency: `message` sealed to the reply
    /// key of the opened tip in `tip` (a folder [`Relay::open`] made),
    /// proven in its thread, and posted to its mailbox.
    pub fn reply(&self, tip: &Path, message: &str) -> Result<()> {
        let mut args = vec![
            OsString::from("reply"),
            "-i".into(),
            self.file("agency.key").into(),
        ];
        args.extend(self.agency_args());
        args.extend([
            OsString::from("--to-tip"),
            tip.into(),
            "--message".into(),
            message.into(),
        ]);
        sealtip_ok(self.dir.path(), args)?;
        Ok(())
    }

    /// Where the demo agency's commands go, and its token: `--relay URL
    /// --agency demo --token-file …/agency.token`.
    fn agency_args(&self) -> [OsString; 6] {
        [
            "--relay".into(),
            self.url.as_str().into(),
            "--agency".into(),
            "demo".into(),
            "--token-file".into(),
            self.file("agency.token").into(),
        ]
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

/// `relay.toml` (as `sealtip-relay init` writes it) with the demo agency's
/// quick exit going to `exit`.
pub fn exiting_to(config: String, exit: &str) -> String {
    config.replace("\"https://www.wikipedia.org/\"", &format!("{exit:?}"))
}
