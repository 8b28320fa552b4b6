//! `sealtip desk`: the officers' inbox, served by this binary on loopback,
//! from pages compiled into it. The agency's keys never meet code the relay
//! serves: the desk opens tips natively, and the browser only shows pages
//! the desk wrote.
//!
//! - [`server`]: the loopback HTTP side and its guards;
//! - [`pages`]: the HTML (and `desk.css`);
//! - [`sync`]: the rounds with the relay;
//! - [`state`]: what the desk holds (keys, items, queued replies and case items);
//! - [`open`]: opening items, sealing replies and case items with envelope;
//! - [`case`]: a thread's case state, merged, and the change a form asks;
//! - [`case_form`]: the case form's and the export button's handlers;
//! - [`find`]: search and filters over the inbox, in memory;
//! - [`retention`]: when the relay deletes an item;
//! - [`export`]: a thread exported as evidence (`sealtip export`'s folder);
//! - [`attachments`]: photos known by their bytes, download names;
//! - [`words`]: the desk's words from `www/i18n/*.ftl`.

pub(crate) mod attachments;
mod case;
mod case_form;
mod export;
mod find;
mod open;
pub(crate) mod pages;
mod retention;
mod server;
mod state;
mod sync;
mod words;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context, Result, bail};

use crate::commands::inbox::read_token;
use crate::files::read_identities;
use crate::relay_client::RelayClient;
use state::{Keys, State};
use words::Words;

/// Arguments of `sealtip desk`.
#[derive(clap::Args)]
pub struct Args {
    /// The relay's base URL, e.g. https://tips.example.org (without it, the desk reads --inbox only).
    #[arg(long, value_name = "URL", requires = "token_file")]
    relay: Option<String>,
    /// The agency id.
    #[arg(long, value_name = "ID")]
    agency: String,
    /// The file holding the agency's inbox token (from `sealtip-relay init`).
    #[arg(long, value_name = "F")]
    token_file: Option<PathBuf>,
    /// The agency's identity file (plain, or protected by a passphrase: asked, or SEALTIP_PASSPHRASE); repeatable.
    #[arg(short, long = "identity", value_name = "KEY", required = true)]
    identity: Vec<PathBuf>,
    /// Where the desk listens: a loopback address only.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: String,
    /// A folder of pulled items (tip-<id>.age, message-<id>.age, as `sealtip pull` writes them);
    /// they open without the network, and new items are downloaded into it.
    #[arg(long, value_name = "DIR")]
    inbox: Option<PathBuf>,
    /// The desk's language (en, es, fr, pt, ar, zh-Hans, vi, ru, tl, ht); default: LANG, else English.
    #[arg(long, value_name = "TAG")]
    lang: Option<String>,
    /// The officer's name, written into case changes and exports (both need it).
    #[arg(long, value_name = "NAME")]
    officer: Option<String>,
    /// Where exports are written; default: `exports` beside the --inbox folder (else in the current folder).
    #[arg(long, value_name = "DIR")]
    export_dir: Option<PathBuf>,
}

/// The desk, shared by its pages and its rounds.
pub struct Desk {
    words: Words,
    agency: String,
    relay: Option<String>,
    inbox_dir: Option<PathBuf>,
    /// The officer's name (`--officer`): case changes and exports need it.
    officer: Option<String>,
    /// Where exports are written (`--export-dir`).
    export_dir: PathBuf,
    /// The random part of every address (128 bits, hex).
    secret: String,
    /// The `Host` values the desk answers to.
    hosts: Vec<String>,
    state: Mutex<State>,
    /// Held by the round under way.
    rounds: tokio::sync::Mutex<()>,
    /// Ends the wait for the next round (on lock).
    wake: tokio::sync::Notify,
}

impl Desk {
    /// What the desk holds, locked for the caller.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The start of every address: `/s/<secret>/`.
    fn base(&self) -> String {
        format!("/s/{}/", self.secret)
    }

    /// The `--inbox` folder as the officer named it.
    fn folder_name(&self) -> String {
        self.inbox_dir
            .as_ref()
            .map(|dir| dir.display().to_string())
            .unwrap_or_default()
    }
}

/// Reads the keys, loads `--inbox`, and serves the desk until Ctrl-C.
pub fn run(args: Args) -> Result<()> {
    let listen: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address and port, such as 127.0.0.1:0",
            args.listen
        )
    })?;
    if !listen.ip().is_loopback() {
        bail!(
            "--listen {listen} is not a loopback address: the desk is for this machine only (use 127.0.0.1 or [::1])"
        );
    }
    if args.relay.is_none() && args.inbox.is_none() {
        bail!("give --relay (with --token-file), --inbox DIR, or both");
    }
    if let Some(relay) = &args.relay {
        RelayClient::new(relay)?;
    }
    if let Some(tag) = &args.lang
        && !words::knows(tag)
    {
        let known: Vec<&str> = words::tags().collect();
        bail!(
            "--lang {tag:?} is not a language of the desk ({})",
            known.join(", ")
        );
    }
    let words = Words::for_tag(&language(args.lang.as_deref()));
    if args.agency.trim().is_empty() {
        bail!("--agency is empty");
    }
    let officer = args.officer.as_deref().map(str::trim);
    if let Some(name) = officer
        && (name.is_empty() || name.chars().count() > sealtip_envelope::MAX_NAME_CHARS)
    {
        bail!(
            "--officer must be 1 to {} characters",
            sealtip_envelope::MAX_NAME_CHARS
        );
    }
    let officer = officer.map(str::to_string);
    let export_dir = match (&args.export_dir, &args.inbox) {
        (Some(dir), _) => dir.clone(),
        (None, Some(inbox)) => crate::files::parent_dir(inbox).join("exports"),
        (None, None) => PathBuf::from("exports"),
    };
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    let token = match &args.token_file {
        Some(path) if args.relay.is_some() => Some(read_token(path)?),
        _ => None,
    };
    let keys = Arc::new(Keys { identities, token });
    let mut state = State {
        keys: Some(keys.clone()),
        ..State::default()
    };
    if let Some(dir) = &args.inbox {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for item in sync::load_folder(dir, &keys)? {
            state.add(item);
        }
        state.mailboxes = state.verified_mailboxes();
    }
    // What the folder held is not new.
    state.look();
    drop(keys);
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).context("the system random generator failed")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let desk = Arc::new(Desk {
            words,
            agency: args.agency.trim().to_string(),
            relay: args.relay,
            inbox_dir: args.inbox,
            officer,
            export_dir,
            secret: hex::encode(secret),
            hosts: hosts(address),
            state: Mutex::new(state),
            rounds: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        });
        // A closed standard output (the terminal went away, a script stopped
        // reading after the address) must not stop the desk.
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "{}\n\n    http://{address}{}\n",
            desk.words.get("desk-open-this"),
            desk.base()
        );
        let _ = writeln!(out, "{}", desk.words.get("desk-stop-hint"));
        let _ = out.flush();
        tokio::spawn(sync::rounds(desk.clone()));
        axum::serve(listener, server::router(desk))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the desk stopped")
    })
}

/// The `Host` values of a desk at `address`: the address itself, and
/// `localhost` with its port.
fn hosts(address: SocketAddr) -> Vec<String> {
    vec![
        address.to_string().to_ascii_lowercase(),
        format!("localhost:{}", address.port()),
    ]
}

/// `--lang`, else the locale's language (LC_ALL, LC_MESSAGES, LANG).
fn language(flag: Option<&str>) -> String {
    if let Some(tag) = flag {
        return tag.to_string();
    }
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
