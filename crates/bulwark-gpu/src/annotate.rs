//! GPU facts on an assembled inventory.

use std::collections::{BTreeSet, HashMap};

use bulwark_inventory::{
    Component, ComponentId, GpuFacts, GpuPart, Inventory, Location, Metadata, Relationship,
    RelationshipKind,
};

use crate::names::{self, Role};
use crate::paths::split_site_packages;
use crate::{DRIVER_CPE_PRODUCT, TOOLKIT_CPE_PRODUCT, build_info, nvidia_cpe};

/// Ids of this crate's catalogers, whose components may fold into an owning package.
const FILE_CATALOGERS: &[&str] = &[
    "gpu/nvidia-driver",
    "gpu/cuda-toolkit",
    "gpu/library",
    "gpu/version-header",
    build_info::ID,
];

/// Sets GPU facts on an inventory the catalogers produced; run it after cataloging.
///
/// 1. Every package that is GPU software by name and version gets [`GpuFacts`], whatever
///    its source: PyPI (`torch 2.2.0+cu121`, `nvidia-cudnn-cu12`, `jaxlib
///    0.4.23+cuda12.cudnn89`), conda (`pytorch` with build `py3.11_cuda12.1_cudnn8.9.2_0`,
///    `cudatoolkit`), Debian, Ubuntu and RPM (`libcudnn8 8.9.2.26-1+cuda12.1`,
///    `nvidia-driver-535`). Facts already present win over derived ones.
/// 2. The NVIDIA driver and CUDA toolkit get the CPE names NVIDIA's advisories use.
/// 3. A GPU library found by file folds into the package that installed it (the file is in
///    the package's `files`), when that package is the same part of the stack: the wheel
///    `nvidia-cudnn-cu12` gains `nvidia/cudnn/lib/libcudnn.so.8` as a location and the
///    library's facts, and the separate `cudnn@8` component goes. A library vendored by a
///    package that is something else (`torch/lib/libcudart-e409450e.so.11.0`) stays a
///    component of its own, which the package `contains`; the package learns the CUDA or
///    cuDNN version from it where it did not know it.
/// 4. Framework build facts (`torch/version.py`) move onto the distribution that installed
///    them; their placeholder components go.
///
/// Relationships follow the components that folded, and the inventory stays sorted as
/// [`Inventory::assemble`] sorts it. Running it twice changes nothing more.
pub fn annotate(inventory: &mut Inventory) {
    for component in &mut inventory.components {
        if let Some(derived) = names::facts(component) {
            merge_facts(component, derived);
        }
        add_cpes(component);
    }

    let components = std::mem::take(&mut inventory.components);
    let old_ids: Vec<ComponentId> = components.iter().map(ComponentId::of).collect();
    let mut slots: Vec<Option<Component>> = components.into_iter().map(Some).collect();
    let moves = plan(&slots);

    let mut contains: Vec<(usize, usize)> = Vec::new();
    let mut folded_into: HashMap<usize, usize> = HashMap::new();
    for Move { from, location, to } in moves {
        let Some(owner) = to else {
            // A placeholder nobody owns carries facts about nothing in the inventory.
            if is_placeholder(slots[from].as_ref()) {
                slots[from] = None;
            }
            continue;
        };
        let (Some(found), Some(owner_component)) = (slots[from].clone(), slots[owner].as_ref())
        else {
            continue;
        };
        if is_placeholder(Some(&found)) || names::role(&found) == names::role(owner_component) {
            if let Some(owner_component) = slots[owner].as_mut() {
                owner_component.locations.insert(location.clone());
                owner_component
                    .found_by
                    .extend(found.found_by.iter().cloned());
                if let Some(facts) = found.gpu.clone() {
                    merge_facts(owner_component, facts);
                }
                add_cpes(owner_component);
            }
            if let Some(component) = slots[from].as_mut() {
                component.locations = component
                    .locations
                    .iter()
                    .filter(|l| **l != location)
                    .cloned()
                    .collect();
                if component.locations.is_empty() {
                    slots[from] = None;
                    folded_into.insert(from, owner);
                }
            }
        } else {
            contains.push((owner, from));
            if let Some(owner_component) = slots[owner].as_mut() {
                learn_from_vendored(owner_component, &found);
            }
        }
    }

    // Ids may change only where a purl-less component's first location changed; map every
    // old id to where its component now is.
    let mut rename: HashMap<ComponentId, ComponentId> = HashMap::new();
    for (index, old) in old_ids.iter().enumerate() {
        let mut at = index;
        // Follow folds to the surviving owner (an owner never folds, but stay safe).
        for _ in 0..4 {
            match folded_into.get(&at) {
                Some(&next) => at = next,
                None => break,
            }
        }
        if let Some(component) = slots[at].as_ref() {
            let new = ComponentId::of(component);
            if new != *old {
                rename.insert(old.clone(), new);
            }
        }
    }
    let relationships = std::mem::take(&mut inventory.relationships);
    let mut edges: BTreeSet<Relationship> = relationships
        .into_iter()
        .map(|edge| Relationship {
            from: rename.get(&edge.from).cloned().unwrap_or(edge.from),
            kind: edge.kind,
            to: rename.get(&edge.to).cloned().unwrap_or(edge.to),
        })
        .collect();
    for (owner, vendored) in contains {
        if let (Some(owner), Some(vendored)) = (slots[owner].as_ref(), slots[vendored].as_ref()) {
            edges.insert(Relationship {
                from: ComponentId::of(owner),
                kind: RelationshipKind::Contains,
                to: ComponentId::of(vendored),
            });
        }
    }

    let mut components: Vec<Component> = slots.into_iter().flatten().collect();
    let present: BTreeSet<ComponentId> = components.iter().map(ComponentId::of).collect();
    edges.retain(|r| r.from != r.to && present.contains(&r.from) && present.contains(&r.to));
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
    inventory.components = components;
    inventory.relationships = edges;
}

/// One location of a file-found component and the package that installed that file.
struct Move {
    from: usize,
    location: Location,
    to: Option<usize>,
}

/// Finds the owner of every location of this crate's file-found components.
fn plan(slots: &[Option<Component>]) -> Vec<Move> {
    let mut owner_of_file: HashMap<&str, usize> = HashMap::new();
    for (index, component) in slots.iter().enumerate() {
        let Some(component) = component else { continue };
        if is_file_found(component) {
            continue;
        }
        for file in &component.files {
            owner_of_file.insert(file.path.as_str(), index);
        }
    }
    let mut moves = Vec::new();
    for (index, component) in slots.iter().enumerate() {
        let Some(component) = component else { continue };
        if !is_file_found(component) {
            continue;
        }
        for location in &component.locations {
            let to = owner_of_file
                .get(location.path.as_str())
                .copied()
                .filter(|owner| *owner != index)
                .or_else(|| {
                    is_placeholder(Some(component))
                        .then(|| owner_by_name(slots, component, &location.path))
                        .flatten()
                });
            moves.push(Move {
                from: index,
                location: location.clone(),
                to,
            });
        }
    }
    moves
}

/// Whether this crate's file catalogers found the component (and nothing else did: a
/// component some package cataloger also reports is a package, not a file).
fn is_file_found(component: &Component) -> bool {
    component.ecosystem.is_none()
        && !component.found_by.is_empty()
        && component
            .found_by
            .iter()
            .all(|id| FILE_CATALOGERS.contains(&id.as_str()))
}

/// Whether the component is a framework build-info placeholder.
fn is_placeholder(component: Option<&Component>) -> bool {
    component.is_some_and(|c| {
        c.purl.is_none()
            && c.found_by.iter().all(|id| id == build_info::ID)
            && !c.found_by.is_empty()
    })
}

/// The installed distribution a build-info file belongs to when no `RECORD` lists it:
/// the one of the framework's name in the same `site-packages`.
fn owner_by_name(
    slots: &[Option<Component>],
    placeholder: &Component,
    path: &str,
) -> Option<usize> {
    let (site_packages, _) = split_site_packages(path)?;
    let framework = placeholder.name.as_str();
    slots.iter().position(|slot| {
        slot.as_ref().is_some_and(|c| {
            let Metadata::PythonDistribution(distribution) = &c.metadata else {
                return false;
            };
            let name = names::normalized(&c.name);
            distribution.site_packages == site_packages
                && match framework {
                    "tensorflow" => {
                        name.starts_with("tensorflow") || name.starts_with("tf-nightly")
                    }
                    other => name == other,
                }
        })
    })
}

/// Fills the facts a component lacks.
fn merge_facts(component: &mut Component, facts: GpuFacts) {
    match &mut component.gpu {
        Some(existing) => existing.merge(facts),
        None => component.gpu = Some(facts),
    }
}

/// What a package learns from a library it vendors: the CUDA major of a runtime, the
/// version of a cuDNN.
fn learn_from_vendored(owner: &mut Component, vendored: &Component) {
    if names::role(owner) != Role::Framework {
        return;
    }
    let Some(facts) = vendored.gpu.as_ref() else {
        return;
    };
    let learned = match facts.provides {
        Some(GpuPart::CudaRuntime) => GpuFacts {
            cuda: facts.cuda.clone(),
            ..GpuFacts::default()
        },
        Some(GpuPart::Cudnn) => GpuFacts {
            cudnn: facts.part_version.clone(),
            ..GpuFacts::default()
        },
        _ => return,
    };
    merge_facts(owner, learned);
}

/// The CPE names NVIDIA's advisories are published under: the driver's and the toolkit's.
fn add_cpes(component: &mut Component) {
    let Some(gpu) = component.gpu.as_ref() else {
        return;
    };
    let product = match gpu.provides {
        Some(GpuPart::NvidiaDriver) => DRIVER_CPE_PRODUCT,
        Some(GpuPart::CudaToolkit) => TOOLKIT_CPE_PRODUCT,
        _ => return,
    };
    let Some(cpe) = gpu
        .part_version
        .as_deref()
        .and_then(|version| nvidia_cpe(product, version))
    else {
        return;
    };
    if !component.cpes.contains(&cpe) {
        component.cpes.push(cpe);
    }
}

#[cfg(test)]
pub(crate) mod tests;
