//! Keyword-value text, as PNG's tEXt, zTXt and iTXt chunks hold it: says
//! what a text entry held by its keyword, and looks inside the entries that
//! carry whole metadata blocks (XMP, and ImageMagick's hex-encoded "Raw
//! profile type" entries that hold EXIF, IPTC or XMP).

use crate::{Found, Removed, exif, iptc, xmp};

/// One compressed text is inflated at most this far to look inside; what
/// lies beyond is dropped unread (as all of it is dropped).
pub(crate) const INFLATE_LIMIT: usize = 1 << 20;
/// All the compressed texts of one file are inflated at most this far
/// together, so that many small chunks that each inflate a thousandfold
/// cannot keep a phone busy. Texts past it are judged by their keyword.
pub(crate) const INFLATE_BUDGET: usize = 8 << 20;

/// Adds what a text entry holds to `found`. Returns the orientation when the
/// entry carried an EXIF block that had one.
pub(crate) fn inspect(keyword: &[u8], value: &[u8], found: &mut Found) -> Option<u16> {
    if keyword == xmp::PNG_KEYWORD {
        xmp::inspect(value, found);
        return None;
    }
    if let Some(profile) = keyword.strip_prefix(b"Raw profile type ") {
        return inspect_raw_profile(profile, value, found);
    }
    let lower = keyword.to_ascii_lowercase();
    let has = |word: &[u8]| crate::contains(&lower, word);
    let kind = match lower.as_slice() {
        b"title" | b"description" | b"comment" => Removed::Comments,
        b"author" | b"copyright" => Removed::AuthorAndCopyright,
        b"software" => Removed::EditingSoftware,
        b"source" => Removed::CameraModel,
        b"creation time" => Removed::DateTaken,
        // ImageMagick's copy of the colour profile's own description and
        // copyright: not the photographer's.
        _ if lower.starts_with(b"icc:") => Removed::OtherMetadata,
        _ if has(b"gps") || has(b"location") || has(b"city") || has(b"country") => {
            Removed::Location
        }
        _ if has(b"make") || has(b"model") || has(b"serial") => Removed::CameraModel,
        _ if has(b"date") || has(b"time") => Removed::DateTaken,
        _ if has(b"software") => Removed::EditingSoftware,
        _ if has(b"author") || has(b"artist") || has(b"copyright") => Removed::AuthorAndCopyright,
        _ if has(b"comment") || has(b"description") || has(b"title") => Removed::Comments,
        _ => Removed::OtherMetadata,
    };
    found.add(kind);
    None
}

/// ImageMagick's "Raw profile type NAME" entry: a newline, the name, a
/// newline, the decimal length padded with spaces, a newline, then the
/// profile in hex, broken into lines.
fn inspect_raw_profile(name: &[u8], value: &[u8], found: &mut Found) -> Option<u16> {
    let Some(bytes) = decode_raw_profile(value) else {
        found.add(Removed::OtherMetadata);
        return None;
    };
    match name.to_ascii_lowercase().as_slice() {
        b"exif" | b"app1" => {
            if bytes.starts_with(xmp::JPEG_ID) {
                xmp::inspect(&bytes, found);
                return None;
            }
            let summary = exif::inspect(exif::strip_prefix(&bytes));
            found.merge(summary.found);
            summary.orientation
        }
        b"xmp" => {
            xmp::inspect(&bytes, found);
            None
        }
        b"iptc" => {
            iptc::inspect_iim(&bytes, found);
            None
        }
        b"8bim" => {
            iptc::inspect_resources(&bytes, found);
            None
        }
        _ => {
            found.add(Removed::OtherMetadata);
            None
        }
    }
}

/// The bytes of a raw profile, or `None` when it does not parse. Never
/// longer than half the text.
fn decode_raw_profile(value: &[u8]) -> Option<Vec<u8>> {
    let mut lines = value.strip_prefix(b"\n")?.splitn(3, |&byte| byte == b'\n');
    let _name = lines.next()?;
    let length: usize = std::str::from_utf8(lines.next()?)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let hex = lines.next()?;
    let mut bytes = Vec::with_capacity(length.min(hex.len() / 2));
    let mut high: Option<u8> = None;
    for &char in hex {
        if char.is_ascii_whitespace() {
            continue;
        }
        let nibble = (char as char).to_digit(16)? as u8;
        match high.take() {
            None => high = Some(nibble),
            Some(high) => {
                if bytes.len() == length {
                    break;
                }
                bytes.push(high << 4 | nibble);
            }
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(keyword: &str, value: &[u8]) -> Vec<Removed> {
        let mut found = Found::default();
        inspect(keyword.as_bytes(), value, &mut found);
        found.into_vec()
    }

    #[test]
    fn keywords() {
        assert_eq!(kinds("Comment", b"hi"), vec![Removed::Comments]);
        assert_eq!(kinds("date:create", b"2026"), vec![Removed::DateTaken]);
        assert_eq!(kinds("Author", b"x"), vec![Removed::AuthorAndCopyright]);
        assert_eq!(kinds("Software", b"x"), vec![Removed::EditingSoftware]);
        assert_eq!(kinds("exif:GPSLatitude", b"48"), vec![Removed::Location]);
        assert_eq!(kinds("exif:Model", b"x"), vec![Removed::CameraModel]);
        assert_eq!(kinds("Disclaimer", b"x"), vec![Removed::OtherMetadata]);
        assert_eq!(kinds("icc:copyright", b"x"), vec![Removed::OtherMetadata]);
    }

    #[test]
    fn raw_exif_profile_is_decoded() {
        let mut exif = exif::JPEG_PREFIX.to_vec();
        exif.extend(exif::orientation_only(3));
        let hex: String = exif.iter().map(|byte| format!("{byte:02x}")).collect();
        let (first, second) = hex.split_at(20);
        let value = format!("\nexif\n      {}\n{first}\n{second}\n", exif.len());
        let mut found = Found::default();
        let orientation = inspect(b"Raw profile type exif", value.as_bytes(), &mut found);
        assert_eq!(orientation, Some(3));
        assert!(found.is_empty());
    }

    #[test]
    fn a_bad_raw_profile_is_other_metadata() {
        assert_eq!(
            kinds("Raw profile type exif", b"\nexif\n  4\nzz"),
            vec![Removed::OtherMetadata]
        );
        assert_eq!(
            kinds("Raw profile type exif", b"no newline"),
            vec![Removed::OtherMetadata]
        );
    }
}
