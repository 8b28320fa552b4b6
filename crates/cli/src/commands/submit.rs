//! `sealtip submit --relay URL --agency ID [--proxy URL] TIP`: the sealed tip
//! through an upload session, part by part, so a lost connection costs one
//! part and a lost answer can be asked again.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};

use sealtip_api::ItemKind;

use crate::proxy::ProxyArgs;
use crate::relay_client::RelayClient;

/// Arguments of `sealtip submit`.
#[derive(clap::Args)]
pub struct Args {
    /// The relay's base URL, e.g. https://tips.example.org
    #[arg(long, value_name = "URL")]
    relay: String,
    /// The agency to send the tip to.
    #[arg(long, value_name = "ID")]
    agency: String,
    /// The sealed tip (from `sealtip seal`).
    #[arg(value_name = "TIP")]
    tip: PathBuf,
    /// What the sealed file is: a new tip, or a follow-up message in a tip's thread.
    #[arg(long, value_enum, default_value = "tip")]
    kind: SubmitKind,
    #[command(flatten)]
    proxy: ProxyArgs,
}

/// The kinds a tipster sends.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SubmitKind {
    /// A new tip.
    Tip,
    /// A follow-up message.
    Message,
}

/// Solves the relay's proof-of-work and uploads the sealed tip.
pub fn run(args: Args) -> Result<()> {
    let mut file =
        File::open(&args.tip).with_context(|| format!("cannot read {}", args.tip.display()))?;
    let client = RelayClient::with_proxy(&args.relay, args.proxy.choose()?)?;
    let failed = || format!("cannot submit {}", args.tip.display());
    let kind = match args.kind {
        SubmitKind::Tip => ItemKind::Tip,
        SubmitKind::Message => ItemKind::Message,
    };
    let stored = client
        .send_sealed(&args.agency, kind, &mut file)
        .with_context(failed)?;
    match stored {
        Some(id) => println!("{id}"),
        None => eprintln!("the relay stored the tip (its answer with the id was lost)"),
    }
    Ok(())
}
