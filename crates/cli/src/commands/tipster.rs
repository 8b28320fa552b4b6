//! The tipster's side, for browsers without WebAssembly:
//! `sealtip replies` and `sealtip follow-up`, both keyed by the codename.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use sealtip_envelope::bundle::{Kind, Limits, ReplyTo, Tip};
use sealtip_envelope::{Codename, Recipient, ReplyKeys, open_tip};

use super::seal::seal_to_upload;
use crate::relay_client::{RelayClient, Upload};
use crate::time::today;

/// The relay, the agency and the codename.
#[derive(clap::Args)]
pub struct TipsterArgs {
    /// The relay's base URL, e.g. https://tips.example.org
    #[arg(long, value_name = "URL")]
    relay: String,
    /// The agency the tip went to.
    #[arg(long, value_name = "ID")]
    agency: String,
    /// The codename shown when the tip was sent (or SEALTIP_CODENAME).
    #[arg(
        long,
        value_name = "WORDS",
        env = "SEALTIP_CODENAME",
        hide_env_values = true
    )]
    codename: String,
}

impl TipsterArgs {
    fn keys(&self) -> Result<ReplyKeys> {
        let codename = Codename::parse(&self.codename).context("--codename")?;
        eprintln!("Deriving your keys from the codename (about a second)…");
        Ok(codename.derive()?)
    }
}

/// Arguments of `sealtip follow-up`.
#[derive(clap::Args)]
pub struct FollowUpArgs {
    #[command(flatten)]
    who: TipsterArgs,
    /// The message to the agency.
    #[arg(long, value_name = "TEXT")]
    message: String,
    /// Attach a file (sealed as it is); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// Fetches the mailbox and prints every reply, opened with the codename's key.
pub fn replies(args: TipsterArgs) -> Result<()> {
    let keys = args.keys()?;
    let client = RelayClient::new(&args.relay)?;
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
        println!(
            "Reply {} from {} ({}):",
            number + 1,
            opened.tip.agency,
            opened.tip.date
        );
        println!("{}", opened.tip.text);
        if !opened.tip.attachments.is_empty() {
            println!("({} attachment(s) not shown)", opened.tip.attachments.len());
        }
        println!();
    }
    Ok(())
}

/// Seals a follow-up to the agency's keys (from the relay) and sends it.
pub fn follow_up(args: FollowUpArgs) -> Result<()> {
    let keys = args.who.keys()?;
    let client = RelayClient::new(&args.who.relay)?;
    let profile = client.profile(&args.who.agency)?;
    let recipients = profile
        .recipients
        .iter()
        .map(|text| {
            Recipient::parse(text)
                .map_err(|err| anyhow!("the agency's key {text} is unusable: {err}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut message = Tip::new(Kind::Message, &profile.id, &today());
    message.text = args.message.clone();
    message.reply = Some(ReplyTo {
        recipient: keys.recipient().to_string(),
        mailbox: keys.mailbox.clone(),
    });
    let (mut sealed, size) = seal_to_upload(&recipients, &args.attach, message)?;
    client.upload(&args.who.agency, Upload::Message, &mut sealed, size)?;
    println!(
        "Your message was sealed to {} and sent. Replies come to the same codename.",
        profile.name
    );
    Ok(())
}
