//! `sealtip inbox --relay URL --agency ID --token-file F [--json]`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::display;
use crate::relay_client::RelayClient;
pub use sealtip_api::human_size;

/// Where an agency's inbox is and how to get in.
#[derive(clap::Args)]
pub struct InboxArgs {
    /// The relay's base URL, e.g. https://tips.example.org
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// The agency id.
    #[arg(long, value_name = "ID")]
    pub agency: String,
    /// The file holding the agency's inbox token (from `sealtip-relay init`).
    #[arg(long, value_name = "F")]
    pub token_file: PathBuf,
}

/// Arguments of `sealtip inbox`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inbox: InboxArgs,
    /// Print the inbox as a JSON array of {id, kind, size, received}, as the relay listed it.
    #[arg(long)]
    json: bool,
}

/// Reads an inbox token file: one line, surrounding white space ignored.
pub fn read_token(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file {}", path.display()))?,
    );
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!(
            "{} does not hold an inbox token (one line, no spaces)",
            path.display()
        );
    }
    Ok(zeroize::Zeroizing::new(token.to_string()))
}

/// Lists the inbox: kind, size, received.
pub fn run(args: Args) -> Result<()> {
    let Args { inbox: args, json } = args;
    let token = read_token(&args.token_file)?;
    let inbox = RelayClient::new(&args.relay)?.inbox(&args.agency, &token)?;
    if json {
        let json = serde_json::to_string_pretty(&inbox.items)?;
        println!("{}", display::json(&json));
        return Ok(());
    }
    if inbox.items.is_empty() {
        println!("The inbox of {} is empty.", args.agency);
        return Ok(());
    }
    println!("{:<8} {:>10}  {:<20} id", "kind", "size", "received");
    for item in &inbox.items {
        println!(
            "{:<8} {:>10}  {:<20} {}",
            item.kind.as_str(),
            human_size(item.size),
            display::line(&item.received),
            item.id
        );
    }
    Ok(())
}
