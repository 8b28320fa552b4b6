//! A sealed tip: an age file whose plaintext is a tip bundle. The two
//! functions here are what the web client and the CLI call.

#[cfg(feature = "open")]
pub use open::{TipError, open_tip};
#[cfg(feature = "seal")]
pub use seal::{SealingTip, seal_tip};

#[cfg(feature = "seal")]
mod seal {
    use std::io::Write;

    use crate::bundle::{
        AttachmentWriter, BundleWriteError, BundleWriter, NewAttachment, OpenedTip, Tip,
    };
    use crate::keys::Recipient;
    use crate::proof::ThreadKey;
    use crate::seal::{SealError, seal};
    use crate::stream::StreamWriter;

    /// A tip being sealed: add attachments, then [`SealingTip::finish`].
    pub struct SealingTip<W: Write> {
        bundle: BundleWriter<StreamWriter<W>>,
    }

    /// Starts sealing a tip to `recipients` into `output`. Nothing readable
    /// is ever written to `output`: the header goes first, then ciphertext.
    pub fn seal_tip<W: Write>(
        recipients: &[Recipient],
        output: W,
    ) -> Result<SealingTip<W>, SealError> {
        Ok(SealingTip {
            bundle: BundleWriter::new(seal(recipients, output)?),
        })
    }

    impl<W: Write> SealingTip<W> {
        /// Streams one attachment of exactly `attachment.size` bytes.
        pub fn add_attachment(
            &mut self,
            attachment: NewAttachment<'_>,
            data: &mut dyn std::io::Read,
        ) -> Result<(), BundleWriteError> {
            self.bundle.add_attachment(attachment, data)
        }

        /// Starts one attachment to be written in pieces; see
        /// [`BundleWriter::begin_attachment`].
        pub fn begin_attachment(
            &mut self,
            attachment: NewAttachment<'_>,
        ) -> Result<AttachmentWriter<'_, StreamWriter<W>>, BundleWriteError> {
            self.bundle.begin_attachment(attachment)
        }

        /// Writes `tip.json` (and its proof, for a tip offering replies) and
        /// `tip.txt`, pads, seals the final chunk, and returns the output and
        /// the tip as written (with its attachments): exactly what opening
        /// it gives, its `tip.json` bytes and proof included.
        pub fn finish(self, tip: Tip) -> Result<(W, OpenedTip), BundleWriteError> {
            let (stream, tip) = self.bundle.finish(tip)?;
            Ok((stream.finish()?, tip))
        }

        /// Like [`SealingTip::finish`], for a follow-up or a reply in the
        /// thread whose key is `key`.
        pub fn finish_in_thread(
            self,
            tip: Tip,
            key: &ThreadKey,
        ) -> Result<(W, OpenedTip), BundleWriteError> {
            let (stream, tip) = self.bundle.finish_in_thread(tip, key)?;
            Ok((stream.finish()?, tip))
        }

        /// Like [`SealingTip::finish`], for a case item of the thread whose
        /// key is `key` (sealed to the officers only).
        pub fn finish_case(
            self,
            tip: Tip,
            key: &ThreadKey,
        ) -> Result<(W, OpenedTip), BundleWriteError> {
            let (stream, tip) = self.bundle.finish_case(tip, key)?;
            Ok((stream.finish()?, tip))
        }
    }
}

#[cfg(feature = "open")]
mod open {
    use std::io::Read;

    use crate::bundle::{AttachmentSink, BundleReadError, Limits, OpenedTip, read_bundle};
    use crate::keys::Identity;
    use crate::open::{OpenError, open};

    /// Why a sealed tip could not be opened: the age layer or the bundle.
    #[derive(Debug, thiserror::Error)]
    pub enum TipError {
        /// The sealed file: keys, header, MAC, payload.
        #[error(transparent)]
        Open(#[from] OpenError),
        /// The bundle inside: unsafe or inconsistent.
        #[error("the tip is unsafe or inconsistent: {0}")]
        Bundle(BundleReadError),
    }

    impl From<BundleReadError> for TipError {
        fn from(err: BundleReadError) -> Self {
            match err {
                // Decryption errors surface as I/O errors of the bundle reader.
                BundleReadError::Io(io) => match OpenError::from_io(io) {
                    OpenError::Io(io) => TipError::Bundle(BundleReadError::Io(io)),
                    open => TipError::Open(open),
                },
                other => TipError::Bundle(other),
            }
        }
    }

    /// Opens a sealed tip and reads its bundle; attachments stream to `sink`.
    /// Treat what `sink` received as unverified unless this returns `Ok`.
    pub fn open_tip<R: Read>(
        input: R,
        identities: &[Identity],
        limits: &Limits,
        sink: &mut dyn AttachmentSink,
    ) -> Result<OpenedTip, TipError> {
        let plaintext = open(input, identities)?;
        Ok(read_bundle(plaintext, limits, sink)?)
    }
}
