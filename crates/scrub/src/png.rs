//! PNG: a signature, then chunks (length, name, data, CRC) from IHDR to
//! IEND.
//!
//! Kept, whole and with their CRCs: the critical chunks (IHDR, PLTE, IDAT,
//! IEND), transparency and colour chunks (tRNS, gAMA, cHRM, sRGB, iCCP,
//! sBIT, cICP, mDCV, cLLI), pHYs, bKGD, hIST, and animation (acTL, fcTL,
//! fdAT). Dropped: text (tEXt, zTXt, iTXt, where XMP lives), tIME, eXIf,
//! every other ancillary chunk, and whatever follows IEND. The EXIF
//! orientation is written back alone in an eXIf chunk. An unknown critical
//! chunk is an error: a decoder would need it, and we cannot vouch for it.

use crate::{Found, Malformed, Removed, exif, text};

/// The eight bytes every PNG file starts with.
pub(crate) const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The ancillary chunks that are kept: they hold how to show the image, and
/// nothing about who made it, where or when.
const KEPT: &[&[u8; 4]] = &[
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"pHYs",
    b"bKGD", b"hIST", b"acTL", b"fcTL", b"fdAT",
];

/// The critical chunks PNG defines.
const CRITICAL: &[&[u8; 4]] = &[b"IHDR", b"PLTE", b"IDAT", b"IEND"];

/// The largest chunk length PNG allows.
const MAX_LENGTH: u32 = 0x7FFF_FFFF;

/// Cleans a PNG file that starts with [`SIGNATURE`].
pub(crate) fn scrub(input: &[u8]) -> Result<(Vec<u8>, Found), Malformed> {
    let mut out = Vec::with_capacity(input.len());
    let mut found = Found::default();
    let mut orientation_written = false;
    out.extend_from_slice(SIGNATURE);
    let mut pos = SIGNATURE.len();
    let mut first = true;
    let mut inflate_budget = text::INFLATE_BUDGET;
    loop {
        let start = pos;
        if start == input.len() {
            return Err(Malformed::MissingEnd { what: "IEND chunk" });
        }
        let Some((&length, &name)) = input
            .get(start..start + 8)
            .and_then(|header| header.split_first_chunk::<4>())
            .and_then(|(length, name)| Some((length, name.first_chunk::<4>()?)))
        else {
            return Err(Malformed::Truncated {
                what: "a chunk header",
                offset: start,
            });
        };
        let length = u32::from_be_bytes(length);
        let end = start as u64 + 12 + u64::from(length);
        if length > MAX_LENGTH || end > input.len() as u64 {
            return Err(Malformed::BadChunkLength {
                offset: start,
                length: u64::from(length),
            });
        }
        if !name.iter().all(u8::is_ascii_alphabetic) {
            return Err(Malformed::BadChunk { offset: start });
        }
        if first && &name != b"IHDR" {
            return Err(Malformed::MissingHeader);
        }
        first = false;
        let end = end as usize;
        let chunk = &input[start..end];
        let data = &chunk[8..chunk.len() - 4];
        pos = end;

        let critical = name[0].is_ascii_uppercase();
        match &name {
            b"IEND" => {
                out.extend_from_slice(chunk);
                if input[end..].iter().any(|&byte| byte != 0) {
                    found.add(Removed::OtherMetadata);
                }
                return Ok((out, found));
            }
            name if CRITICAL.contains(&name) || KEPT.contains(&name) => {
                out.extend_from_slice(chunk);
            }
            _ if critical => {
                return Err(Malformed::UnknownCriticalChunk {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    offset: start,
                });
            }
            b"eXIf" => {
                let summary = exif::inspect(exif::strip_prefix(data));
                found.merge(summary.found);
                if let Some(orientation) = summary.orientation.filter(|_| !orientation_written) {
                    write_chunk(b"eXIf", &exif::orientation_only(orientation), &mut out);
                    orientation_written = true;
                }
            }
            b"tIME" => found.add(Removed::DateTaken),
            b"tEXt" => {
                let (keyword, value) = split_keyword(data);
                text::inspect(keyword, value, &mut found);
            }
            b"zTXt" => {
                let (keyword, rest) = split_keyword(data);
                // One byte of compression method (0: zlib), then the text.
                let value = inflate(rest.get(1..).unwrap_or_default(), &mut inflate_budget);
                text::inspect(keyword, &value, &mut found);
            }
            b"iTXt" => inspect_itxt(data, &mut inflate_budget, &mut found),
            _ => found.add(Removed::OtherMetadata),
        }
    }
}

/// An international text chunk: keyword, compression flag and method,
/// language tag, translated keyword, then the text, compressed or not.
fn inspect_itxt(data: &[u8], budget: &mut usize, found: &mut Found) {
    let (keyword, rest) = split_keyword(data);
    let Some((&[compressed, _method], rest)) = rest.split_first_chunk::<2>() else {
        text::inspect(keyword, &[], found);
        return;
    };
    let (_language, rest) = split_keyword(rest);
    let (_translated, value) = split_keyword(rest);
    if compressed == 0 {
        text::inspect(keyword, value, found);
    } else {
        text::inspect(keyword, &inflate(value, budget), found);
    }
}

/// Splits at the first NUL: the part before, and the part after it (empty
/// when there is none).
fn split_keyword(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[]),
    }
}

/// Inflates zlib data, at most [`text::INFLATE_LIMIT`] bytes of it and no
/// more than is left of `budget`, which it lowers; what was inflated before
/// an error or a limit is still returned.
fn inflate(data: &[u8], budget: &mut usize) -> Vec<u8> {
    let limit = text::INFLATE_LIMIT.min(*budget);
    if limit == 0 {
        return Vec::new();
    }
    let bytes = match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, limit) {
        Ok(bytes) => bytes,
        Err(error) => error.output,
    };
    *budget = budget.saturating_sub(bytes.len().max(data.len()));
    bytes
}

/// Appends a chunk with its length and CRC.
fn write_chunk(name: &[u8; 4], data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let crc_from = out.len();
    out.extend_from_slice(name);
    out.extend_from_slice(data);
    let crc = crc32(&out[crc_from..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The CRC-32 of PNG (and zlib, and gzip): reflected, polynomial 0xEDB88320.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(name: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_chunk(name, data, &mut out);
        out
    }

    fn ihdr() -> Vec<u8> {
        chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
    }

    fn png(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        for chunk in chunks {
            out.extend_from_slice(chunk);
        }
        out
    }

    #[test]
    fn crc_of_iend_is_the_known_one() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn text_time_and_unknown_chunks_go_colour_stays() {
        let idat = chunk(b"IDAT", b"\x78\x9c\x63\x00\x00\x00\x01\x00\x01");
        let iend = chunk(b"IEND", b"");
        let gama = chunk(b"gAMA", &45455u32.to_be_bytes());
        let input = png(&[
            ihdr(),
            gama.clone(),
            chunk(b"tEXt", b"Comment\0hello"),
            chunk(b"tIME", &[7, 234, 11, 28, 21, 4, 0]),
            chunk(b"prVt", b"private"),
            idat.clone(),
            iend.clone(),
        ]);
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, png(&[ihdr(), gama, idat, iend]));
        assert_eq!(
            found.into_vec(),
            vec![
                Removed::DateTaken,
                Removed::Comments,
                Removed::OtherMetadata
            ]
        );
    }

    #[test]
    fn compressed_xmp_is_looked_into() {
        let xmp = b"<x:xmpmeta><rdf:Description exif:GPSLatitude='48,51N'/></x:xmpmeta>";
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(xmp, 6);
        let mut itxt = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
        itxt.extend(compressed);
        let input = png(&[ihdr(), chunk(b"iTXt", &itxt), chunk(b"IEND", b"")]);
        let (_, found) = scrub(&input).unwrap();
        assert_eq!(found.into_vec(), vec![Removed::Location]);
    }

    #[test]
    fn compressed_text_bombs_are_inflated_within_a_budget() {
        let zeros = vec![0u8; text::INFLATE_LIMIT + 1];
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 6);
        let mut ztxt = b"Comment\0\0".to_vec();
        ztxt.extend_from_slice(&bomb);
        let mut chunks = vec![ihdr()];
        chunks.extend(std::iter::repeat_n(chunk(b"zTXt", &ztxt), 20));
        chunks.push(chunk(b"IEND", b""));
        let mut budget = text::INFLATE_BUDGET;
        for _ in 0..text::INFLATE_BUDGET / text::INFLATE_LIMIT {
            assert_eq!(inflate(&bomb, &mut budget).len(), text::INFLATE_LIMIT);
        }
        assert_eq!(budget, 0);
        assert!(inflate(&bomb, &mut budget).is_empty());
        let (out, found) = scrub(&png(&chunks)).unwrap();
        assert_eq!(out, png(&[ihdr(), chunk(b"IEND", b"")]));
        assert_eq!(found.into_vec(), vec![Removed::Comments]);
    }

    #[test]
    fn a_chunk_length_past_the_end_is_an_error() {
        let mut input = png(&[ihdr()]);
        input.extend_from_slice(&1000u32.to_be_bytes());
        input.extend_from_slice(b"IDATshort");
        assert_eq!(
            scrub(&input),
            Err(Malformed::BadChunkLength {
                offset: 33,
                length: 1000
            })
        );
        let mut huge = png(&[ihdr()]);
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        huge.extend_from_slice(b"IDAT");
        assert!(matches!(
            scrub(&huge),
            Err(Malformed::BadChunkLength { .. })
        ));
    }

    #[test]
    fn structural_damage_is_an_error() {
        assert_eq!(
            scrub(&png(&[ihdr()])),
            Err(Malformed::MissingEnd { what: "IEND chunk" })
        );
        assert_eq!(
            scrub(&png(&[chunk(b"IDAT", b""), chunk(b"IEND", b"")])),
            Err(Malformed::MissingHeader)
        );
        assert_eq!(
            scrub(&png(&[ihdr(), chunk(b"ZZZZ", b""), chunk(b"IEND", b"")])),
            Err(Malformed::UnknownCriticalChunk {
                name: "ZZZZ".into(),
                offset: 33
            })
        );
        assert_eq!(
            scrub(&png(&[ihdr(), chunk(b"a1b2", b""), chunk(b"IEND", b"")])),
            Err(Malformed::BadChunk { offset: 33 })
        );
        let mut cut = png(&[ihdr()]);
        cut.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            scrub(&cut),
            Err(Malformed::Truncated {
                what: "a chunk header",
                offset: 33
            })
        );
    }
}
