//! What the page's HTML makes a browser load: every `src`, `href`,
//! `data-js` and `data-wasm` (the loader's `<meta name="sealtip-app">`)
//! attribute, read from the tags as the web build writes them. A coarse
//! reader for that one minified file, not a general HTML parser: what it
//! cannot place (an inline script, another origin) is a difference.

use super::manifest::is_plain_path;

/// The attributes that name something the page loads.
const LOADING_ATTRIBUTES: [&str; 4] = ["src", "href", "data-js", "data-wasm"];

/// What the HTML loads: the dist paths it names, and a line for each thing
/// it does that the manifest cannot vouch for.
#[derive(Debug, Default, PartialEq)]
pub struct References {
    /// Paths in the dist folder (`boot-….js`, `style-….css`).
    pub paths: Vec<String>,
    /// Inline scripts, other origins, paths the relay would not serve.
    pub problems: Vec<String>,
}

/// Reads the tags of `html`.
pub fn references(html: &str) -> References {
    let mut found = References::default();
    for tag in html
        .split('<')
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
    {
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        if name.starts_with('!') || name.starts_with('/') {
            continue;
        }
        let attributes: Vec<(String, &str)> = words
            .map(|word| word.split_once('=').unwrap_or((word, "")))
            .map(|(key, value)| (key.to_ascii_lowercase(), value.trim_matches(['"', '\''])))
            .collect();
        if name == "script" && !attributes.iter().any(|(key, _)| key == "src") {
            found.problems.push("an inline <script>".to_owned());
        }
        if let Some((key, _)) = attributes.iter().find(|(key, _)| key.starts_with("on")) {
            found
                .problems
                .push(format!("an event handler ({key}) on <{name}>"));
        }
        for (key, value) in &attributes {
            if !LOADING_ATTRIBUTES.contains(&key.as_str()) {
                continue;
            }
            match local_path(value) {
                Some(path) => found.paths.push(path),
                None => found.problems.push(format!(
                    "<{name} {key}=\"{value}\">, not a file of this relay"
                )),
            }
        }
    }
    found.paths.sort();
    found.paths.dedup();
    found
}

/// A same-origin absolute or relative path to a plain dist path.
fn local_path(value: &str) -> Option<String> {
    let path = value
        .strip_prefix("./")
        .or_else(|| value.strip_prefix('/'))
        .unwrap_or(value);
    let path = path.split(['?', '#']).next().unwrap_or("");
    is_plain_path(path).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_built_page_loads() {
        let html = "<!doctype html><html lang=en><link href=/style-1.css integrity=sha384-x \
                    rel=stylesheet><meta data-js=/app-1.js data-wasm=/app-1_bg.wasm \
                    name=sealtip-app><script integrity=sha384-y src=/boot-1.js type=module>\
                    </script></head><body></body></html>";
        let found = references(html);
        assert_eq!(
            found.paths,
            ["app-1.js", "app-1_bg.wasm", "boot-1.js", "style-1.css"]
        );
        assert!(found.problems.is_empty());
    }

    #[test]
    fn inline_code_and_other_origins_are_problems() {
        let found = references(
            "<script>alert(1)</script><script src=https://cdn.example/x.js></script>\
             <body onload=go()><link href=//fonts.example/f.css>",
        );
        assert_eq!(found.problems.len(), 4, "{:?}", found.problems);
        assert!(found.paths.is_empty());
    }
}
