//! Starting other programs. Every program xtask starts is made here, so each one
//! runs in the workspace root and sees the same `PATH` (the project's own tools
//! first) and the same `CARGO_TARGET_DIR`.

use anyhow::{Context, Result, bail};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where npm puts the project-local Node tools (`wasm-opt` from binaryen).
pub const NODE_TOOLS: &str = ".tools/node";

/// What [`enter_workspace`] works out once; read by [`command`].
struct Env {
    /// `PATH` for the programs xtask starts.
    path: OsString,
    /// `CARGO_TARGET_DIR` made absolute, if the caller set it.
    target_dir: Option<PathBuf>,
}

static ENV: OnceLock<Env> = OnceLock::new();

/// Makes the workspace root the current directory and fixes the environment
/// that every program started through [`command`] receives.
///
/// A relative `CARGO_TARGET_DIR` is resolved against the directory xtask was
/// started in, before moving to the root, so that cargo, Trunk (which asks
/// `cargo metadata`) and wasm-bindgen-test-runner all agree on one folder.
///
/// The root is found from `CARGO_MANIFEST_DIR` as `cargo run` sets it, not as
/// it was when xtask was compiled: checkouts that share one `CARGO_TARGET_DIR`
/// (CI clones) also share the one `debug/xtask` binary.
pub fn enter_workspace() -> Result<()> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest_dir
        .join("..")
        .canonicalize()
        .context("cannot find the workspace root")?;
    let started_in = std::env::current_dir().context("cannot read the current directory")?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map(|dir| started_in.join(dir));

    let mut path = vec![
        root.join(NODE_TOOLS).join("node_modules/.bin"),
        cargo_bin_dir(),
    ];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).context("a PATH entry contains ':'")?;

    std::env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    // Set once, at start-up; a second call would find the same values.
    let _ = ENV.set(Env { path, target_dir });
    Ok(())
}

/// A command for `program`, with xtask's `PATH` and `CARGO_TARGET_DIR`.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    if let Some(env) = ENV.get() {
        command.env("PATH", &env.path);
        if let Some(dir) = &env.target_dir {
            command.env("CARGO_TARGET_DIR", dir);
        }
    }
    command
}

/// A command for the cargo that started xtask.
pub fn cargo() -> Command {
    command(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Whether `program` is an executable file in one of xtask's `PATH` entries.
pub fn on_path(program: &str) -> bool {
    let path = match ENV.get() {
        Some(env) => env.path.clone(),
        None => std::env::var_os("PATH").unwrap_or_default(),
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

/// Runs `command` with the terminal as its stdin, stdout and stderr; fails
/// unless it exits with status 0.
pub fn run(command: &mut Command) -> Result<()> {
    println!("$ {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("cannot start `{}`", display(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(command));
    }
    Ok(())
}

/// Like [`run`], and also returns everything the command wrote to stdout
/// (each line is still printed as it arrives).
pub fn run_and_capture(command: &mut Command) -> Result<String> {
    println!("$ {}", display(command));
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{}`", display(command)))?;
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line =
                line.with_context(|| format!("cannot read the output of `{}`", display(command)))?;
            println!("{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(command));
    }
    Ok(captured)
}

/// Runs `command` quietly; its stdout if it exits with status 0, else `None`
/// (also when the program does not exist). For version checks.
pub fn probe(command: &mut Command) -> Option<String> {
    let output = command
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `command` as a shell would show it.
fn display(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, else `~/.cargo/bin`.
fn cargo_bin_dir() -> PathBuf {
    cargo_home().join("bin")
}

/// Where cargo keeps its registry and tools (`CARGO_HOME`, else `~/.cargo`).
pub fn cargo_home() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
    }
}

/// The target folder cargo builds into: `CARGO_TARGET_DIR` as
/// [`enter_workspace`] resolved it, else `target` in the workspace root.
pub fn target_dir() -> PathBuf {
    ENV.get()
        .and_then(|env| env.target_dir.clone())
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
