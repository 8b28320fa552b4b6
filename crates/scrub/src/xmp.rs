//! XMP: an RDF/XML packet. It is always dropped whole; this only looks for
//! well-known property names in its text to say what it held. Property
//! names are matched by their local part after a colon (`:GPSLatitude`), so
//! that any namespace prefix a writer chose is found, or with their usual
//! prefix where the local part alone is too common a word.

use crate::{Found, Removed, contains};

/// The JPEG APP1 identifier of an XMP packet.
pub(crate) const JPEG_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The JPEG APP1 identifier of extended XMP (the part that did not fit).
pub(crate) const JPEG_EXTENSION_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
/// The PNG iTXt keyword of an XMP packet.
pub(crate) const PNG_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

const LOCATION: &[&[u8]] = &[
    b":GPSLatitude",
    b":GPSLongitude",
    b":GPSAltitude",
    b":GPSDest",
    b":GPSTimeStamp",
    b":LocationCreated",
    b":LocationShown",
    b":City",
    b":Sublocation",
    b":ProvinceState",
    b"photoshop:State",
    b"photoshop:Country",
    b":CountryCode",
    b":CountryName",
    b"Iptc4xmpCore:Location",
];

const CAMERA: &[&[u8]] = &[
    b"tiff:Make",
    b"tiff:Model",
    b":SerialNumber",
    b":BodySerialNumber",
    b":LensSerialNumber",
    b":LensModel",
    b":LensMake",
    b":LensInfo",
    b":LensID",
    b"aux:Lens",
];

const DATE: &[&[u8]] = &[
    b":CreateDate",
    b":ModifyDate",
    b":MetadataDate",
    b":DateTime",
    b":DateCreated",
    b"stEvt:when",
];

const SOFTWARE: &[&[u8]] = &[
    b":CreatorTool",
    b":softwareAgent",
    b"xmpMM:History",
    b"photoshop:History",
    b"xmlns:photoshop=",
    b"xmlns:crs=",
    b"xmlns:lr=",
];

const AUTHOR: &[&[u8]] = &[
    b"dc:creator",
    b"dc:rights",
    b"dc:publisher",
    b"dc:contributor",
    b":Artist",
    b":Copyright",
    b":CameraOwnerName",
    b":Owner",
    b":Credit",
    b":AuthorsPosition",
    b":CaptionWriter",
    b":CreatorContactInfo",
    b":UsageTerms",
    b":WebStatement",
];

const COMMENTS: &[&[u8]] = &[
    b"dc:description",
    b"dc:title",
    b"dc:subject",
    b":UserComment",
    b":ImageDescription",
    b":Headline",
    b":Instructions",
    b":Keywords",
    b":hierarchicalSubject",
    b":PersonInImage",
];

const THUMBNAIL: &[&[u8]] = &[
    b"xmp:Thumbnails",
    b"xmpGImg:image",
    b"GImage:Data",
    b"GDepth:Data",
];

/// Adds what an XMP packet holds to `found`; other metadata when it holds
/// nothing this recognises.
pub(crate) fn inspect(packet: &[u8], found: &mut Found) {
    let mut here = Found::default();
    let groups: [(&[&[u8]], Removed); 7] = [
        (LOCATION, Removed::Location),
        (CAMERA, Removed::CameraModel),
        (DATE, Removed::DateTaken),
        (SOFTWARE, Removed::EditingSoftware),
        (AUTHOR, Removed::AuthorAndCopyright),
        (COMMENTS, Removed::Comments),
        (THUMBNAIL, Removed::EmbeddedThumbnail),
    ];
    for (names, kind) in groups {
        if names.iter().any(|name| contains(packet, name)) {
            here.add(kind);
        }
    }
    if here.is_empty() {
        here.add(Removed::OtherMetadata);
    }
    found.merge(here);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(packet: &str) -> Vec<Removed> {
        let mut found = Found::default();
        inspect(packet.as_bytes(), &mut found);
        found.into_vec()
    }

    #[test]
    fn exiftool_style_packet() {
        let packet = r#"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>
            <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>
            <dc:creator><rdf:Seq><rdf:li>someone</rdf:li></rdf:Seq></dc:creator>
            </rdf:Description></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(kinds(packet), vec![Removed::AuthorAndCopyright]);
    }

    #[test]
    fn attribute_form_with_any_prefix() {
        let packet = r#"<rdf:Description ns1:GPSLatitude="48,51.0N" tiff:Model="Phone9"
            xmp:CreateDate="2026-11-28T21:04:00" xmp:CreatorTool="Editor 2"/>"#;
        assert_eq!(
            kinds(packet),
            vec![
                Removed::Location,
                Removed::CameraModel,
                Removed::DateTaken,
                Removed::EditingSoftware
            ]
        );
    }

    #[test]
    fn a_packet_with_nothing_known_is_other_metadata() {
        assert_eq!(
            kinds("<x:xmpmeta x:xmptk='toolkit'/>"),
            vec![Removed::OtherMetadata]
        );
    }
}
