//! A relay serving a copy of the built page that a test changes, as a
//! hostile relay serves code of its own: [`ServedCopy`].

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::paths::workspace;

/// The built page (`SEALTIP_DIST`, else the workspace's `dist/`).
pub fn built_page() -> PathBuf {
    std::env::var_os("SEALTIP_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist"))
}

/// A copy of the built page in a folder of its own, removed when dropped.
pub struct ServedCopy {
    dir: tempfile::TempDir,
}

impl ServedCopy {
    /// Copies the built page.
    pub fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        copy_folder(&built_page(), dir.path())?;
        Ok(ServedCopy { dir })
    }

    /// `relay.toml` (`config`) with the relay serving the page from the copy.
    pub fn config(&self, config: String) -> String {
        config
            .lines()
            .map(|line| match line.starts_with("dist = ") {
                true => format!("dist = {:?}", self.dir.path().display().to_string()),
                false => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The relay serves `bytes` for `name`, in every encoding: its
    /// compressed copies are removed, so the plain file is what is served.
    pub fn serve_instead(&self, name: &str, bytes: &[u8]) -> Result<()> {
        std::fs::write(self.dir.path().join(name), bytes)?;
        for suffix in [".gz", ".br"] {
            let copy = self.dir.path().join(format!("{name}{suffix}"));
            if copy.exists() {
                std::fs::remove_file(copy)?;
            }
        }
        Ok(())
    }

    /// The built `name`, and its compressed copies, served again.
    pub fn serve_as_built(&self, name: &str) -> Result<()> {
        for suffix in ["", ".gz", ".br"] {
            let file = format!("{name}{suffix}");
            let built = built_page().join(&file);
            if built.exists() {
                std::fs::copy(built, self.dir.path().join(&file))?;
            }
        }
        Ok(())
    }
}

/// Copies the files of `from` (and its folders) into `to`.
fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_folder(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
