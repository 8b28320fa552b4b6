//! The workspace, and where its built binaries are.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// How long to wait for a process or a page to show something before failing.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The workspace root (where `dist/` and `target/screenshots/` are): two
/// folders above the running test's package (`crates/e2e`), as cargo names
/// it when it runs the test. Not the folder this crate was compiled in: a
/// shared target folder may hold a build of the harness made from another
/// checkout of the same sources, which cargo reuses with that checkout's
/// path.
pub fn workspace() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    package.join("../..")
}

/// The built binary `name` (`sealtip`, `sealtip-relay`): in
/// `SEALTIP_BIN_DIR`, else in the profile folder of the target folder the
/// running test was built into (`target/debug`).
pub fn binary(name: &str) -> Result<PathBuf> {
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
