//! `sealtip agency add-officer|remove-officer --config relay.toml --agency ID RECIPIENT`:
//! who a new tip is sealed to, changed without editing the file by hand.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::files::AtomicFile;
use anyhow::{Context, Result, bail};
use sealtip_envelope::{KeyKind, Recipient};
use toml_edit::{Array, DocumentMut, Item, Value};

/// `sealtip agency …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Add an officer's recipient (age1…) to an agency: new tips are sealed to it too.
    AddOfficer(Args),
    /// Remove an officer's recipient: tips sealed afterwards carry no stanza for it.
    RemoveOfficer(Args),
}

/// Which relay configuration, agency and key.
#[derive(clap::Args)]
pub struct Args {
    /// The relay's configuration file.
    #[arg(long, value_name = "FILE", default_value = "data/relay.toml")]
    config: PathBuf,
    /// The agency id.
    #[arg(long, value_name = "ID")]
    agency: String,
    /// The officer's recipient, age1…
    #[arg(value_name = "RECIPIENT")]
    recipient: String,
}

/// Runs `sealtip agency …`.
pub fn run(command: Command) -> Result<()> {
    let (args, add) = match command {
        Command::AddOfficer(args) => (args, true),
        Command::RemoveOfficer(args) => (args, false),
    };
    let recipient = Recipient::parse(&args.recipient)
        .with_context(|| format!("{} is not a usable key", args.recipient))?;
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read {}", args.config.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", args.config.display()))?;
    let recipients = agency_recipients(&mut doc, &args.agency, &args.config)?;
    let present: Vec<String> = recipients
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let key = recipient.to_string();
    let fingerprint = recipient.fingerprint();
    if add {
        if present.contains(&key) {
            bail!(
                "{fingerprint} is already a recipient of {}; nothing changed",
                args.agency
            );
        }
        // A file sealed to both kinds would lose the post-quantum protection
        // (age forbids it), so an agency's officers are all of one kind.
        let other_kind = present.iter().find_map(|text| {
            Recipient::parse(text)
                .ok()
                .filter(|other| other.kind() != recipient.kind())
        });
        if let Some(other) = other_kind {
            bail!(
                "{} already has {} officer keys and {fingerprint} is {}: an agency's officers must all be {}; nothing changed (README: moving an agency to new keys)",
                args.agency,
                kind_name(other.kind()),
                kind_name(recipient.kind()),
                kind_name(other.kind()),
            );
        }
        recipients.push(key.as_str());
    } else {
        if !present.contains(&key) {
            bail!(
                "{fingerprint} is not a recipient of {}; nothing changed",
                args.agency
            );
        }
        if present.len() == 1 {
            bail!(
                "{fingerprint} is the last recipient of {}: tips would have no one to open them; add another officer first",
                args.agency
            );
        }
        recipients.retain(|v| v.as_str() != Some(key.as_str()));
    }
    let remaining: Vec<String> = recipients
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut file = AtomicFile::replace(&args.config)?;
    file.write_all(doc.to_string().as_bytes())?;
    file.commit()?;
    println!(
        "{} {} {}; {} now seals new tips to:",
        if add { "Added" } else { "Removed" },
        recipient.fingerprint(),
        if add { "to" } else { "from" },
        args.agency
    );
    for text in &remaining {
        match Recipient::parse(text) {
            Ok(r) => println!("  {}  {}", r.fingerprint(), kind_name(r.kind())),
            Err(_) => println!("  (unreadable key)"),
        }
    }
    println!("Restart sealtip-relay for the change to take effect.");
    Ok(())
}

fn agency_recipients<'a>(
    doc: &'a mut DocumentMut,
    agency: &str,
    path: &Path,
) -> Result<&'a mut Array> {
    let agencies = doc
        .get_mut("agencies")
        .and_then(Item::as_array_of_tables_mut)
        .with_context(|| format!("{} has no [[agencies]]", path.display()))?;
    let table = agencies
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(agency))
        .with_context(|| format!("{} has no agency {agency:?}", path.display()))?;
    match table.get_mut("recipients").and_then(Item::as_value_mut) {
        Some(Value::Array(array)) => Ok(array),
        _ => bail!(
            "agency {agency:?} in {} has no recipients list",
            path.display()
        ),
    }
}

fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Hybrid => "post-quantum (age1pq1…)",
        KeyKind::X25519 => "X25519-only (age1…)",
    }
}
