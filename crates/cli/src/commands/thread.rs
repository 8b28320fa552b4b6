//! `sealtip thread DIR`: tips, follow-ups and replies grouped by the
//! tipster's mailbox, in order. DIR holds folders made by `sealtip open` (and
//! the reply copies `sealtip reply` keeps beside the tip).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use sealtip_envelope::bundle::{Kind, Tip};

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
    // Items without a mailbox stand alone, keyed by their folder.
    let mut threads: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for item in items {
        let key = match &item.tip.reply {
            Some(reply) => reply.mailbox.clone(),
            None => format!("~{}", item.folder.display()),
        };
        threads.entry(key).or_default().push(item);
    }
    let mut threads: Vec<Vec<Item>> = threads.into_values().collect();
    for thread in &mut threads {
        // Day-precision dates first; within a day, the order they were opened
        // or written here; a tip before what answers it.
        thread.sort_by(|a, b| {
            (&a.tip.date, a.modified, rank(a.tip.kind)).cmp(&(
                &b.tip.date,
                b.modified,
                rank(b.tip.kind),
            ))
        });
    }
    threads.sort_by(|a, b| {
        a[0].tip
            .date
            .cmp(&b[0].tip.date)
            .then(a[0].modified.cmp(&b[0].modified))
    });
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

fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Tip => 0,
        Kind::Reply | Kind::Message => 1,
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let short: String = line.chars().take(200).collect();
    if short.len() < text.trim_end().len() {
        format!("{short} …")
    } else {
        short
    }
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
