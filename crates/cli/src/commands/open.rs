//! `sealtip open -i IDENTITY_FILE [--out DIR] [--json] TIP`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_envelope::read_bundle_hashed_by;
use sealtip_envelope::{
    ATTACHMENTS_DIR, HashingSink, Limits, MetadataStatus, OpenedTip, TIP_JSON, TIP_MAC, TIP_TXT,
};
use sealtip_envelope::{Identity, TipError, open};

use crate::display::{self, line};
use crate::files::{parent_dir, read_identities, sync_dir};
use crate::hashing_thread::HashingThread;
use crate::read_ahead::{ReadAhead, read_full};
use crate::write_behind::WriteBehind;

/// Arguments of `sealtip open`.
#[derive(clap::Args)]
pub struct Args {
    /// The identity file (age-keygen or sealtip keygen format).
    #[arg(
        short,
        long = "identity",
        value_name = "IDENTITY_FILE",
        required = true
    )]
    identity: Vec<PathBuf>,
    /// Unpack into this folder (must not exist); default: the tip's file name without extension.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print tip.json and the folder as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// The sealed tip.
    #[arg(value_name = "TIP")]
    tip: PathBuf,
}

/// Opens a tip into a folder: all or nothing.
pub fn run(args: Args) -> Result<()> {
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    let out = match args.out {
        Some(dir) => dir,
        None => default_out_dir(&args.tip)?,
    };
    if out.exists() {
        bail!(
            "{} already exists; choose another folder with --out",
            out.display()
        );
    }
    let opened = open_into(&args.tip, &out, &identities)?;

    let mut stdout = io::stdout().lock();
    if args.json {
        let report = serde_json::json!({ "dir": out, "tip": opened.tip });
        let json = serde_json::to_string_pretty(&report)?;
        writeln!(stdout, "{}", display::json(&json))?;
    } else {
        print_summary(&opened, &out, &mut stdout)?;
    }
    Ok(())
}

/// Opens the sealed item `sealed` into the new folder `out` (`tip.json`,
/// `tip.mac`, `tip.txt`, `attachments/`), all or nothing: it is unpacked
/// next to `out` and moved into place only when the whole item
/// authenticated and checked out. `sealtip open` and the desk's export use
/// it.
pub fn open_into(sealed: &Path, out: &Path, identities: &[Identity]) -> Result<OpenedTip> {
    let input = File::open(sealed).with_context(|| format!("cannot read {}", sealed.display()))?;
    let staging = staging_beside(out)?;
    let mut sink = FolderSink {
        root: staging.path().to_path_buf(),
        hashing: HashingThread::spawn()?,
    };
    // Decryption runs on its own thread, checking and writing on this one,
    // hashing attachments on a third. The file goes to the decryption
    // unbuffered: it reads whole 64 KiB chunks, and a buffer would be one
    // more copy.
    let identities = identities.to_vec();
    let opened = ReadAhead::spawn(move || open(input, &identities))
        .map_err(TipError::Open)
        .and_then(|plaintext| {
            Ok(read_bundle_hashed_by(
                plaintext,
                &Limits::default(),
                &mut sink,
            )?)
        })
        .with_context(|| format!("cannot open {}", sealed.display()))?;
    check_relay_kind(sealed, &opened.tip)?;
    let text = opened.text.clone().unwrap_or_else(|| opened.tip.to_text());
    finish_opened(staging, out, &opened.json, opened.mac.as_ref(), &text)?;
    Ok(opened)
}

fn default_out_dir(tip: &Path) -> Result<PathBuf> {
    let stem = tip
        .file_stem()
        .context("the tip path has no file name; use --out")?;
    let mut dir = tip.with_file_name(stem);
    if dir == tip {
        dir = tip.with_extension("opened");
    }
    Ok(dir)
}

/// A folder for an opened item, next to where it will go: fill it, then
/// [`finish_opened`] moves it into place.
pub fn staging_beside(out: &Path) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(".sealtip-open-")
        .tempdir_in(parent_dir(out))
        .with_context(|| format!("cannot write in {}", parent_dir(out).display()))
}

/// The relay's kind, in the pulled file's name (`tip-…`, `message-…`,
/// `reply-…`), must be the kind sealed inside: an item the relay lists as
/// one thing and that says it is another is refused.
fn check_relay_kind(path: &Path, tip: &sealtip_envelope::Tip) -> Result<()> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let Some((relay_kind, _)) = crate::received::kind_and_id(stem) else {
        return Ok(());
    };
    match crate::received::kind_mismatch(relay_kind, tip.kind) {
        Some(why) => bail!("refused {}: {why}", path.display()),
        None => Ok(()),
    }
}

/// Writes `tip.json` (its exact bytes, which its proof covers), `tip.mac`
/// if there is one, and `tip.txt` into `staging`, makes it all durable and
/// renames it to `out`: a reader sees the whole folder or none of it.
pub fn finish_opened(
    staging: tempfile::TempDir,
    out: &Path,
    json: &[u8],
    mac: Option<&[u8; 32]>,
    text: &str,
) -> Result<()> {
    write_synced(&staging.path().join(TIP_JSON), json)?;
    if let Some(mac) = mac {
        let line = format!("{}\n", hex::encode(mac));
        write_synced(&staging.path().join(TIP_MAC), line.as_bytes())?;
    }
    write_synced(&staging.path().join(TIP_TXT), text.as_bytes())?;
    sync_dir(&staging.path().join("attachments"));
    sync_dir(staging.path());
    let staged = staging.keep();
    if let Err(err) = fs::rename(&staged, out) {
        let _ = fs::remove_dir_all(&staged);
        return Err(err)
            .with_context(|| format!("cannot move the opened item to {}", out.display()));
    }
    sync_dir(parent_dir(out));
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Writes attachments under the staging folder's `attachments/`, and hashes
/// each written piece on another thread. The bundle reader already refuses
/// unsafe paths (absolute, `..`, links); this checks again that each one is
/// a plain name directly in `attachments/`.
struct FolderSink {
    root: PathBuf,
    hashing: HashingThread,
}

impl HashingSink for FolderSink {
    fn attachment(&mut self, path: &str, _size: u64, data: &mut dyn Read) -> io::Result<[u8; 32]> {
        let Some(name) = path
            .strip_prefix(ATTACHMENTS_DIR)
            .filter(|name| is_plain_file_name(name))
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsafe attachment path \"{}\"", line(path)),
            ));
        };
        let folder = self.root.join(ATTACHMENTS_DIR);
        fs::create_dir_all(&folder)?;
        let target = folder.join(name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)?;
        let mut syncing = WriteBehind::new(&file)?;
        // Large reads and writes: io::copy's 8 KiB would mean 32,768 system
        // calls per 256 MiB.
        loop {
            let mut piece = self.hashing.buffer();
            let (n, error) = read_full(data, &mut piece);
            if let Some(err) = error {
                return Err(err);
            }
            if n == 0 {
                break;
            }
            piece.truncate(n);
            file.write_all(&piece)?;
            syncing.written(n)?;
            self.hashing.hash(piece)?;
        }
        syncing.finish()?;
        self.hashing.finish()
    }
}

/// One normal path component: not empty, `.` or `..`, no separator.
fn is_plain_file_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && !name.contains(['/', '\\', '\0'])
}

fn print_summary(opened: &OpenedTip, out: &Path, w: &mut impl Write) -> io::Result<()> {
    let tip = &opened.tip;
    let kind = match tip.kind {
        sealtip_envelope::Kind::Tip => "Tip",
        sealtip_envelope::Kind::Message => "Follow-up message",
        sealtip_envelope::Kind::Reply => "Reply",
        sealtip_envelope::Kind::Case => "Case state (for the officers only)",
    };
    writeln!(
        w,
        "{kind} for {}, written {} ({})",
        line(display_or(&tip.agency, "(no agency)")),
        line(&tip.date),
        line(display_or(&tip.language, "?"))
    )?;
    for answer in &tip.answers {
        writeln!(
            w,
            "  {}: {}",
            line(&answer.label),
            display::text(answer.value.trim_end(), "    ")
        )?;
    }
    // Trailing blank lines (a text file's last newline) would print as an
    // empty indented line.
    let text = tip.text.trim_end();
    if !text.is_empty() {
        let preview: String = text.chars().take(300).collect();
        let more = if text.chars().count() > 300 {
            " …"
        } else {
            ""
        };
        let label = match tip.kind {
            sealtip_envelope::Kind::Tip => "What happened",
            _ => "Message",
        };
        writeln!(w, "  {label}: {}{more}", display::text(&preview, "    "))?;
    }
    for a in &tip.attachments {
        let name = if a.name.is_empty() {
            String::new()
        } else {
            format!(" \"{}\"", line(&a.name))
        };
        let metadata = match a.metadata {
            MetadataStatus::Removed if a.removed.is_empty() => "no metadata found".to_string(),
            MetadataStatus::Removed => format!("removed: {}", line(&a.removed.join(", "))),
            MetadataStatus::Kept => "metadata kept by the tipster".into(),
            MetadataStatus::NotChecked => "metadata not checked".into(),
        };
        writeln!(
            w,
            "  Attachment {}{name} ({}, {} bytes; {metadata})",
            line(&a.path),
            line(&a.media_type),
            a.size
        )?;
    }
    match (&tip.reply, &tip.thread) {
        (Some(_), _) => writeln!(w, "  The tipster can receive replies.")?,
        (None, Some(_)) => writeln!(
            w,
            "  It names a conversation: `sealtip thread` shows it with its tip if its proof holds."
        )?,
        (None, None) => writeln!(w, "  The tipster did not ask for replies.")?,
    }
    writeln!(
        w,
        "Opened into {}/ (tip.txt, tip.json{})",
        out.display(),
        if tip.attachments.is_empty() {
            ""
        } else {
            ", attachments/"
        }
    )?;
    Ok(())
}

fn display_or<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.is_empty() { fallback } else { value }
}
