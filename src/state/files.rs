//! The files a tipster picked: what cleaning found, and what is sealed.

use std::rc::Rc;

/// A picked file and what cleaning it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    /// The file's name as picked.
    pub name: String,
    /// Its media type as the browser tells it.
    pub media_type: String,
    /// The file as picked.
    pub original: Contents,
    /// What cleaning gave.
    pub cleaning: Cleaning,
    /// The tipster chose to send the original.
    pub keep_original: bool,
    /// The tipster chose to send the file's name too (by default it is
    /// left out: it can hold a date, a place or a person's name).
    pub keep_name: bool,
}

/// What cleaning a picked file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Cleaning {
    /// A photo, cleaned: the bytes and what was removed (words).
    Cleaned {
        /// The cleaned file.
        bytes: Rc<Vec<u8>>,
        /// The media type of the cleaned format.
        media_type: &'static str,
        /// What was removed, as plain words ("location").
        removed: Vec<&'static str>,
    },
    /// A kind of file whose metadata is not checked.
    NotChecked,
    /// A photo too damaged to clean with certainty.
    Damaged,
}

/// A file's contents: in memory, or on the device and read in slices when
/// sealed, so that a large video never has to fit in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Contents {
    /// Bytes in memory (a cleaned photo).
    Memory(Rc<Vec<u8>>),
    /// A file the tipster picked, still on the device.
    File(web_sys::Blob),
}

impl Contents {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Contents::Memory(bytes) => bytes.len() as u64,
            Contents::File(blob) => blob.size() as u64,
        }
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Picked {
    /// What will be sealed, and its media type.
    pub fn to_send(&self) -> (Contents, &str) {
        match &self.cleaning {
            Cleaning::Cleaned {
                bytes, media_type, ..
            } if !self.keep_original => (Contents::Memory(bytes.clone()), media_type),
            _ => (self.original.clone(), &self.media_type),
        }
    }
}
impl Picked {
    /// A picked file, with photos cleaned of their metadata (JPEG, PNG,
    /// WebP, without re-encoding); other files are sent as they are.
    pub fn clean(name: String, media_type: String, bytes: Vec<u8>) -> Picked {
        let bytes = Rc::new(bytes);
        Picked::clean_with_original(name, media_type, &bytes, Contents::Memory(bytes.clone()))
    }

    /// A file sent as it is, its metadata not checked (not a photo this page
    /// cleans, or too large to read into memory).
    pub fn not_checked(name: String, media_type: String, original: Contents) -> Picked {
        Picked {
            name,
            media_type: or_octet_stream(media_type),
            original,
            cleaning: Cleaning::NotChecked,
            keep_original: false,
            keep_name: false,
        }
    }

    /// Like [`Picked::clean`], keeping `original` (the file on the device)
    /// instead of the bytes read from it, which can then be dropped.
    pub fn clean_with_original(
        name: String,
        media_type: String,
        bytes: &[u8],
        original: Contents,
    ) -> Picked {
        let hint = (!media_type.is_empty()).then_some(media_type.as_str());
        let cleaning = match sealtip_scrub::scrub(bytes, hint) {
            Ok(scrubbed) => Cleaning::Cleaned {
                media_type: scrubbed.format.media_type(),
                removed: scrubbed.removed.iter().map(|kind| kind.words()).collect(),
                bytes: Rc::new(scrubbed.bytes),
            },
            Err(sealtip_scrub::ScrubError::Malformed { .. }) => Cleaning::Damaged,
            Err(sealtip_scrub::ScrubError::Unsupported(_)) => Cleaning::NotChecked,
        };
        Picked {
            name,
            media_type: or_octet_stream(media_type),
            original,
            cleaning,
            keep_original: false,
            keep_name: false,
        }
    }
}

fn or_octet_stream(media_type: String) -> String {
    if media_type.is_empty() {
        "application/octet-stream".to_string()
    } else {
        media_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gps_photo_is_cleaned_and_other_files_are_not_checked() {
        let jpeg = include_bytes!("../../crates/scrub/tests/fixtures/gps.jpg").to_vec();
        let file = Picked::clean("p.jpg".into(), "image/jpeg".into(), jpeg.clone());
        let Cleaning::Cleaned { bytes, removed, .. } = &file.cleaning else {
            panic!("not cleaned: {:?}", file.cleaning)
        };
        assert!(removed.contains(&"location"), "{removed:?}");
        assert!(bytes.len() < jpeg.len());
        let text = Picked::clean("a.txt".into(), String::new(), b"hello".to_vec());
        assert_eq!(text.cleaning, Cleaning::NotChecked);
        assert_eq!(text.media_type, "application/octet-stream");
    }
}
