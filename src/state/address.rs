//! Which agency the page's address names.

/// Which agency an address names: `/a/{id}`, or `?agency=` on `/` and
/// `/embed`; `None` means the relay's default agency.
pub fn agency_in_address(path: &str, query: &str) -> Option<String> {
    if let Some(id) = path.strip_prefix("/a/") {
        let id = id.trim_end_matches('/');
        return (!id.is_empty()).then(|| id.to_string());
    }
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("agency="))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_agencies() {
        assert_eq!(agency_in_address("/", ""), None);
        assert_eq!(
            agency_in_address("/a/city-hall", ""),
            Some("city-hall".into())
        );
        assert_eq!(
            agency_in_address("/a/city-hall/", ""),
            Some("city-hall".into())
        );
        assert_eq!(
            agency_in_address("/embed", "x=1&agency=ngo"),
            Some("ngo".into())
        );
        assert_eq!(agency_in_address("/embed", "agency="), None);
    }
}
