//! The build facts frameworks install next to their code: PyTorch's `torch/version.py`
//! (`cuda: Optional[str] = '12.1'`, `hip`, `__version__ = '2.1.2+cu121'`) and TensorFlow's
//! `tensorflow/python/platform/build_info.py` (`('cuda_version', '12.2')`,
//! `('cudnn_version', '8')`).
//!
//! They matter because the version a package index serves often does not say it: PyTorch
//! 2.1.2 from the default index is a CUDA 12.1 build with no `+cu121` tag. The facts are
//! carried by a placeholder component (no purl, no ecosystem) that
//! [`annotate`](crate::annotate) folds into the installed distribution owning the file,
//! and drops when there is none.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, ComponentKind, GpuFacts, Location};

use crate::paths::split_site_packages;
use crate::{read_small, version};

/// The id of this cataloger; [`annotate`](crate::annotate) recognizes its placeholders by it.
pub(crate) const ID: &str = "gpu/framework-build-info";

/// The largest build-info file read (both are a few hundred bytes).
const MAX_BYTES: u64 = 256 * 1024;

/// Which framework a file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framework {
    Torch,
    TensorFlow,
}

impl Framework {
    /// The file of an installed framework, by its path below `site-packages/`.
    fn of(path: &str) -> Option<Self> {
        let (_, inside) = split_site_packages(path)?;
        match inside {
            "torch/version.py" => Some(Self::Torch),
            "tensorflow/python/platform/build_info.py" => Some(Self::TensorFlow),
            _ => None,
        }
    }

    /// The top-level package directory, which is also the placeholder's name.
    pub(crate) fn package(self) -> &'static str {
        match self {
            Self::Torch => "torch",
            Self::TensorFlow => "tensorflow",
        }
    }
}

/// Reads framework build-info files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameworkBuildInfoCataloger;

impl Cataloger for FrameworkBuildInfoCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        matches!(file.file_name(), "version.py" | "build_info.py")
            && Framework::of(file.path).is_some()
    }

    fn descend(&self, dir: &str) -> bool {
        crate::paths::descend(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(framework) = Framework::of(file.path) else {
            return Ok(CatalogOutput::default());
        };
        let bytes = read_small(resolver, file.path, MAX_BYTES, "build-info file")?;
        let text = String::from_utf8_lossy(&bytes);
        let facts = match framework {
            Framework::Torch => torch_facts(&text),
            Framework::TensorFlow => tensorflow_facts(&text),
        };
        if facts == GpuFacts::default() {
            return Ok(CatalogOutput::default());
        }
        Ok(CatalogOutput::from_components(vec![placeholder(
            framework,
            Location::new(file.path),
            facts,
        )]))
    }
}

/// The fact-carrying placeholder: no purl, no ecosystem, no version.
fn placeholder(framework: Framework, location: Location, facts: GpuFacts) -> Component {
    let mut component = Component::bare(ComponentKind::Library, framework.package(), None, ID);
    component.locations.insert(location);
    component.gpu = Some(facts);
    component
}

/// `torch/version.py`: `cuda` (or `None`), `hip` (the ROCm build), and the local tag of
/// `__version__`.
fn torch_facts(text: &str) -> GpuFacts {
    let mut facts = GpuFacts::default();
    for line in text.lines() {
        let Some((name, value)) = assignment(line) else {
            continue;
        };
        match (name, value) {
            ("cuda", Some(cuda)) if version::is_numeric(cuda) => facts.cuda = Some(cuda.into()),
            ("hip", Some(hip)) => {
                // `5.7.31921-d1770ee1b`: the ROCm release is its first two components.
                let release = hip.split(['-', '+']).next().unwrap_or(hip);
                facts.rocm = version::major_minor(release).map(str::to_owned);
            }
            ("__version__", Some(full)) => {
                facts.variant = full.split_once('+').map(|(_, tag)| tag.to_owned());
            }
            _ => {}
        }
    }
    facts
}

/// `name = 'value'` or `name: Optional[str] = 'value'`; the value is `None` for Python's
/// `None` or anything not a string literal.
fn assignment(line: &str) -> Option<(&str, Option<&str>)> {
    let (left, right) = line.split_once('=')?;
    let name = left.split(':').next()?.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some((name, quoted(right.trim())))
}

/// The content of a leading `'…'` or `"…"` literal.
fn quoted(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &text[1..];
    rest.find(quote).map(|end| &rest[..end])
}

/// `build_info.py`, both the `OrderedDict([('cuda_version', '12.2'), …])` form (TF 2.3 and
/// later) and the module-level `cuda_version_number = '10.1'` form before it.
fn tensorflow_facts(text: &str) -> GpuFacts {
    let is_cuda_build = value_after(text, "is_cuda_build");
    if is_cuda_build == Some("False") {
        return GpuFacts {
            variant: Some("cpu".to_owned()),
            ..GpuFacts::default()
        };
    }
    let cuda =
        value_after(text, "cuda_version").or_else(|| value_after(text, "cuda_version_number"));
    let cudnn =
        value_after(text, "cudnn_version").or_else(|| value_after(text, "cudnn_version_number"));
    GpuFacts {
        cuda: cuda.filter(|v| version::is_numeric(v)).map(str::to_owned),
        cudnn: cudnn.filter(|v| version::is_numeric(v)).map(str::to_owned),
        ..GpuFacts::default()
    }
}

/// The value following `key` as a dictionary entry (`'key', 'v'`, `'key': 'v'`) or an
/// assignment (`key = 'v'`): the string literal's content, or a bare word (`True`).
fn value_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(relative) = text[from..].find(key) {
        let start = from + relative;
        let end = start + key.len();
        from = end;
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let quoted_key = matches!(before, Some('\'' | '"')) && before == after;
        let bare_key = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !(quoted_key || bare_key) {
            continue;
        }
        let rest = &text[end + usize::from(quoted_key)..];
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix([',', ':', '=']) else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(value) = quoted(rest) {
            return Some(value);
        }
        let word_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if word_end > 0 {
            return Some(&rest[..word_end]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, run};

    const TORCH: &str = "venv/lib/python3.11/site-packages/torch/version.py";
    const TF: &str = "venv/lib/python3.11/site-packages/tensorflow/python/platform/build_info.py";

    #[test]
    fn torch_version_py() {
        let text = "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', \
                    'git_version', 'hip']\n__version__ = '2.1.2+cu121'\ndebug = False\n\
                    cuda: Optional[str] = '12.1'\ngit_version = 'a8e7c98cb95ff97bb30a728c6b2a1ce6bff946eb'\n\
                    hip: Optional[str] = None\n";
        let resolver = MemResolver::default().with(TORCH, text);
        let output = run(&FrameworkBuildInfoCataloger, &resolver, TORCH).unwrap();
        assert_eq!(output.components.len(), 1);
        let carrier = &output.components[0];
        assert_eq!(carrier.purl, None);
        let gpu = carrier.gpu.as_ref().unwrap();
        assert_eq!(gpu.cuda.as_deref(), Some("12.1"));
        assert_eq!(gpu.variant.as_deref(), Some("cu121"));
        assert_eq!(gpu.rocm, None);

        let rocm = "__version__ = '2.1.2+rocm5.6'\ncuda: Optional[str] = None\n\
                    hip: Optional[str] = '5.6.31061-8c743ae5d'\n";
        let facts = torch_facts(rocm);
        assert_eq!(facts.cuda, None);
        assert_eq!(facts.rocm.as_deref(), Some("5.6"));
        assert_eq!(facts.variant.as_deref(), Some("rocm5.6"));

        let cpu = "__version__ = '2.1.2'\ncuda = None\nhip = None\n";
        let resolver = MemResolver::default().with(TORCH, cpu);
        let output = run(&FrameworkBuildInfoCataloger, &resolver, TORCH).unwrap();
        assert!(output.components.is_empty());
    }

    #[test]
    fn tensorflow_build_info() {
        let modern = "# Auto-generated\nimport collections\n\nbuild_info = collections.OrderedDict(\
                      [('cpu_compiler', '/usr/lib/llvm-17/bin/clang'), ('cuda_compute_capabilities', \
                      ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80']), ('cuda_version', '12.2'), \
                      ('cudnn_version', '8'), ('is_cuda_build', True), ('is_rocm_build', False), \
                      ('is_tensorrt_build', True)])\n";
        let resolver = MemResolver::default().with(TF, modern);
        let output = run(&FrameworkBuildInfoCataloger, &resolver, TF).unwrap();
        let gpu = output.components[0].gpu.as_ref().unwrap();
        assert_eq!(gpu.cuda.as_deref(), Some("12.2"));
        assert_eq!(gpu.cudnn.as_deref(), Some("8"));

        let old = "is_rocm_build = False\nis_cuda_build = True\ncuda_version_number = '10.1'\n\
                   cudnn_version_number = '7'\n";
        let facts = tensorflow_facts(old);
        assert_eq!(facts.cuda.as_deref(), Some("10.1"));
        assert_eq!(facts.cudnn.as_deref(), Some("7"));

        let cpu = "build_info = collections.OrderedDict([('is_cuda_build', False)])\n";
        assert_eq!(tensorflow_facts(cpu).variant.as_deref(), Some("cpu"));
        assert_eq!(tensorflow_facts(cpu).cuda, None);
    }

    #[test]
    fn wants_only_the_framework_files() {
        for (path, wanted) in [
            (TORCH, true),
            (TF, true),
            (
                "venv/lib/python3.11/site-packages/torchvision/version.py",
                false,
            ),
            ("src/torch/version.py", false),
            (
                "venv/lib/python3.11/site-packages/torch/utils/version.py",
                false,
            ),
        ] {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert_eq!(FrameworkBuildInfoCataloger.wants(&file), wanted, "{path}");
        }
    }
}
