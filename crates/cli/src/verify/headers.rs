//! The security headers the relay is built to send (`crates/relay`,
//! `http/headers.rs`) and the check of a served answer against them: the
//! Content-Security-Policy directive by directive, and the headers beside
//! it. `frame-ancestors` is each agency's own (its `embed_origins`, else
//! `'none'`), so it is checked only for what no agency may have: a wildcard
//! or a bare scheme.

use ureq::http::HeaderMap;

use sealtip_api::security::{CSP_DIRECTIVES as POLICY, FEATURES_OFF, FIXED_HEADERS as FIXED};

/// What `headers` lack or weaken, one line each. `page` is an HTML page's
/// answer (never stored: `no-store`); `https` asks for HSTS.
pub fn differences(headers: &HeaderMap, page: bool, https: bool) -> Vec<String> {
    let mut found = Vec::new();
    let value = |name: &str| -> Option<String> {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
    };
    let policies: Vec<_> = headers.get_all("content-security-policy").iter().collect();
    match policies.as_slice() {
        [] => found.push("no Content-Security-Policy".to_owned()),
        [policy] => found.extend(policy_differences(&String::from_utf8_lossy(
            policy.as_bytes(),
        ))),
        _ => found.push(format!(
            "{} Content-Security-Policy headers, the relay sends one",
            policies.len()
        )),
    }
    for (name, expected) in FIXED {
        match value(name) {
            Some(v) if v.eq_ignore_ascii_case(expected) => {}
            Some(v) => found.push(format!("{name} is \"{v}\", the relay sends \"{expected}\"")),
            None => found.push(format!("no {name} (the relay sends \"{expected}\")")),
        }
    }
    let permissions = value("permissions-policy").unwrap_or_default();
    let off: Vec<&str> = permissions.split(',').map(str::trim).collect();
    for feature in FEATURES_OFF {
        if !off.contains(&format!("{feature}=()").as_str()) {
            found.push(format!("Permissions-Policy does not turn off {feature}"));
        }
    }
    if page && value("cache-control").as_deref() != Some("no-store") {
        found.push("the page may be stored (Cache-Control is not no-store)".to_owned());
    }
    if https && value("strict-transport-security").is_none() {
        found.push("no Strict-Transport-Security over https".to_owned());
    }
    found
}

/// How one Content-Security-Policy differs from the relay's.
pub fn policy_differences(policy: &str) -> Vec<String> {
    let mut found = Vec::new();
    let directives: Vec<(String, String)> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let (name, sources) = d.split_once(' ').unwrap_or((d, ""));
            (name.to_ascii_lowercase(), normalise(sources))
        })
        .collect();
    let get = |wanted: &str| directives.iter().find(|(name, _)| name == wanted);
    for (name, expected) in POLICY {
        match get(name) {
            Some((_, sources)) if *sources == normalise(expected) => {}
            Some((_, sources)) => found.push(format!(
                "Content-Security-Policy {name} is \"{sources}\", the relay sends \"{expected}\""
            )),
            None => found.push(format!(
                "Content-Security-Policy has no {name} (the relay sends \"{expected}\")"
            )),
        }
    }
    match get("frame-ancestors") {
        None => found.push("Content-Security-Policy has no frame-ancestors".to_owned()),
        Some((_, sources)) => {
            let open = sources.split(' ').find(|source| {
                source.contains('*') || matches!(*source, "http:" | "https:" | "data:" | "blob:")
            });
            if let Some(source) = open {
                found.push(format!(
                    "Content-Security-Policy frame-ancestors allows \"{source}\", any site"
                ));
            }
        }
    }
    for (name, _) in &directives {
        if name != "frame-ancestors" && !POLICY.iter().any(|(known, _)| known == name) {
            found.push(format!(
                "Content-Security-Policy has {name}, which the relay does not send"
            ));
        }
    }
    found
}

/// Sources separated by single spaces.
fn normalise(sources: &str) -> String {
    sources.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay_policy(frame_ancestors: &str) -> String {
        sealtip_api::security::content_security_policy(frame_ancestors)
    }

    #[test]
    fn the_relays_policy_passes() {
        assert!(policy_differences(&relay_policy("'none'")).is_empty());
        assert!(policy_differences(&relay_policy("https://news.example")).is_empty());
    }

    #[test]
    fn a_weaker_policy_is_told_directive_by_directive() {
        let weaker = relay_policy("'none'").replace(
            "script-src 'self' 'wasm-unsafe-eval'",
            "script-src 'self' 'unsafe-inline'",
        );
        assert_eq!(
            policy_differences(&weaker),
            [
                "Content-Security-Policy script-src is \"'self' 'unsafe-inline'\", \
              the relay sends \"'self' 'wasm-unsafe-eval'\""
            ]
        );
        let framed = policy_differences(&relay_policy("*"));
        assert_eq!(framed.len(), 1);
        assert!(policy_differences("default-src *").len() > 5);
    }
}
