//! JPEG: a run of marker segments, then entropy-coded scans, then the
//! end-of-image marker.
//!
//! Kept, byte for byte: every segment a decoder needs (frame headers,
//! quantisation and Huffman tables, restart intervals, scans and their
//! entropy-coded data), APP0 JFIF (without its rarely used thumbnail), APP2
//! ICC profiles and APP14 Adobe (colour transform). Dropped: APP1 (EXIF with
//! its GPS IFD, thumbnail and maker notes; XMP), APP13 (IPTC and Photoshop
//! resources), COM, every other APPn segment (MPF indexes, FlashPix, JPEG XT
//! and content credentials boxes, maker segments), and whatever follows the
//! end-of-image marker (the extra pictures of an MPF file, a motion photo's
//! video, maker trailers). The EXIF orientation is written back alone.

use crate::{Found, Malformed, Removed, exif, iptc, xmp};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const TEM: u8 = 0x01;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP13: u8 = 0xED;
const APP14: u8 = 0xEE;
const APP15: u8 = 0xEF;
const COM: u8 = 0xFE;

const JFIF_ID: &[u8] = b"JFIF\0";
const JFXX_ID: &[u8] = b"JFXX\0";
const ICC_ID: &[u8] = b"ICC_PROFILE\0";
const ADOBE_ID: &[u8] = b"Adobe";
/// A JFIF APP0 payload without thumbnail: identifier, version, units,
/// densities, and a zero thumbnail size.
const JFIF_HEADER_LEN: usize = 14;

/// Cleans a JPEG file whose first three bytes are `FF D8 FF`.
pub(crate) fn scrub(input: &[u8]) -> Result<(Vec<u8>, Found), Malformed> {
    let mut out = Vec::with_capacity(input.len());
    let mut found = Found::default();
    let mut orientation_written = false;
    out.extend_from_slice(&[0xFF, SOI]);
    let mut pos = 2;
    loop {
        let marker_at = pos;
        match input.get(pos) {
            None => {
                return Err(Malformed::MissingEnd {
                    what: "end-of-image marker",
                });
            }
            Some(0xFF) => {}
            Some(&found) => {
                return Err(Malformed::ExpectedMarker { offset: pos, found });
            }
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while input.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = input.get(pos) else {
            return Err(Malformed::MissingEnd {
                what: "end-of-image marker",
            });
        };
        pos += 1;
        match marker {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                if input[pos..].iter().any(|&byte| byte != 0) {
                    found.add(Removed::OtherMetadata);
                }
                return Ok((out, found));
            }
            TEM | 0xD0..=0xD7 => {
                // Standalone markers: no length, no payload.
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | SOI => {
                return Err(Malformed::MisplacedMarker {
                    marker,
                    offset: marker_at,
                });
            }
            _ => {}
        }
        let Some(&[high, low]) = input
            .get(pos..pos + 2)
            .and_then(|bytes| bytes.first_chunk())
        else {
            return Err(Malformed::Truncated {
                what: "a segment",
                offset: marker_at,
            });
        };
        let length = u16::from_be_bytes([high, low]);
        if length < 2 {
            return Err(Malformed::BadSegmentLength {
                offset: marker_at,
                length,
            });
        }
        let end = pos + usize::from(length);
        let Some(payload) = input.get(pos + 2..end) else {
            return Err(Malformed::Truncated {
                what: "a segment",
                offset: marker_at,
            });
        };
        let segment = &input[pos..end];
        pos = end;
        match marker {
            APP0 if payload.starts_with(JFIF_ID) => {
                keep_jfif(payload, &mut out, &mut found);
            }
            APP0 if payload.starts_with(JFXX_ID) => found.add(Removed::EmbeddedThumbnail),
            APP1 if payload.starts_with(exif::JPEG_PREFIX) => {
                let summary = exif::inspect(&payload[exif::JPEG_PREFIX.len()..]);
                found.merge(summary.found);
                if let Some(orientation) = summary.orientation.filter(|_| !orientation_written) {
                    write_orientation(orientation, &mut out);
                    orientation_written = true;
                }
            }
            APP1 if payload.starts_with(xmp::JPEG_ID) => {
                xmp::inspect(&payload[xmp::JPEG_ID.len()..], &mut found);
            }
            APP1 if payload.starts_with(xmp::JPEG_EXTENSION_ID) => {
                xmp::inspect(&payload[xmp::JPEG_EXTENSION_ID.len()..], &mut found);
            }
            APP2 if payload.starts_with(ICC_ID) => keep(marker, segment, &mut out),
            APP13 if payload.starts_with(iptc::JPEG_ID) => {
                iptc::inspect_resources(&payload[iptc::JPEG_ID.len()..], &mut found);
            }
            APP14 if payload.starts_with(ADOBE_ID) => keep(marker, segment, &mut out),
            APP0..=APP15 => found.add(Removed::OtherMetadata),
            COM => {
                if payload
                    .iter()
                    .any(|&byte| byte != 0 && !byte.is_ascii_whitespace())
                {
                    found.add(Removed::Comments);
                }
            }
            SOS => {
                keep(marker, segment, &mut out);
                let scan_end = entropy_coded_end(input, pos)?;
                out.extend_from_slice(&input[pos..scan_end]);
                pos = scan_end;
            }
            _ => keep(marker, segment, &mut out),
        }
    }
}

/// Copies a segment: its marker, then its length and payload as they were.
fn keep(marker: u8, segment: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(segment);
}

/// Copies a JFIF APP0 segment, without the thumbnail it may carry.
fn keep_jfif(payload: &[u8], out: &mut Vec<u8>, found: &mut Found) {
    let Some(header) = payload.get(..JFIF_HEADER_LEN) else {
        // Too short to hold its own fields: decoders ignore it, so can we.
        found.add(Removed::OtherMetadata);
        return;
    };
    out.extend_from_slice(&[0xFF, APP0]);
    out.extend_from_slice(&(JFIF_HEADER_LEN as u16 + 2).to_be_bytes());
    out.extend_from_slice(&header[..JFIF_HEADER_LEN - 2]);
    out.extend_from_slice(&[0, 0]);
    if header[JFIF_HEADER_LEN - 2] != 0 && header[JFIF_HEADER_LEN - 1] != 0 {
        found.add(Removed::EmbeddedThumbnail);
    } else if payload.len() > JFIF_HEADER_LEN {
        found.add(Removed::OtherMetadata);
    }
}

/// Writes an APP1 EXIF segment that holds only the orientation.
fn write_orientation(orientation: u16, out: &mut Vec<u8>) {
    let tiff = exif::orientation_only(orientation);
    let length = 2 + exif::JPEG_PREFIX.len() + tiff.len();
    out.extend_from_slice(&[0xFF, APP1]);
    out.extend_from_slice(&(length as u16).to_be_bytes());
    out.extend_from_slice(exif::JPEG_PREFIX);
    out.extend_from_slice(&tiff);
}

/// Where the entropy-coded data that starts at `from` ends: at the first
/// marker that is not a stuffed zero byte or a restart marker.
fn entropy_coded_end(input: &[u8], from: usize) -> Result<usize, Malformed> {
    let mut at = from;
    loop {
        let Some(ff) = input
            .get(at..)
            .and_then(|rest| rest.iter().position(|&byte| byte == 0xFF))
        else {
            return Err(Malformed::MissingEnd {
                what: "end-of-image marker",
            });
        };
        let ff = at + ff;
        match input.get(ff + 1) {
            None => {
                return Err(Malformed::MissingEnd {
                    what: "end-of-image marker",
                });
            }
            // A stuffed zero, a restart marker, or a fill byte: still data.
            Some(0x00 | 0xD0..=0xD7) => at = ff + 2,
            Some(0xFF) => at = ff + 1,
            Some(_) => return Ok(ff),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment: marker, length, payload.
    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A JPEG-shaped file: SOI, the given segments, a fake frame, table and
    /// scan whose entropy-coded data has a stuffed byte and a restart
    /// marker, then EOI.
    fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = vec![0xFF, SOI];
        for segment in segments {
            bytes.extend_from_slice(segment);
        }
        bytes.extend(image_data());
        bytes
    }

    fn image_data() -> Vec<u8> {
        let mut bytes = segment(0xDB, &[0; 65]);
        bytes.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        bytes.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        bytes.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn comments_and_unknown_app_segments_go_and_image_data_stays() {
        let jfif = segment(APP0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let icc = segment(APP2, b"ICC_PROFILE\0\x01\x01profile");
        let input = jpeg(&[
            jfif.clone(),
            segment(COM, b"hello"),
            icc.clone(),
            segment(APP2, b"MPF\0...."),
            segment(0xE9, b"maker"),
        ]);
        let (out, found) = scrub(&input).unwrap();
        let mut expected = vec![0xFF, SOI];
        expected.extend(jfif);
        expected.extend(icc);
        expected.extend(image_data());
        assert_eq!(out, expected);
        assert_eq!(
            found.into_vec(),
            vec![Removed::Comments, Removed::OtherMetadata]
        );
    }

    #[test]
    fn a_clean_file_is_unchanged() {
        let input = jpeg(&[segment(APP0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")]);
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, input);
        assert!(found.is_empty());
    }

    #[test]
    fn orientation_is_written_back_alone() {
        let mut exif = exif::JPEG_PREFIX.to_vec();
        exif.extend(exif::orientation_only(6));
        let input = jpeg(&[segment(APP1, &exif)]);
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, input, "an orientation-only block is what we write");
        assert!(found.is_empty());
    }

    #[test]
    fn jfif_thumbnail_is_dropped() {
        let mut payload = b"JFIF\0\x01\x02\0\0\x01\0\x01\x01\x01".to_vec();
        payload.extend_from_slice(&[1, 2, 3]);
        let (out, found) = scrub(&jpeg(&[segment(APP0, &payload)])).unwrap();
        assert_eq!(
            &out[2..20],
            &segment(APP0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0")[..]
        );
        assert_eq!(found.into_vec(), vec![Removed::EmbeddedThumbnail]);
    }

    #[test]
    fn trailing_data_after_the_end_is_dropped() {
        let mut input = jpeg(&[]);
        let clean = input.clone();
        input.extend_from_slice(b"\xFF\xD8 a second picture or a video");
        let (out, found) = scrub(&input).unwrap();
        assert_eq!(out, clean);
        assert_eq!(found.into_vec(), vec![Removed::OtherMetadata]);
    }

    #[test]
    fn a_truncated_segment_is_an_error() {
        let mut input = vec![0xFF, SOI];
        input.extend(segment(APP1, b"Exif\0\0MM\0*\0\0\0\x08"));
        input.truncate(10);
        assert_eq!(
            scrub(&input),
            Err(Malformed::Truncated {
                what: "a segment",
                offset: 2
            })
        );
        assert_eq!(
            scrub(&[0xFF, SOI, 0xFF, 0xE1, 0x00]),
            Err(Malformed::Truncated {
                what: "a segment",
                offset: 2
            })
        );
    }

    #[test]
    fn other_damage_is_an_error() {
        assert_eq!(
            scrub(&[0xFF, SOI, 0xFF, 0xE1, 0x00, 0x01]),
            Err(Malformed::BadSegmentLength {
                offset: 2,
                length: 1
            })
        );
        assert_eq!(
            scrub(&[0xFF, SOI, 0x12]),
            Err(Malformed::ExpectedMarker {
                offset: 2,
                found: 0x12
            })
        );
        assert_eq!(
            scrub(&[0xFF, SOI, 0xFF, SOI]),
            Err(Malformed::MisplacedMarker {
                marker: SOI,
                offset: 2
            })
        );
        assert_eq!(
            scrub(&[0xFF, SOI, 0xFF, 0xFF, 0xFF]),
            Err(Malformed::MissingEnd {
                what: "end-of-image marker"
            })
        );
        let mut cut = jpeg(&[]);
        cut.truncate(cut.len() - 2);
        assert_eq!(
            scrub(&cut),
            Err(Malformed::MissingEnd {
                what: "end-of-image marker"
            })
        );
    }
}
