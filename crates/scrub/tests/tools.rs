//! Real photos made here with ImageMagick, cwebp, img2webp and webpmux, given real
//! metadata with exiftool, cleaned, then checked with the same tools: the
//! metadata is gone as exiftool sees it, and the pixels decode exactly as
//! before.
//!
//! These tests need Debian's `imagemagick`, `webp` and
//! `libimage-exiftool-perl`. Without them they fail, saying so; they never
//! skip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use sealtip_scrub::{ImageFormat, Removed, Scrubbed, scrub};

const PACKAGES: &str = "imagemagick webp libimage-exiftool-perl";

/// Tags that must not be left, by exiftool's name for them (any group).
const FORBIDDEN: &[&str] = &[
    "Make",
    "Model",
    "SerialNumber",
    "DateTimeOriginal",
    "CreateDate",
    "ModifyDate",
    "Datecreate",
    "Datemodify",
    "Software",
    "Artist",
    "Author",
    "Copyright",
    "Creator",
    "By-line",
    "City",
    "Comment",
    "UserComment",
    "ThumbnailImage",
    "ThumbnailOffset",
    "XMPToolkit",
    "ApplicationRecordVersion",
    "RawProfileTypeExif",
];

/// Arguments that give a file the metadata a phone and an editor leave.
const METADATA: &[&str] = &[
    "-GPSLatitude=48.8584",
    "-GPSLatitudeRef=N",
    "-GPSLongitude=2.2945",
    "-GPSLongitudeRef=E",
    "-GPSAltitude=35",
    "-Make=Acme",
    "-Model=Phone9",
    "-SerialNumber=SN12345",
    "-DateTimeOriginal=2026:11:28 21:04:00",
    "-Software=Snapper 2.1",
    "-Artist=someone",
    "-Copyright=someone 2026",
    "-Orientation#=6",
    "-XMP:Creator=someone",
    "-XMP:City=Paris",
    "-XMP:CreateDate=2026:11:28 21:04:00",
];

/// A small picture with shapes and a gradient, so that compression has
/// something to do.
const DRAW: &[&str] = &[
    "-size",
    "64x40",
    "gradient:skyblue-navy",
    "-fill",
    "darkgreen",
    "-draw",
    "rectangle 0,26 63,39",
    "-fill",
    "yellow",
    "-draw",
    "circle 48,10 53,10",
];

/// Runs a tool; fails loudly when it is missing or fails.
fn run(program: &str, args: &[&str], dir: &Path) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run `{program}` ({error}): install the Debian packages {PACKAGES}")
        });
    assert!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Checks once that the real tools are there (a `convert` that is not
/// ImageMagick's does not count).
fn require_tools() {
    static CHECKED: Once = Once::new();
    CHECKED.call_once(|| {
        let here = std::env::temp_dir();
        let version = String::from_utf8_lossy(&run("convert", &["-version"], &here)).into_owned();
        assert!(
            version.starts_with("Version: ImageMagick"),
            "`convert` is not ImageMagick's: install the Debian packages {PACKAGES}"
        );
        for (tool, flag) in [
            ("exiftool", "-ver"),
            ("cwebp", "-version"),
            ("img2webp", "-version"),
            ("webpmux", "-version"),
            ("webpinfo", "-version"),
        ] {
            run(tool, &[flag], &here);
        }
    });
}

struct Workdir(tempfile::TempDir);

impl Workdir {
    fn new() -> Self {
        require_tools();
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        run(program, args, self.0.path())
    }

    /// Adds metadata to a file with exiftool.
    fn exiftool(&self, file: &str, args: &[&str]) {
        let mut all = vec!["-q", "-q", "-overwrite_original"];
        all.extend_from_slice(args);
        all.push(file);
        self.run("exiftool", &all);
    }

    /// exiftool's tags for a file, as (group:name, value) pairs.
    fn tags(&self, file: &str) -> Vec<(String, String)> {
        let json = self.run("exiftool", &["-json", "-a", "-G1", file]);
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let object = parsed[0].as_object().unwrap();
        object
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), value)
            })
            .collect()
    }

    fn has_tag(&self, file: &str, name: &str) -> bool {
        self.tags(file)
            .iter()
            .any(|(key, _)| key.rsplit(':').next() == Some(name))
    }

    /// The decoded pixels, as ImageMagick reads them.
    fn pixels(&self, file: &str) -> Vec<u8> {
        self.run("convert", &[file, "rgba:-"])
    }

    /// Cleans `input` into `output`, checks what exiftool still sees, that
    /// the pixels are the same and that cleaning is idempotent, and returns
    /// the result.
    fn scrub_and_check(&self, input: &str, output: &str) -> Scrubbed {
        assert!(
            self.has_tag(input, "GPSLatitude") || self.has_tag(input, "RawProfileTypeExif"),
            "{input} should carry a location before cleaning"
        );
        let bytes = std::fs::read(self.path(input)).unwrap();
        let scrubbed = scrub(&bytes, None).unwrap();
        std::fs::write(self.path(output), &scrubbed.bytes).unwrap();

        let tags = self.tags(output);
        for (key, value) in &tags {
            let name = key.rsplit(':').next().unwrap_or(key);
            assert!(
                !name.starts_with("GPS") && !FORBIDDEN.contains(&name),
                "{output} still has {key} = {value}"
            );
            assert!(
                !name.starts_with("Error"),
                "exiftool reads {output} with an error: {value}"
            );
        }
        assert_eq!(
            self.pixels(output),
            self.pixels(input),
            "{output} decodes to other pixels than {input}"
        );
        let again = scrub(&scrubbed.bytes, None).unwrap();
        assert_eq!(again.bytes, scrubbed.bytes);
        assert!(again.removed.is_empty());
        scrubbed
    }

    fn tag(&self, file: &str, name: &str) -> Option<String> {
        self.tags(file)
            .into_iter()
            .find(|(key, _)| key.rsplit(':').next() == Some(name))
            .map(|(_, value)| value)
    }
}

fn assert_reports_the_essentials(scrubbed: &Scrubbed) {
    for kind in [
        Removed::Location,
        Removed::CameraModel,
        Removed::DateTaken,
        Removed::EditingSoftware,
        Removed::AuthorAndCopyright,
    ] {
        assert!(
            scrubbed.removed.contains(&kind),
            "{kind} not reported: {}",
            scrubbed.summary()
        );
    }
    assert!(
        scrubbed
            .summary()
            .starts_with("location, camera model, date taken")
    );
}

#[test]
fn jpeg_with_exif_gps_xmp_iptc_thumbnail_and_comment() {
    let dir = Workdir::new();
    std::fs::write(dir.path("sample.icc"), sample_icc()).unwrap();
    let mut args = DRAW.to_vec();
    args.extend(["-profile", "sample.icc", "-quality", "90", "in.jpg"]);
    dir.run("convert", &args);
    dir.run("convert", &["-size", "16x10", "xc:red", "thumb.jpg"]);
    let mut metadata = METADATA.to_vec();
    metadata.extend([
        "-ThumbnailImage<=thumb.jpg",
        "-Comment=hello",
        "-IPTC:By-line=someone",
        "-IPTC:City=Paris",
        "-IPTC:Caption-Abstract=the harbour",
    ]);
    dir.exiftool("in.jpg", &metadata);

    let scrubbed = dir.scrub_and_check("in.jpg", "out.jpg");
    assert_eq!(scrubbed.format, ImageFormat::Jpeg);
    assert_reports_the_essentials(&scrubbed);
    assert!(scrubbed.removed.contains(&Removed::Comments));
    assert!(scrubbed.removed.contains(&Removed::EmbeddedThumbnail));
    assert_eq!(
        dir.tag("out.jpg", "Orientation").as_deref(),
        Some("Rotate 90 CW"),
        "the orientation is kept"
    );
    assert_eq!(dir.tag("out.jpg", "JFIFVersion").as_deref(), Some("1.01"));
    assert_eq!(
        dir.tag("out.jpg", "ProfileDescription")
            .as_deref()
            .map(str::trim),
        Some("Artifex Software A98 ICC Profile"),
        "the ICC profile is kept"
    );
}

#[test]
fn progressive_jpeg_keeps_every_scan() {
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.extend(["-interlace", "Plane", "-quality", "80", "in.jpg"]);
    dir.run("convert", &args);
    dir.exiftool("in.jpg", METADATA);
    let scrubbed = dir.scrub_and_check("in.jpg", "out.jpg");
    assert_reports_the_essentials(&scrubbed);
    let scans = scrubbed
        .bytes
        .windows(2)
        .filter(|pair| *pair == [0xFF, 0xDA])
        .count();
    assert!(scans > 1, "a progressive JPEG has several scans");
}

#[test]
fn cmyk_jpeg_keeps_its_adobe_segment() {
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.extend(["-colorspace", "CMYK", "in.jpg"]);
    dir.run("convert", &args);
    dir.exiftool("in.jpg", METADATA);
    assert!(
        has_group(&dir, "in.jpg", "Adobe"),
        "libjpeg writes APP14 for CMYK"
    );
    let scrubbed = dir.scrub_and_check("in.jpg", "out.jpg");
    assert_reports_the_essentials(&scrubbed);
    assert!(has_group(&dir, "out.jpg", "Adobe"), "Adobe APP14 kept");
}

fn has_group(dir: &Workdir, file: &str, group: &str) -> bool {
    let prefix = format!("{group}:");
    dir.tags(file)
        .iter()
        .any(|(key, _)| key.starts_with(&prefix))
}

/// The ICC profile of the committed JPEG fixture: a small real one.
fn sample_icc() -> Vec<u8> {
    let fixture = include_bytes!("fixtures/gps.jpg");
    let marker = b"ICC_PROFILE\0\x01\x01";
    let at = fixture
        .windows(marker.len())
        .position(|window| window == marker)
        .unwrap();
    let length = usize::from(u16::from_be_bytes([fixture[at - 2], fixture[at - 1]]));
    fixture[at + marker.len()..at - 2 + length].to_vec()
}

#[test]
fn png_with_exif_xmp_text_and_time() {
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.push("in.png");
    dir.run("convert", &args);
    let mut metadata = METADATA.to_vec();
    metadata.extend([
        "-PNG:Comment=hello",
        "-PNG:Author=someone",
        "-PNG:ModifyDate=2026:11:28 21:04:00",
    ]);
    dir.exiftool("in.png", &metadata);
    let scrubbed = dir.scrub_and_check("in.png", "out.png");
    assert_eq!(scrubbed.format, ImageFormat::Png);
    assert_reports_the_essentials(&scrubbed);
    assert!(scrubbed.removed.contains(&Removed::Comments));
    assert_eq!(
        dir.tag("out.png", "Orientation").as_deref(),
        Some("Rotate 90 CW")
    );
    // exiftool checks every chunk's CRC.
    assert_eq!(
        dir.tag_validated("out.png").as_deref(),
        Some("OK"),
        "exiftool -validate"
    );
}

impl Workdir {
    fn tag_validated(&self, file: &str) -> Option<String> {
        let json = self.run("exiftool", &["-json", "-validate", file]);
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        parsed[0]["Validate"].as_str().map(str::to_owned)
    }
}

#[test]
fn png_that_imagemagick_made_from_a_phone_jpeg() {
    // ImageMagick carries a JPEG's metadata into a PNG several times over:
    // an eXIf chunk, "Raw profile type" text chunks (IPTC, Photoshop, and
    // compressed XMP) and a text chunk for each EXIF tag ("exif:GPSLatitude").
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.push("phone.jpg");
    dir.run("convert", &args);
    dir.exiftool("phone.jpg", METADATA);
    dir.run("convert", &["phone.jpg", "in.png"]);
    let scrubbed = dir.scrub_and_check("in.png", "out.png");
    assert!(
        scrubbed.removed.contains(&Removed::Location),
        "{}",
        scrubbed.summary()
    );
    assert!(scrubbed.removed.contains(&Removed::CameraModel));
}

#[test]
fn lossy_webp_with_exif_and_xmp() {
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.push("src.png");
    dir.run("convert", &args);
    dir.run("cwebp", &["-quiet", "-q", "80", "src.png", "-o", "in.webp"]);
    dir.exiftool("in.webp", METADATA);
    check_webp_input(&dir, "in.webp");
    let scrubbed = dir.scrub_and_check("in.webp", "out.webp");
    assert_eq!(scrubbed.format, ImageFormat::Webp);
    assert_reports_the_essentials(&scrubbed);
    check_webp(&dir, "out.webp");
}

#[test]
fn lossless_webp_with_alpha_and_metadata_from_webpmux() {
    // exiftool 12.57 writes a VP8X header without the alpha flag for a
    // lossless file with alpha, which webpinfo rejects; libwebp's own
    // muxer gets it right. The metadata comes from a JPEG exiftool wrote.
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.extend([
        "-alpha",
        "set",
        "-channel",
        "A",
        "-evaluate",
        "set",
        "60%",
        "src.png",
    ]);
    dir.run("convert", &args);
    dir.run(
        "cwebp",
        &["-quiet", "-lossless", "src.png", "-o", "plain.webp"],
    );
    dir.run("convert", &["-size", "8x8", "xc:red", "donor.jpg"]);
    dir.exiftool("donor.jpg", METADATA);
    let exif = dir.run("exiftool", &["-b", "-EXIF", "donor.jpg"]);
    std::fs::write(dir.path("exif.bin"), exif).unwrap();
    let xmp = dir.run("exiftool", &["-b", "-XMP", "donor.jpg"]);
    std::fs::write(dir.path("xmp.bin"), xmp).unwrap();
    dir.run(
        "webpmux",
        &["-set", "exif", "exif.bin", "plain.webp", "-o", "exif.webp"],
    );
    dir.run(
        "webpmux",
        &["-set", "xmp", "xmp.bin", "exif.webp", "-o", "in.webp"],
    );
    check_webp_input(&dir, "in.webp");
    let scrubbed = dir.scrub_and_check("in.webp", "out.webp");
    assert_reports_the_essentials(&scrubbed);
    check_webp(&dir, "out.webp");
}

#[test]
fn lossy_webp_with_alpha_keeps_its_alph_chunk() {
    let dir = Workdir::new();
    let mut args = DRAW.to_vec();
    args.extend([
        "-alpha",
        "set",
        "-channel",
        "A",
        "-evaluate",
        "set",
        "60%",
        "src.png",
    ]);
    dir.run("convert", &args);
    dir.run("cwebp", &["-quiet", "-q", "70", "src.png", "-o", "in.webp"]);
    dir.exiftool("in.webp", METADATA);
    check_webp_input(&dir, "in.webp");
    let scrubbed = dir.scrub_and_check("in.webp", "out.webp");
    assert!(scrubbed.bytes.windows(4).any(|name| name == b"ALPH"));
    check_webp(&dir, "out.webp");
}

#[test]
fn animated_webp() {
    let dir = Workdir::new();
    dir.run("convert", &["-size", "32x24", "xc:red", "a.png"]);
    dir.run("convert", &["-size", "32x24", "xc:blue", "b.png"]);
    dir.run(
        "img2webp",
        &["-loop", "0", "-d", "200", "a.png", "b.png", "-o", "in.webp"],
    );
    dir.exiftool("in.webp", METADATA);
    check_webp_input(&dir, "in.webp");
    let bytes = std::fs::read(dir.path("in.webp")).unwrap();
    let scrubbed = scrub(&bytes, None).unwrap();
    assert_reports_the_essentials(&scrubbed);
    std::fs::write(dir.path("out.webp"), &scrubbed.bytes).unwrap();
    check_webp(&dir, "out.webp");
    let info = String::from_utf8(dir.run("webpinfo", &["out.webp"])).unwrap();
    assert_eq!(info.matches("Chunk ANMF").count(), 2, "{info}");
    assert!(!dir.has_tag("out.webp", "GPSLatitude"));
    assert!(!dir.has_tag("out.webp", "Model"));
}

/// webpinfo finds the input sound, so that a sound output means something.
fn check_webp_input(dir: &Workdir, file: &str) {
    let info = String::from_utf8(dir.run("webpinfo", &[file])).unwrap();
    assert!(info.contains("No error detected."), "{info}");
}

/// webpinfo, libwebp's validator, finds the file sound: RIFF size, chunk
/// sizes and VP8X flags agree with the chunks.
fn check_webp(dir: &Workdir, file: &str) {
    let info = String::from_utf8(dir.run("webpinfo", &[file])).unwrap();
    assert!(info.contains("No error detected."), "{info}");
    assert!(
        !info.contains("Chunk XMP") && !info.contains("XMP: 1"),
        "{info}"
    );
}
