//! `sealtip seal --to age1… [--message-file F | --message TEXT] [--attach FILE]…
//! [--codename-file F | --codename "…"] [-o OUT]`.

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sealtip_envelope::bundle::{Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Codename, Recipient, seal_tip};

use crate::files::{AtomicFile, media_type};
use crate::input::{ask_codename, codename_text, is_stdin, message_text};
use crate::time::today;

/// Arguments of `sealtip seal`.
#[derive(clap::Args)]
pub struct Args {
    /// A recipient to seal to (age1…); repeat for several officers.
    #[arg(long = "to", value_name = "RECIPIENT", required = true)]
    to: Vec<String>,
    /// The tip's text ("What happened?"). It stays in your shell's history: prefer
    /// --message-file, or leave both out to type it (in a terminal).
    #[arg(long, value_name = "TEXT", conflicts_with = "message_file")]
    message: Option<String>,
    /// Read the tip's text from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    message_file: Option<PathBuf>,
    /// Attach a file (sealed as it is: its metadata is not removed); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
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
    if is_stdin(args.message_file.as_deref()) && is_stdin(args.codename_file.as_deref()) {
        bail!("the codename and the message cannot both come from standard input (-)");
    }
    let text = message_text(args.message.as_deref(), args.message_file.as_deref())?;
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
        tip.reply = Some(ReplyTo {
            recipient: keys.recipient().to_string(),
            mailbox: keys.mailbox,
        });
    }

    match &args.output {
        Some(path) => {
            let mut out = AtomicFile::create(path)?;
            seal_with_attachments(&recipients, &args.attach, tip, out.file())?;
            out.commit()?;
            eprintln!(
                "Sealed to {} recipient(s): {}",
                recipients.len(),
                path.display()
            );
        }
        None => {
            let stdout = io::stdout().lock();
            seal_with_attachments(&recipients, &args.attach, tip, stdout)?.flush()?;
        }
    }
    Ok(())
}

/// Seals `tip` with the files at `paths` attached (as they are) to
/// `recipients`. Every file is opened before anything is written.
pub fn seal_with_attachments<W: Write>(
    recipients: &[Recipient],
    paths: &[PathBuf],
    tip: Tip,
    output: W,
) -> Result<W> {
    let mut files = Vec::new();
    for path in paths {
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
        };
        sealing
            .add_attachment(
                attachment,
                &mut io::BufReader::with_capacity(64 * 1024, file),
            )
            .with_context(|| format!("cannot attach {}", path.display()))?;
    }
    let (output, _) = sealing.finish(tip)?;
    Ok(output)
}

/// Seals into an anonymous temporary file, rewound, with its size: what an
/// upload to the relay needs.
pub fn seal_to_upload(
    recipients: &[Recipient],
    paths: &[PathBuf],
    tip: Tip,
) -> Result<(File, u64)> {
    let mut sealed = seal_with_attachments(recipients, paths, tip, tempfile::tempfile()?)?;
    let size = sealed.seek(SeekFrom::End(0))?;
    sealed.seek(SeekFrom::Start(0))?;
    Ok((sealed, size))
}
