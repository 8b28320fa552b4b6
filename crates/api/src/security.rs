//! The security headers the relay sends with its answers, written once:
//! the relay sets them and `sealtip verify-client` checks a served answer
//! against the same lists.

/// Every directive of the page's Content-Security-Policy but
/// `frame-ancestors` (each agency's own), with its sources, in order.
///
/// `worker-src` allows `blob:` for one worker: the page starts the replies
/// worker from code it fetched with Subresource Integrity and holds in a
/// `Blob`, since browsers check no hash on a worker's script fetched from a
/// URL. It adds no reach: only a script the page already runs (its own,
/// checked) can make a blob of its origin, and a blob worker runs under this
/// same policy.
pub const CSP_DIRECTIVES: [(&str, &str); 11] = [
    ("default-src", "'self'"),
    ("script-src", "'self' 'wasm-unsafe-eval'"),
    ("style-src", "'self'"),
    ("img-src", "'self' blob: data:"),
    ("media-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("font-src", "'self'"),
    ("worker-src", "'self' blob:"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
];

/// The browser features `Permissions-Policy` turns off.
pub const FEATURES_OFF: [&str; 18] = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
];

/// Headers every answer carries, with their one value.
pub const FIXED_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The Content-Security-Policy with `frame_ancestors` as the sources that
/// may frame the answer (`'none'`, or an agency's `embed_origins`).
pub fn content_security_policy(frame_ancestors: &str) -> String {
    let mut policy: Vec<String> = CSP_DIRECTIVES
        .iter()
        .map(|(name, sources)| format!("{name} {sources}"))
        .collect();
    policy.push(format!("frame-ancestors {frame_ancestors}"));
    policy.join("; ")
}

/// The `Permissions-Policy` value: every feature of [`FEATURES_OFF`] off.
pub fn permissions_policy() -> String {
    FEATURES_OFF
        .iter()
        .map(|feature| format!("{feature}=()"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_the_pages_own_origin() {
        let policy = content_security_policy("'none'");
        assert!(policy.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"));
        assert!(policy.ends_with("; form-action 'self'; frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains('*'));
        // Workers from the page's origin, or from a blob the page made.
        assert!(policy.contains("; worker-src 'self' blob:;"));
        assert!(permissions_policy().starts_with("accelerometer=(), autoplay=(), camera=()"));
        assert_eq!(
            permissions_policy().matches("=()").count(),
            FEATURES_OFF.len()
        );
    }
}
