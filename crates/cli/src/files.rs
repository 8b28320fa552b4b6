//! File helpers shared by commands: atomic writes, identity files, media types.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use sealtip_envelope::{Identity, is_age_file, read_identity_file};
use zeroize::Zeroizing;

/// Creates `path` with owner-only permissions, refusing to overwrite.
pub fn create_new_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!("{} already exists; not overwriting it", path.display())
        }
        _ => anyhow::Error::new(err).context(format!("cannot create {}", path.display())),
    })
}

/// Writes a file through a temporary sibling, fsynced and renamed into place,
/// so a crash leaves either nothing or the whole file. Refuses to overwrite.
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
    replace: bool,
}

impl AtomicFile {
    /// Starts writing `path`, which must not exist.
    pub fn create(path: &Path) -> Result<Self> {
        if path.exists() {
            bail!("{} already exists; not overwriting it", path.display());
        }
        Self::start(path, false)
    }

    /// Starts writing a new version of the existing file `path`, which keeps
    /// its permissions.
    pub fn replace(path: &Path) -> Result<Self> {
        let file = Self::start(path, true)?;
        let permissions = fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .permissions();
        fs::set_permissions(file.temp.path(), permissions)?;
        Ok(file)
    }

    fn start(path: &Path, replace: bool) -> Result<Self> {
        let dir = parent_dir(path);
        let temp = tempfile::Builder::new()
            .prefix(".sealtip-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(AtomicFile {
            temp,
            path: path.to_path_buf(),
            replace,
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Makes the file durable and moves it into place.
    pub fn commit(self) -> Result<()> {
        self.temp.as_file().sync_all()?;
        let persisted = if self.replace {
            self.temp.persist(&self.path)
        } else {
            self.temp.persist_noclobber(&self.path)
        };
        persisted.map_err(|err| {
            anyhow::anyhow!("cannot write {}: {}", self.path.display(), err.error)
        })?;
        sync_dir(parent_dir(&self.path));
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.temp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Best effort: makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Reads the identities of an identity file, plain or protected by a
/// passphrase (an age file with one scrypt stanza, as `age -p` writes it).
pub fn read_identities(path: &Path) -> Result<Vec<Identity>> {
    let bytes = Zeroizing::new(
        fs::read(path).with_context(|| format!("cannot read identity file {}", path.display()))?,
    );
    let passphrase = match is_age_file(&bytes) {
        true => Some(crate::passphrase::ask(&path.display().to_string())?),
        false => None,
    };
    let file = read_identity_file(&bytes, passphrase.as_ref().map(|p| p.as_str()))
        .with_context(|| format!("cannot open identity file {}", path.display()))?;
    Ok(file.identities)
}

/// The media type of a file, from its extension.
pub fn media_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}
