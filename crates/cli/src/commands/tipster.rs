//! The tipster's side, for browsers without WebAssembly:
//! `sealtip replies` and `sealtip follow-up`, both keyed by the codename.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use sealtip_api::ItemKind;
use sealtip_envelope::Recipient;
use sealtip_envelope::ReplyKeys;
use sealtip_envelope::{Kind, Tip};
use sealtip_envelope::{OpenedReplies, open_replies};

use super::seal::seal_to_upload;
use crate::display;
use crate::input::{CodenameArgs, MessageArgs};
use crate::proxy::ProxyArgs;
use crate::relay_client::RelayClient;
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
    #[command(flatten)]
    text: MessageArgs,
    /// Attach a file (sealed as it is); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// Arguments of `sealtip replies`.
#[derive(clap::Args)]
pub struct RepliesArgs {
    #[command(flatten)]
    who: TipsterArgs,
    /// Delete this reply (its id, as listed) from the relay; proves the codename to the relay
    /// with the mailbox secret. Repeatable.
    #[arg(long, value_name = "ID")]
    delete: Vec<String>,
}

/// Fetches the codename's mailbox and opens every reply with its keys.
fn open_mailbox(client: &RelayClient, agency: &str, keys: &ReplyKeys) -> Result<OpenedReplies> {
    let mailbox = client.mailbox(agency, &keys.mailbox)?;
    let mut sealed = Vec::with_capacity(mailbox.replies.len());
    for reply in &mailbox.replies {
        sealed.push((
            reply.id.clone(),
            client.reply(agency, &keys.mailbox, &reply.id)?,
        ));
    }
    Ok(open_replies(
        keys,
        sealed
            .iter()
            .map(|(id, bytes)| (id.clone(), bytes.as_slice())),
    ))
}

/// Prints every proven reply of the codename's mailbox (or deletes those
/// named with --delete).
pub fn replies(args: RepliesArgs) -> Result<()> {
    let client = args.who.client()?;
    let keys = args.who.keys()?;
    if !args.delete.is_empty() {
        for id in &args.delete {
            client.delete_reply(&args.who.agency, &keys.mailbox, id, &keys.mailbox_secret)?;
            println!("Deleted reply {}.", display::line(id));
        }
        return Ok(());
    }
    let OpenedReplies {
        proven,
        unproven: refused,
    } = open_mailbox(&client, &args.who.agency, &keys)?;
    if proven.is_empty() && refused == 0 {
        println!("No replies yet. Check again later.");
        return Ok(());
    }
    for (number, reply) in proven.iter().enumerate() {
        let tip = &reply.tip;
        println!(
            "Reply {} from {} ({}, id {}):",
            number + 1,
            display::line(&tip.agency),
            display::line(&tip.date),
            display::line(&reply.id)
        );
        println!("  {}", display::text(tip.text.trim_end(), "  "));
        if !tip.attachments.is_empty() {
            println!("  ({} attachment(s) not shown)", tip.attachments.len());
        }
        println!();
    }
    match refused {
        0 => {}
        1 => println!(
            "One reply could not be opened or is not proven to come from the agency; it is not shown."
        ),
        n => println!(
            "{n} replies could not be opened or are not proven to come from the agency; they are not shown."
        ),
    }
    Ok(())
}

/// Seals a follow-up to the agency keys named by the agency's last proven
/// reply (else the keys the relay serves) and sends it.
pub fn follow_up(args: FollowUpArgs) -> Result<()> {
    if args.who.codename.reads_stdin() && args.text.reads_stdin() {
        bail!("the codename and the message cannot both come from standard input (-)");
    }
    let client = args.who.client()?;
    let keys = args.who.keys()?;
    let text = args.text.required()?;
    let opened = open_mailbox(&client, &args.who.agency, &keys)?;
    let named = opened.agency_keys().map(<[String]>::to_vec);
    let (keys_text, agency_name) = match named {
        Some(named) => (named, args.who.agency.clone()),
        None => {
            let profile = client.profile(&args.who.agency)?;
            if profile.id != args.who.agency {
                bail!(
                    "the relay answered for agency \"{}\", not \"{}\"",
                    display::line(&profile.id),
                    display::line(&args.who.agency)
                );
            }
            eprintln!(
                "No reply from the agency names its keys yet: sealing to the keys the relay serves."
            );
            (profile.recipients, profile.name)
        }
    };
    let recipients = keys_text
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
    let mut message = Tip::new(Kind::Message, &args.who.agency, &today());
    message.text = text;
    message.thread = Some(keys.mailbox.clone());
    let (mut sealed, _, _) =
        seal_to_upload(&recipients, &args.attach, message, Some(&keys.thread_key))?;
    client.send_sealed(&args.who.agency, ItemKind::Message, &mut sealed)?;
    println!(
        "Your message was sealed to {} and sent. Replies come to the same codename.",
        display::line(&agency_name)
    );
    Ok(())
}
