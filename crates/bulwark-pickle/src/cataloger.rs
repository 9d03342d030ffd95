//! The `model/pickle` cataloger: finds pickle-bearing model files and reports what their
//! pickles would do when loaded.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

use crate::{Limits, scan_file};

/// Claims model files that may carry pickles. The name is only a hint (content decides,
/// in [`scan_file`]); it keeps the walk from opening every file of an image.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PickleCataloger;

/// Extensions that always mean "may hold a pickle", lowercase.
const EXTENSIONS: &[&str] = &[
    "pt", "pth", "ckpt", "pkl", "pickle", "joblib", "dill", "npy", "npz", "mar", "pt2", "ptl",
    "nemo", "sav",
    // A zip may carry a checkpoint; `.model` is what some trainers name a raw pickle (and
    // sentencepiece a tokenizer, which the content check turns away cheaply).
    "zip", "model",
];

/// Whether a file named `name` is claimed during a walk.
///
/// `.bin` is ambiguous (OpenVINO weights, fastText vectors, firmware): it is claimed when the
/// stem names a PyTorch artifact the way Hugging Face writes them (`pytorch_model.bin`,
/// `pytorch_model-00001-of-00002.bin`, `adapter_model.bin`, `training_args.bin`,
/// `optimizer.bin`, `scheduler.bin`, `rng_state.bin`, `learned_embeds.bin`). Such a file that
/// turns out not to be a pickle or zip costs one small read and reports nothing.
pub(crate) fn wants_name(name: &str) -> bool {
    // No allocation unless the extension is `bin`: this runs for every file of an image.
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if EXTENSIONS
        .iter()
        .any(|known| ext.eq_ignore_ascii_case(known))
    {
        return true;
    }
    if !ext.eq_ignore_ascii_case("bin") {
        return false;
    }
    let stem = stem.to_ascii_lowercase();
    [
        "model",
        "training_args",
        "optimizer",
        "scheduler",
        "rng_state",
        "embeds",
    ]
    .iter()
    .any(|hint| stem.contains(hint))
}

impl Cataloger for PickleCataloger {
    fn id(&self) -> &'static str {
        "model/pickle"
    }

    /// Not inside installed Python packages: the test pickles and `.npz` tables scipy or
    /// joblib ship are the package's own files (a malicious package is a matter for package
    /// advisories), and a venv holds tens of thousands of such files.
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        // A file the user names is read whatever it is called, unless its name says it is
        // something else (`notes.md`): content decides, the extension is only a hint.
        const DOCUMENTS: &[&str] = &[
            "md", "txt", "rst", "html", "htm", "csv", "log", "pdf", "png", "jpg", "jpeg", "svg",
        ];
        let name = file.file_name();
        if !file.explicit && bulwark_catalog::is_installed_package_content(file.dir()) {
            return false;
        }
        wants_name(name)
            || (file.explicit
                && !name.rsplit_once('.').is_some_and(|(_, ext)| {
                    DOCUMENTS.iter().any(|doc| ext.eq_ignore_ascii_case(doc))
                }))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let mut reader = resolver.open(file.path)?;
        let findings = scan_file(&mut *reader, file.path, &Limits::default());
        Ok(CatalogOutput {
            findings,
            ..CatalogOutput::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_model_files_by_name() {
        for name in [
            "model.pt",
            "weights.PTH",
            "last.ckpt",
            "clf.joblib",
            "x.pkl",
            "arr.npy",
            "arrs.npz",
            "pytorch_model.bin",
            "pytorch_model-00001-of-00002.bin",
            "adapter_model.bin",
            "training_args.bin",
            "model.ptl",
            "bert.mar",
        ] {
            assert!(wants_name(name), "{name}");
        }
        for name in [
            "weights.bin",
            "firmware.bin",
            "model.safetensors",
            "config.json",
            "pt",
        ] {
            assert!(!wants_name(name), "{name}");
        }
        let cataloger = PickleCataloger;
        assert!(cataloger.wants(&FileRef {
            path: "any/thing.dat",
            explicit: true
        }));
        assert!(!cataloger.wants(&FileRef {
            path: "any/thing.dat",
            explicit: false
        }));
        assert!(!cataloger.wants(&FileRef {
            path: "notes.md",
            explicit: true
        }));
        // Test data an installed package ships is that package's own file.
        assert!(!cataloger.wants(&FileRef {
            path: "venv/lib/python3.11/site-packages/joblib/test/data/old.pkl",
            explicit: false
        }));
        assert!(!cataloger.descend("venv/lib/python3.11/site-packages/scipy/io/tests"));
    }
}
