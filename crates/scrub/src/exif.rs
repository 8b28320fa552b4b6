//! EXIF: a TIFF structure of IFDs (image file directories), walked only far
//! enough to tell which kinds of metadata it holds, and to find the
//! orientation. EXIF is always dropped whole; nothing here writes it back
//! except [`orientation_only`].

use crate::{Found, Removed, xmp};

/// The prefix of EXIF data in a JPEG APP1 segment, which some writers also
/// put in PNG eXIf and WebP EXIF chunks.
pub(crate) const JPEG_PREFIX: &[u8] = b"Exif\0\0";

/// What an EXIF block held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// The kinds of metadata found.
    pub found: Found,
    /// The orientation tag (1 to 8), when present and not 1 (upright).
    pub orientation: Option<u16>,
    /// Whether an XMP packet inside was looked into: only the first one
    /// is, so that many tags pointing at one large packet cost one search.
    xmp_seen: bool,
}

/// At most this many IFDs are visited in one block: IFD0, IFD1, the EXIF,
/// GPS and interoperability IFDs, with room for odd writers. A block whose
/// pointers loop or fan out stops here.
const MAX_IFDS: usize = 8;

/// Which IFD an offset was reached as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ifd {
    /// The main image's tags.
    Zero,
    /// The thumbnail's tags.
    One,
    /// Camera settings and dates.
    Exif,
    /// Location.
    Gps,
    /// Interoperability: format details only.
    Interop,
}

// Tags, by what they give away.
const ORIENTATION: u16 = 0x0112;
const EXIF_IFD: u16 = 0x8769;
const GPS_IFD: u16 = 0x8825;
const INTEROP_IFD: u16 = 0xA005;
const XMP_PACKET: u16 = 0x02BC;
const GPS_VERSION: u16 = 0x0000;

const CAMERA: &[u16] = &[
    0x010F, // Make
    0x0110, // Model
    0xA431, // BodySerialNumber
    0xA432, // LensSpecification
    0xA433, // LensMake
    0xA434, // LensModel
    0xA435, // LensSerialNumber
    0xC614, // UniqueCameraModel
    0xC62F, // CameraSerialNumber
];
const DATE: &[u16] = &[
    0x0132, // DateTime
    0x9003, // DateTimeOriginal
    0x9004, // DateTimeDigitized
    0x9010, // OffsetTime
    0x9011, // OffsetTimeOriginal
    0x9012, // OffsetTimeDigitized
    0x9290, // SubSecTime
    0x9291, // SubSecTimeOriginal
    0x9292, // SubSecTimeDigitized
];
const SOFTWARE: &[u16] = &[
    0x000B, // ProcessingSoftware
    0x0131, // Software
    0x013C, // HostComputer
];
const AUTHOR: &[u16] = &[
    0x013B, // Artist
    0x8298, // Copyright
    0x9C9D, // XPAuthor
    0xA430, // CameraOwnerName
];
const COMMENTS: &[u16] = &[
    0x010D, // DocumentName
    0x010E, // ImageDescription
    0x9286, // UserComment
    0x9C9B, // XPTitle
    0x9C9C, // XPComment
    0x9C9E, // XPKeywords
    0x9C9F, // XPSubject
];

/// The byte order of a TIFF structure.
#[derive(Debug, Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let pair: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u16::from_le_bytes(pair),
            Self::Big => u16::from_be_bytes(pair),
        })
    }

    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let quad: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u32::from_le_bytes(quad),
            Self::Big => u32::from_be_bytes(quad),
        })
    }
}

/// Removes the `Exif\0\0` prefix if there is one.
pub(crate) fn strip_prefix(data: &[u8]) -> &[u8] {
    data.strip_prefix(JPEG_PREFIX).unwrap_or(data)
}

/// Walks a TIFF-structured EXIF block (starting with `II*\0` or `MM\0*`).
/// Never fails: what cannot be read is counted as other metadata, since the
/// block is dropped whatever it holds.
pub(crate) fn inspect(tiff: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let order = match tiff.get(..4) {
        Some(b"II*\0") => Order::Little,
        Some(b"MM\0*") => Order::Big,
        _ => {
            summary.found.add(Removed::OtherMetadata);
            return summary;
        }
    };
    let Some(first) = order.u32(tiff, 4) else {
        summary.found.add(Removed::OtherMetadata);
        return summary;
    };

    let mut queue: Vec<(u32, Ifd)> = vec![(first, Ifd::Zero)];
    let mut visited: Vec<u32> = Vec::new();
    while let Some((offset, ifd)) = queue.pop() {
        if offset == 0 {
            continue;
        }
        if visited.contains(&offset) || visited.len() >= MAX_IFDS {
            summary.found.add(Removed::OtherMetadata);
            continue;
        }
        visited.push(offset);
        walk_ifd(tiff, order, offset, ifd, &mut summary, &mut queue);
    }
    summary
}

/// Reads one IFD: classifies its tags, queues the IFDs it points to.
fn walk_ifd(
    tiff: &[u8],
    order: Order,
    offset: u32,
    ifd: Ifd,
    summary: &mut Summary,
    queue: &mut Vec<(u32, Ifd)>,
) {
    let found = &mut summary.found;
    let start = offset as usize;
    let Some(count) = order.u16(tiff, start) else {
        found.add(Removed::OtherMetadata);
        return;
    };
    if ifd == Ifd::One && count > 0 {
        found.add(Removed::EmbeddedThumbnail);
    }
    let entries = start + 2;
    for index in 0..usize::from(count) {
        let at = entries + 12 * index;
        let (Some(tag), Some(kind), Some(items)) = (
            order.u16(tiff, at),
            order.u16(tiff, at + 2),
            order.u32(tiff, at + 4),
        ) else {
            // The directory runs past the block's end.
            found.add(Removed::OtherMetadata);
            return;
        };
        let value_at = at + 8;
        match (ifd, tag) {
            (Ifd::Gps, GPS_VERSION) => {}
            (Ifd::Gps, _) => found.add(Removed::Location),
            (Ifd::One | Ifd::Interop, _) => {}
            (_, EXIF_IFD) => queue_pointer(tiff, order, value_at, Ifd::Exif, queue, found),
            (_, GPS_IFD) => queue_pointer(tiff, order, value_at, Ifd::Gps, queue, found),
            (_, INTEROP_IFD) => queue_pointer(tiff, order, value_at, Ifd::Interop, queue, found),
            (Ifd::Zero, ORIENTATION) => {
                // SHORT, one value, in the first two bytes of the value field.
                match order.u16(tiff, value_at) {
                    Some(value @ 2..=8) if kind == 3 && items == 1 => {
                        summary.orientation = Some(value);
                    }
                    Some(1) if kind == 3 && items == 1 => {}
                    _ => found.add(Removed::OtherMetadata),
                }
            }
            (_, XMP_PACKET) => match value_bytes(tiff, order, kind, items, value_at) {
                Some(packet) if !summary.xmp_seen => {
                    summary.xmp_seen = true;
                    xmp::inspect(packet, found);
                }
                _ => found.add(Removed::OtherMetadata),
            },
            (_, tag) if CAMERA.contains(&tag) => found.add(Removed::CameraModel),
            (_, tag) if DATE.contains(&tag) => found.add(Removed::DateTaken),
            (_, tag) if SOFTWARE.contains(&tag) => found.add(Removed::EditingSoftware),
            (_, tag) if AUTHOR.contains(&tag) => found.add(Removed::AuthorAndCopyright),
            (_, tag) if COMMENTS.contains(&tag) => found.add(Removed::Comments),
            _ => found.add(Removed::OtherMetadata),
        }
    }
    match ifd {
        Ifd::Zero => {
            if let Some(next) = order.u32(tiff, entries + 12 * usize::from(count)) {
                queue.push((next, Ifd::One));
            }
        }
        Ifd::One => {
            // Some writers leave a dangling next pointer after the
            // thumbnail; anything it leads to is dropped with the block.
        }
        Ifd::Exif | Ifd::Gps | Ifd::Interop => {}
    }
}

/// Queues the IFD that the pointer tag's value field at `value_at` names.
fn queue_pointer(
    tiff: &[u8],
    order: Order,
    value_at: usize,
    ifd: Ifd,
    queue: &mut Vec<(u32, Ifd)>,
    found: &mut Found,
) {
    match order.u32(tiff, value_at) {
        Some(offset) => queue.push((offset, ifd)),
        None => found.add(Removed::OtherMetadata),
    }
}

/// The bytes of a BYTE or UNDEFINED value (types 1 and 7): inline when four
/// or fewer, else at the offset the value field holds.
fn value_bytes(tiff: &[u8], order: Order, kind: u16, items: u32, value_at: usize) -> Option<&[u8]> {
    if kind != 1 && kind != 7 {
        return None;
    }
    let len = items as usize;
    let start = if len <= 4 {
        value_at
    } else {
        order.u32(tiff, value_at)? as usize
    };
    tiff.get(start..start.checked_add(len)?)
}

/// A minimal EXIF block (TIFF structure, big-endian) holding only the
/// orientation tag, for writers to put back in place of a dropped block.
pub(crate) fn orientation_only(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0*");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&ORIENTATION.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value field padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD: no thumbnail
    tiff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a big-endian TIFF block from IFDs given as (tag, type, count,
    /// value field) entries, with `next` pointers filled in by index.
    fn entry(tag: u16, kind: u16, count: u32, value: u32) -> [u8; 12] {
        let mut bytes = [0u8; 12];
        bytes[..2].copy_from_slice(&tag.to_be_bytes());
        bytes[2..4].copy_from_slice(&kind.to_be_bytes());
        bytes[4..8].copy_from_slice(&count.to_be_bytes());
        bytes[8..].copy_from_slice(&value.to_be_bytes());
        bytes
    }

    fn ifd(entries: &[[u8; 12]], next: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for entry in entries {
            bytes.extend_from_slice(entry);
        }
        bytes.extend_from_slice(&next.to_be_bytes());
        bytes
    }

    fn header() -> Vec<u8> {
        b"MM\0*\0\0\0\x08".to_vec()
    }

    #[test]
    fn orientation_only_reads_back_as_orientation_and_nothing_else() {
        let summary = inspect(&orientation_only(6));
        assert_eq!(summary.orientation, Some(6));
        assert!(summary.found.is_empty());
    }

    #[test]
    fn gps_camera_date_and_thumbnail_are_told_apart() {
        // IFD0 at 8 with 4 entries: 2 + 48 + 4 = 54 bytes, so the GPS IFD
        // starts at 62, IFD1 after it.
        let mut tiff = header();
        let gps_at = 8 + 54;
        let gps = ifd(
            &[entry(0x0000, 1, 4, 0x0203_0000), entry(0x0001, 2, 2, 0)],
            0,
        );
        let ifd1_at = gps_at + gps.len();
        tiff.extend(ifd(
            &[
                entry(0x010F, 2, 4, 0x4163_6D00),
                entry(0x0132, 2, 4, 0),
                entry(ORIENTATION, 3, 1, 0x0008_0000),
                entry(GPS_IFD, 4, 1, gps_at as u32),
            ],
            ifd1_at as u32,
        ));
        tiff.extend(gps);
        tiff.extend(ifd(&[entry(0x0201, 4, 1, 0)], 0));
        let summary = inspect(&tiff);
        assert_eq!(
            summary.found.into_vec(),
            vec![
                Removed::Location,
                Removed::CameraModel,
                Removed::DateTaken,
                Removed::EmbeddedThumbnail
            ]
        );
        assert_eq!(summary.orientation, Some(8));
    }

    #[test]
    fn an_empty_gps_ifd_is_not_a_location() {
        let mut tiff = header();
        tiff.extend(ifd(&[entry(GPS_IFD, 4, 1, 26)], 0));
        tiff.extend(ifd(&[entry(GPS_VERSION, 1, 4, 0x0203_0000)], 0));
        assert!(inspect(&tiff).found.is_empty());
    }

    #[test]
    fn looping_pointers_end() {
        // IFD0 points to itself as the EXIF IFD, the GPS IFD and IFD1.
        let mut tiff = header();
        tiff.extend(ifd(&[entry(EXIF_IFD, 4, 1, 8), entry(GPS_IFD, 4, 1, 8)], 8));
        let summary = inspect(&tiff);
        assert!(summary.found.into_vec().contains(&Removed::OtherMetadata));
    }

    #[test]
    fn a_directory_past_the_end_is_other_metadata() {
        let mut tiff = header();
        tiff.extend_from_slice(&[0xFF, 0xFF, 0x01, 0x0F]);
        assert_eq!(
            inspect(&tiff).found.into_vec(),
            vec![Removed::OtherMetadata]
        );
        assert_eq!(
            inspect(b"MM\0*\xFF\xFF\xFF\xFF").found.into_vec(),
            vec![Removed::OtherMetadata]
        );
        assert_eq!(
            inspect(b"junk").found.into_vec(),
            vec![Removed::OtherMetadata]
        );
    }
}
