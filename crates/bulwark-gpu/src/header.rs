//! Version headers: `cudnn_version.h` (`#define CUDNN_MAJOR 8` / `CUDNN_MINOR` /
//! `CUDNN_PATCHLEVEL`; Debian's alternatives name it `cudnn_version_v8.h`, cuDNN 7 kept the
//! defines in `cudnn.h`), `nccl.h` (`NCCL_MAJOR` / `NCCL_MINOR` / `NCCL_PATCH`) and TensorRT's
//! `NvInferVersion.h` (`NV_TENSORRT_MAJOR` … `NV_TENSORRT_BUILD`, which TensorRT 10 defines
//! through `TRT_MAJOR_ENTERPRISE` and friends).
//!
//! A development package installs these next to the library, so they give the full version
//! where only `libcudnn.so.8` is found, and they are small.

use std::collections::HashMap;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentKind, GpuFacts, GpuPart, Location};

use crate::{nvidia_component, read_small, version};

/// The largest header read (`nccl.h` is about 20 KB, `cudnn.h` under 100 KB).
const MAX_BYTES: u64 = 1024 * 1024;

/// What one header states and how.
struct Header {
    part: GpuPart,
    /// The macros whose values, joined by dots, are the version; the first ones are required.
    macros: &'static [&'static str],
    /// How many of `macros` must be defined.
    required: usize,
}

const CUDNN: Header = Header {
    part: GpuPart::Cudnn,
    macros: &["CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"],
    required: 3,
};

const NCCL: Header = Header {
    part: GpuPart::Nccl,
    macros: &["NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH"],
    required: 3,
};

const TENSORRT: Header = Header {
    part: GpuPart::TensorRt,
    macros: &[
        "NV_TENSORRT_MAJOR",
        "NV_TENSORRT_MINOR",
        "NV_TENSORRT_PATCH",
        "NV_TENSORRT_BUILD",
    ],
    required: 3,
};

fn header_for(name: &str) -> Option<&'static Header> {
    if name == "cudnn.h" || (name.starts_with("cudnn_version") && name.ends_with(".h")) {
        Some(&CUDNN)
    } else if name == "nccl.h" {
        Some(&NCCL)
    } else if name == "NvInferVersion.h" {
        Some(&TENSORRT)
    } else {
        None
    }
}

/// Reads version headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionHeaderCataloger;

impl Cataloger for VersionHeaderCataloger {
    fn id(&self) -> &'static str {
        "gpu/version-header"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        header_for(file.file_name()).is_some()
    }

    fn descend(&self, dir: &str) -> bool {
        crate::paths::descend(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(header) = header_for(file.file_name()) else {
            return Ok(CatalogOutput::default());
        };
        let bytes = read_small(resolver, file.path, MAX_BYTES, "version header")?;
        let text = String::from_utf8_lossy(&bytes);
        let defines = defines(&text);
        let mut parts = Vec::new();
        let mut line = None;
        for (index, name) in header.macros.iter().enumerate() {
            match resolve(&defines, name) {
                Some((value, at)) => {
                    line = line.or(Some(at));
                    parts.push(value);
                }
                // cuDNN 8's `cudnn.h` includes `cudnn_version.h` instead of defining them.
                None if index < header.required => return Ok(CatalogOutput::default()),
                None => break,
            }
        }
        let version = parts.join(".");
        let mut location = Location::new(file.path);
        if let Some(line) = line {
            location = location.at_line(line);
        }
        Ok(CatalogOutput::from_components(vec![nvidia_component(
            ComponentKind::GpuLibrary,
            header.part.as_str(),
            Some(&version),
            location,
            self.id(),
            GpuFacts {
                provides: Some(header.part),
                part_version: Some(version.clone()),
                ..GpuFacts::default()
            },
        )]))
    }
}

/// `#define NAME VALUE` lines: name → (value, 1-based line).
fn defines(text: &str) -> HashMap<&str, (&str, u32)> {
    let mut found = HashMap::new();
    for (line, number) in text.lines().zip(1u32..) {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        let mut tokens = rest.split_whitespace();
        if let (Some(name), Some(value)) = (tokens.next(), tokens.next()) {
            found.entry(name).or_insert((value, number));
        }
    }
    found
}

/// The numeric value of a macro, following macro-to-macro definitions a few steps
/// (`#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE`), and the line it was named on.
fn resolve(defines: &HashMap<&str, (&str, u32)>, name: &str) -> Option<(String, u32)> {
    let (mut value, line) = *defines.get(name)?;
    for _ in 0..4 {
        let number = value.trim_end_matches(['u', 'U', 'l', 'L']);
        if !number.is_empty() && version::is_numeric(number) && !number.contains('.') {
            return Some((number.to_owned(), line));
        }
        value = defines.get(value)?.0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, listing, run, testdata};

    #[test]
    fn cudnn_nccl_and_tensorrt_headers() {
        let cudnn = fs_err::read(testdata("headers/cudnn_version.h")).unwrap();
        let nccl = fs_err::read(testdata("headers/nccl.h")).unwrap();
        let trt = "#define TRT_MAJOR_ENTERPRISE 10\n#define TRT_MINOR_ENTERPRISE 0\n\
                   #define TRT_PATCH_ENTERPRISE 1\n#define TRT_BUILD_ENTERPRISE 6\n\
                   #define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< major\n\
                   #define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE\n\
                   #define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE\n\
                   #define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE\n";
        let resolver = MemResolver::default()
            .with("usr/include/x86_64-linux-gnu/cudnn_version_v8.h", cudnn)
            .with("usr/include/nccl.h", nccl)
            .with("usr/include/x86_64-linux-gnu/NvInferVersion.h", trt)
            .with("usr/include/cudnn.h", "#include \"cudnn_version.h\"\n");
        for (path, want, line) in [
            (
                "usr/include/x86_64-linux-gnu/cudnn_version_v8.h",
                "cudnn@8.9.2",
                14,
            ),
            ("usr/include/nccl.h", "nccl@2.18.1", 16),
            (
                "usr/include/x86_64-linux-gnu/NvInferVersion.h",
                "tensorrt@10.0.1.6",
                5,
            ),
        ] {
            let output = run(&VersionHeaderCataloger, &resolver, path).unwrap();
            assert_eq!(listing(&output), [want], "{path}");
            assert_eq!(
                output.components[0].locations.first().unwrap().line,
                Some(line),
                "{path}"
            );
        }
        let output = run(&VersionHeaderCataloger, &resolver, "usr/include/cudnn.h").unwrap();
        assert!(output.components.is_empty());
    }

    #[test]
    fn macro_cycles_end() {
        let resolver =
            MemResolver::default().with("nccl.h", "#define NCCL_MAJOR A\n#define A NCCL_MAJOR\n");
        let output = run(&VersionHeaderCataloger, &resolver, "nccl.h").unwrap();
        assert!(output.components.is_empty());
    }
}
