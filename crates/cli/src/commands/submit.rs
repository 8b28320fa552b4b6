//! `sealtip submit --relay URL --agency ID TIP`.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::relay_client::{RelayClient, Upload};

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
}

/// Solves the relay's proof-of-work and uploads the sealed tip.
pub fn run(args: Args) -> Result<()> {
    let mut file =
        File::open(&args.tip).with_context(|| format!("cannot read {}", args.tip.display()))?;
    let size = file.metadata()?.len();
    let client = RelayClient::new(&args.relay)?;
    let id = client
        .upload(&args.agency, Upload::Tip, &mut file, size)
        .with_context(|| format!("cannot submit {}", args.tip.display()))?;
    println!("{id}");
    Ok(())
}
