//! What the fuzz targets share: the fixed identity the seed tips are sealed
//! to, small reading limits, and an attachment sink that checks what it gets.

use std::io::{self, Read};
use std::sync::OnceLock;

use sealtip_envelope::Identity;
use sealtip_envelope::{AttachmentSink, Limits, OpenedTip};

/// The identity every seed tip is sealed to (a fixed test key, not a secret).
pub const IDENTITY: &str =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

/// [`IDENTITY`], parsed once.
pub fn identity() -> &'static Identity {
    static PARSED: OnceLock<Identity> = OnceLock::new();
    PARSED.get_or_init(|| match Identity::parse(IDENTITY) {
        Ok(identity) => identity,
        Err(err) => panic!("the fixed fuzzing identity does not parse: {err}"),
    })
}

/// Small limits, so that the fuzzer reaches every limit check quickly.
pub const LIMITS: Limits = Limits {
    max_entries: 8,
    max_attachment_bytes: 16 * 1024,
    max_total_bytes: 64 * 1024,
    max_text_bytes: 8 * 1024,
};

/// Reads each attachment to its end and remembers what it was told and what
/// it got, so a target can check the promises of a bundle that was accepted.
#[derive(Default)]
pub struct CheckingSink {
    /// Archive path, declared size, bytes actually received.
    pub received: Vec<(String, u64, u64)>,
}

impl AttachmentSink for CheckingSink {
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        assert!(
            size <= LIMITS.max_attachment_bytes,
            "the sink was handed an attachment over the limit: {path:?} of {size} bytes"
        );
        // Read in small pieces, as a slow consumer would.
        let mut buf = [0u8; 1000];
        let mut got = 0u64;
        loop {
            match data.read(&mut buf)? {
                0 => break,
                n => got += n as u64,
            }
        }
        self.received.push((path.to_string(), size, got));
        Ok(())
    }
}

impl CheckingSink {
    /// What must hold once a bundle was accepted: every attachment the sink
    /// received had exactly its declared size, is listed in `tip.json` with
    /// that size, and every listed one reached the sink once.
    pub fn check_accepted(&self, opened: &OpenedTip) {
        for (path, declared, got) in &self.received {
            assert_eq!(declared, got, "{path:?}: declared size differs from bytes");
        }
        assert_eq!(
            self.received.len(),
            opened.tip.attachments.len(),
            "attachments received vs listed"
        );
        for listed in &opened.tip.attachments {
            let matching: Vec<_> = self
                .received
                .iter()
                .filter(|(path, _, _)| *path == listed.path)
                .collect();
            assert_eq!(matching.len(), 1, "{:?} reached the sink once", listed.path);
            assert_eq!(matching[0].2, listed.size, "{:?} size", listed.path);
            // Safe to unpack: `attachments/<one plain file name>`.
            let parts: Vec<&str> = listed.path.split('/').collect();
            assert!(
                parts.len() == 2
                    && parts[0] == "attachments"
                    && !matches!(parts[1], "" | "." | ".."),
                "unsafe attachment path accepted: {:?}",
                listed.path
            );
        }
        let total: u64 = self.received.iter().map(|r| r.2).sum();
        assert!(total <= LIMITS.max_total_bytes);
        assert!(self.received.len() <= LIMITS.max_entries);
    }
}
