//! The tipster's side, for browsers without WebAssembly:
//! `sealtip replies` and `sealtip follow-up`, both keyed by the codename.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use sealtip_envelope::ReplyKeys;
use sealtip_envelope::bundle::{Kind, Limits, ReplyTo, Tip};
use sealtip_envelope::{Recipient, open_tip};

use super::seal::seal_to_upload;
use crate::display;
use crate::input::{CodenameArgs, is_stdin, required_message};
use crate::proxy::ProxyArgs;
use crate::relay_client::{RelayClient, Upload};
use crate::time::today;

/// The relay, the agency, the codename and the way to the relay.
#[derive(clap::Args)]
pub struct TipsterArgs {
    /// The relay's base URL, e.g. https://tips.example.org
    #[arg(long, value_name = "URL")]
    relay: String,
    /// The agency the tip went to.
    #[arg(long, value_name = "ID")]
    agency: String,
    #[command(flatten)]
    codename: CodenameArgs,
    #[command(flatten)]
    proxy: ProxyArgs,
}

impl TipsterArgs {
    fn keys(&self) -> Result<ReplyKeys> {
        let codename = self.codename.codename()?;
        if std::io::stderr().is_terminal() {
            eprintln!("Deriving your keys from the codename (about a second)…");
        }
        Ok(codename.derive()?)
    }

    fn client(&self) -> Result<RelayClient> {
        RelayClient::with_proxy(&self.relay, self.proxy.choose()?)
    }
}

/// Arguments of `sealtip follow-up`.
#[derive(clap::Args)]
pub struct FollowUpArgs {
    #[command(flatten)]
    who: TipsterArgs,
    /// The message to the agency. It stays in your shell's history: prefer --message-file, or
    /// leave both out to type it.
    #[arg(long, value_name = "TEXT", conflicts_with = "message_file")]
    message: Option<String>,
    /// Read the message from this file (`-`: standard input).
    #[arg(long, value_name = "F")]
    message_file: Option<PathBuf>,
    /// Attach a file (sealed as it is); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// Fetches the mailbox and prints every reply, opened with the codename's key.
pub fn replies(args: TipsterArgs) -> Result<()> {
    let client = args.client()?;
    let keys = args.keys()?;
    let mailbox = client.mailbox(&args.agency, &keys.mailbox)?;
    if mailbox.replies.is_empty() {
        println!("No replies yet. Check again later.");
        return Ok(());
    }
    for (number, reply) in mailbox.replies.iter().enumerate() {
        let sealed = client.reply(&args.agency, &keys.mailbox, &reply.id)?;
        let opened = open_tip(
            &sealed[..],
            std::slice::from_ref(&keys.identity),
            &Limits::default(),
            &mut (),
        )
        .with_context(|| format!("cannot open reply {}", reply.id))?;
        let tip = &opened.tip;
        println!(
            "Reply {} from {} ({}):",
            number + 1,
            display::line(&tip.agency),
            display::line(&tip.date)
        );
        println!("  {}", display::text(tip.text.trim_end(), "  "));
        if !tip.attachments.is_empty() {
            println!("  ({} attachment(s) not shown)", tip.attachments.len());
        }
        println!();
    }
    Ok(())
}

/// Seals a follow-up to the agency's keys (from the relay) and sends it.
pub fn follow_up(args: FollowUpArgs) -> Result<()> {
    if args.who.codename.reads_stdin() && is_stdin(args.message_file.as_deref()) {
        bail!("the codename and the message cannot both come from standard input (-)");
    }
    let client = args.who.client()?;
    let keys = args.who.keys()?;
    let text = required_message(args.message.as_deref(), args.message_file.as_deref())?;
    let profile = client.profile(&args.who.agency)?;
    if profile.id != args.who.agency {
        bail!(
            "the relay answered for agency \"{}\", not \"{}\"",
            display::line(&profile.id),
            display::line(&args.who.agency)
        );
    }
    let recipients = profile
        .recipients
        .iter()
        .map(|text| {
            Recipient::parse(text).map_err(|err| {
                anyhow!(
                    "the agency's key {} is unusable: {err}",
                    display::line(text)
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut message = Tip::new(Kind::Message, &profile.id, &today());
    message.text = text;
    message.reply = Some(ReplyTo {
        recipient: keys.recipient().to_string(),
        mailbox: keys.mailbox.clone(),
    });
    let (mut sealed, size) = seal_to_upload(&recipients, &args.attach, message)?;
    client.upload(&args.who.agency, Upload::Message, &mut sealed, size)?;
    println!(
        "Your message was sealed to {} and sent. Replies come to the same codename.",
        display::line(&profile.name)
    );
    Ok(())
}
