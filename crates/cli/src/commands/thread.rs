//! `sealtip thread DIR [-i KEY] [--json]`: tips with the follow-ups and
//! replies proven to belong to them, in the order the relay received them,
//! and, with the officer's identity, each thread's case state merged from
//! the pulled case items (`case-<id>.age`). DIR holds folders made by
//! `sealtip open` (and the reply copies `sealtip reply` keeps beside the
//! tip), and `relay-order.json` written by `sealtip pull`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use sealtip_envelope::{Kind, OpenedTip, TIP_JSON, TIP_MAC, Tip};

use crate::threads::{Standing, Thread, ThreadItem, first_line, threads};

use super::case;
use crate::display;
use crate::received::{ReceivedOrder, kind_and_id};

/// Arguments of `sealtip thread`.
#[derive(clap::Args)]
pub struct Args {
    /// The folder holding opened tips, follow-ups and replies.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Print the threads as a JSON array, each thread an object with `case` (its case id, the
    /// mailbox id, or null), `verified`, `state` (the merged case state, with -i) and `items`,
    /// each item with `id`, `kind`, `verified`, `standing`, `date`, `text` and `folder`.
    #[arg(long)]
    json: bool,
    /// Your identity file: opens the pulled case items (`case-<id>.age`) and shows each thread's
    /// case state (status, assignee, labels, notes) merged from them.
    #[arg(short, long = "identity", value_name = "KEY")]
    identity: Vec<PathBuf>,
}

/// One opened item in DIR.
pub struct Item {
    /// Its `tip.json` (parsed and as exact bytes), `tip.mac` and `tip.txt`.
    pub opened: OpenedTip,
    /// The relay's item id (from the folder name), if known.
    pub id: String,
    /// The folder it was opened into.
    pub folder: PathBuf,
    /// Its place in the relay's order, then when it was opened here.
    pub received: (usize, SystemTime),
}

/// Prints every thread in `DIR`.
pub fn run(args: Args) -> Result<()> {
    let threads = read_threads(&args.dir)?;
    if threads.is_empty() {
        bail!(
            "{} holds no opened tip (folders with a tip.json, made by sealtip open)",
            args.dir.display()
        );
    }
    let states: Vec<Option<crate::case_state::CaseState>> = if args.identity.is_empty() {
        threads.iter().map(|_| None).collect()
    } else {
        let mut identities = Vec::new();
        for path in &args.identity {
            identities.extend(crate::files::read_identities(path)?);
        }
        let files = case::read_case_items(&args.dir, &identities)?;
        case::report_unreadable(&files.unreadable);
        let (states, refused) = case::case_states(&threads, files.held);
        case::report_refused(&refused);
        states.into_iter().map(Some).collect()
    };
    if args.json {
        let json: Vec<serde_json::Value> = threads
            .iter()
            .zip(&states)
            .map(|(thread, state)| {
                serde_json::json!({
                    "case": thread.mailbox,
                    "verified": thread.mailbox.is_some(),
                    "state": state.as_ref().filter(|_| thread.mailbox.is_some()),
                    "items": thread.items.iter().map(item_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", display::json(&serde_json::to_string_pretty(&json)?));
        return Ok(());
    }
    for (number, (thread, state)) in threads.iter().zip(&states).enumerate() {
        print_thread(number + 1, thread);
        if let Some(mailbox) = &thread.mailbox {
            // The case id `sealtip case --thread` takes.
            println!("  Case {mailbox}");
            for line in state.iter().flat_map(case::state_lines) {
                println!("    {line}");
            }
            println!();
        }
    }
    Ok(())
}

/// The threads of the opened items in `dir`.
pub fn read_threads(dir: &Path) -> Result<Vec<Thread<Item>>> {
    let items = read_items(dir)?;
    Ok(threads(
        items,
        |item| item.opened.view(),
        |item| item.received,
    ))
}

/// The thread holding the opened item `folder`, found among the opened
/// items beside it (so a follow-up finds its tip).
pub fn thread_holding(folder: &Path) -> Result<Thread<Item>> {
    let dir = crate::files::parent_dir(folder);
    let wanted = std::fs::canonicalize(folder)
        .with_context(|| format!("cannot read {}", folder.display()))?;
    for thread in read_threads(dir)? {
        let found = thread
            .items
            .iter()
            .any(|entry| std::fs::canonicalize(&entry.item.folder).ok().as_ref() == Some(&wanted));
        if found {
            return Ok(thread);
        }
    }
    bail!(
        "{} is not an opened item (a folder with a tip.json, made by sealtip open)",
        folder.display()
    );
}

fn item_json(entry: &ThreadItem<Item>) -> serde_json::Value {
    let item = &entry.item;
    serde_json::json!({
        "id": item.id,
        "kind": item.opened.tip.kind.as_str(),
        "verified": entry.standing == Standing::Verified,
        "standing": match entry.standing {
            Standing::Verified => "verified",
            Standing::Unverified => "unverified",
            Standing::Alone => "alone",
        },
        "date": item.opened.tip.date,
        "text": item.opened.tip.text,
        "attachments": item.opened.tip.attachments.len(),
        "folder": item.folder,
    })
}

fn print_thread(number: usize, thread: &Thread<Item>) {
    let first = &thread.items[0];
    let heading = match (first.standing, thread.can_reply()) {
        (Standing::Verified, true) => format!(
            "verified; replies go to the tipster's key {}",
            thread
                .reply_to
                .as_ref()
                .map(|r| r.fingerprint())
                .unwrap_or_default()
        ),
        (Standing::Unverified, _) => {
            "UNVERIFIED: it claims a conversation but carries no valid proof; not merged, no replies"
                .to_string()
        }
        (_, _) => "no replies possible".to_string(),
    };
    println!(
        "Thread {number} ({} item(s); {heading})",
        thread.items.len()
    );
    for entry in &thread.items {
        let item = &entry.item;
        let who = match item.opened.tip.kind {
            Kind::Tip => "Tip",
            Kind::Message => "Tipster",
            Kind::Reply => "Agency",
            Kind::Case => "Case",
        };
        let mark = match entry.standing {
            Standing::Unverified => " [unverified]",
            _ => "",
        };
        println!(
            "  {}  {who}{mark}: {}",
            display::line(&item.opened.tip.date),
            display::line(&first_line(&item.opened.tip.text))
        );
        for answer in &item.opened.tip.answers {
            println!(
                "      {}: {}",
                display::line(&answer.label),
                display::line(&first_line(&answer.value))
            );
        }
        if !item.opened.tip.attachments.is_empty() {
            println!(
                "      {} attachment(s) in {}/attachments/",
                item.opened.tip.attachments.len(),
                display::line(&item.folder.display().to_string())
            );
        }
    }
    println!();
}

fn read_items(dir: &Path) -> Result<Vec<Item>> {
    let order = ReceivedOrder::load(dir)?;
    let mut items = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let folder = entry?.path();
        let json_path = folder.join(TIP_JSON);
        if !json_path.is_file() {
            continue;
        }
        let json = std::fs::read(&json_path)?;
        let tip: Tip = serde_json::from_slice(&json)
            .with_context(|| format!("{} is not a tip", json_path.display()))?;
        let mac = match std::fs::read_to_string(folder.join(TIP_MAC)) {
            Ok(text) => Some(
                sealtip_envelope::parse_hex32(text.trim_end())
                    .with_context(|| format!("{}/{TIP_MAC} is damaged", folder.display()))?,
            ),
            Err(_) => None,
        };
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let (relay_kind, id) = kind_and_id(&name).unwrap_or(("", name.as_str()));
        let relay_kind = order.kind(id).unwrap_or(relay_kind);
        let mismatch = (!relay_kind.is_empty())
            .then(|| crate::received::kind_mismatch(relay_kind, tip.kind))
            .flatten();
        if let Some(why) = mismatch {
            eprintln!(
                "{}: refused: {why}",
                display::line(&folder.display().to_string())
            );
            continue;
        }
        if tip.kind == Kind::Case {
            // Case state, read from the sealed case items (with -i), never
            // an entry of a thread.
            continue;
        }
        let modified = std::fs::metadata(&json_path)?
            .modified()
            .unwrap_or(SystemTime::UNIX_EPOCH);
        items.push(Item {
            received: (order.position(id).unwrap_or(usize::MAX), modified),
            id: id.to_string(),
            opened: OpenedTip {
                tip,
                text: None,
                json,
                mac,
            },
            folder,
        });
    }
    Ok(items)
}
