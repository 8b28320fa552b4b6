//! `sealtip seal --to age1… [--message TEXT | --message-file F] [--attach FILE]… [--codename "…"] [-o OUT]`.

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sealtip_envelope::bundle::{Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Codename, Recipient, seal_tip};

use crate::files::{AtomicFile, media_type};
use crate::time::today;

/// Arguments of `sealtip seal`.
#[derive(clap::Args)]
pub struct Args {
    /// A recipient to seal to (age1…); repeat for several officers.
    #[arg(long = "to", value_name = "RECIPIENT", required = true)]
    to: Vec<String>,
    /// The tip's text ("What happened?").
    #[arg(long, value_name = "TEXT", conflicts_with = "message_file")]
    message: Option<String>,
    /// Read the tip's text from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    message_file: Option<PathBuf>,
    /// Attach a file (sealed as it is: its metadata is not removed); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// Let the agency reply: the tip carries the reply key and mailbox derived from this codename.
    #[arg(long, value_name = "WORDS")]
    codename: Option<String>,
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
    let text = match &args.message_file {
        Some(path) if path.as_os_str() == "-" => io::read_to_string(io::stdin())
            .context("cannot read the message from standard input")?,
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => args.message.clone().unwrap_or_default(),
    };
    let mut tip = Tip::new(Kind::Tip, &args.agency, &today());
    tip.language = args.language.clone();
    tip.text = text;
    if let Some(words) = &args.codename {
        let keys = Codename::parse(words).context("--codename")?.derive()?;
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
            if io::stdout().is_terminal() {
                bail!(
                    "refusing to write a sealed tip to the terminal; use -o FILE or redirect the output"
                );
            }
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
