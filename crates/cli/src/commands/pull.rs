//! `sealtip pull --relay URL --agency ID --token-file F [--out DIR] [--delete]`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::inbox::{InboxArgs, human_size, read_token};
use crate::files::AtomicFile;
use crate::received::{Received, ReceivedOrder};
use crate::relay_client::RelayClient;

/// Arguments of `sealtip pull`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inbox: InboxArgs,
    /// Save items into this folder (created if missing).
    #[arg(long, value_name = "DIR", default_value = "inbox")]
    out: PathBuf,
    /// Delete each item on the relay once its local copy is durable.
    #[arg(long)]
    delete: bool,
}

/// Downloads new items, each fsynced before it counts as pulled; with
/// `--delete`, removes them from the relay only after that.
pub fn run(args: Args) -> Result<()> {
    let token = read_token(&args.inbox.token_file)?;
    let client = RelayClient::new(&args.inbox.relay)?;
    let agency = &args.inbox.agency;
    let inbox = client.inbox(agency, &token)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let show_progress = std::io::stderr().is_terminal();
    // The relay's order, kept for threads: dates inside items order nothing.
    let mut order = ReceivedOrder::load(&args.out)?;
    for item in &inbox.items {
        order.push(Received {
            id: item.id.clone(),
            kind: item.kind.as_str().to_string(),
            received: item.received.clone(),
        });
    }
    order.save()?;
    let (mut pulled, mut present, mut deleted) = (0, 0, 0);
    for item in &inbox.items {
        let path = args
            .out
            .join(format!("{}-{}.age", item.kind.as_str(), item.id));
        if path.exists() {
            present += 1;
        } else {
            let mut file = AtomicFile::create(&path)?;
            // The id is checked (32 hex digits) when the inbox is read.
            let label = format!(
                "{} {}",
                item.kind.as_str(),
                item.id.get(..8).unwrap_or(&item.id)
            );
            let size = item.size.max(1);
            let mut progress = |done: u64| {
                if show_progress {
                    eprint!(
                        "\r{label}  {:>3}% of {}",
                        done * 100 / size,
                        human_size(item.size)
                    );
                }
            };
            let mut listed = AtMost {
                inner: file.file(),
                left: item.size,
            };
            let received = client
                .download(agency, &token, &item.id, &mut listed, &mut progress)
                .with_context(|| format!("cannot download {}", item.id))?;
            if received != item.size {
                bail!(
                    "cannot download {}: the relay sent {received} of the {} bytes it listed",
                    item.id,
                    item.size
                );
            }
            if show_progress {
                eprintln!();
            }
            file.commit()?;
            pulled += 1;
        }
        // The local copy is durable (fsynced file and folder) before this point.
        if args.delete {
            client
                .delete(agency, &token, &item.id)
                .with_context(|| format!("cannot delete {} on the relay", item.id))?;
            deleted += 1;
        }
    }
    println!(
        "Pulled {pulled} new item(s) into {}/ ({present} already there{}).",
        args.out.display(),
        if args.delete {
            format!(", {deleted} deleted on the relay")
        } else {
            String::new()
        }
    );
    if pulled > 0 {
        println!(
            "Open one with: sealtip open -i agency.key {}/<file>.age",
            args.out.display()
        );
    }
    Ok(())
}

/// Writes through to `inner` up to `left` bytes, and refuses more: a relay
/// cannot fill the disk by sending more than it listed.
struct AtMost<W> {
    inner: W,
    left: u64,
}

impl<W: Write> Write for AtMost<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other(
                "the relay sent more bytes than it listed for this item",
            ));
        }
        let written = self.inner.write(buf)?;
        self.left -= written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
