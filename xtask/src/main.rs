//! Project chores, needing nothing but cargo:
//!
//! - `cargo xtask run [--listen ADDR]`: installs what is missing, builds the web
//!   client and starts the relay with a demo agency, and a demo partner page
//!   embedding the form on the next port (see [`run`], [`partner`]);
//! - `cargo xtask test`: everything CI checks, in order (see [`test`]);
//! - `cargo xtask web`: the web build alone, `dist/manifest.json` included
//!   (see [`run::build_web_client`], [`manifest`]);
//! - `cargo xtask lighthouse [--listen ADDR]`: Lighthouse's figures for the
//!   demo agency's page as a phone on slow 4G sees it (see [`lighthouse`]);
//! - `cargo xtask reproducible`: two builds of the current commit in two
//!   clones give byte-identical `dist/` folders (see [`reproducible`]);
//! - `cargo xtask with-postgres COMMAND…`: runs a command beside a throwaway
//!   PostgreSQL server, its URL in `SEALTIP_TEST_POSTGRES` (see [`postgres`]).
//!
//! This file parses the arguments and dispatches; each command has its own
//! module. xtask depends on std, anyhow and the envelope crate's keys (the
//! demo partner page pins the demo agency's key), so that it builds quickly.

mod app_wasm;
mod before_typing;
mod cmd;
mod embed_origins;
mod lighthouse;
mod manifest;
mod partner;
mod postgres;
mod reproducible;
mod run;
mod test;
mod tools;
mod workers;

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [--listen ADDR]   install missing tools, build the web client, start the
                        relay with a demo agency
                        (default address: 127.0.0.1:8080)
  test                  run every check CI runs: fmt, clippy, native tests,
                        the wasm builds, the browser tests and the
                        end-to-end tests in headless Chromium
  web                   build the web client alone into dist/, with
                        dist/manifest.json (every served file's SHA-256)
  lighthouse [--listen ADDR]
                        build the web client, start the relay with the demo
                        agency and print Lighthouse's figures for /a/demo as a
                        phone on slow 4G: performance, accessibility, best
                        practices, LCP, TBT (default address: 127.0.0.1:8089;
                        a measurement, not part of `test`)
  reproducible          build the current commit twice, in two clones with
                        their own target folders, and compare the two dist/
                        folders byte for byte (two full web builds)
  with-postgres CMD…    run CMD beside a throwaway PostgreSQL server whose URL
                        is in SEALTIP_TEST_POSTGRES, e.g. the relay benchmark:
                        cargo xtask with-postgres cargo bench -p sealtip-relay
  help                  show this text";

/// The address `cargo xtask run` listens on unless told otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The address `cargo xtask lighthouse` starts its relay on: another than
/// `run`'s, so both can run at once.
const DEFAULT_LIGHTHOUSE_LISTEN: &str = "127.0.0.1:8089";

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    // `with-postgres` passes its arguments on to the command it runs.
    let asks_help = rest.iter().any(|arg| arg == "--help" || arg == "-h");
    if asks_help && command.as_deref() != Some("with-postgres") {
        println!("{USAGE}");
        return Ok(());
    }
    match command.as_deref() {
        Some("run") => {
            let listen = parse_run_args(&rest)?;
            cmd::enter_workspace()?;
            run::run(listen)
        }
        Some("lighthouse") => {
            let listen = parse_listen(&rest, "lighthouse", DEFAULT_LIGHTHOUSE_LISTEN)?;
            cmd::enter_workspace()?;
            lighthouse::lighthouse(listen)
        }
        Some("test") => {
            if let Some(extra) = rest.first() {
                bail!("`test` takes no arguments, got `{extra}`\n\n{USAGE}");
            }
            cmd::enter_workspace()?;
            test::test()
        }
        Some(name @ ("web" | "reproducible")) => {
            if let Some(extra) = rest.first() {
                bail!("`{name}` takes no arguments, got `{extra}`\n\n{USAGE}");
            }
            cmd::enter_workspace()?;
            if name == "web" {
                tools::ensure_web_build_tools()?;
                run::build_web_client()
            } else {
                reproducible::reproducible()
            }
        }
        Some("with-postgres") => {
            let Some((program, args)) = rest.split_first() else {
                bail!("`with-postgres` needs a command to run\n\n{USAGE}");
            };
            cmd::enter_workspace()?;
            let cluster = postgres::Cluster::start()?;
            cmd::run(
                cmd::command(program)
                    .args(args)
                    .env(postgres::URL_ENV, &cluster.url),
            )
        }
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// Parses `run`'s `[--listen ADDR]` (also `--listen=ADDR`).
fn parse_run_args(args: &[String]) -> Result<SocketAddr> {
    parse_listen(args, "run", DEFAULT_LISTEN)
}

/// Parses `[--listen ADDR]` (also `--listen=ADDR`) for `command`.
fn parse_listen(args: &[String], command: &str, default: &str) -> Result<SocketAddr> {
    let mut listen = default.to_owned();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            listen = args
                .next()
                .context("`--listen` needs an address, such as 127.0.0.1:8080")?
                .clone();
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            value.clone_into(&mut listen);
        } else {
            bail!("`{command}` does not understand `{arg}`\n\n{USAGE}");
        }
    }
    listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address such as 127.0.0.1:8080"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SocketAddr> {
        let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
        parse_run_args(&args)
    }

    #[test]
    fn listen_address_defaults_and_overrides() -> Result<()> {
        assert_eq!(parse(&[])?, DEFAULT_LISTEN.parse()?);
        assert_eq!(
            parse(&["--listen", "0.0.0.0:9000"])?,
            "0.0.0.0:9000".parse()?
        );
        assert_eq!(parse(&["--listen=[::1]:80"])?, "[::1]:80".parse()?);
        Ok(())
    }

    #[test]
    fn bad_run_arguments_are_refused() {
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--listen", "localhost"]).is_err());
        assert!(parse(&["--port", "80"]).is_err());
    }
}
