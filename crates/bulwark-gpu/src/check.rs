//! Compatibility checks over the GPU facts of an inventory.
//!
//! Each check speaks only from what the inventory holds: without a driver there is no
//! driver check, and a library known only by its ABI major (`libcudnn.so.8`) is compared
//! only at that precision.
//!
//! Checks run per environment: a Python `site-packages`, a conda prefix, a lockfile, a
//! side-by-side toolkit (`usr/local/cuda-12.1`), each together with the system-wide
//! components (the driver, OS packages, libraries in system directories). Two virtual
//! environments with different CUDA builds in one scanned tree are not a conflict.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{Component, ComponentId, Ecosystem, GpuPart, Inventory, Metadata};
use serde::Serialize;

use crate::names::{self, Role};
use crate::paths::{split_site_packages, toolkit_version_of};
use crate::version;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The stack cannot work as installed.
    Error,
    /// It may fail, depending on what is loaded or on which GPU.
    Warning,
    /// Works, with a limitation worth knowing.
    Info,
}

/// One compatibility finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GpuIssue {
    /// How serious it is.
    pub severity: Severity,
    /// A stable identifier (`BWG-DRIVER-TOO-OLD`).
    pub id: &'static str,
    /// What is wrong and what follows from it, naming the components.
    pub message: String,
    /// The components involved, by purl (or component id where there is no purl).
    pub components: Vec<String>,
}

/// The driver is older than a CUDA version in use requires.
pub const DRIVER_TOO_OLD: &str = "BWG-DRIVER-TOO-OLD";
/// The driver is older than the CUDA release needs, but new enough for its major version
/// under minor-version compatibility.
pub const DRIVER_MINOR_COMPAT: &str = "BWG-DRIVER-MINOR-COMPAT";
/// Two driver versions (kernel module and user-space libraries that differ).
pub const DRIVER_VERSION_MISMATCH: &str = "BWG-DRIVER-VERSION-MISMATCH";
/// cuDNN built for another CUDA major than the runtime or framework.
pub const CUDNN_CUDA_MISMATCH: &str = "BWG-CUDNN-CUDA-MISMATCH";
/// A framework built with another cuDNN than the one installed.
pub const CUDNN_VERSION_MISMATCH: &str = "BWG-CUDNN-VERSION-MISMATCH";
/// A framework next to NVIDIA wheels of another CUDA major.
pub const FRAMEWORK_CUDA_MISMATCH: &str = "BWG-FRAMEWORK-CUDA-MISMATCH";
/// A framework whose CUDA major no installed toolkit has.
pub const FRAMEWORK_TOOLKIT_MISMATCH: &str = "BWG-FRAMEWORK-TOOLKIT-MISMATCH";
/// Two versions of the same GPU library in one environment.
pub const LIBRARY_DUPLICATE: &str = "BWG-GPU-LIBRARY-DUPLICATE";

/// The minimum Linux x86_64 driver of each CUDA toolkit release (its GA release), from
/// NVIDIA's CUDA Toolkit Release Notes, Table 3 "CUDA Toolkit and Corresponding Driver
/// Versions" (docs.nvidia.com/cuda/cuda-toolkit-release-notes, section "CUDA Driver").
const TOOLKIT_DRIVER: &[(&str, &str)] = &[
    ("8.0", "375.26"),
    ("9.0", "384.81"),
    ("9.1", "390.46"),
    ("9.2", "396.26"),
    ("10.0", "410.48"),
    ("10.1", "418.39"),
    ("10.2", "440.33"),
    ("11.0", "450.51.05"),
    ("11.1", "455.23"),
    ("11.2", "460.27.03"),
    ("11.3", "465.19.01"),
    ("11.4", "470.42.01"),
    ("11.5", "495.29.05"),
    ("11.6", "510.39.01"),
    ("11.7", "515.43.04"),
    ("11.8", "520.61.05"),
    ("12.0", "525.60.13"),
    ("12.1", "530.30.02"),
    ("12.2", "535.54.03"),
    ("12.3", "545.23.06"),
    ("12.4", "550.54.14"),
    ("12.5", "555.42.02"),
    ("12.6", "560.28.03"),
    ("12.8", "570.26"),
    ("12.9", "575.51.03"),
    ("13.0", "580.65.06"),
];

/// The minimum Linux driver for any release of a CUDA major under minor-version
/// compatibility (an application built with any 12.x runs on a 525.60.13 driver, minus
/// features that need a newer one), from the same release notes, Table 2 "CUDA Toolkit and
/// Minimum Required Driver Version for CUDA Minor Version Compatibility". Majors before 11
/// have no minor-version compatibility.
///
/// The other way round, a newer CUDA on an older driver, works only through the CUDA
/// forward-compatibility package (`cuda-compat-12-x`), and only on data-center GPUs.
const MINOR_COMPAT_DRIVER: &[(u64, &str)] = &[(11, "450.80.02"), (12, "525.60.13")];

/// Reports what does not fit in the GPU stack of `inventory`, most serious first.
///
/// Run it after [`annotate`](crate::annotate), which sets the facts it reads.
pub fn check(inventory: &Inventory) -> Vec<GpuIssue> {
    let mut by_scope: BTreeMap<String, Vec<&Component>> = BTreeMap::new();
    for component in inventory.components.iter().filter(|c| c.gpu.is_some()) {
        for scope in scopes(component) {
            by_scope.entry(scope).or_default().push(component);
        }
    }
    let system: Vec<&Component> = by_scope.get(SYSTEM).cloned().unwrap_or_default();
    let toolkits: Vec<&Component> = inventory
        .components
        .iter()
        .filter(|c| names::role(c) == Role::Part(GpuPart::CudaToolkit))
        .collect();

    let mut issues: BTreeSet<GpuIssue> = BTreeSet::new();
    let mut views: Vec<Vec<&Component>> = by_scope
        .iter()
        .filter(|(scope, _)| scope.as_str() != SYSTEM)
        .map(|(_, members)| {
            let mut view = members.clone();
            view.extend(system.iter().copied());
            view
        })
        .collect();
    if views.is_empty() {
        views.push(system);
    }
    for view in &views {
        check_driver(view, &mut issues);
        check_cudnn(view, &mut issues);
        check_framework(view, &toolkits, &mut issues);
    }
    for (scope, members) in &by_scope {
        check_duplicates(scope, members, &mut issues);
    }
    issues.into_iter().collect()
}

/// The scope of system-wide components.
const SYSTEM: &str = "";

/// The environments a component belongs to.
fn scopes(component: &Component) -> Vec<String> {
    // The driver serves every environment, and so does the forward-compatibility package
    // wherever it is installed (its libraries go on the loader path system-wide).
    if matches!(
        names::role(component),
        Role::Part(GpuPart::NvidiaDriver) | Role::ForwardCompat
    ) {
        return vec![SYSTEM.to_owned()];
    }
    match &component.metadata {
        Metadata::PythonDistribution(distribution) => {
            return vec![format!("env:{}", distribution.site_packages)];
        }
        Metadata::Conda(conda) if conda.prefix.is_some() => {
            return vec![format!(
                "env:{}",
                conda.prefix.as_deref().unwrap_or_default()
            )];
        }
        _ => {}
    }
    if matches!(
        component.ecosystem,
        Some(Ecosystem::PyPI | Ecosystem::Conda)
    ) {
        // Declared in a lockfile or manifest: that file is the environment.
        return component
            .locations
            .iter()
            .map(|l| format!("file:{}", l.path))
            .collect();
    }
    if component.ecosystem.is_some() {
        // An OS package; NVIDIA's side-by-side toolkit packages (`cuda-cudart-12-1`) belong
        // to their toolkit.
        return vec![
            toolkit_package_cuda(component)
                .map_or_else(String::new, |cuda| format!("toolkit:{cuda}")),
        ];
    }
    let mut scopes: Vec<String> = component
        .locations
        .iter()
        .map(|l| {
            if let Some((site_packages, _)) = split_site_packages(&l.path) {
                format!("env:{site_packages}")
            } else if let Some(cuda) = toolkit_version_of(&l.path) {
                format!("toolkit:{cuda}")
            } else {
                String::new()
            }
        })
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// The CUDA version in a side-by-side package name (`cuda-cudart-12-1` → `12.1`).
fn toolkit_package_cuda(component: &Component) -> Option<String> {
    let (rest, minor) = component.name.rsplit_once('-')?;
    let (_, major) = rest.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("{major}.{minor}"))
}

/// How a component is named in messages.
fn label(component: &Component) -> String {
    match &component.version {
        Some(version) => format!("{} {version}", component.name),
        None => component.name.clone(),
    }
}

fn id(component: &Component) -> String {
    ComponentId::of(component).to_string()
}

fn part_version(component: &Component) -> Option<&str> {
    component
        .gpu
        .as_ref()
        .and_then(|g| g.part_version.as_deref())
        .or(component.version.as_deref())
}

/// The CUDA version a component needs or is, as precise as it is known.
fn cuda_of(component: &Component) -> Option<String> {
    let gpu = component.gpu.as_ref()?;
    match names::role(component) {
        Role::ForwardCompat | Role::Part(GpuPart::NvidiaDriver) => None,
        Role::Part(GpuPart::CudaRuntime | GpuPart::CudaToolkit) => {
            let version = gpu.part_version.as_deref()?;
            if version.split('.').count() >= 3 {
                version::major_minor(version).map(str::to_owned)
            } else {
                gpu.cuda.clone()
            }
            .or_else(|| gpu.cuda.clone())
        }
        _ => gpu.cuda.clone(),
    }
}

/// The driver a CUDA version needs: the release's own minimum and, where minor-version
/// compatibility applies, the major's floor. `None` when the table does not know it.
fn driver_needed(cuda: &str) -> Option<(&'static str, Option<&'static str>)> {
    let major = version::major(cuda)?;
    let floor = MINOR_COMPAT_DRIVER
        .iter()
        .find(|(m, _)| *m == major)
        .map(|(_, driver)| *driver);
    match version::major_minor(cuda) {
        Some(release) => {
            let own = TOOLKIT_DRIVER
                .iter()
                .find(|(r, _)| version::compare(r, release) == Some(Ordering::Equal))
                .map(|(_, driver)| *driver)?;
            Some((own, floor))
        }
        // Only the major is known: the floor is all that can be said.
        None => floor.map(|floor| (floor, None)),
    }
}

fn below(driver: &str, needed: &str) -> bool {
    version::compare(driver, needed) == Some(Ordering::Less)
}

fn check_driver(view: &[&Component], issues: &mut BTreeSet<GpuIssue>) {
    let drivers: Vec<&Component> = view
        .iter()
        .copied()
        .filter(|c| names::role(c) == Role::Part(GpuPart::NvidiaDriver))
        .filter(|c| part_version(c).is_some_and(version::is_driver_version))
        .collect();
    let Some(driver) = drivers.iter().copied().min_by(|a, b| {
        version::compare(part_version(a).unwrap_or(""), part_version(b).unwrap_or(""))
            .unwrap_or(Ordering::Equal)
    }) else {
        return;
    };
    let driver_version = part_version(driver).unwrap_or_default();
    let distinct: BTreeSet<Vec<u64>> = drivers
        .iter()
        .filter_map(|c| part_version(c).and_then(version::numeric))
        .collect();
    if distinct.len() > 1 {
        let mut listed: Vec<String> = drivers.iter().map(|c| label(c)).collect();
        listed.sort();
        listed.dedup();
        issues.insert(GpuIssue {
            severity: Severity::Warning,
            id: DRIVER_VERSION_MISMATCH,
            message: format!(
                "more than one NVIDIA driver version is installed ({}); the kernel module and \
                 the user-space libraries must match, otherwise CUDA and NVML fail with \
                 \"Driver/library version mismatch\"",
                listed.join(", ")
            ),
            components: sorted_ids(drivers.iter().copied()),
        });
    }

    let compat: Vec<&Component> = view
        .iter()
        .copied()
        .filter(|c| names::role(c) == Role::ForwardCompat)
        .collect();
    let compat_version = compat
        .iter()
        .filter_map(|c| c.version.as_deref().map(version::upstream))
        .filter(|v| version::is_driver_version(v))
        .max_by(|a, b| version::compare(a, b).unwrap_or(Ordering::Equal));

    // The most demanding requirement of each outcome.
    let mut too_old: Vec<(&Component, String, &'static str)> = Vec::new();
    let mut minor_compat: Vec<(&Component, String, &'static str)> = Vec::new();
    for component in view.iter().copied() {
        let Some(cuda) = cuda_of(component) else {
            continue;
        };
        let Some((own, floor)) = driver_needed(&cuda) else {
            continue;
        };
        if !below(driver_version, own) {
            continue;
        }
        match floor {
            Some(floor) if !below(driver_version, floor) => {
                minor_compat.push((component, cuda, own));
            }
            _ => too_old.push((component, cuda, floor.unwrap_or(own))),
        }
    }

    if let Some((needed, cuda)) = most_demanding(&too_old) {
        let covered = compat_version.is_some_and(|compat| !below(compat, needed));
        let mut message = format!(
            "NVIDIA driver {driver_version} is too old for CUDA {cuda}, which needs driver \
             {needed} or newer on Linux; needed by {}. CUDA initialization fails with \
             \"CUDA driver version is insufficient for CUDA runtime version\".",
            requirers(&too_old)
        );
        if covered {
            message.push_str(&format!(
                " The CUDA forward-compatibility package ({}) is present: it runs this CUDA \
                 on the older driver on NVIDIA data-center GPUs only, not on GeForce or \
                 other consumer GPUs.",
                compat
                    .iter()
                    .map(|c| label(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        issues.insert(GpuIssue {
            severity: if covered {
                Severity::Warning
            } else {
                Severity::Error
            },
            id: DRIVER_TOO_OLD,
            message,
            components: sorted_ids(
                std::iter::once(driver)
                    .chain(too_old.iter().map(|(c, _, _)| *c))
                    .chain(compat.iter().copied().filter(|_| covered)),
            ),
        });
    }
    if let Some((needed, cuda)) = most_demanding(&minor_compat) {
        issues.insert(GpuIssue {
            severity: Severity::Info,
            id: DRIVER_MINOR_COMPAT,
            message: format!(
                "NVIDIA driver {driver_version} is older than CUDA {cuda}'s own minimum \
                 ({needed}) but runs it under CUDA minor-version compatibility; features that \
                 need the newer driver are unavailable, and PTX built by the newer toolkit \
                 cannot be JIT-compiled; used by {}",
                requirers(&minor_compat)
            ),
            components: sorted_ids(
                std::iter::once(driver).chain(minor_compat.iter().map(|(c, _, _)| *c)),
            ),
        });
    }
}

/// The highest driver needed among the requirements, and the CUDA version needing it.
fn most_demanding(
    requirements: &[(&Component, String, &'static str)],
) -> Option<(&'static str, String)> {
    requirements
        .iter()
        .max_by(|a, b| {
            version::compare(a.2, b.2)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.1.cmp(&b.1))
        })
        .map(|(_, cuda, needed)| (*needed, cuda.clone()))
}

fn requirers(requirements: &[(&Component, String, &'static str)]) -> String {
    let mut names: Vec<String> = requirements
        .iter()
        .map(|(c, cuda, _)| format!("{} (CUDA {cuda})", label(c)))
        .collect();
    names.sort();
    names.dedup();
    names.join(", ")
}

fn sorted_ids<'a>(components: impl Iterator<Item = &'a Component>) -> Vec<String> {
    let mut ids: Vec<String> = components.map(id).collect();
    ids.sort();
    ids.dedup();
    ids
}

fn check_cudnn(view: &[&Component], issues: &mut BTreeSet<GpuIssue>) {
    let cudnns: Vec<&Component> = view
        .iter()
        .copied()
        .filter(|c| names::role(c) == Role::Part(GpuPart::Cudnn))
        .collect();
    if cudnns.is_empty() {
        return;
    }
    // What decides the CUDA major in use: the runtime and the frameworks' builds.
    let users: Vec<(&Component, u64)> = view
        .iter()
        .copied()
        .filter(|c| {
            matches!(
                names::role(c),
                Role::Framework | Role::Part(GpuPart::CudaRuntime)
            )
        })
        .filter_map(|c| Some((c, cuda_of(c).as_deref().and_then(version::major)?)))
        .collect();
    for cudnn in &cudnns {
        let Some(built_for) = cuda_of(cudnn).as_deref().and_then(version::major) else {
            continue;
        };
        let others: Vec<&(&Component, u64)> = users
            .iter()
            .filter(|(_, major)| *major != built_for)
            .collect();
        if others.is_empty() {
            continue;
        }
        let names: Vec<String> = others
            .iter()
            .map(|(c, major)| format!("{} (CUDA {major})", label(c)))
            .collect();
        issues.insert(GpuIssue {
            severity: Severity::Error,
            id: CUDNN_CUDA_MISMATCH,
            message: format!(
                "cuDNN {} is built for CUDA {built_for}, but {} use{} another CUDA major; a \
                 cuDNN build loads only with the CUDA major it was built for",
                label(cudnn),
                names.join(", "),
                if names.len() == 1 { "s" } else { "" }
            ),
            components: sorted_ids(std::iter::once(*cudnn).chain(others.iter().map(|(c, _)| *c))),
        });
    }

    let installed: Vec<(&Component, &str)> = cudnns
        .iter()
        .filter_map(|c| Some((*c, part_version(c)?)))
        .collect();
    for framework in view
        .iter()
        .copied()
        .filter(|c| names::role(c) == Role::Framework)
    {
        let Some(built_with) = framework.gpu.as_ref().and_then(|g| g.cudnn.as_deref()) else {
            continue;
        };
        let fits = |installed: &str| {
            version::prefix_compatible(installed, built_with)
                || (version::major(installed) == version::major(built_with)
                    && version::compare(installed, built_with) != Some(Ordering::Less))
        };
        if installed.is_empty() || installed.iter().any(|(_, v)| fits(v)) {
            continue;
        }
        let same_major = installed
            .iter()
            .any(|(_, v)| version::major(v) == version::major(built_with));
        let listed: Vec<String> = installed.iter().map(|(c, _)| label(c)).collect();
        issues.insert(GpuIssue {
            severity: if same_major {
                Severity::Warning
            } else {
                Severity::Error
            },
            id: CUDNN_VERSION_MISMATCH,
            message: if same_major {
                format!(
                    "{} was built with cuDNN {built_with}, but only an older cuDNN is \
                     installed ({}); it may refuse to load it or lack kernels it needs",
                    label(framework),
                    listed.join(", ")
                )
            } else {
                format!(
                    "{} was built with cuDNN {built_with}, but the cuDNN installed is of \
                     another major version ({}), which it cannot load",
                    label(framework),
                    listed.join(", ")
                )
            },
            components: sorted_ids(
                std::iter::once(framework).chain(installed.iter().map(|(c, _)| *c)),
            ),
        });
    }
}

fn check_framework(view: &[&Component], toolkits: &[&Component], issues: &mut BTreeSet<GpuIssue>) {
    for framework in view
        .iter()
        .copied()
        .filter(|c| names::role(c) == Role::Framework)
    {
        let Some(cuda) = cuda_of(framework) else {
            continue;
        };
        let Some(major) = version::major(&cuda) else {
            continue;
        };
        let wheels: Vec<&Component> = view
            .iter()
            .copied()
            .filter(|c| c.ecosystem == Some(Ecosystem::PyPI) && is_cuda_wheel(&c.name))
            .filter(|c| {
                cuda_of(c)
                    .as_deref()
                    .and_then(version::major)
                    .is_some_and(|m| m != major)
            })
            .collect();
        if !wheels.is_empty() {
            let listed: Vec<String> = wheels.iter().map(|c| label(c)).collect();
            issues.insert(GpuIssue {
                severity: Severity::Warning,
                id: FRAMEWORK_CUDA_MISMATCH,
                message: format!(
                    "{} is built for CUDA {cuda}, but NVIDIA wheels for another CUDA major are \
                     installed next to it ({}); it cannot use them, and loads its own CUDA \
                     libraries only if they are installed too",
                    label(framework),
                    listed.join(", ")
                ),
                components: sorted_ids(std::iter::once(framework).chain(wheels.iter().copied())),
            });
        }
        let toolkit_majors: BTreeSet<u64> = toolkits
            .iter()
            .filter_map(|t| cuda_of(t).as_deref().and_then(version::major))
            .collect();
        if !toolkit_majors.is_empty() && !toolkit_majors.contains(&major) {
            let listed: Vec<String> = toolkits.iter().map(|c| label(c)).collect();
            issues.insert(GpuIssue {
                severity: Severity::Warning,
                id: FRAMEWORK_TOOLKIT_MISMATCH,
                message: format!(
                    "{} is built for CUDA {cuda}, but no installed CUDA toolkit has that major \
                     version ({}); CUDA extensions compiled against the toolkit will not match \
                     the framework's runtime (PyTorch refuses to build them)",
                    label(framework),
                    listed.join(", ")
                ),
                components: sorted_ids(std::iter::once(framework).chain(toolkits.iter().copied())),
            });
        }
    }
}

/// `nvidia-*-cu12` and friends.
fn is_cuda_wheel(name: &str) -> bool {
    let name = names::normalized(name);
    name.starts_with("nvidia-")
        && name.rsplit_once("-cu").is_some_and(|(_, major)| {
            !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Parts whose file versions follow another scheme than their packages' (libnvToolsExt is
/// `1.0.0` in every toolkit, CUPTI files are named by year: `libcupti.so.2023.1.1`), so a
/// file and a package of these never disagree by version alone.
const OWN_FILE_SCHEME: &[GpuPart] = &[GpuPart::Nvtx, GpuPart::Cupti];

fn check_duplicates(scope: &str, members: &[&Component], issues: &mut BTreeSet<GpuIssue>) {
    let mut by_part: BTreeMap<GpuPart, Vec<(&Component, &str)>> = BTreeMap::new();
    for component in members {
        let Role::Part(part) = names::role(component) else {
            continue;
        };
        // Toolkits side by side are normal; drivers are checked on their own.
        if matches!(part, GpuPart::CudaToolkit | GpuPart::NvidiaDriver) {
            continue;
        }
        if let Some(v) = part_version(component) {
            by_part.entry(part).or_default().push((component, v));
        }
    }
    for (part, found) in by_part {
        let conflicting: Vec<&(&Component, &str)> = found
            .iter()
            .filter(|(a, va)| {
                found.iter().any(|(b, vb)| {
                    let other_scheme = OWN_FILE_SCHEME.contains(&part)
                        && a.ecosystem.is_none() != b.ecosystem.is_none();
                    !(version::prefix_compatible(va, vb) || other_scheme)
                })
            })
            .collect();
        if conflicting.is_empty() {
            continue;
        }
        let mut listed: Vec<String> = conflicting
            .iter()
            .map(|(c, v)| match c.ecosystem {
                Some(_) => format!("{v} ({})", label(c)),
                None => format!(
                    "{v} ({})",
                    c.locations.first().map_or("", |l| l.path.as_str())
                ),
            })
            .collect();
        listed.sort();
        listed.dedup();
        let place = match scope.split_once(':') {
            Some((_, place)) if !place.is_empty() => place.to_owned(),
            _ => "the system libraries".to_owned(),
        };
        issues.insert(GpuIssue {
            severity: Severity::Warning,
            id: LIBRARY_DUPLICATE,
            message: format!(
                "{} versions of {} in {place}: {}; which one a process loads depends on the \
                 library search order, and loading both crashes or misbehaves",
                listed.len(),
                part.as_str(),
                listed.join(", ")
            ),
            components: sorted_ids(conflicting.iter().map(|(c, _)| *c)),
        });
    }
}

#[cfg(test)]
mod tests;
