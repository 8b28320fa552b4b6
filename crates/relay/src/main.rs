//! `sealtip-relay`: stores sealed tips it cannot open, and serves the tipster's page.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sealtip_relay::config::Storage;
use sealtip_relay::store::Store;
#[cfg(feature = "postgres")]
use sealtip_relay::store::postgres::PgStore;
#[cfg(feature = "sqlite")]
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::{AppState, Config, serve};

/// sealtip-relay: stores sealed tips it cannot open, and serves the tipster's page.
///
/// Run `sealtip-relay init` once, then `sealtip-relay` to serve. The relay
/// records no client address, user agent, referrer or cookie.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// The configuration file.
    #[arg(long, short, default_value = "data/relay.toml", value_name = "FILE")]
    config: PathBuf,
    /// Address to listen on (overrides `listen` in the file; default 127.0.0.1:8080).
    #[arg(long, short, value_name = "ADDR")]
    listen: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Writes relay.toml and a demo agency (key, recipient, inbox token); never overwrites.
    Init {
        /// Folder to write into.
        #[arg(long, default_value = "data", value_name = "DIR")]
        dir: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    match run_cli(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealtip-relay: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_cli(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Init { dir }) => {
            let done = sealtip_relay::init::init(&dir)?;
            println!("wrote {}", done.config.display());
            println!(
                "demo agency \"demo\": identity {} (keep it off the relay), recipient {}",
                done.key.display(),
                done.recipient
            );
            println!("inbox token: {}", done.token.display());
            if !cfg!(feature = "sqlite") {
                println!(
                    "this relay was built without SQLite: name your PostgreSQL database in {}",
                    done.config.display()
                );
            }
            println!(
                "start the relay with: sealtip-relay --config {}",
                done.config.display()
            );
            Ok(())
        }
        None => run(cli.config, cli.listen),
    }
}

fn run(config_path: PathBuf, listen: Option<String>) -> anyhow::Result<()> {
    let relay = Config::load(&config_path)?
        .check()
        .with_context(|| format!("{} is not valid", config_path.display()))?;
    let address = listen
        .or_else(|| relay.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match &relay.storage {
            #[cfg(feature = "sqlite")]
            Storage::Sqlite { database, blobs } => {
                let store = SqliteStore::open(database, blobs).with_context(|| {
                    format!(
                        "cannot open storage {} and {}",
                        database.display(),
                        blobs.display()
                    )
                })?;
                serve_until_stopped(store, relay, &address).await
            }
            #[cfg(feature = "postgres")]
            Storage::Postgres(url) => {
                let store = PgStore::open(url.expose(), relay.upload_total())
                    .await
                    .context("cannot open the PostgreSQL storage")?;
                serve_until_stopped(store, relay, &address).await
            }
        }
    })
}

async fn serve_until_stopped<S: Store>(
    store: S,
    relay: sealtip_relay::Relay,
    address: &str,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr()?;
    let relay = Arc::new(relay);
    println!("sealtip-relay listening on http://{local}/");
    let mut ids: Vec<&String> = relay.agencies.keys().collect();
    ids.sort();
    for id in ids {
        println!("  agency {id}: http://{local}/a/{id}");
    }
    if !relay.dist.join("index.html").is_file() {
        println!(
            "  (no web client in {}: run cargo xtask run to build it)",
            relay.dist.display()
        );
    }
    let state = AppState::new(store, relay);
    tokio::select! {
        served = serve(listener, state) => served.context("the server stopped"),
        () = stop_signal() => {
            println!("sealtip-relay stopping");
            Ok(())
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix. Uploads not yet answered are dropped; every
/// answered one is already durable.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
