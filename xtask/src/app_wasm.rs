//! The page's own wasm fetched once the first screen is drawn.
//!
//! Trunk writes a `<link rel="preload" … as="fetch">` for the page's wasm
//! into the head, so a browser starts downloading it (about 190 KB
//! compressed) at once, beside the stylesheets: on a slow connection the
//! first screen the relay serves for `/a/{agency}` then paints later than
//! it needs to (Lighthouse's LCP). After Trunk, the web build moves that
//! link's hash into the loader's element,
//!
//! ```html
//! <meta name="sealtip-app" data-js="/sealtip-web-….js" data-wasm="/sealtip-web-…_bg.wasm"
//!       data-wasm-integrity="sha384-…">
//! ```
//!
//! and removes the link; `www/boot.js` fetches the wasm with that hash, after
//! the first frame when the page has a first screen, at once otherwise. The
//! browser checks the wasm's bytes against the hash as before; the module's
//! hash stays on its `<link rel="modulepreload">`, which `import()` needs.

use anyhow::{Context, Result, bail};
use std::path::Path;

use crate::run::attributes;

/// The loader's element (`pattern_script` in `Trunk.toml`).
const LOADER: &str = "sealtip-app";

/// Moves the wasm's hash from its preload link into the loader's element in
/// `dist/index.html`.
pub fn fetch_after_paint(dist: &Path) -> Result<()> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    let moved = moved_to_loader(&html).with_context(|| format!("in {}", index.display()))?;
    std::fs::write(&index, moved).with_context(|| format!("cannot write {}", index.display()))
}

/// `html` with the preload link of the loader's wasm removed and its
/// integrity hash on the loader's element.
fn moved_to_loader(html: &str) -> Result<String> {
    let (loader_at, loader) =
        tag_where(html, |attributes| value(attributes, "name") == Some(LOADER))
            .context("the page has no <meta name=\"sealtip-app\"> naming its code")?;
    let Some(wasm) = value(&attributes(loader), "data-wasm").map(str::to_owned) else {
        bail!("its <meta name=\"sealtip-app\"> names no wasm");
    };
    let (link_at, link) = tag_where(html, |attributes| {
        value(attributes, "rel") == Some("preload") && value(attributes, "href") == Some(&wasm)
    })
    .with_context(|| format!("the page has no preload link for {wasm}"))?;
    let link_attributes = attributes(link);
    let Some(hash) = value(&link_attributes, "integrity").filter(|h| h.starts_with("sha384-"))
    else {
        bail!("the preload link for {wasm} has no integrity hash");
    };
    let loader_end = loader_at + loader.len();
    let with_hash = format!(
        "{} data-wasm-integrity=\"{hash}\"",
        loader.trim_end().trim_end_matches('/').trim_end()
    );
    // The link is after the loader's element or before it: cut it out
    // without moving the other's place.
    let link_whole = link_at - 1..link_at + link.len() + 1;
    let mut out = String::with_capacity(html.len());
    if link_at < loader_at {
        out.push_str(&html[..link_whole.start]);
        out.push_str(&html[link_whole.end..loader_at]);
        out.push_str(&with_hash);
        out.push_str(&html[loader_end..]);
    } else {
        out.push_str(&html[..loader_at]);
        out.push_str(&with_hash);
        out.push_str(&html[loader_end..link_whole.start]);
        out.push_str(&html[link_whole.end..]);
    }
    Ok(out)
}

/// The built HTML's loader names its wasm with a SHA-384 hash, and no link
/// preloads that wasm: without the hash the page would not start.
pub fn check(html: &str) -> Result<()> {
    let Some((_, loader)) = tag_where(html, |attributes| value(attributes, "name") == Some(LOADER))
    else {
        bail!("it has no <meta name=\"sealtip-app\"> naming its code");
    };
    let attributes = attributes(loader);
    if !value(&attributes, "data-wasm-integrity").is_some_and(|hash| hash.starts_with("sha384-")) {
        bail!("its <meta name=\"sealtip-app\"> has no data-wasm-integrity hash");
    }
    Ok(())
}

/// The first tag of `html` whose attributes `wanted` accepts: where its
/// text starts (after `<`) and that text (up to, not with, `>`).
fn tag_where(html: &str, wanted: impl Fn(&[(String, String)]) -> bool) -> Option<(usize, &str)> {
    let mut from = 0;
    while let Some(open) = html[from..].find('<') {
        let start = from + open + 1;
        // Comments name the loader's element in words: skipped whole.
        if html[start..].starts_with("!--") {
            from = start + html[start..].find("-->")? + 3;
            continue;
        }
        let end = start + html[start..].find('>')?;
        let tag = &html[start..end];
        if wanted(&attributes(tag)) {
            return Some((start, tag));
        }
        from = end;
    }
    None
}

/// The value of the attribute `name`.
fn value<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head as Trunk writes it: the loader's element, then the links
    /// (and `www/index.html`'s comments, which name the element).
    const BUILT: &str = "<head><!-- <meta name=\"sealtip-app\"> names the files -->\
        <meta name=\"sealtip-app\" data-js=\"/app-1.js\" \
        data-wasm=\"/app-1_bg.wasm\"><link rel=\"modulepreload\" href=\"/app-1.js\" \
        crossorigin=\"anonymous\" integrity=\"sha384-JS\"><link rel=\"preload\" \
        href=\"/app-1_bg.wasm\" crossorigin=\"anonymous\" integrity=\"sha384-WASM\" \
        as=\"fetch\" type=\"application/wasm\"></head>";

    #[test]
    fn the_wasm_hash_moves_to_the_loader_and_its_preload_goes() -> Result<()> {
        assert!(check(BUILT).is_err());
        let moved = moved_to_loader(BUILT)?;
        assert_eq!(
            moved,
            "<head><!-- <meta name=\"sealtip-app\"> names the files -->\
             <meta name=\"sealtip-app\" data-js=\"/app-1.js\" \
             data-wasm=\"/app-1_bg.wasm\" data-wasm-integrity=\"sha384-WASM\">\
             <link rel=\"modulepreload\" href=\"/app-1.js\" crossorigin=\"anonymous\" \
             integrity=\"sha384-JS\"></head>"
        );
        check(&moved)?;
        // Once only: the link is gone.
        assert!(moved_to_loader(&moved).is_err());
        Ok(())
    }

    #[test]
    fn the_link_may_come_first() -> Result<()> {
        let page = "<link rel=preload href=/w_bg.wasm integrity=sha384-W as=fetch>\
                    <meta name=sealtip-app data-js=/w.js data-wasm=/w_bg.wasm><body>";
        assert_eq!(
            moved_to_loader(page)?,
            "<meta name=sealtip-app data-js=/w.js data-wasm=/w_bg.wasm \
             data-wasm-integrity=\"sha384-W\"><body>"
        );
        Ok(())
    }

    #[test]
    fn a_page_without_the_hash_is_refused() {
        for page in [
            "<head></head>",
            "<meta name=sealtip-app data-js=/w.js><link rel=preload href=/w_bg.wasm integrity=sha384-W>",
            "<meta name=sealtip-app data-wasm=/w_bg.wasm><link rel=preload href=/w_bg.wasm>",
            "<meta name=sealtip-app data-wasm=/w_bg.wasm><link rel=preload href=/other.wasm integrity=sha384-W>",
        ] {
            assert!(moved_to_loader(page).is_err(), "{page}");
        }
        assert!(check("<meta name=sealtip-app data-wasm-integrity=md5-x>").is_err());
    }
}
