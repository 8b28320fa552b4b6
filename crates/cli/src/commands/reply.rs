//! The agency's reply: `sealtip reply -i KEY --relay URL --agency ID
//! --token-file F --to-tip FILE_OR_DIR [--message-file F | --message TEXT] [--attach FILE]…`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_envelope::{AgencyReply, agency_reply};
use sealtip_envelope::{Identity, Recipient, open_tip};
use sealtip_envelope::{Limits, OpenedTip};

use super::inbox::{InboxArgs, read_token};
use super::open::{finish_opened, staging_beside};
use super::seal::seal_to_upload;
use crate::files::read_identities;
use crate::input::MessageArgs;
use crate::received::{Received, ReceivedOrder};
use crate::relay_client::{RelayClient, Upload};
use crate::threads::{Thread, threads};
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
    #[command(flatten)]
    text: MessageArgs,
    /// Attach a file; repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// Seals a reply to the reply key of the tip's verified thread and posts it
/// to the thread's mailbox.
pub fn run(args: Args) -> Result<()> {
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    let token = read_token(&args.inbox.token_file)?;
    let thread = find_thread(&args.to_tip, &identities)?;
    let text = args.text.required()?;
    let (Some(mailbox), Some(tipster), Some(key)) = (thread.mailbox, thread.reply_to, thread.key)
    else {
        bail!(
            "{} is not in a verified conversation (no reply key proven by the tipster's codename): \
             no reply is sent. `sealtip thread` marks such items unverified.",
            args.to_tip.display()
        );
    };
    let officers: Vec<Recipient> = identities.iter().map(Identity::recipient).collect();
    let AgencyReply {
        tip: reply,
        recipients,
    } = agency_reply(
        &args.inbox.agency,
        &today(),
        text,
        &mailbox,
        tipster,
        &officers,
    );
    let (mut sealed, size, written) = seal_to_upload(&recipients, &args.attach, reply, Some(&key))?;
    let client = RelayClient::new(&args.inbox.relay)?;
    let id = client.upload(
        &args.inbox.agency,
        Upload::Reply {
            mailbox: &mailbox,
            token: &token,
        },
        &mut sealed,
        size,
    )?;
    println!("Reply {id} posted to the tipster's mailbox.");
    if args.to_tip.is_dir() {
        let dir = crate::files::parent_dir(&args.to_tip);
        let copy = dir.join(format!("reply-{id}"));
        // Exactly the tip.json and proof that were sealed, so the copy's
        // proof checks.
        finish_opened(
            staging_beside(&copy)?,
            &copy,
            &written.json,
            written.mac.as_ref(),
            &written.tip.to_text(),
        )?;
        // In a folder pulled into, the reply takes its place after what
        // the relay listed so far.
        let mut order = ReceivedOrder::load(dir)?;
        if order.exists() {
            order.push(Received {
                id,
                kind: "reply".into(),
                received: String::new(),
            });
            order.save()?;
        }
        println!(
            "A copy is in {}/ (sealtip thread shows it with the tip).",
            copy.display()
        );
    }
    Ok(())
}

/// The thread of `path`: an opened folder among its siblings (so a
/// follow-up finds its tip), or a sealed tip opened in memory.
fn find_thread(path: &Path, identities: &[Identity]) -> Result<Thread<()>> {
    if path.is_dir() {
        let thread = super::thread::thread_holding(path)?;
        return Ok(Thread {
            mailbox: thread.mailbox,
            reply_to: thread.reply_to,
            key: thread.key,
            items: Vec::new(),
        });
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
    let mut threads = threads(vec![opened], OpenedTip::view, |_| 0);
    let thread = threads.remove(0);
    Ok(Thread {
        mailbox: thread.mailbox,
        reply_to: thread.reply_to,
        key: thread.key,
        items: Vec::new(),
    })
}
