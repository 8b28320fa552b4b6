//! `sealtip seal --to age1… [--message-file F | --message TEXT] [--attach FILE]…
//! [--codename-file F | --codename "…"] [-o OUT]`.

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sealtip_envelope::{Codename, Recipient, ThreadKey, seal_tip};
use sealtip_envelope::{Kind, MetadataStatus, NewAttachment, OpenedTip, ReplyTo, Tip};

use crate::files::{AtomicFile, media_type};
use crate::input::{MessageArgs, ask_codename, codename_text, is_stdin};
use crate::time::today;

/// Arguments of `sealtip seal`.
#[derive(clap::Args)]
pub struct Args {
    /// A recipient to seal to (age1…); repeat for several officers.
    #[arg(long = "to", value_name = "RECIPIENT", required = true)]
    to: Vec<String>,
    #[command(flatten)]
    text: MessageArgs,
    /// Attach a file (sealed as it is: its metadata is not removed, and its name is left out
    /// unless --keep-names); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// Keep the attachments' file names in the tip (they often hold a date, a place or a
    /// person's name; left out by default).
    #[arg(long)]
    keep_names: bool,
    /// Let the agency reply: the tip carries the reply key and mailbox derived from this
    /// codename. It stays in your shell's history: prefer --codename-file, or leave both out to
    /// be asked (in a terminal; Enter for no replies).
    #[arg(long, value_name = "WORDS", conflicts_with = "codename_file")]
    codename: Option<String>,
    /// Read the codename from this file (`-`: standard input).
    #[arg(long, value_name = "F")]
    codename_file: Option<PathBuf>,
    /// The agency id written into the tip.
    #[arg(long, default_value = "")]
    agency: String,
    /// The language of the tip (BCP 47).
    #[arg(long, default_value = "en")]
    language: String,
    /// Write the sealed tip here (refuses to overwrite); default: standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

/// Seals a tip as the tipster's page does.
pub fn run(args: Args) -> Result<()> {
    let recipients = args
        .to
        .iter()
        .map(|text| Recipient::parse(text).with_context(|| format!("--to {text}")))
        .collect::<Result<Vec<_>>>()?;
    if args.output.is_none() && io::stdout().is_terminal() {
        bail!("refusing to write a sealed tip to the terminal; use -o FILE or redirect the output");
    }
    if args.text.reads_stdin() && is_stdin(args.codename_file.as_deref()) {
        bail!("the codename and the message cannot both come from standard input (-)");
    }
    let text = args.text.text()?;
    let codename = match codename_text(args.codename.as_deref(), args.codename_file.as_deref())? {
        Some(words) => Some(words),
        None if io::stdin().is_terminal() => Some(ask_codename(
            "Codename for hearing back (Enter for no replies)",
        )?)
        .filter(|words| !words.trim().is_empty()),
        None => None,
    };
    let mut tip = Tip::new(Kind::Tip, &args.agency, &today());
    tip.language = args.language.clone();
    tip.text = text.unwrap_or_default();
    if let Some(words) = &codename {
        let keys = Codename::parse(words).context("the codename")?.derive()?;
        tip.reply = Some(ReplyTo::from_keys(&keys));
    }
    let files = Attachments {
        paths: &args.attach,
        keep_names: args.keep_names,
    };

    match &args.output {
        Some(path) => {
            let mut out = AtomicFile::create(path)?;
            seal_with_attachments(&recipients, files, tip, None, out.file())?;
            out.commit()?;
            eprintln!(
                "Sealed to {} recipient(s): {}",
                recipients.len(),
                path.display()
            );
        }
        None => {
            let stdout = io::stdout().lock();
            seal_with_attachments(&recipients, files, tip, None, stdout)?
                .0
                .flush()?;
        }
    }
    Ok(())
}

/// Files to attach, as they are.
#[derive(Clone, Copy)]
pub struct Attachments<'a> {
    /// Their paths.
    pub paths: &'a [PathBuf],
    /// Keep their file names in the tip.
    pub keep_names: bool,
}

/// Seals `tip` with `attachments` to `recipients`; an item of a thread (a
/// follow-up, a reply) is proven with `thread_key`. Every file is opened
/// before anything is written. Returns the output and the tip as written.
pub fn seal_with_attachments<W: Write>(
    recipients: &[Recipient],
    attachments: Attachments<'_>,
    tip: Tip,
    thread_key: Option<&ThreadKey>,
    output: W,
) -> Result<(W, OpenedTip)> {
    let mut files = Vec::new();
    for path in attachments.paths {
        let file = File::open(path)
            .with_context(|| format!("cannot read attachment {}", path.display()))?;
        let size = file.metadata()?.len();
        files.push((path, file, size));
    }
    let mut sealing = seal_tip(recipients, output)?;
    for (path, file, size) in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let attachment = NewAttachment {
            name: &name,
            media_type: media_type(path),
            size,
            metadata: MetadataStatus::NotChecked,
            removed: Vec::new(),
            keep_name: attachments.keep_names,
        };
        sealing
            .add_attachment(
                attachment,
                &mut io::BufReader::with_capacity(64 * 1024, file),
            )
            .with_context(|| format!("cannot attach {}", path.display()))?;
    }
    Ok(match thread_key {
        Some(key) => sealing.finish_in_thread(tip, key)?,
        None => sealing.finish(tip)?,
    })
}

/// Seals into an anonymous temporary file, rewound, with its size and the
/// tip as written: what an upload to the relay needs.
pub fn seal_to_upload(
    recipients: &[Recipient],
    paths: &[PathBuf],
    tip: Tip,
    thread_key: Option<&ThreadKey>,
) -> Result<(File, u64, OpenedTip)> {
    let files = Attachments {
        paths,
        keep_names: false,
    };
    let (mut sealed, written) =
        seal_with_attachments(recipients, files, tip, thread_key, tempfile::tempfile()?)?;
    let size = sealed.seek(SeekFrom::End(0))?;
    sealed.seek(SeekFrom::Start(0))?;
    Ok((sealed, size, written))
}
