//! The agency's reply: `sealtip reply -i KEY --relay URL --agency ID
//! --token-file F --to-tip FILE_OR_DIR [--message-file F | --message TEXT] [--attach FILE]…`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_envelope::bundle::{Kind, Limits, ReplyTo, Tip};
use sealtip_envelope::{Identity, Recipient, open_tip};

use super::inbox::{InboxArgs, read_token};
use super::open::{finish_opened, staging_beside};
use super::seal::seal_to_upload;
use crate::files::read_identities;
use crate::input::required_message;
use crate::relay_client::{RelayClient, Upload};
use crate::time::today;

/// Arguments of `sealtip reply`.
#[derive(clap::Args)]
pub struct Args {
    /// The agency's identity file (opens a sealed tip; the reply is also sealed to it, so the thread stays readable).
    #[arg(short, long = "identity", value_name = "KEY", required = true)]
    identity: Vec<PathBuf>,
    #[command(flatten)]
    inbox: InboxArgs,
    /// The tip (or follow-up) to answer: a sealed file, or a folder made by `sealtip open`.
    #[arg(long, value_name = "FILE_OR_DIR")]
    to_tip: PathBuf,
    /// The reply's text. It stays in your shell's history: prefer --message-file, or leave both
    /// out to type it (in a terminal).
    #[arg(long, value_name = "TEXT", conflicts_with = "message_file")]
    message: Option<String>,
    /// Read the reply's text from this file (`-`: standard input).
    #[arg(long, value_name = "F")]
    message_file: Option<PathBuf>,
    /// Attach a file; repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// Seals a reply to the tipster's reply key and posts it to their mailbox.
pub fn run(args: Args) -> Result<()> {
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    let token = read_token(&args.inbox.token_file)?;
    let tip = read_tip(&args.to_tip, &identities)?;
    let text = required_message(args.message.as_deref(), args.message_file.as_deref())?;
    let Some(reply_to) = tip.reply else {
        bail!(
            "{} carries no reply key: the tipster did not ask for replies",
            args.to_tip.display()
        );
    };
    let tipster = Recipient::parse(&reply_to.recipient).context("the tip's reply key")?;
    let mut recipients = vec![tipster];
    recipients.extend(identities.iter().map(Identity::recipient));

    let mut reply = Tip::new(Kind::Reply, &args.inbox.agency, &today());
    reply.text = text;
    // The mailbox travels inside the sealed reply too, so a thread can be rebuilt.
    reply.reply = Some(ReplyTo {
        recipient: reply_to.recipient.clone(),
        mailbox: reply_to.mailbox.clone(),
    });
    let written = reply.clone();
    let (mut sealed, size) = seal_to_upload(&recipients, &args.attach, reply)?;
    let client = RelayClient::new(&args.inbox.relay)?;
    let id = client.upload(
        &args.inbox.agency,
        Upload::Reply {
            mailbox: &reply_to.mailbox,
            token: &token,
        },
        &mut sealed,
        size,
    )?;
    println!("Reply {id} posted to the tipster's mailbox.");
    if args.to_tip.is_dir() {
        let copy = crate::files::parent_dir(&args.to_tip).join(format!("reply-{id}"));
        finish_opened(staging_beside(&copy)?, &copy, &written, &written.to_text())?;
        println!(
            "A copy is in {}/ (sealtip thread shows it with the tip).",
            copy.display()
        );
    }
    Ok(())
}

/// `tip.json` of an opened tip folder, or of a sealed file opened in memory.
fn read_tip(path: &Path, identities: &[Identity]) -> Result<Tip> {
    if path.is_dir() {
        let json = std::fs::read(path.join("tip.json"))
            .with_context(|| format!("{} holds no tip.json", path.display()))?;
        return serde_json::from_slice(&json)
            .with_context(|| format!("{}/tip.json is not a tip", path.display()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let opened = open_tip(
        std::io::BufReader::new(file),
        identities,
        &Limits::default(),
        &mut (),
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(opened.tip)
}
