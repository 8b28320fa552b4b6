//! WebP: a RIFF container (`RIFF`, size, `WEBP`) of chunks (FourCC, size,
//! data, a pad byte when the size is odd).
//!
//! A simple file (one VP8 or VP8L chunk) holds no metadata. An extended file
//! starts with a VP8X chunk whose flags say which optional chunks follow.
//! Kept: VP8X, ICCP, ANIM, ANMF, ALPH, VP8 and VP8L. Dropped: EXIF, XMP and
//! every unknown chunk, and whatever follows the RIFF container. The VP8X
//! flags for EXIF and XMP are cleared to match, and the RIFF size is
//! rewritten. The EXIF orientation is written back alone in an EXIF chunk
//! (extended files only, as the format requires).

use crate::{Found, Malformed, Removed, exif, xmp};

const KEPT: &[&[u8; 4]] = &[
    b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L",
];

/// The VP8X flag bits (first byte of the chunk's data).
const FLAG_EXIF: u8 = 0x08;
const FLAG_XMP: u8 = 0x04;
/// The size of VP8X data: flags, reserved bytes, canvas width and height.
const VP8X_LEN: usize = 10;

/// Cleans a WebP file: one that starts with `RIFF`, four bytes, `WEBP`.
pub(crate) fn scrub(input: &[u8]) -> Result<(Vec<u8>, Found), Malformed> {
    let mut found = Found::default();
    let declared = input
        .get(4..8)
        .and_then(|size| size.first_chunk::<4>())
        .map(|size| u64::from(u32::from_le_bytes(*size)))
        .ok_or(Malformed::Truncated {
            what: "the RIFF header",
            offset: 0,
        })?;
    let available = (input.len() as u64).saturating_sub(8);
    if declared < 4 || declared > available {
        return Err(Malformed::RiffSize {
            declared,
            available,
        });
    }
    let riff_end = 8 + declared as usize;
    if input[riff_end..].iter().any(|&byte| byte != 0) {
        found.add(Removed::OtherMetadata);
    }

    let mut out = Vec::with_capacity(riff_end);
    out.extend_from_slice(&input[..12]);
    // Where the VP8X flags byte is in `out`, once copied.
    let mut vp8x_flags: Option<usize> = None;
    let mut orientation_written = false;
    let mut pos = 12;
    while pos < riff_end {
        let start = pos;
        let Some((&fourcc, &size)) = input
            .get(start..start + 8)
            .filter(|_| start + 8 <= riff_end)
            .and_then(|header| header.split_first_chunk::<4>())
            .and_then(|(fourcc, size)| Some((fourcc, size.first_chunk::<4>()?)))
        else {
            return Err(Malformed::Truncated {
                what: "a chunk header",
                offset: start,
            });
        };
        let size = u32::from_le_bytes(size) as usize;
        let data_end = start + 8 + size;
        if data_end > riff_end {
            return Err(Malformed::BadChunkLength {
                offset: start,
                length: size as u64,
            });
        }
        // The pad byte after odd-sized data. Some writers leave it out of
        // the very last chunk; it is written back below.
        let padded_end = (data_end + (size & 1)).min(riff_end);
        let data = &input[start + 8..data_end];
        pos = padded_end;

        match &fourcc {
            b"VP8X" => {
                if data.len() < VP8X_LEN || vp8x_flags.is_some() || start != 12 {
                    return Err(Malformed::BadChunk { offset: start });
                }
                vp8x_flags = Some(out.len() + 8);
                copy_chunk(&input[start..data_end], &mut out);
            }
            fourcc if KEPT.contains(&fourcc) => copy_chunk(&input[start..data_end], &mut out),
            b"EXIF" => {
                let summary = exif::inspect(exif::strip_prefix(data));
                found.merge(summary.found);
                if let Some(orientation) = summary
                    .orientation
                    .filter(|_| !orientation_written && vp8x_flags.is_some())
                {
                    let tiff = exif::orientation_only(orientation);
                    let mut chunk = b"EXIF".to_vec();
                    chunk.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
                    chunk.extend_from_slice(&tiff);
                    copy_chunk(&chunk, &mut out);
                    orientation_written = true;
                }
            }
            b"XMP " => xmp::inspect(data, &mut found),
            _ => found.add(Removed::OtherMetadata),
        }
    }

    if let Some(flags) = vp8x_flags.and_then(|at| out.get_mut(at)) {
        *flags &= !FLAG_XMP;
        if !orientation_written {
            *flags &= !FLAG_EXIF;
        }
    }
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok((out, found))
}

/// Copies a chunk's header and data, then a pad byte if its size is odd.
fn copy_chunk(chunk: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(chunk);
    if chunk.len() % 2 == 1 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = fourcc.to_vec();
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend(body);
        out
    }

    fn vp8x(flags: u8) -> Vec<u8> {
        chunk(b"VP8X", &[flags, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    #[test]
    fn exif_and_xmp_go_and_flags_follow() {
        let vp8l = chunk(b"VP8L", b"\x2f\0\0\0\0");
        let iccp = chunk(b"ICCP", b"profile");
        let mut exif_tiff = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        exif_tiff.extend_from_slice(&[0x01, 0x10, 0, 2, 0, 0, 0, 4, b'P', b'9', 0, 0, 0, 0, 0, 0]);
        let input = riff(&[
            vp8x(0x20 | FLAG_EXIF | FLAG_XMP),
            iccp.clone(),
            vp8l.clone(),
            chunk(b"EXIF", &exif_tiff),
            chunk(b"XMP ", b"<x:xmpmeta dc:creator='someone'/>"),
        ]);
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, riff(&[vp8x(0x20), iccp, vp8l]));
        assert_eq!(
            found.into_vec(),
            vec![Removed::CameraModel, Removed::AuthorAndCopyright]
        );
    }

    #[test]
    fn a_simple_file_is_unchanged() {
        let input = riff(&[chunk(b"VP8L", b"\x2f\0\0\0\0")]);
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, input);
        assert!(found.is_empty());
    }

    #[test]
    fn a_riff_size_that_lies_is_an_error() {
        let mut input = riff(&[chunk(b"VP8L", b"\x2f\0\0\0\0")]);
        let len = input.len() as u32;
        input[4..8].copy_from_slice(&(len * 2).to_le_bytes());
        assert_eq!(
            scrub(&input),
            Err(Malformed::RiffSize {
                declared: u64::from(len * 2),
                available: u64::from(len - 8)
            })
        );
        input[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert!(matches!(scrub(&input), Err(Malformed::RiffSize { .. })));
    }

    #[test]
    fn a_chunk_past_the_riff_end_is_an_error() {
        let mut input = riff(&[chunk(b"VP8L", b"\x2f\0\0\0\0")]);
        input[16..20].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(
            scrub(&input),
            Err(Malformed::BadChunkLength {
                offset: 12,
                length: 100
            })
        );
        let mut cut = riff(&[chunk(b"VP8L", b"\x2f\0\0\0\0")]);
        cut.extend_from_slice(b"EXI");
        let len = cut.len() as u32 - 8;
        cut[4..8].copy_from_slice(&len.to_le_bytes());
        assert_eq!(
            scrub(&cut),
            Err(Malformed::Truncated {
                what: "a chunk header",
                offset: 26
            })
        );
    }

    #[test]
    fn a_missing_final_pad_byte_is_put_back() {
        let vp8l = chunk(b"VP8L", b"\x2f\0\0\0\0");
        let mut input = riff(std::slice::from_ref(&vp8l));
        input.pop();
        let len = input.len() as u32 - 8;
        input[4..8].copy_from_slice(&len.to_le_bytes());
        let (out, _) = scrub(&input).unwrap();
        assert_eq!(out, riff(&[vp8l]));
    }
}
