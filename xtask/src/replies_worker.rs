//! The replies worker's code pinned in the page's HTML.
//!
//! Browsers check no integrity hash on a worker's own script: `new
//! Worker(url)` runs whatever the server answers for `url`. So the page
//! fetches the worker's wasm-bindgen glue and its wasm itself, with
//! Subresource Integrity, and starts the worker from those checked bytes
//! (`src/replies/worker.rs`). The hashes come from the page's own HTML, the
//! file every page and embed answer of the relay is: after Trunk, the web
//! build writes into `dist/index.html`
//!
//! ```html
//! <meta name="sealtip-replies" data-js="/sealtip-replies.js" data-js-integrity="sha384-…"
//!       data-wasm="/sealtip-replies_bg.wasm" data-wasm-integrity="sha384-…">
//! ```
//!
//! before the compressed copies and `manifest.json` are made, and the
//! HTML check requires it ([`check`]).

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::path::Path;

/// The name Trunk gives the worker's files (`www/index.html`, `data-bin`):
/// `sealtip-replies.js` (the glue) and `sealtip-replies_bg.wasm`.
pub const NAME: &str = "sealtip-replies";

/// The `name` of the element that pins them; `src/replies/worker.rs` reads it.
const META_NAME: &str = "sealtip-replies";

/// Writes the worker's element, with the hashes of its files in `dist`,
/// into `dist/index.html`.
pub fn pin(dist: &Path) -> Result<()> {
    let hash = |name: &str| -> Result<String> {
        let path = dist.join(name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(integrity(&bytes))
    };
    let (js, wasm) = (format!("{NAME}.js"), format!("{NAME}_bg.wasm"));
    let meta = meta(&js, &hash(&js)?, &wasm, &hash(&wasm)?);
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    std::fs::write(&index, with_meta(&html, &meta)?)
        .with_context(|| format!("cannot write {}", index.display()))
}

/// The Subresource Integrity value of `bytes`: `sha384-` and the base64
/// of their SHA-384, as Trunk writes it for the page's own files.
fn integrity(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The element naming the worker's glue and wasm (paths from the root, as
/// the relay serves `dist/`) with their hashes.
fn meta(js: &str, js_integrity: &str, wasm: &str, wasm_integrity: &str) -> String {
    format!(
        "<meta name=\"{META_NAME}\" data-js=\"/{js}\" data-js-integrity=\"{js_integrity}\" \
         data-wasm=\"/{wasm}\" data-wasm-integrity=\"{wasm_integrity}\">"
    )
}

/// `html` with `meta` at the end of its head; refused when the head has
/// one already or has no end.
fn with_meta(html: &str, meta: &str) -> Result<String> {
    if find_meta(html).is_some() {
        bail!("the page names the replies worker already");
    }
    let Some(end) = html.find("</head>") else {
        bail!("the page has no </head> to put the replies worker's hashes in");
    };
    Ok(format!("{}{meta}{}", &html[..end], &html[end..]))
}

/// The attributes of the worker's element in `html` (names lowercased), if
/// there is one.
fn find_meta(html: &str) -> Option<Vec<(String, String)>> {
    crate::run::tags(html)
        .map(|tag| {
            tag.split_whitespace()
                .skip(1)
                .map(|word| word.split_once('=').unwrap_or((word, "")))
                .map(|(key, value)| {
                    let value = value.trim_end_matches('/').trim_matches(['"', '\'']);
                    (key.to_ascii_lowercase(), value.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .find(|attributes| {
            attributes
                .iter()
                .any(|(key, value)| key == "name" && value == META_NAME)
        })
}

/// The built HTML names the worker's glue and wasm with a SHA-384 hash
/// each: without them the page could not start the worker, and would
/// start none from unchecked bytes.
pub fn check(html: &str) -> Result<()> {
    let Some(attributes) = find_meta(html) else {
        bail!("it has no <meta name=\"{META_NAME}\"> pinning the replies worker's code");
    };
    let value = |wanted: &str| {
        attributes
            .iter()
            .find(|(key, _)| key == wanted)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    };
    for (file, hash) in [
        ("data-js", "data-js-integrity"),
        ("data-wasm", "data-wasm-integrity"),
    ] {
        if !value(file).starts_with('/') {
            bail!("its replies worker element has no {file} path");
        }
        if !value(hash).starts_with("sha384-") {
            bail!("its replies worker element has no {hash} hash");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_subresource_integritys() {
        // SHA-384 of the empty string, as `openssl dgst -sha384 -binary | base64` gives it.
        assert_eq!(
            integrity(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }

    #[test]
    fn the_meta_is_written_into_the_head_and_required() -> Result<()> {
        let built = "<!doctype html><html><head><meta name=\"sealtip-app\" data-js=\"/a.js\">\
                     </head><body></body></html>";
        assert!(check(built).is_err());
        let element = meta(
            "sealtip-replies.js",
            "sha384-AA",
            "sealtip-replies_bg.wasm",
            "sha384-BB",
        );
        let pinned = with_meta(built, &element)?;
        assert!(pinned.contains(
            "<meta name=\"sealtip-replies\" data-js=\"/sealtip-replies.js\" \
             data-js-integrity=\"sha384-AA\" data-wasm=\"/sealtip-replies_bg.wasm\" \
             data-wasm-integrity=\"sha384-BB\"></head>"
        ));
        check(&pinned)?;
        // Once only.
        assert!(with_meta(&pinned, &element).is_err());
        // Each file needs its hash.
        assert!(check(&pinned.replace(" data-wasm-integrity=\"sha384-BB\"", "")).is_err());
        assert!(
            check(&pinned.replace("data-js-integrity=\"sha384-AA\"", "data-js-integrity=\"\""))
                .is_err()
        );
        assert!(check(&pinned.replace(" data-js=\"/sealtip-replies.js\"", "")).is_err());
        Ok(())
    }

    #[test]
    fn pinning_hashes_the_files_in_dist() -> Result<()> {
        let dist = std::env::temp_dir().join(format!("xtask-replies-{}", std::process::id()));
        std::fs::create_dir_all(&dist)?;
        std::fs::write(
            dist.join("index.html"),
            "<html><head></head><body></body></html>",
        )?;
        std::fs::write(dist.join("sealtip-replies.js"), "")?;
        std::fs::write(dist.join("sealtip-replies_bg.wasm"), "\0asm")?;
        pin(&dist)?;
        let html = std::fs::read_to_string(dist.join("index.html"))?;
        std::fs::remove_dir_all(&dist)?;
        check(&html)?;
        assert!(html.contains(&format!("data-js-integrity=\"{}\"", integrity(b""))));
        assert!(html.contains(&format!("data-wasm-integrity=\"{}\"", integrity(b"\0asm"))));
        Ok(())
    }
}
