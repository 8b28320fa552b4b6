//! Attachments are inert: a photo is drawn only when the officer asks, and
//! only if its first bytes say JPEG, PNG, WebP or GIF (whatever the tip
//! claims); every other file is a download under a cleaned name.

/// Whether the tip says this is a photo the desk may offer to draw.
pub fn may_be_image(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/jpeg" | "image/png" | "image/webp" | "image/gif"
    )
}

/// The image type `bytes` start with: JPEG, PNG, WebP or GIF; else `None`.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

/// A file name safe for `Content-Disposition`: the last part of a name or
/// archive path, letters, digits, `.`, `-` and `_` only, not starting with a
/// dot, at most 100 characters.
pub fn download_name(archive_path: &str) -> String {
    let last = archive_path.rsplit('/').next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(image_type(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"GIF89a..."), Some("image/gif"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"<html>\x89PNG"), None);
        assert!(may_be_image("image/png") && !may_be_image("image/svg+xml"));
    }

    #[test]
    fn download_names_are_cleaned() {
        assert_eq!(download_name("attachments/01-photo.jpg"), "01-photo.jpg");
        assert_eq!(
            download_name("attachments/02-a \"b\";c.pdf"),
            "02-a__b__c.pdf"
        );
        assert_eq!(download_name("attachments/..hidden"), "hidden");
        assert_eq!(download_name(""), "attachment");
    }
}
