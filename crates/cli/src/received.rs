//! The order in which the relay received items, kept beside pulled items.
//!
//! Dates inside a sealed item are the sender's word, so threads are ordered
//! by the relay's listing instead: `sealtip pull` appends each new item of
//! the inbox, in the relay's order, to `relay-order.json` in its folder, and
//! `sealtip reply` appends the reply it posted. `sealtip thread` and the desk
//! read it; an item missing from it sorts after those listed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::files::AtomicFile;

/// The file name, in the folder the items are pulled into.
pub const FILE_NAME: &str = "relay-order.json";

/// One item as the relay listed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The relay's item id.
    pub id: String,
    /// The relay's item kind: `tip`, `message`, `reply` or `case`.
    pub kind: String,
    /// When the relay received it (hour precision).
    pub received: String,
}

/// The items of one folder, in the order the relay received them.
#[derive(Debug, Default)]
pub struct ReceivedOrder {
    path: PathBuf,
    items: Vec<Received>,
}

impl ReceivedOrder {
    /// Reads `dir/relay-order.json`; empty if there is none.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        let items = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged", path.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => {
                return Err(err).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Ok(ReceivedOrder { path, items })
    }

    /// Whether the folder has an order file (it was pulled into).
    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// Adds `item` at the end unless its id is already listed.
    pub fn push(&mut self, item: Received) {
        if !self.items.iter().any(|known| known.id == item.id) {
            self.items.push(item);
        }
    }

    /// Writes the file (atomically, fsynced).
    pub fn save(&self) -> Result<()> {
        // The first pull into a folder creates the file.
        let mut file = if self.path.exists() {
            AtomicFile::replace(&self.path)?
        } else {
            AtomicFile::create(&self.path)?
        };
        std::io::Write::write_all(file.file(), &serde_json::to_vec_pretty(&self.items)?)?;
        file.commit()
    }

    /// The place of item `id` in the relay's order, if listed.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|item| item.id == id)
    }

    /// When the relay received item `id` (hour precision), if it said.
    pub fn received(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|item| item.id == id)
            .map(|item| item.received.as_str())
            .filter(|received| !received.is_empty())
    }

    /// The relay's kind for item `id`, if listed.
    pub fn kind(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|item| item.id == id)
            .map(|item| item.kind.as_str())
    }
}

/// Why an item the relay lists as `listed` (`tip`, `message`, `reply`) is
/// refused: it is sealed as another kind. `None` when they agree.
pub fn kind_mismatch(listed: &str, sealed: sealtip_envelope::Kind) -> Option<String> {
    let sealed = sealed.as_str();
    (listed != sealed)
        .then(|| format!("the relay lists it as a {listed}, but it is sealed as a {sealed}"))
}

/// `kind-id` (a pulled file's stem or an opened folder's name) split in two.
pub fn kind_and_id(name: &str) -> Option<(&str, &str)> {
    let (kind, id) = name.split_once('-')?;
    matches!(kind, "tip" | "message" | "reply" | "case").then_some((kind, id))
}
