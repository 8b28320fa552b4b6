//! The page's workers' code pinned in its HTML: the replies worker
//! (`src/bin/replies.rs`) and the sealing worker (`src/bin/sealing.rs`).
//!
//! Browsers check no integrity hash on a worker's own script: `new
//! Worker(url)` runs whatever the server answers for `url`. So the page
//! fetches each worker's wasm-bindgen glue and its wasm itself, with
//! Subresource Integrity, and starts the worker from those checked bytes
//! (`src/worker.rs`). The hashes come from the page's own HTML, the file
//! every page and embed answer of the relay is: after Trunk, the web build
//! writes into `dist/index.html`, for each worker,
//!
//! ```html
//! <meta name="sealtip-replies" data-js="/sealtip-replies.js" data-js-integrity="sha384-…"
//!       data-wasm="/sealtip-replies_bg.wasm" data-wasm-integrity="sha384-…">
//! ```
//!
//! before the compressed copies and `manifest.json` are made, and the
//! HTML check requires them ([`check`]).

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::path::Path;

/// The workers, by the name Trunk gives their files (`www/index.html`,
/// `data-bin`: `sealtip-replies.js`, the glue, and `sealtip-replies_bg.wasm`),
/// which is also the `name` of the element that pins them (`src/worker.rs`
/// reads it), and what each is for, as the build's size report says it.
pub const WORKERS: [(&str, &str); 2] = [
    (
        "sealtip-replies",
        "when a tipster checks for replies, the replies worker",
    ),
    (
        "sealtip-sealing",
        "when a tipster sends, the sealing worker",
    ),
];

/// Writes each worker's element, with the hashes of its files in `dist`,
/// into `dist/index.html`.
pub fn pin(dist: &Path) -> Result<()> {
    let hash = |name: &str| -> Result<String> {
        let path = dist.join(name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(integrity(&bytes))
    };
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    for (name, _) in WORKERS {
        let (js, wasm) = (format!("{name}.js"), format!("{name}_bg.wasm"));
        let meta = meta(name, &js, &hash(&js)?, &wasm, &hash(&wasm)?);
        html = with_meta(&html, name, &meta)?;
    }
    std::fs::write(&index, html).with_context(|| format!("cannot write {}", index.display()))
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

/// The element of the worker `name` naming its glue and wasm (paths from
/// the root, as the relay serves `dist/`) with their hashes.
fn meta(name: &str, js: &str, js_integrity: &str, wasm: &str, wasm_integrity: &str) -> String {
    format!(
        "<meta name=\"{name}\" data-js=\"/{js}\" data-js-integrity=\"{js_integrity}\" \
         data-wasm=\"/{wasm}\" data-wasm-integrity=\"{wasm_integrity}\">"
    )
}

/// `html` with `meta`, the element of the worker `name`, at the end of its
/// head; refused when the head has one already or has no end.
fn with_meta(html: &str, name: &str, meta: &str) -> Result<String> {
    if find_meta(html, name).is_some() {
        bail!("the page names the worker {name} already");
    }
    let Some(end) = html.find("</head>") else {
        bail!("the page has no </head> to put the hashes of the worker {name} in");
    };
    Ok(format!("{}{meta}{}", &html[..end], &html[end..]))
}

/// The attributes of the element of the worker `name` in `html` (names
/// lowercased), if there is one.
fn find_meta(html: &str, name: &str) -> Option<Vec<(String, String)>> {
    crate::run::tags(html)
        .map(crate::run::attributes)
        .find(|attributes| {
            attributes
                .iter()
                .any(|(key, value)| key == "name" && value == name)
        })
}

/// The built HTML names each worker's glue and wasm with a SHA-384 hash
/// each: without them the page could not start the worker, and would
/// start none from unchecked bytes.
pub fn check(html: &str) -> Result<()> {
    WORKERS
        .iter()
        .try_for_each(|(name, _)| check_one(html, name))
}

/// [`check`] for the worker `name`.
fn check_one(html: &str, name: &str) -> Result<()> {
    let Some(attributes) = find_meta(html, name) else {
        bail!("it has no <meta name=\"{name}\"> pinning that worker's code");
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
            bail!("its element for the worker {name} has no {file} path");
        }
        if !value(hash).starts_with("sha384-") {
            bail!("its element for the worker {name} has no {hash} hash");
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

    /// Both workers' elements, as `pin` writes them for hashes `A`…`D`.
    fn both_pinned(html: &str) -> Result<String> {
        let replies = meta(
            "sealtip-replies",
            "sealtip-replies.js",
            "sha384-AA",
            "sealtip-replies_bg.wasm",
            "sha384-BB",
        );
        let sealing = meta(
            "sealtip-sealing",
            "sealtip-sealing.js",
            "sha384-CC",
            "sealtip-sealing_bg.wasm",
            "sha384-DD",
        );
        with_meta(
            &with_meta(html, "sealtip-replies", &replies)?,
            "sealtip-sealing",
            &sealing,
        )
    }

    #[test]
    fn the_meta_is_written_into_the_head_and_required() -> Result<()> {
        let built = "<!doctype html><html><head><meta name=\"sealtip-app\" data-js=\"/a.js\">\
                     </head><body></body></html>";
        assert!(check(built).is_err());
        let pinned = both_pinned(built)?;
        assert!(pinned.contains(
            "<meta name=\"sealtip-replies\" data-js=\"/sealtip-replies.js\" \
             data-js-integrity=\"sha384-AA\" data-wasm=\"/sealtip-replies_bg.wasm\" \
             data-wasm-integrity=\"sha384-BB\"><meta name=\"sealtip-sealing\""
        ));
        check(&pinned)?;
        // Once only.
        assert!(both_pinned(&pinned).is_err());
        // Each worker, and each of its files, needs its hash.
        assert!(check(&pinned.replace(" data-wasm-integrity=\"sha384-BB\"", "")).is_err());
        assert!(check(&pinned.replace(" data-wasm-integrity=\"sha384-DD\"", "")).is_err());
        assert!(
            check(&pinned.replace("data-js-integrity=\"sha384-CC\"", "data-js-integrity=\"\""))
                .is_err()
        );
        assert!(check(&pinned.replace(" data-js=\"/sealtip-replies.js\"", "")).is_err());
        assert!(check(&pinned.replace("name=\"sealtip-sealing\"", "name=\"other\"")).is_err());
        Ok(())
    }

    #[test]
    fn pinning_hashes_the_files_in_dist() -> Result<()> {
        let dist = std::env::temp_dir().join(format!("xtask-workers-{}", std::process::id()));
        std::fs::create_dir_all(&dist)?;
        std::fs::write(
            dist.join("index.html"),
            "<html><head></head><body></body></html>",
        )?;
        for (name, _) in WORKERS {
            std::fs::write(dist.join(format!("{name}.js")), "")?;
            std::fs::write(dist.join(format!("{name}_bg.wasm")), format!("\0asm{name}"))?;
        }
        pin(&dist)?;
        let html = std::fs::read_to_string(dist.join("index.html"))?;
        std::fs::remove_dir_all(&dist)?;
        check(&html)?;
        assert!(html.contains(&format!("data-js-integrity=\"{}\"", integrity(b""))));
        for (name, _) in WORKERS {
            let wasm = format!("\0asm{name}");
            let hash = format!("data-wasm-integrity=\"{}\"", integrity(wasm.as_bytes()));
            assert!(html.contains(&hash), "{name}: {html}");
        }
        Ok(())
    }
}
