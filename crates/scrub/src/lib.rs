//! Removes metadata from photos before they are sealed.
//!
//! A photo taken on a phone says where it was taken, with which phone, and
//! when; a tipster who attaches it may say far more than they meant to. This
//! crate takes a JPEG, PNG or WebP file as bytes and returns the same image
//! with that metadata removed, and says in plain words what it removed
//! ("location, camera model, date taken").
//!
//! The image itself is never decoded or re-encoded: the compressed image data
//! is copied byte for byte, so the picture and its quality are exactly those
//! of the original. What is kept besides the image data is what a viewer
//! needs to show it right: colour profiles and colour chunks, JFIF and Adobe
//! colour-transform headers, animation, and the EXIF orientation (see below).
//!
//! The format is told from the file's first bytes, never from its name or
//! media type: a PNG named `photo.jpg` is cleaned as a PNG. Other formats
//! (HEIF, AVIF, GIF, TIFF, video, ...) are not handled and give
//! [`ScrubError::Unsupported`]; a damaged file gives
//! [`ScrubError::Malformed`]. Neither is ever a panic, every loop advances
//! through the input, and memory stays within the input's size plus a small
//! constant.
//!
//! The EXIF orientation tag is kept, alone in a minimal EXIF block written
//! in place of the original one, so that a photo taken with the phone held
//! upright is still shown upright. It holds one of eight values and nothing
//! else.
//!
//! The crate does no I/O and builds for `wasm32-unknown-unknown`.
//!
//! ```
//! # fn demo(photo: &[u8]) -> Result<(), sealtip_scrub::ScrubError> {
//! let cleaned = sealtip_scrub::scrub(photo, Some("image/jpeg"))?;
//! println!("removed: {}", cleaned.summary());
//! # Ok(()) }
//! ```

mod exif;
mod iptc;
mod jpeg;
mod png;
mod text;
mod webp;
mod xmp;

use std::fmt;

/// An image format this crate cleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG, including animated PNG.
    Png,
    /// WebP, simple or extended (VP8X), still or animated.
    Webp,
}

impl ImageFormat {
    /// The media type: `image/jpeg`, `image/png` or `image/webp`.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The usual file name extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
        })
    }
}

/// A kind of metadata that was found in a file and removed from it.
///
/// The variants are ordered as they are best listed to a person: what gives
/// a tipster away most directly comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Removed {
    /// GPS coordinates, or a place name (city, country).
    Location,
    /// The camera or phone: make, model, lens, serial numbers.
    CameraModel,
    /// When the photo was taken, digitised or modified.
    DateTaken,
    /// The program that wrote or edited the file.
    EditingSoftware,
    /// Author, owner, copyright and credit lines.
    AuthorAndCopyright,
    /// Comments, titles, descriptions, captions, keywords.
    Comments,
    /// A smaller copy of the picture, which may show what was cropped out.
    EmbeddedThumbnail,
    /// Anything else: exposure settings, maker notes, unique ids, unknown
    /// blocks, data after the end of the image.
    OtherMetadata,
}

impl Removed {
    /// Every kind, in listing order.
    pub const ALL: [Removed; 8] = [
        Self::Location,
        Self::CameraModel,
        Self::DateTaken,
        Self::EditingSoftware,
        Self::AuthorAndCopyright,
        Self::Comments,
        Self::EmbeddedThumbnail,
        Self::OtherMetadata,
    ];

    /// Plain English words for this kind, in lower case, to be listed
    /// ("location, camera model, date taken").
    pub fn words(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::CameraModel => "camera model",
            Self::DateTaken => "date taken",
            Self::EditingSoftware => "editing software",
            Self::AuthorAndCopyright => "author and copyright",
            Self::Comments => "comments",
            Self::EmbeddedThumbnail => "embedded thumbnail",
            Self::OtherMetadata => "other metadata",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Removed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// A cleaned image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The cleaned file. Equal to the input when nothing was removed.
    pub bytes: Vec<u8>,
    /// The format, as told from the file's first bytes.
    pub format: ImageFormat,
    /// What was removed: each kind once, in [`Removed`]'s order. Empty when
    /// the file carried no metadata.
    pub removed: Vec<Removed>,
}

impl Scrubbed {
    /// What was removed, as a comma-separated list of [`Removed::words`]
    /// ("location, camera model, date taken"); empty when nothing was.
    pub fn summary(&self) -> String {
        let words: Vec<&str> = self.removed.iter().map(|kind| kind.words()).collect();
        words.join(", ")
    }
}

/// Why a file was not cleaned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrubError {
    /// Not a JPEG, PNG or WebP file. The caller seals it as it is and says
    /// that its metadata was not checked.
    #[error("{0}")]
    Unsupported(Unsupported),
    /// A JPEG, PNG or WebP file that is damaged or cut short, so that its
    /// metadata could not be removed with certainty.
    #[error("this {format} file is damaged ({problem}), so its metadata could not be removed")]
    Malformed {
        /// The format the file's first bytes announced.
        format: ImageFormat,
        /// What is wrong with it.
        problem: Malformed,
    },
}

/// A file of a format this crate does not clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported {
    /// What the file's first bytes look like.
    pub detected: OtherFormat,
    /// Whether the file is a picture: its first bytes say so, or the media
    /// type the caller gave starts with `image/`. A picture that could not
    /// be cleaned may well carry a location; the caller can warn more
    /// strongly.
    pub is_image: bool,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detected {
            OtherFormat::Unknown if self.is_image => f.write_str(
                "this image's format is not recognised, so its metadata was not removed",
            ),
            OtherFormat::Unknown => f.write_str(
                "this file is not a JPEG, PNG or WebP image, so its metadata was not checked",
            ),
            other => write!(
                f,
                "{other} files are not cleaned here, so this file's metadata was not removed"
            ),
        }
    }
}

/// A format this crate recognises by its first bytes but does not clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtherFormat {
    /// HEIF/HEIC, the iPhone's default photo format.
    Heif,
    /// AVIF.
    Avif,
    /// GIF.
    Gif,
    /// TIFF, and the camera raw formats built on it (DNG and others).
    Tiff,
    /// JPEG XL.
    JpegXl,
    /// Windows bitmap.
    Bmp,
    /// An ISO media file that is not HEIF or AVIF: MP4, MOV, 3GP video.
    Video,
    /// Anything else.
    Unknown,
}

impl OtherFormat {
    /// Whether this is a still-image format.
    pub fn is_image(self) -> bool {
        !matches!(self, Self::Video | Self::Unknown)
    }
}

impl fmt::Display for OtherFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Heif => "HEIF (HEIC)",
            Self::Avif => "AVIF",
            Self::Gif => "GIF",
            Self::Tiff => "TIFF",
            Self::JpegXl => "JPEG XL",
            Self::Bmp => "BMP",
            Self::Video => "Video",
            Self::Unknown => "Unknown",
        })
    }
}

/// What is wrong with a damaged file. Offsets count bytes from the start of
/// the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The file ends inside a segment, a chunk or a header.
    #[error("it ends inside {what} that starts at byte {offset}")]
    Truncated {
        /// What was cut short.
        what: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// The file ends before the marker or chunk that closes it.
    #[error("it ends before its {what}")]
    MissingEnd {
        /// The missing closing part.
        what: &'static str,
    },
    /// A JPEG segment length below its own two bytes.
    #[error("the segment at byte {offset} has an impossible length {length}")]
    BadSegmentLength {
        /// Where the segment's marker is.
        offset: usize,
        /// The length it claims.
        length: u16,
    },
    /// Where a JPEG marker must start, another byte is.
    #[error("byte {offset} should start a marker but is {found:#04x}")]
    ExpectedMarker {
        /// Where.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// A JPEG marker that cannot appear where it is.
    #[error("marker {marker:#04x} at byte {offset} is out of place")]
    MisplacedMarker {
        /// The marker code (the byte after 0xFF).
        marker: u8,
        /// Where it is.
        offset: usize,
    },
    /// A PNG or WebP chunk whose length runs past the end of the file (or of
    /// the RIFF container), or is larger than the format allows.
    #[error("the chunk at byte {offset} claims {length} bytes, past the end")]
    BadChunkLength {
        /// Where the chunk starts.
        offset: usize,
        /// The length it claims.
        length: u64,
    },
    /// A chunk whose name is not four ASCII letters (PNG) or is invalid for
    /// its place (a WebP VP8X header that is too short).
    #[error("the chunk at byte {offset} is not a valid chunk")]
    BadChunk {
        /// Where the chunk starts.
        offset: usize,
    },
    /// A PNG chunk a decoder must understand, but that no PNG version
    /// defines; dropping or keeping it would both be wrong.
    #[error("it has an unknown critical chunk {name:?} at byte {offset}")]
    UnknownCriticalChunk {
        /// The chunk's four-letter name.
        name: String,
        /// Where it starts.
        offset: usize,
    },
    /// A PNG that does not start with its IHDR chunk.
    #[error("it does not start with an IHDR chunk")]
    MissingHeader,
    /// The RIFF header's size disagrees with the file.
    #[error("its RIFF header claims {declared} bytes but {available} follow it")]
    RiffSize {
        /// The size the header claims.
        declared: u64,
        /// The bytes that follow the header's size field.
        available: u64,
    },
}

/// Removes metadata from a JPEG, PNG or WebP image held in memory.
///
/// The format is told from the first bytes of `bytes`. `media_type_hint`,
/// the type the browser or the file name suggested, never chooses the
/// parser; it only tells [`Unsupported::is_image`] whether an unrecognised
/// file was meant to be a picture. Compare [`Scrubbed::format`] with the hint
/// to notice a file whose name lies about its type.
pub fn scrub(bytes: &[u8], media_type_hint: Option<&str>) -> Result<Scrubbed, ScrubError> {
    let Some(format) = detect(bytes) else {
        let detected = detect_other(bytes);
        let hinted_image = media_type_hint
            .is_some_and(|hint| hint.trim().to_ascii_lowercase().starts_with("image/"));
        return Err(ScrubError::Unsupported(Unsupported {
            detected,
            is_image: detected.is_image() || hinted_image,
        }));
    };
    let result = match format {
        ImageFormat::Jpeg => jpeg::scrub(bytes),
        ImageFormat::Png => png::scrub(bytes),
        ImageFormat::Webp => webp::scrub(bytes),
    };
    match result {
        Ok((bytes, found)) => Ok(Scrubbed {
            bytes,
            format,
            removed: found.into_vec(),
        }),
        Err(problem) => Err(ScrubError::Malformed { format, problem }),
    }
}

/// The format of `bytes` by its signature, if it is one this crate cleans.
pub fn detect(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(png::SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// What an unsupported file looks like, by its first bytes.
fn detect_other(bytes: &[u8]) -> OtherFormat {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return match &bytes[8..12] {
            b"avif" | b"avis" => OtherFormat::Avif,
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                OtherFormat::Heif
            }
            _ => OtherFormat::Video,
        };
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        OtherFormat::Gif
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        OtherFormat::Tiff
    } else if bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0CJXL \r\n\x87\n") {
        OtherFormat::JpegXl
    } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        OtherFormat::Bmp
    } else {
        OtherFormat::Unknown
    }
}

/// The kinds of metadata found so far in one file: a set of [`Removed`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found(u16);

impl Found {
    pub(crate) fn add(&mut self, kind: Removed) {
        self.0 |= kind.bit();
    }

    pub(crate) fn merge(&mut self, other: Found) {
        self.0 |= other.0;
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn into_vec(self) -> Vec<Removed> {
        Removed::ALL
            .into_iter()
            .filter(|kind| self.0 & kind.bit() != 0)
            .collect()
    }
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(found) = haystack
        .get(from..)
        .and_then(|tail| tail.iter().position(|&byte| byte == first))
    {
        let start = from + found;
        if haystack
            .get(start + 1..start + needle.len())
            .is_some_and(|candidate| candidate == rest)
        {
            return true;
        }
        from = start + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_kinds_are_listed_once_in_order() {
        let mut found = Found::default();
        found.add(Removed::DateTaken);
        found.add(Removed::Location);
        found.add(Removed::DateTaken);
        found.add(Removed::CameraModel);
        assert_eq!(
            found.into_vec(),
            vec![Removed::Location, Removed::CameraModel, Removed::DateTaken]
        );
    }

    #[test]
    fn words_are_plain_english() {
        let words: Vec<&str> = Removed::ALL.iter().map(|kind| kind.words()).collect();
        assert_eq!(
            words,
            [
                "location",
                "camera model",
                "date taken",
                "editing software",
                "author and copyright",
                "comments",
                "embedded thumbnail",
                "other metadata"
            ]
        );
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"abc exif:GPSLatitude", b"GPSLat"));
        assert!(contains(b"aab", b"ab"));
        assert!(!contains(b"ab", b"abc"));
        assert!(!contains(b"", b"a"));
        assert!(contains(b"a", b""));
    }

    #[test]
    fn other_formats_are_unsupported_and_named() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let Err(ScrubError::Unsupported(unsupported)) = scrub(heic, Some("image/jpeg")) else {
            panic!("a HEIC file is not cleaned");
        };
        assert_eq!(unsupported.detected, OtherFormat::Heif);
        assert!(unsupported.is_image);

        let Err(ScrubError::Unsupported(unsupported)) = scrub(b"%PDF-1.7", None) else {
            panic!("a PDF is not cleaned");
        };
        assert_eq!(unsupported.detected, OtherFormat::Unknown);
        assert!(!unsupported.is_image);

        let Err(ScrubError::Unsupported(unsupported)) = scrub(b"??", Some("Image/PNG")) else {
            panic!("two bytes are not an image");
        };
        assert!(
            unsupported.is_image,
            "the hint says it was meant as a picture"
        );
        assert_eq!(
            scrub(b"GIF89a....", None),
            Err(ScrubError::Unsupported(Unsupported {
                detected: OtherFormat::Gif,
                is_image: true
            }))
        );
        assert!(matches!(scrub(b"", None), Err(ScrubError::Unsupported(_))));
    }
}
