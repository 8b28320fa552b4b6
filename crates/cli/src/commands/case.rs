//! `sealtip case DIR --thread ID -i KEY [--status S] [--assign NAME]
//! [--label L]… [--unlabel L]… [--note TEXT | --note-file F] --officer NAME
//! --relay URL --agency ID --token-file F`: a thread's case state, shared by
//! the officers as case items on the relay, sealed to the officers only.
//!
//! Without a change, prints the thread's merged case state. With one, seals
//! one case item (FORMAT.md §7), posts it, and keeps its sealed copy in DIR
//! as `case-<id>.age`, as `sealtip pull` would have written it.
//!
//! The functions here are also what the desk calls: [`read_case_items`],
//! [`case_states`], [`seal_case_item`] and [`post_case_item`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_api::CASE_ITEM_MAX_BYTES;
use sealtip_envelope::{
    CaseChange, CaseStatus, Identity, KeyKind, Kind, Limits, OpenedTip, Recipient, ThreadKey, Tip,
    open_tip, seal_tip,
};

use super::inbox::read_token;
use super::thread::{Item, read_threads};
use crate::case_state::{CaseItem, CaseState, case_item_id, merge};
use crate::display;
use crate::files::{AtomicFile, read_identities};
use crate::received::{Received, ReceivedOrder, kind_and_id};
use crate::relay_client::{RelayClient, Upload};
use crate::threads::{Thread, case_items_of};

/// Arguments of `sealtip case`.
#[derive(clap::Args)]
pub struct Args {
    /// The folder of pulled and opened items (`sealtip pull --out DIR`, then `sealtip open`): the
    /// thread's tip must be opened there; case items are read from its `case-<id>.age` files.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The thread: its case id (the mailbox id `sealtip thread` prints) or the relay id of any
    /// item in it (the `<id>` of a `tip-<id>` folder).
    #[arg(long, value_name = "ID")]
    thread: String,
    /// Your identity file: opens the case items, and what they are sealed to.
    #[arg(short, long = "identity", value_name = "KEY", required = true)]
    identity: Vec<PathBuf>,
    /// Also seal to this officer's recipient (age1pq1… or age1…); repeatable. Case items are
    /// sealed to your identities' recipients and these, never to the tipster.
    #[arg(long, value_name = "RECIPIENT")]
    officer_recipient: Vec<String>,
    /// Set the status: new, in_progress, passed_on or closed.
    #[arg(long, value_name = "S", value_parser = parse_status)]
    status: Option<CaseStatus>,
    /// Assign the case to this officer ("" for nobody).
    #[arg(long, value_name = "NAME")]
    assign: Option<String>,
    /// Add a label; repeatable.
    #[arg(long, value_name = "L")]
    label: Vec<String>,
    /// Remove a label; repeatable.
    #[arg(long, value_name = "L")]
    unlabel: Vec<String>,
    /// Add an internal note (never shown to the tipster).
    #[arg(long, value_name = "TEXT", conflicts_with = "note_file")]
    note: Option<String>,
    /// Add an internal note read from a file.
    #[arg(long, value_name = "F")]
    note_file: Option<PathBuf>,
    /// Your name, as the other officers see it on your changes.
    #[arg(long, value_name = "NAME")]
    officer: Option<String>,
    /// The relay's base URL (needed to post a change).
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// The agency id (needed to post a change).
    #[arg(long, value_name = "ID")]
    agency: Option<String>,
    /// The file holding the agency's inbox token (needed to post a change).
    #[arg(long, value_name = "F")]
    token_file: Option<PathBuf>,
    /// Print the merged case state as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_status(text: &str) -> Result<CaseStatus, String> {
    CaseStatus::parse(text)
        .ok_or_else(|| "the status is one of new, in_progress, passed_on, closed".to_string())
}

/// A pulled case item (`case-<id>.age`), opened.
pub struct HeldCase {
    /// The relay's id of it.
    pub relay_id: String,
    /// Its case item id: the SHA-256 of its sealed file.
    pub id: String,
    /// Whether the relay listed it as a case item (`relay-order.json`, or
    /// the file name `sealtip pull` gave it).
    pub listed_as_case: bool,
    /// What it says.
    pub opened: OpenedTip,
}

/// What [`read_case_items`] found.
pub struct CaseFiles {
    /// The case items that opened.
    pub held: Vec<HeldCase>,
    /// The relay ids of `case-<id>.age` files that did not open with these
    /// identities or are not a case item's size.
    pub unreadable: Vec<String>,
}

/// Reads and opens every `case-<id>.age` in `dir` with `identities`.
pub fn read_case_items(dir: &Path, identities: &[Identity]) -> Result<CaseFiles> {
    let order = ReceivedOrder::load(dir)?;
    let mut found = CaseFiles {
        held: Vec::new(),
        unreadable: Vec::new(),
    };
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(("case", relay_id)) = name.strip_suffix(".age").and_then(kind_and_id) else {
            continue;
        };
        let relay_id = relay_id.to_string();
        let small = std::fs::metadata(&path)?.len() <= CASE_ITEM_MAX_BYTES;
        let sealed = if small {
            std::fs::read(&path)?
        } else {
            Vec::new()
        };
        match open_tip(&sealed[..], identities, &Limits::default(), &mut ()) {
            Ok(opened) if small => found.held.push(HeldCase {
                listed_as_case: order.kind(&relay_id).unwrap_or("case") == "case",
                id: case_item_id(&sealed),
                relay_id,
                opened,
            }),
            _ => found.unreadable.push(relay_id),
        }
    }
    found.held.sort_by(|a, b| a.relay_id.cmp(&b.relay_id));
    Ok(found)
}

/// The merged case state of each of `threads` (in their order), and the
/// case items proven in none of them (never merged).
pub fn case_states<U>(
    threads: &[Thread<U>],
    held: Vec<HeldCase>,
) -> (Vec<CaseState>, Vec<HeldCase>) {
    let sorted = case_items_of(threads, held, |h| h.opened.view(), |h| h.listed_as_case);
    let states = sorted
        .by_thread
        .iter()
        .map(|items| {
            let items: Vec<CaseItem<'_>> = items
                .iter()
                .filter_map(|h| {
                    Some(CaseItem {
                        id: &h.id,
                        change: h.opened.tip.case.as_ref()?,
                    })
                })
                .collect();
            merge(&items)
        })
        .collect();
    (states, sorted.refused)
}

/// A case item of the thread `mailbox` (whose key is `key`) carrying
/// `change`, sealed to `officers` (one kind of key; never the tipster's):
/// the sealed bytes and what they hold.
pub fn seal_case_item(
    agency: &str,
    date: &str,
    mailbox: &str,
    key: &ThreadKey,
    change: CaseChange,
    officers: &[Recipient],
) -> Result<(Vec<u8>, OpenedTip)> {
    if let Some(problem) = change.problem() {
        bail!("{problem}");
    }
    if change.is_empty() {
        bail!("the change changes nothing");
    }
    let mut tip = Tip::new(Kind::Case, agency, date);
    tip.thread = Some(mailbox.to_string());
    tip.case = Some(change);
    let sealing = seal_tip(officers, Vec::new())?;
    let (sealed, written) = sealing.finish_case(tip, key)?;
    if sealed.len() as u64 > CASE_ITEM_MAX_BYTES {
        bail!(
            "the case item is {} bytes, over the relay's {CASE_ITEM_MAX_BYTES}: write a shorter note",
            sealed.len()
        );
    }
    Ok((sealed, written))
}

/// Posts a sealed case item to the agency's inbox; the relay's id of it.
pub fn post_case_item(
    client: &RelayClient,
    agency: &str,
    token: &str,
    sealed: &[u8],
) -> Result<String> {
    client.upload(
        agency,
        Upload::Case { token },
        &mut &sealed[..],
        sealed.len() as u64,
    )
}

/// The recipients a case item is sealed to: the officer's own keys and
/// `extra`, of one kind (a file never mixes kinds): the hybrid ones if there
/// are any, else the X25519 ones.
pub fn officer_recipients(identities: &[Identity], extra: &[String]) -> Result<Vec<Recipient>> {
    let mut all: Vec<Recipient> = identities.iter().map(Identity::recipient).collect();
    for text in extra {
        all.push(
            Recipient::parse(text.trim())
                .with_context(|| format!("--officer-recipient {text:?} is not a recipient"))?,
        );
    }
    if all.is_empty() {
        bail!("no officer recipient to seal to");
    }
    let kind = match all.iter().any(|r| r.kind() == KeyKind::Hybrid) {
        true => KeyKind::Hybrid,
        false => KeyKind::X25519,
    };
    let (same, other): (Vec<Recipient>, Vec<Recipient>) =
        all.into_iter().partition(|r| r.kind() == kind);
    for dropped in other {
        eprintln!(
            "sealtip: not sealed to {} (an X25519 key; the case item is sealed to the post-quantum ones)",
            dropped.fingerprint()
        );
    }
    Ok(same)
}

/// Shows, or changes and posts, one thread's case state.
pub fn run(args: Args) -> Result<()> {
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    let threads = read_threads(&args.dir)?;
    let index = find_thread(&threads, &args.thread)?;
    let files = read_case_items(&args.dir, &identities)?;
    report_unreadable(&files.unreadable);
    let (mut states, refused) = case_states(&threads, files.held);
    report_refused(&refused);
    let state = states.swap_remove(index);
    let thread = &threads[index];
    let (Some(mailbox), Some(key)) = (&thread.mailbox, &thread.key) else {
        bail!("this thread is not verified: it has no case state");
    };
    let change = change_of(&args, &state)?;
    let Some(change) = change else {
        print_state(mailbox, &state, args.json)?;
        return Ok(());
    };
    let (Some(relay), Some(agency), Some(token_file)) =
        (&args.relay, &args.agency, &args.token_file)
    else {
        bail!("to post a change, give --relay, --agency and --token-file");
    };
    let token = read_token(token_file)?;
    let officers = officer_recipients(&identities, &args.officer_recipient)?;
    let (sealed, _) = seal_case_item(
        agency,
        &crate::time::today(),
        mailbox,
        key,
        change,
        &officers,
    )?;
    let client = RelayClient::new(relay)?;
    let relay_id = post_case_item(&client, agency, &token, &sealed)?;
    keep_copy(&args.dir, &relay_id, &sealed)?;
    println!("Case item {relay_id} posted for case {mailbox}.");
    Ok(())
}

/// The thread `wanted` names: a mailbox id, or the relay id of one of its
/// items.
fn find_thread(threads: &[Thread<Item>], wanted: &str) -> Result<usize> {
    let found = threads.iter().position(|thread| {
        thread.mailbox.as_deref() == Some(wanted)
            || thread.items.iter().any(|entry| entry.item.id == wanted)
    });
    match found {
        Some(index) if threads[index].mailbox.is_some() => Ok(index),
        Some(_) => bail!(
            "{} is not in a verified thread (no proven tip): it has no case state",
            display::line(wanted)
        ),
        None => bail!(
            "no thread in this folder has the case id or an item {}; `sealtip thread` lists them",
            display::line(wanted)
        ),
    }
}

/// The change the flags ask for, `None` when they ask none.
fn change_of(args: &Args, state: &CaseState) -> Result<Option<CaseChange>> {
    let note = match (&args.note, &args.note_file) {
        (Some(note), _) => Some(note.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        (None, None) => None,
    };
    let change = CaseChange {
        officer: String::new(),
        written: crate::time::now_rfc3339(),
        status: args.status,
        assignee: args.assign.clone(),
        labels_added: args.label.iter().map(|l| l.trim().to_string()).collect(),
        labels_removed: args.unlabel.iter().map(|l| l.trim().to_string()).collect(),
        note: note.map(|n| n.trim_end().to_string()),
        seen: state.heads.clone(),
    };
    if change.is_empty() {
        return Ok(None);
    }
    let Some(officer) = &args.officer else {
        bail!("to change the case, say who you are with --officer NAME");
    };
    Ok(Some(CaseChange {
        officer: officer.trim().to_string(),
        ..change
    }))
}

/// Keeps the posted sealed file in `dir` as `case-<id>.age`, listed in
/// `relay-order.json` (if the folder has one) after what the relay listed.
fn keep_copy(dir: &Path, relay_id: &str, sealed: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(&dir.join(format!("case-{relay_id}.age")))?;
    std::io::Write::write_all(file.file(), sealed)?;
    file.commit()?;
    let mut order = ReceivedOrder::load(dir)?;
    if order.exists() {
        order.push(Received {
            id: relay_id.to_string(),
            kind: "case".into(),
            received: String::new(),
        });
        order.save()?;
    }
    Ok(())
}

/// Says which pulled case items did not open.
pub fn report_unreadable(relay_ids: &[String]) {
    for id in relay_ids {
        eprintln!("case-{id}.age: does not open with these identities (not sealed to you?)");
    }
}

/// Says which case items were refused, and why that matters.
pub fn report_refused(refused: &[HeldCase]) {
    for held in refused {
        let why = if held.listed_as_case {
            "not proven in any verified thread opened here (made up by the relay, or its thread's tip is not opened)"
        } else {
            "the relay does not list it as a case item"
        };
        eprintln!("case-{}.age: refused, not merged: {why}", held.relay_id);
    }
}

/// Prints `state` for a person, or as JSON.
fn print_state(mailbox: &str, state: &CaseState, json: bool) -> Result<()> {
    if json {
        let value = serde_json::json!({ "case": mailbox, "state": state });
        println!("{}", display::json(&serde_json::to_string_pretty(&value)?));
        return Ok(());
    }
    println!("Case {mailbox}");
    for line in state_lines(state) {
        println!("  {line}");
    }
    Ok(())
}

/// The lines `sealtip case` and `sealtip thread` print for a case state.
pub fn state_lines(state: &CaseState) -> Vec<String> {
    let by = |officer: &str, written: &str| {
        format!("({}, {})", display::line(officer), display::line(written))
    };
    let mut lines = Vec::new();
    lines.push(match &state.status {
        Some(set) => format!(
            "Status: {} {}",
            set.value.as_str(),
            by(&set.officer, &set.written)
        ),
        None => "Status: new".to_string(),
    });
    match &state.assignee {
        Some(set) if !set.value.is_empty() => lines.push(format!(
            "Assigned to: {} {}",
            display::line(&set.value),
            by(&set.officer, &set.written)
        )),
        _ => lines.push("Assigned to: nobody".to_string()),
    }
    if !state.labels.is_empty() {
        let labels: Vec<String> = state
            .labels
            .iter()
            .map(|l| display::line(l).to_string())
            .collect();
        lines.push(format!("Labels: {}", labels.join(", ")));
    }
    for note in &state.notes {
        lines.push(format!(
            "Note {}: {}",
            by(&note.officer, &note.written),
            display::text(&note.text, "    ")
        ));
    }
    for id in &state.missing {
        lines.push(format!(
            "WARNING: a case item another officer saw is missing ({}…): the relay may have dropped it",
            id.get(..16).unwrap_or(id)
        ));
    }
    lines
}
