//! The real `sealtip`: a command run in a folder, and `sealtip desk` left
//! running ([`Desk`]).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::paths::{PATIENCE, binary};
use crate::process::Killed;

/// `sealtip` as a test runs it: in `dir`, and with neither a proxy nor a
/// codename taken from the test's own environment.
fn command(dir: &Path) -> Result<Command> {
    let mut command = Command::new(binary("sealtip")?);
    command.current_dir(dir).env_remove("SEALTIP_CODENAME");
    for proxy in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
        command
            .env_remove(proxy)
            .env_remove(proxy.to_ascii_lowercase());
    }
    Ok(command)
}

/// Runs `sealtip ARGS` in `dir` with nothing on standard input; what it
/// printed and how it ended, whatever that was.
pub fn sealtip<I, S>(dir: &Path, args: I) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Ok(command(dir)?.args(args).stdin(Stdio::null()).output()?)
}

/// Like [`sealtip`], with more environment variables `env` and `stdin`
/// written to its standard input (then closed).
pub fn sealtip_with<I, S>(
    dir: &Path,
    args: I,
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = command(dir)?
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut input = child.stdin.take().context("sealtip's standard input")?;
    if let Some(text) = stdin {
        // A command that fails early may not read it: not the harness's concern.
        let _ = input.write_all(text.as_bytes());
    }
    drop(input);
    Ok(child.wait_with_output()?)
}

/// Runs `sealtip ARGS` in `dir`: its standard output, or an error with what
/// it printed on standard error.
pub fn sealtip_ok<I, S>(dir: &Path, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let output = sealtip(dir, &args)?;
    if !output.status.success() {
        let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
        bail!(
            "sealtip {shown:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// `sealtip desk` running, killed when dropped.
pub struct Desk {
    /// The address it printed: `http://127.0.0.1:PORT/s/<secret>/`.
    pub url: String,
    _process: Killed,
}

impl Desk {
    /// Starts `sealtip desk ARGS` with more environment variables `env`
    /// (such as `SEALTIP_PASSPHRASE`); waits for the address it prints.
    pub fn start<I, S>(args: I, env: &[(&str, &str)]) -> Result<Desk>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(binary("sealtip")?)
            .arg("desk")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("the desk's output")?;
        let process = Killed(child);
        let (lines, printed) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
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
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("sealtip desk exited before it printed its address")
                }
            }
        }
        bail!("sealtip desk printed no address within {PATIENCE:?}")
    }
}
