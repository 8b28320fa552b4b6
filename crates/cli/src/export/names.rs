//! Names inside an export: plain ASCII (letters, digits, `.`, `-`, `_`), so
//! that `SHA256SUMS` lines and the report's links need no escaping, whatever
//! names a tip's sender chose. The name a tip gives is kept in the manifest.

use std::collections::BTreeSet;

use crate::commands::thread::Item;
use crate::desk::attachments::download_name;

/// An item's folder under `items/` (and a case's folder in an export of
/// several threads): its place and its opened folder's name,
/// `01-tip-<id>`.
pub fn item_folder(number: usize, item: &Item) -> String {
    format!("{number:02}-{}", opened_name(item))
}

/// The sealed copy's name under `sealed/`: the opened folder's name with
/// `.age`, as `sealtip pull` named it (`tip-<id>.age`), so `sealtip open`
/// checks its kind again.
pub fn sealed_file(item: &Item) -> String {
    format!("{}.age", opened_name(item))
}

/// `wanted`, cleaned, made unique among `taken` (by a number in front).
pub fn unique(wanted: &str, taken: &mut BTreeSet<String>) -> String {
    let clean = download_name(wanted);
    let mut name = clean.clone();
    let mut number = 2;
    while taken.contains(&name) {
        name = format!("{number}-{clean}");
        number += 1;
    }
    taken.insert(name.clone());
    name
}

fn opened_name(item: &Item) -> String {
    let name = item
        .folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    download_name(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique("01.jpg", &mut taken), "01.jpg");
        assert_eq!(unique("01.jpg", &mut taken), "2-01.jpg");
        assert_eq!(unique("a\nb\u{202e}.txt", &mut taken), "a_b_.txt");
        assert_eq!(unique("..", &mut taken), "attachment");
    }
}
