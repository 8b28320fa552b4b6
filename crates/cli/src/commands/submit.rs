//! `sealtip submit --relay URL --agency ID [--proxy URL] TIP`: one request for a tip of
//! up to 8 MiB, an upload session part by part for a larger one.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};

use sealtip_api::ItemKind;

use crate::proxy::ProxyArgs;
use crate::relay_client::{PART_BYTES, RelayClient, Upload};

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
    let size = file.metadata()?.len();
    let client = RelayClient::with_proxy(&args.relay, args.proxy.choose()?)?;
    let failed = || format!("cannot submit {}", args.tip.display());
    let (upload, kind) = match args.kind {
        SubmitKind::Tip => (Upload::Tip, ItemKind::Tip),
        SubmitKind::Message => (Upload::Message, ItemKind::Message),
    };
    if size <= PART_BYTES {
        let id = client
            .upload(&args.agency, upload, &mut file, size)
            .with_context(failed)?;
        println!("{id}");
        return Ok(());
    }
    // A larger tip goes in parts, so a lost connection costs one part.
    let stored = client
        .upload_in_parts(&args.agency, kind, &mut file, size, &mut |_| {})
        .with_context(failed)?;
    match stored {
        Some(id) => println!("{id}"),
        None => eprintln!("the relay stored the tip (its answer with the id was lost)"),
    }
    Ok(())
}
