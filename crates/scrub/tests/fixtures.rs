//! The committed photos (tests/fixtures, see its README) cleaned without any
//! outside tool: what is reported, that nothing identifying is left in the
//! bytes, that the image data is untouched, and that damage gives errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealtip_scrub::{ImageFormat, Removed, ScrubError, Scrubbed, scrub};

const JPEG: &[u8] = include_bytes!("fixtures/gps.jpg");
const PNG: &[u8] = include_bytes!("fixtures/gps.png");
const WEBP: &[u8] = include_bytes!("fixtures/gps.webp");

/// Strings the fixtures' metadata holds, none of which may be left.
const SECRETS: &[&[u8]] = &[
    b"Acme",
    b"Phone9",
    b"SN12345",
    b"someone",
    b"Paris",
    b"hello",
    b"Snapper",
    b"2026:11:28",
    b"2026-11-28",
    b"ExifTool",
    b"xmpmeta",
    b"Photoshop",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn assert_clean(name: &str, input: &[u8], scrubbed: &Scrubbed) {
    for secret in SECRETS {
        if contains(input, secret) {
            assert!(
                !contains(&scrubbed.bytes, secret),
                "{name}: {:?} is still in the output",
                String::from_utf8_lossy(secret)
            );
        }
    }
    // Cleaning a clean file changes nothing and finds nothing.
    let again = scrub(&scrubbed.bytes, None).unwrap();
    assert_eq!(
        again.bytes, scrubbed.bytes,
        "{name}: cleaning is idempotent"
    );
    assert!(again.removed.is_empty(), "{name}: {:?} left", again.removed);
}

#[test]
fn jpeg_fixture() {
    let scrubbed = scrub(JPEG, Some("image/jpeg")).unwrap();
    assert_eq!(scrubbed.format, ImageFormat::Jpeg);
    assert_eq!(
        scrubbed.removed,
        vec![
            Removed::Location,
            Removed::CameraModel,
            Removed::DateTaken,
            Removed::EditingSoftware,
            Removed::AuthorAndCopyright,
            Removed::Comments,
            Removed::EmbeddedThumbnail,
            Removed::OtherMetadata,
        ]
    );
    assert!(
        scrubbed
            .summary()
            .starts_with("location, camera model, date taken, ")
    );
    assert_clean("gps.jpg", JPEG, &scrubbed);
    assert!(contains(&scrubbed.bytes, b"ICC_PROFILE\0"), "colours kept");
    assert!(contains(&scrubbed.bytes, b"JFIF\0"), "JFIF kept");

    // From the first quantisation table to the end, the output is the same
    // bytes as the end of the input. (The input has another table before:
    // in the thumbnail inside its EXIF.)
    let out = &scrubbed.bytes;
    let tables = out
        .windows(2)
        .position(|pair| pair == [0xFF, 0xDB])
        .unwrap();
    // Before it: SOI, JFIF, the orientation-only EXIF, the ICC profile.
    assert_eq!(tables, 2 + 18 + 36 + 582);
    assert!(
        JPEG.ends_with(&out[tables..]),
        "image data kept byte for byte"
    );

    // The orientation (6: rotate 90° clockwise) stays, alone, after JFIF.
    let exif =
        b"\xFF\xE1\x00\x22Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    assert_eq!(&scrubbed.bytes[20..20 + exif.len()], exif);
}

#[test]
fn png_fixture() {
    let scrubbed = scrub(PNG, Some("image/png")).unwrap();
    assert_eq!(scrubbed.format, ImageFormat::Png);
    assert_eq!(
        scrubbed.removed,
        vec![
            Removed::Location,
            Removed::CameraModel,
            Removed::DateTaken,
            Removed::EditingSoftware,
            Removed::AuthorAndCopyright,
            Removed::Comments,
            Removed::OtherMetadata,
        ]
    );
    assert_clean("gps.png", PNG, &scrubbed);
    let names = |bytes: &[u8]| -> Vec<String> {
        chunks(bytes)
            .map(|(name, _)| String::from_utf8_lossy(name).into_owned())
            .collect()
    };
    assert_eq!(
        names(&scrubbed.bytes),
        ["IHDR", "iCCP", "cHRM", "bKGD", "eXIf", "IDAT", "IEND"]
    );
    // Kept chunks are the same bytes, CRC included.
    for (name, chunk) in chunks(&scrubbed.bytes).filter(|(name, _)| name != b"eXIf") {
        let original = chunks(PNG).find(|(other, _)| *other == name).unwrap().1;
        assert_eq!(chunk, original, "{}", String::from_utf8_lossy(name));
    }
}

/// A PNG file's chunks: name, and the whole chunk from length to CRC.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = 8;
    std::iter::from_fn(move || {
        let length = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let chunk = bytes.get(at..at + 12 + length)?;
        at += 12 + length;
        Some((&chunk[4..8], chunk))
    })
}

#[test]
fn webp_fixture() {
    let scrubbed = scrub(WEBP, Some("image/webp")).unwrap();
    assert_eq!(scrubbed.format, ImageFormat::Webp);
    assert_eq!(
        scrubbed.removed,
        vec![
            Removed::Location,
            Removed::CameraModel,
            Removed::DateTaken,
            Removed::EditingSoftware,
            Removed::AuthorAndCopyright,
            Removed::OtherMetadata,
        ]
    );
    assert_clean("gps.webp", WEBP, &scrubbed);
    let out = &scrubbed.bytes;
    assert_eq!(
        u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
        out.len() - 8,
        "RIFF size"
    );
    // VP8X keeps its ICC flag and the EXIF flag (for the orientation), and
    // loses the XMP flag.
    assert_eq!(&out[12..16], b"VP8X");
    assert_eq!(out[20], 0x20 | 0x08);
    assert!(contains(out, b"ICCP"));
    // The VP8 bitstream is the same bytes.
    let vp8 = |bytes: &[u8]| {
        let at = bytes.windows(4).position(|name| name == b"VP8 ").unwrap();
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        bytes[at..at + 8 + size].to_vec()
    };
    assert_eq!(vp8(out), vp8(WEBP));
}

#[test]
fn the_bytes_decide_the_format_not_the_hint() {
    let scrubbed = scrub(PNG, Some("image/jpeg")).unwrap();
    assert_eq!(scrubbed.format, ImageFormat::Png);
    assert_eq!(scrubbed.format.media_type(), "image/png");
    let scrubbed = scrub(WEBP, None).unwrap();
    assert_eq!(scrubbed.format.extension(), "webp");
}

#[test]
fn every_cut_short_fixture_is_an_error() {
    for (name, fixture) in [("gps.jpg", JPEG), ("gps.png", PNG), ("gps.webp", WEBP)] {
        for len in 0..fixture.len() {
            match scrub(&fixture[..len], None) {
                Err(ScrubError::Malformed { .. } | ScrubError::Unsupported(_)) => {}
                Ok(scrubbed) => panic!(
                    "{name} cut to {len} bytes was cleaned, reporting {:?}",
                    scrubbed.removed
                ),
            }
        }
    }
}

#[test]
fn errors_read_as_sentences() {
    let error = scrub(&JPEG[..100], None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "this JPEG file is damaged (it ends inside a segment that starts at byte 20), \
         so its metadata could not be removed"
    );
    let mut lying = WEBP.to_vec();
    lying[4..8].copy_from_slice(&100_000u32.to_le_bytes());
    assert_eq!(
        scrub(&lying, None).unwrap_err().to_string(),
        format!(
            "this WebP file is damaged (its RIFF header claims 100000 bytes but {} follow it), \
             so its metadata could not be removed",
            WEBP.len() - 8
        )
    );
    let mut past_end = PNG.to_vec();
    past_end[33..37].copy_from_slice(&100_000u32.to_be_bytes());
    assert_eq!(
        scrub(&past_end, None).unwrap_err().to_string(),
        "this PNG file is damaged (the chunk at byte 33 claims 100000 bytes, past the end), \
         so its metadata could not be removed"
    );
    assert_eq!(
        scrub(b"\0\0\0\x18ftypheic", Some("image/heic"))
            .unwrap_err()
            .to_string(),
        "HEIF (HEIC) files are not cleaned here, so this file's metadata was not removed"
    );
}
