//! Version order where bulwark knows the ecosystem's rules, text order elsewhere.

use std::cmp::Ordering;

use bulwark_inventory::Ecosystem;
use bulwark_version::{Scheme, Version};

/// Orders `old` against `new` by the ecosystem's exact rules; `None` when they cannot be
/// ordered: no ecosystem, an ecosystem without a version order (conda), an unpinned side or a
/// version that does not parse.
pub(crate) fn compare(
    ecosystem: Option<Ecosystem>,
    old: Option<&str>,
    new: Option<&str>,
) -> Option<Ordering> {
    let scheme = ecosystem.and_then(Scheme::for_ecosystem)?;
    let old = scheme.parse(old?).ok()?;
    let new = scheme.parse(new?).ok()?;
    old.try_cmp(&new)
}

/// Sorts `items` by their versions, ascending: versions that parse in the ecosystem's order
/// (equal ones, such as PEP 440's `1.0` and `1.0.0`, by text), then the others by text, an
/// unpinned one first. Each version is parsed once.
pub(crate) fn sort_by_version<T>(
    ecosystem: Option<Ecosystem>,
    items: Vec<T>,
    version: impl Fn(&T) -> Option<&str>,
) -> Vec<T> {
    let scheme = ecosystem.and_then(Scheme::for_ecosystem);
    let mut keyed: Vec<(Option<Version>, T)> = items
        .into_iter()
        .map(|item| {
            let parsed = scheme.and_then(|s| version(&item).and_then(|v| s.parse(v).ok()));
            (parsed, item)
        })
        .collect();
    // Every parsed version comes from the same scheme, so `try_cmp` is a total order here.
    keyed.sort_by(|(parsed_a, a), (parsed_b, b)| match (parsed_a, parsed_b) {
        (Some(x), Some(y)) => x
            .try_cmp(y)
            .unwrap_or(Ordering::Equal)
            .then_with(|| version(a).cmp(&version(b))),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => version(a).cmp(&version(b)),
    });
    keyed.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_order_not_text_order() {
        let sorted = sort_by_version(
            Some(Ecosystem::PyPI),
            vec!["1.10.0", "1.9.0", "1.0rc1", "1.0.0", "1.0"],
            |v| Some(*v),
        );
        // `1.0` = `1.0.0` in PEP 440; equal versions fall back to text.
        assert_eq!(sorted, ["1.0rc1", "1.0", "1.0.0", "1.9.0", "1.10.0"]);
        // npm versions are strict: what does not parse sorts after, by text.
        let sorted = sort_by_version(
            Some(Ecosystem::Npm),
            vec!["latest", "1.10.0", "1.9.0", "1.0.0-rc.1"],
            |v| Some(*v),
        );
        assert_eq!(sorted, ["1.0.0-rc.1", "1.9.0", "1.10.0", "latest"]);
    }

    #[test]
    fn without_an_order_text_decides() {
        let sorted = sort_by_version(Some(Ecosystem::Conda), vec!["1.10", "1.9"], |v| Some(*v));
        assert_eq!(sorted, ["1.10", "1.9"]);
        assert_eq!(
            compare(Some(Ecosystem::Conda), Some("1.9"), Some("1.10")),
            None
        );
        assert_eq!(compare(None, Some("1"), Some("2")), None);
        assert_eq!(compare(Some(Ecosystem::PyPI), None, Some("2")), None);
        assert_eq!(
            compare(Some(Ecosystem::Debian), Some("1:1.0"), Some("2.0")),
            Some(Ordering::Greater)
        );
    }
}
