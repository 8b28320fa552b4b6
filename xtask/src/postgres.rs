//! A throwaway PostgreSQL server for the relay's PostgreSQL tests and
//! benchmark: a new cluster in a temporary folder, on a free port of
//! 127.0.0.1, removed when the [`Cluster`] is dropped (also when a step
//! fails).
//!
//! PostgreSQL refuses to run as root, so when xtask runs as root the cluster
//! belongs to the `postgres` user that Debian's package creates.

use crate::{cmd, tools};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable the relay's tests read the server's URL from.
pub const URL_ENV: &str = "SEALTIP_TEST_POSTGRES";
/// Set for tests run by xtask: a PostgreSQL test fails, not skips, without a server.
pub const REQUIRE_ENV: &str = "SEALTIP_REQUIRE_POSTGRES";

/// A running throwaway server.
pub struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT`, with no database: tests create their own.
    pub url: String,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    /// Installs PostgreSQL if missing, then creates and starts a cluster.
    pub fn start() -> Result<Cluster> {
        let bin = tools::ensure_postgres()?;
        let as_postgres = tools::running_as_root();
        let dir = std::env::temp_dir().join(format!("sealtip-postgres-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove the old {}", dir.display()))?;
        }
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // From here on, dropping the cluster removes the folder (and stops
        // the server, once there is one).
        let mut cluster = Cluster {
            url: String::new(),
            dir,
            bin,
            as_postgres,
        };
        if as_postgres {
            quiet(cmd::command("chown").arg("postgres:").arg(&cluster.dir))?;
        }
        let port = free_port()?;
        let data = cluster.dir.join("data");
        quiet(
            cluster
                .tool("initdb")
                .args([
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    // A throwaway cluster: initdb need not flush its files; the
                    // server itself still syncs every commit.
                    "--no-sync",
                ])
                .arg("--pgdata")
                .arg(&data),
        )?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            cluster.dir.display()
        );
        quiet(
            cluster
                .tool("pg_ctl")
                .arg("--pgdata")
                .arg(&data)
                .arg("--log")
                .arg(cluster.dir.join("server.log"))
                .args(["--wait", "--options", &options, "start"]),
        )
        .with_context(|| {
            let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
            format!("the PostgreSQL server did not start:\n{log}")
        })?;
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}");
        println!("PostgreSQL for the tests: {}", cluster.url);
        Ok(cluster)
    }

    /// A PostgreSQL program, run as `postgres` when xtask runs as root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = cmd::command("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            cmd::command(program)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let stopped = quiet(self.tool("pg_ctl").arg("--pgdata").arg(&data).args([
                "--mode=immediate",
                "--wait",
                "stop",
            ]));
            if let Err(error) = stopped {
                eprintln!("xtask: cannot stop the test PostgreSQL server: {error:#}");
            }
        }
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("xtask: cannot remove {}: {error}", self.dir.display());
        }
    }
}

/// Runs `command`, showing its output only if it fails.
fn quiet(command: &mut Command) -> Result<()> {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} failed ({}):\n{}{}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A port of 127.0.0.1 that nothing listens on (bound, then released).
fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free local port")?;
    Ok(listener.local_addr()?.port())
}

/// The newest `/usr/lib/postgresql/VERSION/bin` holding `initdb`, if any.
pub fn server_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            Path::new(&bin.join("initdb"))
                .exists()
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}
