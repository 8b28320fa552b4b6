//! The page a relay must serve for `/a/{agency}`: the release's
//! `index.html` with the agency's first screen in its body, made again here
//! by the relay's own function (`sealtip_api::first_screen::render_page`)
//! from the release's template and language files (each first checked
//! against the manifest) and the profile the relay serves for the agency,
//! which is what the page's wasm draws too. A relay that serves any other
//! first screen differs byte for byte.

use std::collections::BTreeMap;

use sealtip_api::AgencyProfile;
use sealtip_api::first_screen::{Languages, render_page};

/// The expected page from the checked files (`index.html`, `i18n/<tag>.ftl`,
/// by their names in the manifest) and the profile's JSON as served.
pub fn expected(
    checked: &BTreeMap<String, Vec<u8>>,
    profile_json: &[u8],
) -> Result<Vec<u8>, String> {
    let template = checked
        .get("index.html")
        .ok_or("index.html was not served as the manifest lists it")?;
    let template = std::str::from_utf8(template).map_err(|_| "index.html is not UTF-8")?;
    let profile: AgencyProfile = serde_json::from_slice(profile_json)
        .map_err(|error| format!("the agency's profile cannot be read: {error}"))?;
    let mut files = Vec::new();
    for (name, bytes) in checked {
        let Some(tag) = name
            .strip_prefix("i18n/")
            .and_then(|rest| rest.strip_suffix(".ftl"))
        else {
            continue;
        };
        let source = std::str::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8"))?;
        files.push((tag, source));
    }
    let languages = Languages::from_files(files).map_err(|error| error.to_string())?;
    render_page(template, &profile, &languages)
        .map(String::into_bytes)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_made_only_from_checked_files() {
        let mut checked = BTreeMap::new();
        let profile = br#"{"id":"demo","name":"Demo <b>","recipients":[],"languages":["en"],
            "form":{"id":"f","questions":[]},"emergency":{},"exit_url":"https://example.org",
            "pow_difficulty":1,"max_upload_bytes":1}"#;
        assert!(expected(&checked, profile).is_err());
        checked.insert(
            "index.html".to_owned(),
            b"<html lang=\"en\"><title>sealtip</title><body></body>".to_vec(),
        );
        assert!(expected(&checked, profile).is_err(), "no language files");
        checked.insert(
            "i18n/en.ftl".to_owned(),
            b"-language-name = English\npage-title = Tip\n".to_vec(),
        );
        let page = String::from_utf8(expected(&checked, profile).unwrap()).unwrap();
        assert!(page.contains("<title>Tip</title>"));
        assert!(page.contains("<h1 dir=\"auto\">Demo &lt;b&gt;</h1>"));
        assert!(expected(&checked, b"{}").is_err());
    }
}
