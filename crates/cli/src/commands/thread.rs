//! `sealtip thread DIR`: tips, follow-ups and replies grouped by the
//! tipster's mailbox, in order. DIR holds folders made by `sealtip open` (and
//! the reply copies `sealtip reply` keeps beside the tip).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use sealtip_envelope::bundle::{Kind, Tip};
use sealtip_envelope::thread::{first_line, threads};

/// Arguments of `sealtip thread`.
#[derive(clap::Args)]
pub struct Args {
    /// The folder holding opened tips, follow-ups and replies.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

struct Item {
    tip: Tip,
    folder: PathBuf,
    modified: SystemTime,
}

/// Prints every thread in `DIR`.
pub fn run(args: Args) -> Result<()> {
    let items = read_items(&args.dir)?;
    if items.is_empty() {
        bail!(
            "{} holds no opened tip (folders with a tip.json, made by sealtip open)",
            args.dir.display()
        );
    }
    let threads = threads(items, |item| &item.tip, |item| item.modified);
    for (number, thread) in threads.iter().enumerate() {
        let replies = if thread[0].tip.reply.is_some() {
            "the tipster can receive replies"
        } else {
            "no replies possible"
        };
        println!(
            "Thread {} ({} item(s); {replies})",
            number + 1,
            thread.len()
        );
        for item in thread {
            let who = match item.tip.kind {
                Kind::Tip => "Tip",
                Kind::Message => "Tipster",
                Kind::Reply => "Agency",
            };
            println!("  {}  {who}: {}", item.tip.date, first_line(&item.tip.text));
            for answer in &item.tip.answers {
                println!("      {}: {}", answer.label, first_line(&answer.value));
            }
            if !item.tip.attachments.is_empty() {
                println!(
                    "      {} attachment(s) in {}/attachments/",
                    item.tip.attachments.len(),
                    item.folder.display()
                );
            }
        }
        println!();
    }
    Ok(())
}

fn read_items(dir: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let folder = entry?.path();
        let json_path = folder.join("tip.json");
        if !json_path.is_file() {
            continue;
        }
        let json = std::fs::read(&json_path)?;
        let tip: Tip = serde_json::from_slice(&json)
            .with_context(|| format!("{} is not a tip", json_path.display()))?;
        let modified = std::fs::metadata(&json_path)?
            .modified()
            .unwrap_or(SystemTime::UNIX_EPOCH);
        items.push(Item {
            tip,
            folder,
            modified,
        });
    }
    Ok(items)
}
