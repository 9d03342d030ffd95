//! The whole picture: components, how they relate, and what could not be read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Serialize, Serializer};

use crate::{Component, Ecosystem, Metadata, PackageName};

/// The stable key of a component within one inventory: its purl, or for components without
/// one, kind, name, version and first location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(String);

impl ComponentId {
    /// The id of `component`.
    pub fn of(component: &Component) -> Self {
        if let Some(purl) = &component.purl {
            return Self(purl.as_str().to_owned());
        }
        let kind = serde_json::to_string(&component.kind).unwrap_or_default();
        let location = component
            .locations
            .first()
            .map(|l| l.path.as_str())
            .unwrap_or_default();
        Self(format!(
            "{}:{}@{}#{location}",
            kind.trim_matches('"'),
            component.name,
            component.version.as_deref().unwrap_or_default()
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ComponentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// How two components relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationshipKind {
    /// `from` needs `to` (a lockfile edge, `Requires-Dist`).
    DependsOn,
    /// `from` contains `to` (an image contains a package, a wheel vendors a library).
    Contains,
}

/// A typed edge between two components.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Relationship {
    /// The source component.
    pub from: ComponentId,
    /// The edge type.
    pub kind: RelationshipKind,
    /// The target component.
    pub to: ComponentId,
}

/// A dependency named by a cataloger that could not know the target's version, such as a
/// `Requires-Dist: filelock` line. Resolved after the walk against the components found in
/// the same scope (the same site-packages directory); unresolvable requests (an extra that is
/// not installed, a marker for another platform) are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyRequest {
    /// The depending component.
    pub from: ComponentId,
    /// The ecosystem of the dependency.
    pub ecosystem: Ecosystem,
    /// The normalized name of the dependency.
    pub name: PackageName,
    /// Only components with a location under this path prefix qualify.
    pub within: Option<String>,
}

/// Something that could not be read. The scan went on past it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file, relative to the target.
    pub path: String,
    /// The line, where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The cataloger that met it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cataloger: Option<String>,
    /// What went wrong, with its causes.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What is in a target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Inventory {
    /// The scanned target as the user named it.
    pub target: String,
    /// Components sorted by ecosystem, normalized name, version and purl.
    pub components: Vec<Component>,
    /// Edges between components, sorted.
    pub relationships: BTreeSet<Relationship>,
    /// What could not be read, sorted by path.
    pub problems: Vec<Problem>,
    /// Unsafe content found in files (model files that run code when loaded), sorted by path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::ArtifactFinding>,
}

impl Inventory {
    /// Assembles an inventory from everything the catalogers produced.
    ///
    /// 1. Sightings with the same [`ComponentId`] merge into one component.
    /// 2. An installed Python distribution whose metadata file belongs to another package
    ///    (a conda package, an OS package) is not a separate install: it folds into its owner,
    ///    whose `also_known_as` gains the distribution's purl.
    /// 3. Dependency requests become `depends-on` edges.
    /// 4. Everything is sorted, so equal inputs give byte-equal output.
    pub fn assemble(
        target: String,
        components: Vec<Component>,
        relationships: Vec<Relationship>,
        requests: Vec<DependencyRequest>,
        mut problems: Vec<Problem>,
    ) -> Self {
        // Catalogers run in parallel, so sightings arrive in any order; merging them in
        // location order makes "which sighting's metadata wins a tie" deterministic.
        let mut components = components;
        components.sort_by(|a, b| {
            a.locations
                .cmp(&b.locations)
                .then_with(|| a.found_by.cmp(&b.found_by))
        });
        let mut by_id: BTreeMap<ComponentId, Component> = BTreeMap::new();
        for component in components {
            match by_id.entry(ComponentId::of(&component)) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(component),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(component);
                }
            }
        }

        let renamed = fold_owned_distributions(&mut by_id);
        let rename = |id: ComponentId| renamed.get(&id).cloned().unwrap_or(id);

        let mut edges: BTreeSet<Relationship> = relationships
            .into_iter()
            .map(|r| Relationship {
                from: rename(r.from),
                kind: r.kind,
                to: rename(r.to),
            })
            .collect();
        edges.extend(resolve_requests(&by_id, requests, &rename));
        edges
            .retain(|r| r.from != r.to && by_id.contains_key(&r.from) && by_id.contains_key(&r.to));

        let mut components: Vec<Component> = by_id.into_values().collect();
        components.sort_by_cached_key(|c| {
            (
                c.ecosystem,
                c.package_name(),
                c.name.clone(),
                c.version.clone(),
                c.purl.clone(),
                c.locations.first().cloned(),
            )
        });
        problems.sort();
        problems.dedup();
        Self {
            target,
            components,
            relationships: edges,
            problems,
            findings: Vec::new(),
        }
    }
}

/// Folds installed Python distributions into the package that owns their metadata file and
/// returns the id renames this caused.
fn fold_owned_distributions(
    by_id: &mut BTreeMap<ComponentId, Component>,
) -> HashMap<ComponentId, ComponentId> {
    let mut owner_of_file: HashMap<&str, &ComponentId> = HashMap::new();
    for (id, component) in by_id.iter() {
        if matches!(component.metadata, Metadata::PythonDistribution(_)) {
            continue;
        }
        for file in &component.files {
            owner_of_file.insert(file.path.as_str(), id);
        }
    }
    if owner_of_file.is_empty() {
        return HashMap::new();
    }
    let mut folds: Vec<(ComponentId, ComponentId)> = Vec::new();
    for (id, component) in by_id.iter() {
        if !matches!(component.metadata, Metadata::PythonDistribution(_)) {
            continue;
        }
        let owner = component
            .locations
            .iter()
            .find_map(|l| owner_of_file.get(l.path.as_str()));
        if let Some(owner) = owner {
            folds.push((id.clone(), (*owner).clone()));
        }
    }
    let mut renamed = HashMap::new();
    for (owned_id, owner_id) in folds {
        let Some(owned) = by_id.remove(&owned_id) else {
            continue;
        };
        if let Some(owner) = by_id.get_mut(&owner_id) {
            if let Some(purl) = owned.purl
                && !owner.also_known_as.contains(&purl)
            {
                owner.also_known_as.push(purl);
            }
            owner.locations.extend(owned.locations);
            owner.found_by.extend(owned.found_by);
            if owner.licenses.is_empty() {
                owner.licenses = owned.licenses;
            }
        }
        renamed.insert(owned_id, owner_id);
    }
    renamed
}

fn resolve_requests(
    by_id: &BTreeMap<ComponentId, Component>,
    requests: Vec<DependencyRequest>,
    rename: &impl Fn(ComponentId) -> ComponentId,
) -> Vec<Relationship> {
    if requests.is_empty() {
        return Vec::new();
    }
    // Index every name a component answers to: its own and its `also_known_as` purls' names
    // (a conda numpy satisfies `Requires-Dist: numpy`).
    let mut by_name: HashMap<(Ecosystem, PackageName), Vec<&ComponentId>> = HashMap::new();
    for (id, component) in by_id {
        if let Some(ecosystem) = component.ecosystem {
            by_name
                .entry((ecosystem, PackageName::new(ecosystem, &component.name)))
                .or_default()
                .push(id);
        }
        for alias in &component.also_known_as {
            if let Some((ecosystem, name)) = purl_ecosystem_and_name(alias.as_str()) {
                by_name
                    .entry((ecosystem, PackageName::new(ecosystem, &name)))
                    .or_default()
                    .push(id);
            }
        }
    }
    let mut edges = Vec::new();
    for request in requests {
        let Some(candidates) = by_name.get(&(request.ecosystem, request.name)) else {
            continue;
        };
        let from = rename(request.from);
        for to in candidates {
            let in_scope = request.within.as_deref().is_none_or(|prefix| {
                by_id[*to]
                    .locations
                    .iter()
                    .any(|l| l.path.starts_with(prefix))
            });
            if in_scope {
                edges.push(Relationship {
                    from: from.clone(),
                    kind: crate::RelationshipKind::DependsOn,
                    to: (*to).clone(),
                });
            }
        }
    }
    edges
}

/// The ecosystem and (unnormalized) name of a purl this crate built.
fn purl_ecosystem_and_name(purl: &str) -> Option<(Ecosystem, String)> {
    let rest = purl.strip_prefix("pkg:")?;
    let (ty, rest) = rest.split_once('/')?;
    let ecosystem = match ty {
        "pypi" => Ecosystem::PyPI,
        "conda" => Ecosystem::Conda,
        "npm" => Ecosystem::Npm,
        "cargo" => Ecosystem::CratesIo,
        _ => return None,
    };
    let path = rest.split(['@', '?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    Some((ecosystem, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CondaPackage, FileEntry, Location, PythonDistribution};

    fn installed(name: &str, version: &str, path: &str) -> Component {
        let mut c = Component::package(
            Ecosystem::PyPI,
            name,
            Some(version),
            Location::new(path),
            "python/dist-info",
        );
        c.metadata = Metadata::PythonDistribution(PythonDistribution::default());
        c
    }

    #[test]
    fn same_purl_merges_locations() {
        let a = installed("numpy", "1.26.0", "a/numpy-1.26.0.dist-info/METADATA");
        let b = installed("NumPy", "1.26.0", "b/numpy-1.26.0.dist-info/METADATA");
        let inventory = Inventory::assemble("t".into(), vec![a, b], vec![], vec![], vec![]);
        assert_eq!(inventory.components.len(), 1);
        assert_eq!(inventory.components[0].locations.len(), 2);
    }

    #[test]
    fn conda_owned_distribution_folds_into_its_owner() {
        let metadata = "env/lib/python3.11/site-packages/numpy-1.26.0.dist-info/METADATA";
        let pip = installed("numpy", "1.26.0", metadata);
        let scipy = installed(
            "scipy",
            "1.11.0",
            "env/lib/python3.11/site-packages/scipy-1.11.0.dist-info/METADATA",
        );
        let mut conda = Component::package(
            Ecosystem::Conda,
            "numpy",
            Some("1.26.0"),
            Location::new("env/conda-meta/numpy-1.26.0-py311_0.json"),
            "conda/conda-meta",
        );
        conda.metadata = Metadata::Conda(CondaPackage::default());
        conda.files = vec![FileEntry {
            path: metadata.into(),
            digest: None,
            size: None,
        }];
        let request = DependencyRequest {
            from: ComponentId::of(&scipy),
            ecosystem: Ecosystem::PyPI,
            name: PackageName::new(Ecosystem::PyPI, "numpy"),
            within: Some("env/lib/python3.11/site-packages/".into()),
        };
        let inventory = Inventory::assemble(
            "t".into(),
            vec![pip, conda, scipy],
            vec![],
            vec![request],
            vec![],
        );
        assert_eq!(inventory.components.len(), 2);
        let conda = inventory
            .components
            .iter()
            .find(|c| c.ecosystem == Some(Ecosystem::Conda))
            .unwrap();
        assert_eq!(conda.also_known_as[0].as_str(), "pkg:pypi/numpy@1.26.0");
        assert_eq!(conda.locations.len(), 2);
        let edge = inventory.relationships.first().unwrap();
        assert_eq!(edge.from.as_str(), "pkg:pypi/scipy@1.11.0");
        assert_eq!(edge.to, ComponentId::of(conda));
    }
}
