//! The numbers of the age payload's layout, and the one rule they give for
//! its length. Needed without the `seal` and `open` features: the relay
//! checks that an upload's length after the header is one an age payload
//! can have, and links no code that could open it.
//!
//! ```text
//! payload = nonce (16) || chunk_0 || … || chunk_n
//! chunk_i = ciphertext (64 KiB, the last one 0 to 64 KiB) || tag (16)
//! ```

/// Plaintext bytes in every chunk but the last.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// The Poly1305 tag after each chunk.
pub const TAG_SIZE: usize = 16;
/// The random nonce at the start of the payload.
pub const NONCE_SIZE: usize = 16;
/// A full chunk as sealed: its plaintext and its tag.
pub const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;

/// Whether `n` bytes can be an age payload: the nonce, then chunks of which
/// every one but the last is full, the last holding 1 to 64 KiB of
/// plaintext (0 only when it is the only chunk).
pub fn is_payload_length(n: u64) -> bool {
    let (nonce, tag, sealed_chunk) = (NONCE_SIZE as u64, TAG_SIZE as u64, SEALED_CHUNK_SIZE as u64);
    let Some(chunks) = n.checked_sub(nonce) else {
        return false;
    };
    if chunks < tag {
        return false;
    }
    !(chunks > sealed_chunk && (1..=tag).contains(&(chunks % sealed_chunk)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_lengths_follow_the_stream_format() {
        let full = SEALED_CHUNK_SIZE as u64;
        let cases = [
            (0, false),
            (16, false),
            (31, false),
            (32, true),                 // empty plaintext
            (33, true),                 // one byte
            (16 + full, true),          // exactly 64 KiB
            (16 + full + 16, false),    // an empty chunk after a full one
            (16 + full + 17, true),     // 64 KiB + 1
            (16 + 2 * full, true),      // 128 KiB
            (16 + 3 * full + 5, false), // cut inside a tag
        ];
        for (n, expected) in cases {
            assert_eq!(is_payload_length(n), expected, "{n}");
        }
    }

    #[cfg(feature = "seal")]
    #[test]
    fn every_sealed_length_is_a_payload_length() {
        for len in [
            0usize,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            let key = crate::FileKey::generate().unwrap();
            let mut writer = crate::stream::StreamWriter::new(Vec::new(), &key).unwrap();
            std::io::Write::write_all(&mut writer, &vec![7u8; len]).unwrap();
            let payload = writer.finish().unwrap();
            assert!(is_payload_length(payload.len() as u64), "{len}");
        }
    }
}
