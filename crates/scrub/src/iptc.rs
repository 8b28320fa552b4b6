//! IPTC and Photoshop image resources, as carried in a JPEG APP13 segment
//! (`Photoshop 3.0\0` then `8BIM` resource blocks, one of which holds IPTC
//! IIM datasets). Always dropped whole; walked only to say what they held.

use crate::{Found, Removed, xmp};

/// The JPEG APP13 identifier of Photoshop image resources.
pub(crate) const JPEG_ID: &[u8] = b"Photoshop 3.0\0";

// Photoshop image resource ids.
const RESOURCE_IPTC: u16 = 0x0404;
const RESOURCE_THUMBNAIL_OLD: u16 = 0x0409;
const RESOURCE_THUMBNAIL: u16 = 0x040C;
const RESOURCE_XMP: u16 = 0x0424;
const RESOURCE_IPTC_DIGEST: u16 = 0x0425;

/// Adds what a run of Photoshop image resource blocks holds to `found`.
pub(crate) fn inspect_resources(mut data: &[u8], found: &mut Found) {
    while !data.is_empty() {
        let Some(rest) = data.strip_prefix(b"8BIM") else {
            found.add(Removed::OtherMetadata);
            return;
        };
        let Some((id, rest)) = rest.split_first_chunk::<2>() else {
            found.add(Removed::OtherMetadata);
            return;
        };
        let id = u16::from_be_bytes(*id);
        // A Pascal-string name, padded to an even length counting its
        // length byte.
        let Some(&name_len) = rest.first() else {
            found.add(Removed::OtherMetadata);
            return;
        };
        let name_total = (usize::from(name_len) + 2) & !1;
        let Some((size, rest)) = rest
            .get(name_total..)
            .and_then(|rest| rest.split_first_chunk::<4>())
        else {
            found.add(Removed::OtherMetadata);
            return;
        };
        let size = u32::from_be_bytes(*size) as usize;
        let Some(body) = rest.get(..size) else {
            found.add(Removed::OtherMetadata);
            return;
        };
        match id {
            RESOURCE_IPTC => inspect_iim(body, found),
            RESOURCE_THUMBNAIL | RESOURCE_THUMBNAIL_OLD => found.add(Removed::EmbeddedThumbnail),
            RESOURCE_XMP => xmp::inspect(body, found),
            RESOURCE_IPTC_DIGEST => {}
            _ => found.add(Removed::OtherMetadata),
        }
        let padded = size + (size & 1);
        data = rest.get(padded..).unwrap_or_default();
    }
}

/// Adds what IPTC IIM datasets hold to `found`.
pub(crate) fn inspect_iim(mut data: &[u8], found: &mut Found) {
    while let Some((&tag_marker, rest)) = data.split_first() {
        if tag_marker != 0x1C {
            // Padding after the last dataset is common; anything else is
            // not IIM, and goes as other metadata.
            if data.iter().any(|&byte| byte != 0) {
                found.add(Removed::OtherMetadata);
            }
            return;
        }
        let Some((&[record, dataset, len_high, len_low], rest)) = rest.split_first_chunk::<4>()
        else {
            found.add(Removed::OtherMetadata);
            return;
        };
        let declared = u16::from_be_bytes([len_high, len_low]);
        let (len, rest) = if declared & 0x8000 == 0 {
            (usize::from(declared), rest)
        } else {
            // Extended length: the low bits count the bytes of the length.
            let count = usize::from(declared & 0x7FFF);
            let Some(bytes) = rest.get(..count).filter(|_| count <= 8) else {
                found.add(Removed::OtherMetadata);
                return;
            };
            let len = bytes
                .iter()
                .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
            (usize::try_from(len).unwrap_or(usize::MAX), &rest[count..])
        };
        if let Some(kind) = classify(record, dataset) {
            found.add(kind);
        }
        let Some(rest) = rest.get(len..) else {
            found.add(Removed::OtherMetadata);
            return;
        };
        data = rest;
    }
}

/// What one IIM dataset is; `None` for the record version, which says
/// nothing.
fn classify(record: u8, dataset: u8) -> Option<Removed> {
    if record != 2 {
        return Some(Removed::OtherMetadata);
    }
    Some(match dataset {
        0 => return None,
        90 | 92 | 95 | 100 | 101 => Removed::Location,
        55 | 60 | 62 | 63 => Removed::DateTaken,
        65 | 70 => Removed::EditingSoftware,
        80 | 85 | 110 | 115 | 116 | 118 | 122 => Removed::AuthorAndCopyright,
        5 | 25 | 40 | 105 | 120 => Removed::Comments,
        _ => Removed::OtherMetadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(number: u8, value: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x1C, 2, number];
        bytes.extend_from_slice(&(value.len() as u16).to_be_bytes());
        bytes.extend_from_slice(value);
        bytes
    }

    #[test]
    fn byline_city_and_caption() {
        let mut iim = dataset(0, &[0, 4]);
        iim.extend(dataset(80, b"someone"));
        iim.extend(dataset(90, b"Paris"));
        iim.extend(dataset(120, b"the harbour"));
        let mut resources = b"8BIM\x04\x04\0\0".to_vec();
        resources.extend_from_slice(&(iim.len() as u32).to_be_bytes());
        resources.extend_from_slice(&iim);
        if iim.len() % 2 == 1 {
            resources.push(0);
        }
        let mut found = Found::default();
        inspect_resources(&resources, &mut found);
        assert_eq!(
            found.into_vec(),
            vec![
                Removed::Location,
                Removed::AuthorAndCopyright,
                Removed::Comments
            ]
        );
    }

    #[test]
    fn lengths_past_the_end_stop_the_walk() {
        let mut found = Found::default();
        inspect_resources(b"8BIM\x04\x04\0\0\xFF\xFF\xFF\xFF", &mut found);
        assert_eq!(found.into_vec(), vec![Removed::OtherMetadata]);
        let mut found = Found::default();
        inspect_iim(
            b"\x1C\x02\x50\x80\x08\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
            &mut found,
        );
        assert_eq!(
            found.into_vec(),
            vec![Removed::AuthorAndCopyright, Removed::OtherMetadata]
        );
    }
}
