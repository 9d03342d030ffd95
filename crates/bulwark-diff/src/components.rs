//! Component changes between two inventories.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{Component, ComponentKind, Ecosystem, Inventory, PackageName};
use serde::Serialize;

use crate::version;

/// Above this many (old, new) candidate pairs for one identity, versions are paired in
/// version order instead of by shared prefix, so a hostile inventory with thousands of
/// versions of one name stays linear in memory.
const MAX_PAIR_CANDIDATES: usize = 1 << 16;

/// What changed between two inventories, each list sorted by identity, then version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct InventoryDiff {
    /// Components only the new inventory has.
    pub added: Vec<ComponentRef>,
    /// Components only the old inventory has.
    pub removed: Vec<ComponentRef>,
    /// Components whose version went up in the ecosystem's order.
    pub upgraded: Vec<VersionChange>,
    /// Components whose version went down in the ecosystem's order.
    pub downgraded: Vec<VersionChange>,
    /// Components whose version changed where the order cannot say which way (see the crate
    /// documentation).
    pub changed: Vec<VersionChange>,
    /// How many (identity, version) pairs both inventories hold.
    pub unchanged: usize,
}

impl InventoryDiff {
    /// Whether nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.upgraded.is_empty()
            && self.downgraded.is_empty()
            && self.changed.is_empty()
    }
}

/// A component as a diff shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRef {
    /// The name as the inventory wrote it.
    pub name: String,
    /// The version, `None` when unpinned.
    pub version: Option<String>,
    /// The package ecosystem, if any.
    pub ecosystem: Option<Ecosystem>,
    /// What sort of component it is.
    pub kind: ComponentKind,
    /// Its purl, if any.
    pub purl: Option<String>,
}

impl From<&Component> for ComponentRef {
    fn from(component: &Component) -> Self {
        Self {
            name: component.name.clone(),
            version: component.version.clone(),
            ecosystem: component.ecosystem,
            kind: component.kind,
            purl: component.purl.as_ref().map(|p| p.as_str().to_owned()),
        }
    }
}

/// One identity in two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    /// The name as the new inventory wrote it (the spelling may differ from the old one's:
    /// `Django`, `django`).
    pub name: String,
    /// The package ecosystem, if any.
    pub ecosystem: Option<Ecosystem>,
    /// What sort of component it is.
    pub kind: ComponentKind,
    /// The old version (`None`: unpinned).
    pub old_version: Option<String>,
    /// The new version (`None`: unpinned).
    pub new_version: Option<String>,
    /// The old purl, if any.
    pub old_purl: Option<String>,
    /// The new purl, if any.
    pub new_purl: Option<String>,
}

impl VersionChange {
    fn new(old: &Component, new: &Component) -> Self {
        Self {
            name: new.name.clone(),
            ecosystem: new.ecosystem,
            kind: new.kind,
            old_version: old.version.clone(),
            new_version: new.version.clone(),
            old_purl: old.purl.as_ref().map(|p| p.as_str().to_owned()),
            new_purl: new.purl.as_ref().map(|p| p.as_str().to_owned()),
        }
    }
}

/// Everything that makes two components the same package, whatever their versions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Identity {
    ecosystem: Option<Ecosystem>,
    /// Normalized with [`PackageName`] where there is an ecosystem.
    name: String,
    /// Only without an ecosystem: a model and a GPU library may share a name.
    kind: Option<ComponentKind>,
    /// Only without an ecosystem: the ecosystem implies it otherwise, and an SBOM that
    /// lacks a purl for one component must not split it from its other version.
    purl_type: Option<String>,
    namespace: Option<String>,
    /// The identity-defining qualifiers, sorted.
    qualifiers: Vec<(String, String)>,
}

impl Identity {
    fn of(component: &Component) -> Self {
        let purl = component
            .purl
            .as_ref()
            .and_then(|p| p.as_str().parse::<packageurl::PackageUrl<'_>>().ok());
        let (purl_type, namespace, qualifiers) = match &purl {
            Some(purl) => {
                let keep = identity_qualifiers(purl.ty());
                let mut qualifiers: Vec<(String, String)> = purl
                    .qualifiers()
                    .iter()
                    .filter(|(key, _)| keep.contains(&key.as_ref()))
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect();
                qualifiers.sort_unstable();
                (
                    Some(purl.ty().to_owned()),
                    purl.namespace().map(str::to_owned),
                    qualifiers,
                )
            }
            None => (None, None, Vec::new()),
        };
        match component.ecosystem {
            Some(ecosystem) => Self {
                ecosystem: Some(ecosystem),
                kind: None,
                purl_type: None,
                name: PackageName::new(ecosystem, &component.name)
                    .as_str()
                    .to_owned(),
                namespace,
                qualifiers,
            },
            None => Self {
                ecosystem: None,
                kind: Some(component.kind),
                purl_type,
                name: component.name.clone(),
                namespace,
                qualifiers,
            },
        }
    }
}

/// The purl qualifiers that name another artifact rather than another build of the same
/// one. An `amd64` and an `arm64` package are two packages; a conda `build` string, a
/// Debian `epoch` or an image `tag` changes with the version.
fn identity_qualifiers(purl_type: &str) -> &'static [&'static str] {
    match purl_type {
        "deb" | "rpm" | "apk" | "alpm" => &["arch", "distro"],
        "maven" => &["classifier", "type"],
        "oci" | "docker" => &["arch"],
        _ => &[],
    }
}

/// Compares two inventories component by component (see the crate documentation for what
/// counts as the same component and how versions are paired).
pub fn diff(old: &Inventory, new: &Inventory) -> InventoryDiff {
    let mut old_by_identity = by_identity(old);
    let mut new_by_identity = by_identity(new);
    let mut identities: Vec<Identity> = old_by_identity.keys().cloned().collect();
    identities.extend(new_by_identity.keys().cloned());
    identities.sort_unstable();
    identities.dedup();

    let mut result = InventoryDiff::default();
    for identity in identities {
        let old_versions = old_by_identity.remove(&identity).unwrap_or_default();
        let new_versions = new_by_identity.remove(&identity).unwrap_or_default();
        compare_identity(&identity, old_versions, new_versions, &mut result);
    }
    result
}

/// The components of an inventory by identity, one per distinct version (the first in
/// inventory order: sightings of one version that differ only in a non-identity qualifier
/// are one version here).
fn by_identity(inventory: &Inventory) -> BTreeMap<Identity, Vec<&Component>> {
    let mut map: BTreeMap<Identity, BTreeMap<Option<&str>, &Component>> = BTreeMap::new();
    for component in &inventory.components {
        map.entry(Identity::of(component))
            .or_default()
            .entry(component.version.as_deref())
            .or_insert(component);
    }
    map.into_iter()
        .map(|(identity, versions)| (identity, versions.into_values().collect()))
        .collect()
}

fn compare_identity(
    identity: &Identity,
    old: Vec<&Component>,
    new: Vec<&Component>,
    result: &mut InventoryDiff,
) {
    let ecosystem = identity.ecosystem;
    let old_versions: BTreeSet<Option<&str>> = old.iter().map(|c| c.version.as_deref()).collect();
    let new_versions: BTreeSet<Option<&str>> = new.iter().map(|c| c.version.as_deref()).collect();
    result.unchanged += old_versions.intersection(&new_versions).count();
    let old: Vec<&Component> = old
        .into_iter()
        .filter(|c| !new_versions.contains(&c.version.as_deref()))
        .collect();
    let new: Vec<&Component> = new
        .into_iter()
        .filter(|c| !old_versions.contains(&c.version.as_deref()))
        .collect();
    let old = version::sort_by_version(ecosystem, old, |c| c.version.as_deref());
    let new = version::sort_by_version(ecosystem, new, |c| c.version.as_deref());

    let (pairs, old_paired, new_paired) = pair(&old, &new);
    for (o, n) in pairs {
        let change = VersionChange::new(old[o], new[n]);
        let direction = version::compare(
            ecosystem,
            old[o].version.as_deref(),
            new[n].version.as_deref(),
        );
        match direction {
            Some(Ordering::Less) => result.upgraded.push(change),
            Some(Ordering::Greater) => result.downgraded.push(change),
            Some(Ordering::Equal) | None => result.changed.push(change),
        }
    }
    let unpaired = |components: &[&Component], paired: &[bool]| -> Vec<ComponentRef> {
        components
            .iter()
            .zip(paired)
            .filter(|(_, paired)| !**paired)
            .map(|(c, _)| ComponentRef::from(*c))
            .collect()
    };
    result.removed.extend(unpaired(&old, &old_paired));
    result.added.extend(unpaired(&new, &new_paired));
}

/// Pairs old with new versions (both sorted ascending): the pairs sharing the longest leading
/// text first, ties in version order. Returns the pairs in old-version order and, per side,
/// which indexes were paired.
fn pair(old: &[&Component], new: &[&Component]) -> (Vec<(usize, usize)>, Vec<bool>, Vec<bool>) {
    let mut old_taken = vec![false; old.len()];
    let mut new_taken = vec![false; new.len()];
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    if old.len().saturating_mul(new.len()) > MAX_PAIR_CANDIDATES {
        pairs.extend((0..old.len().min(new.len())).map(|i| (i, i)));
    } else {
        let mut candidates: Vec<(Reverse<usize>, usize, usize)> = Vec::new();
        for (o, old_component) in old.iter().enumerate() {
            for (n, new_component) in new.iter().enumerate() {
                let shared = common_prefix(
                    old_component.version.as_deref().unwrap_or_default(),
                    new_component.version.as_deref().unwrap_or_default(),
                );
                candidates.push((Reverse(shared), o, n));
            }
        }
        candidates.sort_unstable();
        for (_, o, n) in candidates {
            if !old_taken[o] && !new_taken[n] {
                old_taken[o] = true;
                new_taken[n] = true;
                pairs.push((o, n));
            }
        }
        pairs.sort_unstable();
    }
    for &(o, n) in &pairs {
        old_taken[o] = true;
        new_taken[n] = true;
    }
    (pairs, old_taken, new_taken)
}

/// How many leading characters two versions share.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use bulwark_inventory::{Location, Purl};

    use super::*;

    fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Component {
        Component::package(
            ecosystem,
            name,
            Some(version),
            Location::new("lockfile"),
            "test",
        )
    }

    fn inventory(components: Vec<Component>) -> Inventory {
        Inventory {
            target: "test".to_owned(),
            components,
            ..Inventory::default()
        }
    }

    fn changes(changes: &[VersionChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} -> {}",
                    c.name,
                    c.old_version.as_deref().unwrap_or("*"),
                    c.new_version.as_deref().unwrap_or("*")
                )
            })
            .collect()
    }

    fn refs(components: &[ComponentRef]) -> Vec<String> {
        components
            .iter()
            .map(|c| format!("{} {}", c.name, c.version.as_deref().unwrap_or("*")))
            .collect()
    }

    /// A Debian package as the dpkg cataloger writes it.
    fn deb(name: &str, version: &str, arch: &str, distro: &str) -> Component {
        let mut component = package(Ecosystem::Debian, name, version);
        component.kind = ComponentKind::OsPackage;
        component.purl = Purl::builder(Ecosystem::Debian, name)
            .namespace("debian")
            .version(Some(version))
            .qualifier("arch", Some(arch))
            .qualifier("distro", Some(distro))
            .build();
        component
    }

    #[test]
    fn upgrades_downgrades_added_removed_by_ecosystem_order() {
        let old = inventory(vec![
            package(Ecosystem::PyPI, "Django", "3.2.3"),
            package(Ecosystem::PyPI, "requests", "2.31.0"),
            package(Ecosystem::PyPI, "numpy", "1.26.4"),
            package(Ecosystem::PyPI, "torch", "2.2.0+cu118"),
            package(Ecosystem::Npm, "lodash", "4.9.0"),
        ]);
        let new = inventory(vec![
            // PEP 503: `django` is `Django`.
            package(Ecosystem::PyPI, "django", "3.2.4"),
            package(Ecosystem::PyPI, "requests", "2.30.0"),
            package(Ecosystem::PyPI, "flask-caching", "1.10.1"),
            // A local version orders above its public version.
            package(Ecosystem::PyPI, "torch", "2.2.0"),
            // Text order would call this a downgrade.
            package(Ecosystem::Npm, "lodash", "4.10.0"),
        ]);
        let diff = diff(&old, &new);
        assert_eq!(
            changes(&diff.upgraded),
            ["django 3.2.3 -> 3.2.4", "lodash 4.9.0 -> 4.10.0"]
        );
        assert_eq!(
            changes(&diff.downgraded),
            ["requests 2.31.0 -> 2.30.0", "torch 2.2.0+cu118 -> 2.2.0"]
        );
        assert_eq!(refs(&diff.added), ["flask-caching 1.10.1"]);
        assert_eq!(refs(&diff.removed), ["numpy 1.26.4"]);
        assert!(diff.changed.is_empty());
        assert_eq!(diff.unchanged, 0);
        assert_eq!(
            diff.upgraded[0].old_purl.as_deref(),
            Some("pkg:pypi/django@3.2.3")
        );
    }

    #[test]
    fn same_inventory_is_unchanged() {
        let components = vec![
            package(Ecosystem::PyPI, "numpy", "1.26.4"),
            package(Ecosystem::Npm, "lodash", "4.17.21"),
        ];
        let diff = diff(&inventory(components.clone()), &inventory(components));
        assert!(diff.is_empty(), "{diff:?}");
        assert_eq!(diff.unchanged, 2);
    }

    #[test]
    fn several_versions_of_one_name_are_sets() {
        let old = inventory(vec![
            package(Ecosystem::Npm, "lodash", "3.10.1"),
            package(Ecosystem::Npm, "lodash", "4.17.20"),
            package(Ecosystem::Npm, "semver", "5.7.1"),
            package(Ecosystem::Npm, "semver", "7.5.4"),
        ]);
        let new = inventory(vec![
            package(Ecosystem::Npm, "lodash", "4.17.21"),
            package(Ecosystem::Npm, "semver", "5.7.1"),
            package(Ecosystem::Npm, "semver", "6.3.1"),
            package(Ecosystem::Npm, "semver", "7.6.0"),
        ]);
        let diff = diff(&old, &new);
        // 4.17.20 pairs with 4.17.21 (shared prefix), not with the lower 3.10.1.
        assert_eq!(
            changes(&diff.upgraded),
            ["lodash 4.17.20 -> 4.17.21", "semver 7.5.4 -> 7.6.0"]
        );
        assert_eq!(refs(&diff.removed), ["lodash 3.10.1"]);
        assert_eq!(refs(&diff.added), ["semver 6.3.1"]);
        assert_eq!(diff.unchanged, 1);
    }

    #[test]
    fn os_packages_keep_arch_and_distro_apart() {
        let old = inventory(vec![
            deb("openssl", "3.0.11-1~deb12u1", "amd64", "debian-12"),
            deb("libc6", "2.36-9+deb12u3", "amd64", "debian-12"),
            deb("libc6", "2.36-9+deb12u3", "i386", "debian-12"),
            deb("zlib1g", "1:1.2.13.dfsg-1", "amd64", "debian-12"),
        ]);
        let new = inventory(vec![
            // `~` sorts before the end: the security update is an upgrade.
            deb("openssl", "3.0.11-1~deb12u2", "amd64", "debian-12"),
            deb("libc6", "2.36-9+deb12u4", "amd64", "debian-12"),
            // The i386 libc6 is gone, an arm64 one is new: not an upgrade of either.
            deb("libc6", "2.36-9+deb12u4", "arm64", "debian-12"),
            // The epoch wins over the upstream version.
            deb("zlib1g", "1.3.dfsg-3", "amd64", "debian-12"),
            // Another distro release is another identity.
            deb("openssl", "3.5.1-1", "amd64", "debian-13"),
        ]);
        let diff = diff(&old, &new);
        assert_eq!(
            changes(&diff.upgraded),
            [
                "libc6 2.36-9+deb12u3 -> 2.36-9+deb12u4",
                "openssl 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2"
            ]
        );
        assert_eq!(
            changes(&diff.downgraded),
            ["zlib1g 1:1.2.13.dfsg-1 -> 1.3.dfsg-3"]
        );
        assert_eq!(refs(&diff.removed), ["libc6 2.36-9+deb12u3"]);
        assert_eq!(
            diff.removed[0].purl.as_deref(),
            Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=i386&distro=debian-12")
        );
        assert_eq!(
            refs(&diff.added),
            ["libc6 2.36-9+deb12u4", "openssl 3.5.1-1"]
        );
    }

    #[test]
    fn components_without_ecosystem_by_kind_and_name() {
        let gpu = |version: &str| {
            Component::bare(ComponentKind::GpuLibrary, "cudnn", Some(version), "test")
        };
        let model = |version: Option<&str>| {
            Component::bare(
                ComponentKind::MachineLearningModel,
                "cudnn",
                version,
                "test",
            )
        };
        let image =
            |digest: &str| Component::bare(ComponentKind::Container, "app", Some(digest), "test");
        let old = inventory(vec![gpu("8.9.2"), model(None), image("sha256:aaaa")]);
        let new = inventory(vec![gpu("9.1.0"), model(None), image("sha256:bbbb")]);
        let diff = diff(&old, &new);
        // Without an ecosystem there is no version order: the change has no direction.
        assert_eq!(
            changes(&diff.changed),
            ["app sha256:aaaa -> sha256:bbbb", "cudnn 8.9.2 -> 9.1.0"]
        );
        assert!(diff.upgraded.is_empty() && diff.added.is_empty() && diff.removed.is_empty());
        // The model of the same name is another identity, and unchanged.
        assert_eq!(diff.unchanged, 1);
    }

    #[test]
    fn unordered_ecosystems_unpinned_and_equal_spellings_are_changed() {
        let unpinned = Component::package(
            Ecosystem::PyPI,
            "numpy",
            None,
            Location::new("requirements.txt"),
            "test",
        );
        let old = inventory(vec![
            package(Ecosystem::Conda, "numpy", "1.26.4"),
            unpinned,
            package(Ecosystem::PyPI, "six", "1.0"),
            // npm versions are strict SemVer.
            package(Ecosystem::Npm, "left-pad", "not-a-version!"),
        ]);
        let new = inventory(vec![
            package(Ecosystem::Conda, "numpy", "2.0.0"),
            package(Ecosystem::PyPI, "numpy", "2.0.0"),
            package(Ecosystem::PyPI, "six", "1.0.0"),
            package(Ecosystem::Npm, "left-pad", "1.3.0"),
        ]);
        let diff = diff(&old, &new);
        assert_eq!(
            changes(&diff.changed),
            [
                "numpy * -> 2.0.0",
                "six 1.0 -> 1.0.0",
                "numpy 1.26.4 -> 2.0.0",
                "left-pad not-a-version! -> 1.3.0"
            ]
        );
        assert!(diff.upgraded.is_empty() && diff.downgraded.is_empty());
    }

    #[test]
    fn conda_build_is_not_identity_but_maven_classifier_is() {
        let conda = |version: &str, build: &str| {
            let mut c = package(Ecosystem::Conda, "numpy", version);
            c.purl = Purl::builder(Ecosystem::Conda, "numpy")
                .version(Some(version))
                .qualifier("build", Some(build))
                .build();
            c
        };
        let maven = |version: &str, classifier: Option<&str>| {
            let mut c = package(Ecosystem::Maven, "netty-transport-native-epoll", version);
            c.purl = Purl::builder(Ecosystem::Maven, "netty-transport-native-epoll")
                .namespace("io.netty")
                .version(Some(version))
                .qualifier("classifier", classifier)
                .build();
            c
        };
        let old = inventory(vec![
            conda("1.26.4", "py311h64a7726_0"),
            maven("4.1.100.Final", None),
            maven("4.1.100.Final", Some("linux-x86_64")),
        ]);
        let new = inventory(vec![
            conda("1.26.4", "py312h8753938_0"),
            maven("4.1.101.Final", None),
            maven("4.1.100.Final", Some("linux-x86_64")),
        ]);
        let diff = diff(&old, &new);
        assert_eq!(diff.unchanged, 2);
        assert_eq!(
            changes(&diff.upgraded),
            ["netty-transport-native-epoll 4.1.100.Final -> 4.1.101.Final"]
        );
        assert!(diff.added.is_empty() && diff.removed.is_empty());
    }

    #[test]
    fn many_versions_of_one_name_stay_bounded() {
        let versions = |offset: usize| -> Inventory {
            inventory(
                (0..400)
                    .map(|i| package(Ecosystem::Npm, "x", &format!("1.0.{}", i * 2 + offset)))
                    .collect(),
            )
        };
        let diff = diff(&versions(0), &versions(1));
        // 400 × 400 candidates exceed the bound: paired in version order, each one up.
        assert_eq!(diff.upgraded.len(), 400);
        assert_eq!(changes(&diff.upgraded[..1]), ["x 1.0.0 -> 1.0.1"]);
    }

    #[test]
    fn serializes_for_json() {
        let old = inventory(vec![package(Ecosystem::PyPI, "numpy", "1.26.4")]);
        let new = inventory(vec![package(Ecosystem::PyPI, "numpy", "2.0.0")]);
        let json = serde_json::to_value(diff(&old, &new)).unwrap();
        assert_eq!(json["upgraded"][0]["ecosystem"], "PyPI");
        assert_eq!(json["upgraded"][0]["new_version"], "2.0.0");
        assert_eq!(json["unchanged"], 0);
    }
}
