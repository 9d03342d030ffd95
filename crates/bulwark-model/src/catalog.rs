//! The catalogers: which files they look at, and how a parsed header becomes a component and
//! findings.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    ArtifactFinding, Component, ComponentId, ComponentKind, FileEntry, Hash, HashAlgorithm,
    License, Location, Metadata, ModelInfo, Purl, Relationship, RelationshipKind,
};

use crate::{
    Options, Severity, chat_template, gguf, hash, hdf5, hf, keras, numpy, onnx, pytorch,
    safetensors, tensorflow,
};

/// Bytes read to recognize a format (a tar header's `ustar` is at 257).
const SNIFF_BYTES: u64 = 512;
/// Largest `config.json`, index or model card read.
const MAX_SIDE_FILE: u64 = 16 * 1024 * 1024;

/// Extensions of files that may be models. Content decides; this only narrows the walk.
const MODEL_EXTENSIONS: &[&str] = &[
    "safetensors",
    "gguf",
    "onnx",
    "pt",
    "pth",
    "bin",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "dill",
    "npy",
    "npz",
    "keras",
    "h5",
    "hdf5",
    "tflite",
];

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

fn is_model_name(name: &str) -> bool {
    extension(name).is_some_and(|ext| MODEL_EXTENSIONS.contains(&ext.as_str()))
}

/// Whether a path lies in a Hugging Face hub cache repository (`…/models--org--name/…`).
fn in_hub_cache(path: &str) -> bool {
    path.split('/').any(|s| s.starts_with("models--"))
}

/// The weight files a Hugging Face layout groups into its model: safetensors (but not LoRA
/// adapters, which are models of their own), and the PyTorch, TensorFlow and Flax weights
/// transformers writes.
fn is_hf_weight(name: &str) -> bool {
    (name.ends_with(".safetensors") && !name.starts_with("adapter_model"))
        || (name.starts_with("pytorch_model") && name.ends_with(".bin"))
        || (name.starts_with("tf_model") && name.ends_with(".h5"))
        || (name.starts_with("flax_model") && name.ends_with(".msgpack"))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn read_small(resolver: &dyn Resolver, path: &str) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    resolver
        .open(path)?
        .take(MAX_SIDE_FILE)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn finding(
    path: &str,
    id: &str,
    severity: Severity,
    callable: Option<String>,
    message: String,
    remedy: &str,
) -> ArtifactFinding {
    ArtifactFinding {
        path: path.to_owned(),
        member: None,
        offset: None,
        id: id.to_owned(),
        severity,
        callable,
        message,
        remedy: remedy.to_owned(),
    }
}

/// A model component at `path` (its first file) named `name`.
fn model_component(name: &str, path: &str, found_by: &str, info: ModelInfo) -> Component {
    let mut component = Component::bare(ComponentKind::MachineLearningModel, name, None, found_by);
    component.locations.insert(Location::new(path));
    component.metadata = Metadata::Model(info);
    component
}

/// Hashes `files` (when enabled) into the component's hashes and file entries, and gives it
/// a `pkg:generic/<name>?checksum=sha256:…` purl unless it already has one. A component left
/// without purl (hashing off) is identified by its location.
fn hash_and_identify(
    component: &mut Component,
    files: &[String],
    resolver: &dyn Resolver,
    options: Options,
    out: &mut CatalogOutput,
    found_by: &str,
) {
    let mut digests = Vec::new();
    if options.hashes {
        for (path, result) in hash::sha256_files(resolver, files) {
            match result {
                Ok(hex) => {
                    if let Some(digest) = Hash::new(HashAlgorithm::Sha256, &hex) {
                        component.hashes.insert(digest.clone());
                        component.files.push(FileEntry {
                            path,
                            digest: Some(digest),
                            size: None,
                        });
                        digests.push(hex);
                    }
                }
                Err(error) => out.problems.push(bulwark_inventory::Problem {
                    path,
                    line: None,
                    cataloger: Some(found_by.to_owned()),
                    message: format!("hashing failed: {error}"),
                }),
            }
        }
    } else {
        component.files = files
            .iter()
            .map(|path| FileEntry {
                path: path.clone(),
                digest: None,
                size: None,
            })
            .collect();
    }
    if component.purl.is_none() && !digests.is_empty() && digests.len() == files.len() {
        digests.sort();
        let checksum = digests
            .iter()
            .map(|d| format!("sha256:{d}"))
            .collect::<Vec<_>>()
            .join(",");
        component.purl = Purl::builder_for_type("generic", &component.name)
            .qualifier("checksum", Some(&checksum))
            .build();
    }
}

// ---------------------------------------------------------------------------------------
// model/file

/// One model file on its own.
pub(crate) struct ModelFileCataloger {
    pub(crate) options: Options,
}

impl Cataloger for ModelFileCataloger {
    fn id(&self) -> &'static str {
        "model/file"
    }

    /// Not inside installed Python packages: the `.npz` tables and test pickles scipy or
    /// joblib ship are the package's own files, not models of the stack (and a venv holds tens
    /// of thousands of such files).
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        is_model_name(file.file_name())
            && !in_hub_cache(file.path)
            && (file.explicit || !bulwark_catalog::is_installed_package_content(file.dir()))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let name = file.file_name();
        let dir = file.dir();
        // Weights of a Hugging Face layout belong to the directory's model.
        if (is_hf_weight(name) || hf::shard_name(name).is_some())
            && let Some(layout) = Layout::detect(dir, resolver)
        {
            if layout.anchor == file.path {
                return catalog_layout(&layout, None, resolver, self.options, self.id());
            }
            if layout.owns(name) {
                return Ok(CatalogOutput::default());
            }
        }
        let mut reader = resolver.open(file.path)?;
        let mut prefix = Vec::new();
        (&mut reader).take(SNIFF_BYTES).read_to_end(&mut prefix)?;
        reader.seek(SeekFrom::Start(0))?;
        let ext = extension(name).unwrap_or_default();
        let mut out = CatalogOutput::default();
        let Some(info) = recognize(file.path, &ext, &prefix, &mut reader, &mut out)? else {
            return Ok(out);
        };
        drop(reader);
        let mut component = model_component(name, file.path, self.id(), info);
        hash_and_identify(
            &mut component,
            &[file.path.to_owned()],
            resolver,
            self.options,
            &mut out,
            self.id(),
        );
        if let Metadata::Model(info) = &mut component.metadata {
            info.files = vec![file.path.to_owned()];
        }
        out.components.push(component);
        Ok(out)
    }
}

/// Recognizes the format of one file by its first bytes and reads its header. `Ok(None)`
/// for files that are not models (a `.bin` of firmware, an HDF5 dataset).
fn recognize<R: Read + Seek>(
    path: &str,
    ext: &str,
    prefix: &[u8],
    reader: &mut R,
    out: &mut CatalogOutput,
) -> Result<Option<ModelInfo>, CatalogError> {
    let mut info = ModelInfo::default();
    // The extension settles safetensors when the sniff does not: a header length too large to
    // be plausible is then reported, not passed over.
    if safetensors::sniff(prefix) || ext == "safetensors" {
        let (header, data_len) = safetensors::read_header(reader)?;
        fill_safetensors(&mut info, &header);
        safetensors_findings(path, &header, data_len, out);
        return Ok(Some(info));
    }
    if gguf::sniff(prefix) {
        let parsed = gguf::parse(std::io::BufReader::new(reader))?;
        fill_gguf(&mut info, &parsed);
        for (key, template) in parsed.chat_templates() {
            let names = chat_template::suspicious_names(template);
            if !names.is_empty() {
                let list = names.into_iter().collect::<Vec<_>>().join(", ");
                out.findings.push(finding(
                    path,
                    "BWM-GGUF-CHAT-TEMPLATE",
                    Severity::High,
                    Some(list.clone()),
                    format!("the chat template `{key}` uses {list}, which formatting text never needs; rendered by a serving stack it can escape the Jinja sandbox"),
                    "replace the chat template with a known one, or render templates in a sandboxed, patched engine",
                ));
            }
        }
        return Ok(Some(info));
    }
    if pytorch::is_zip(prefix) {
        return recognize_zip(path, ext, reader, out);
    }
    if hdf5::sniff(prefix) {
        return recognize_hdf5(path, reader, out);
    }
    if numpy::sniff(prefix) {
        let header = numpy::parse_header(prefix)?;
        info.format = "numpy".to_owned();
        info.parameters = header.elements();
        info.dtypes = vec![header.descr.clone()];
        info.properties
            .insert("numpy:shape".to_owned(), format!("{:?}", header.shape));
        if header.is_object() {
            info.properties.insert(
                "numpy:object-array".to_owned(),
                "true (stored as a pickle)".to_owned(),
            );
        }
        return Ok(Some(info));
    }
    if tensorflow::sniff_tflite(prefix) {
        info.format = "tflite".to_owned();
        return Ok(Some(info));
    }
    if pytorch::is_legacy_stacked_pickle(prefix) {
        info.format = "pytorch-legacy".to_owned();
        info.properties
            .insert("pytorch:layout".to_owned(), "stacked pickles".to_owned());
        return Ok(Some(info));
    }
    if pytorch::is_tar(prefix) && matches!(ext, "pt" | "pth" | "bin" | "ckpt") {
        info.format = "pytorch-legacy".to_owned();
        info.properties
            .insert("pytorch:layout".to_owned(), "tar".to_owned());
        return Ok(Some(info));
    }
    if let Some(protocol) = pytorch::pickle_protocol(prefix) {
        info.format = match ext {
            "joblib" => "joblib",
            "dill" => "dill",
            "pt" | "pth" | "bin" | "ckpt" => "pytorch-legacy",
            _ => "pickle",
        }
        .to_owned();
        info.properties
            .insert("pickle:protocol".to_owned(), protocol.to_string());
        return Ok(Some(info));
    }
    if ext == "onnx" {
        let model = onnx::read(reader)?;
        fill_onnx(&mut info, &model);
        for (tensor, location) in &model.external_data {
            if onnx::location_escapes(location) {
                out.findings.push(finding(
                    path,
                    "BWM-ONNX-EXTERNAL-DATA",
                    Severity::High,
                    Some(location.clone()),
                    format!("initializer `{tensor}` loads its data from `{location}`, outside the model's directory"),
                    "keep external data files next to the model, referenced by relative paths without `..`",
                ));
            }
        }
        return Ok(Some(info));
    }
    Ok(None)
}

fn recognize_zip<R: Read + Seek>(
    path: &str,
    ext: &str,
    reader: &mut R,
    out: &mut CatalogOutput,
) -> Result<Option<ModelInfo>, CatalogError> {
    let mut info = ModelInfo::default();
    if let Some(torch) = pytorch::read_zip(&mut *reader)? {
        info.format = if torch.torchscript {
            "torchscript"
        } else {
            "pytorch"
        }
        .to_owned();
        let props = &mut info.properties;
        props.insert("pytorch:storages".to_owned(), torch.storages.to_string());
        if let Some(version) = torch.version {
            props.insert("pytorch:archive-version".to_owned(), version);
        }
        if let Some(byteorder) = torch.byteorder {
            props.insert("pytorch:byteorder".to_owned(), byteorder);
        }
        props.insert("pytorch:pickles".to_owned(), torch.pickles.join(","));
        return Ok(Some(info));
    }
    reader.seek(SeekFrom::Start(0))?;
    if let Some(archive) = keras::read_archive(&mut *reader)? {
        info.format = "keras".to_owned();
        info.architecture = archive.config.class_name.clone();
        if let Some(version) = archive.keras_version {
            info.properties.insert("keras:version".to_owned(), version);
        }
        info.properties
            .insert("keras:layers".to_owned(), archive.config.layers.to_string());
        keras_findings(path, &archive.config, Severity::High, out);
        return Ok(Some(info));
    }
    reader.seek(SeekFrom::Start(0))?;
    if ext == "npz" {
        let arrays = numpy::read_npz(&mut *reader)?;
        info.format = "numpy".to_owned();
        info.parameters = arrays
            .iter()
            .try_fold(0u64, |sum, (_, h)| sum.checked_add(h.elements()?));
        let dtypes: BTreeSet<_> = arrays.iter().map(|(_, h)| h.descr.clone()).collect();
        info.dtypes = dtypes.into_iter().collect();
        info.properties
            .insert("numpy:arrays".to_owned(), arrays.len().to_string());
        return Ok(Some(info));
    }
    Ok(None)
}

fn recognize_hdf5<R: Read + Seek>(
    path: &str,
    reader: &mut R,
    out: &mut CatalogOutput,
) -> Result<Option<ModelInfo>, CatalogError> {
    let attrs =
        hdf5::read_string_attributes(reader, &["keras_version", "backend", "model_config"])?;
    if attrs.is_empty() {
        // An HDF5 file without Keras's root attributes: data, or weights only.
        return Ok(None);
    }
    let mut info = ModelInfo {
        format: "keras-hdf5".to_owned(),
        ..ModelInfo::default()
    };
    if let Some(version) = attrs.get("keras_version") {
        info.properties
            .insert("keras:version".to_owned(), version.clone());
    }
    if let Some(backend) = attrs.get("backend") {
        info.properties
            .insert("keras:backend".to_owned(), backend.clone());
    }
    if let Some(config) = attrs.get("model_config") {
        let value: serde_json::Value =
            serde_json::from_str(config).map_err(|source| crate::ModelError::Json {
                what: "HDF5 model_config",
                source,
            })?;
        let config = keras::inspect_config(&value);
        info.architecture = config.class_name.clone();
        info.properties
            .insert("keras:layers".to_owned(), config.layers.to_string());
        // The legacy loader deserializes Lambda bytecode without a safe mode.
        keras_findings(path, &config, Severity::Critical, out);
    }
    Ok(Some(info))
}

fn keras_findings(
    path: &str,
    config: &keras::KerasConfig,
    lambda_severity: Severity,
    out: &mut CatalogOutput,
) {
    for issue in &config.issues {
        let label = issue.name.as_deref().unwrap_or(&issue.class_name);
        let (id, severity, message, remedy) = match issue.kind {
            keras::KerasIssueKind::Lambda => (
                "BWM-KERAS-LAMBDA",
                lambda_severity,
                format!(
                    "layer `{label}` is a Lambda layer: its function is Python bytecode that runs when the model is loaded"
                ),
                "replace the Lambda layer with a built-in or registered layer, and load with safe_mode=True",
            ),
            keras::KerasIssueKind::CustomObject => (
                "BWM-KERAS-CUSTOM-OBJECT",
                Severity::High,
                format!(
                    "`{label}` is class `{}` from `{}`, outside Keras: loading imports and runs that module",
                    issue.class_name,
                    issue.module.as_deref().unwrap_or("an unknown module")
                ),
                "load only with the custom object's code reviewed and pinned",
            ),
        };
        out.findings.push(finding(
            path,
            id,
            severity,
            Some(issue.module.clone().map_or_else(
                || issue.class_name.clone(),
                |m| format!("{m}.{}", issue.class_name),
            )),
            message,
            remedy,
        ));
    }
}

fn fill_safetensors(info: &mut ModelInfo, header: &safetensors::Header) {
    info.format = "safetensors".to_owned();
    info.parameters = header.parameters();
    info.dtypes = header.dtypes().into_iter().collect();
    for (key, value) in &header.metadata {
        if value.len() <= 256 {
            info.properties
                .insert(format!("safetensors:{key}"), value.clone());
        }
    }
}

fn safetensors_findings(
    path: &str,
    header: &safetensors::Header,
    data_len: u64,
    out: &mut CatalogOutput,
) {
    let problems = header.check_offsets(data_len);
    if let Some(first) = problems.first() {
        out.findings.push(finding(
            path,
            "BWM-SAFETENSORS-HEADER",
            Severity::Medium,
            None,
            format!(
                "the header's tensor offsets are inconsistent ({} problem(s); `{}` {})",
                problems.len(),
                first.tensor,
                first.detail
            ),
            "re-export the checkpoint with the safetensors library; do not load this file with a loader that trusts offsets",
        ));
    }
}

fn fill_gguf(info: &mut ModelInfo, parsed: &gguf::Gguf) {
    info.format = "gguf".to_owned();
    info.architecture = parsed.architecture().map(str::to_owned);
    info.quantization = parsed.quantization();
    info.context_length = parsed.context_length();
    info.parameters = parsed.parameters;
    info.dtypes = parsed.dtypes.iter().cloned().collect();
    let props = &mut info.properties;
    props.insert("gguf:version".to_owned(), parsed.version.to_string());
    for (key, prop) in [
        ("general.name", "gguf:name"),
        ("general.license", "gguf:license"),
        ("general.basename", "gguf:basename"),
        ("tokenizer.ggml.model", "gguf:tokenizer"),
    ] {
        if let Some(value) = parsed.strings.get(key) {
            props.insert(prop.to_owned(), value.clone());
        }
    }
    if parsed.strings.contains_key("tokenizer.chat_template") {
        props.insert("gguf:chat-template".to_owned(), "present".to_owned());
    }
}

fn fill_onnx(info: &mut ModelInfo, model: &onnx::OnnxModel) {
    info.format = "onnx".to_owned();
    info.parameters = model.parameters;
    info.dtypes = model.dtypes.clone();
    info.inputs = model.inputs.clone();
    info.outputs = model.outputs.clone();
    let props = &mut info.properties;
    if let Some(ir) = model.ir_version {
        props.insert("onnx:ir-version".to_owned(), ir.to_string());
    }
    let opsets: Vec<String> = model
        .opsets
        .iter()
        .map(|(domain, version)| {
            format!(
                "{}={version}",
                if domain.is_empty() { "ai.onnx" } else { domain }
            )
        })
        .collect();
    if !opsets.is_empty() {
        props.insert("onnx:opset".to_owned(), opsets.join(","));
    }
    if let Some(producer) = &model.producer_name {
        props.insert("onnx:producer".to_owned(), producer.clone());
    }
    if let Some(version) = &model.producer_version {
        props.insert("onnx:producer-version".to_owned(), version.clone());
    }
    props.insert(
        "onnx:initializers".to_owned(),
        model.initializers.to_string(),
    );
    props.insert("onnx:nodes".to_owned(), model.nodes.to_string());
    if !model.external_data.is_empty() {
        let locations: BTreeSet<&str> = model
            .external_data
            .iter()
            .map(|(_, l)| l.as_str())
            .collect();
        props.insert(
            "onnx:external-data".to_owned(),
            locations.into_iter().collect::<Vec<_>>().join(","),
        );
    }
}

// ---------------------------------------------------------------------------------------
// model/huggingface

/// A directory laid out by Hugging Face tooling.
struct Layout {
    dir: String,
    /// The one file whose cataloging reports the directory (so it is reported once).
    anchor: String,
    config: Option<hf::HfConfig>,
    /// The weight files of the model, target-relative.
    weights: Vec<String>,
    has_card: bool,
}

impl Layout {
    /// Looks at `dir`: a model `config.json`, a sharded-checkpoint index, or shard-named
    /// weights make it a layout; anything else is not one.
    fn detect(dir: &str, resolver: &dyn Resolver) -> Option<Self> {
        let entries = resolver.read_dir(dir).ok()?;
        let has =
            |name: &str| entries.iter().any(|e| e == name) && resolver.is_file(&join(dir, name));
        let config = has("config.json")
            .then(|| read_small(resolver, &join(dir, "config.json")).ok())
            .flatten()
            .and_then(|bytes| hf::parse_config(&bytes).ok())
            .filter(hf::HfConfig::is_model);
        let index = [
            "model.safetensors.index.json",
            "pytorch_model.bin.index.json",
        ]
        .into_iter()
        .find(|name| has(name))
        .map(str::to_owned)
        .or_else(|| {
            entries
                .iter()
                .find(|e| e.ends_with(".safetensors.index.json") || e.ends_with(".bin.index.json"))
                .cloned()
        });
        let first_shard = entries
            .iter()
            .find(|e| is_model_name(e) && hf::shard_name(e).is_some_and(|(_, i, _, _)| i == 1))
            .cloned();
        let anchor = if config.is_some() {
            "config.json".to_owned()
        } else if let Some(index) = &index {
            index.clone()
        } else {
            first_shard.clone()?
        };
        let mut weights: Vec<String> = match &index {
            Some(index) => read_small(resolver, &join(dir, index))
                .ok()
                .and_then(|bytes| hf::index_shards(&bytes).ok())
                .unwrap_or_default()
                .into_iter()
                .filter(|shard| entries.contains(shard))
                .collect(),
            None => Vec::new(),
        };
        if weights.is_empty() {
            weights = entries
                .iter()
                .filter(|e| is_hf_weight(e) || (is_model_name(e) && hf::shard_name(e).is_some()))
                .cloned()
                .collect();
        }
        Some(Self {
            anchor: join(dir, &anchor),
            dir: dir.to_owned(),
            config,
            weights: weights.iter().map(|w| join(dir, w)).collect(),
            has_card: has("README.md"),
        })
    }

    fn owns(&self, name: &str) -> bool {
        let path = join(&self.dir, name);
        self.weights.contains(&path)
    }
}

/// Reports a layout's model: one component, its datasets, and findings.
fn catalog_layout(
    layout: &Layout,
    hub: Option<(&str, &str)>,
    resolver: &dyn Resolver,
    options: Options,
    found_by: &str,
) -> Result<CatalogOutput, CatalogError> {
    let mut out = CatalogOutput::default();
    let mut info = ModelInfo::default();
    let mut parameters = Some(0u64);
    let mut dtypes = BTreeSet::new();
    let mut formats = BTreeSet::new();
    for weight in &layout.weights {
        let name = weight.rsplit('/').next().unwrap_or(weight);
        if name.ends_with(".safetensors") {
            formats.insert("safetensors");
            let parsed = resolver
                .open(weight)
                .map_err(crate::ModelError::from)
                .and_then(|mut r| safetensors::read_header(&mut r));
            match parsed {
                Ok((header, data_len)) => {
                    parameters = parameters
                        .zip(header.parameters())
                        .and_then(|(a, b)| a.checked_add(b));
                    dtypes.extend(header.dtypes());
                    safetensors_findings(weight, &header, data_len, &mut out);
                }
                Err(error) => {
                    parameters = None;
                    out.problems.push(bulwark_inventory::Problem {
                        path: weight.clone(),
                        line: None,
                        cataloger: Some(found_by.to_owned()),
                        message: CatalogError::new(error).render(),
                    });
                }
            }
        } else if name.ends_with(".bin") {
            formats.insert("pytorch");
        } else if name.ends_with(".h5") {
            formats.insert("keras-hdf5");
        } else if name.ends_with(".msgpack") {
            formats.insert("flax-msgpack");
        }
    }
    // Safetensors is what transformers loads first when present; the parameter count is only
    // known from it (pickled weights are not read here).
    info.format = ["safetensors", "pytorch", "keras-hdf5", "flax-msgpack"]
        .into_iter()
        .find(|f| formats.contains(f))
        .unwrap_or("huggingface")
        .to_owned();
    if formats.contains("safetensors") {
        info.parameters = parameters;
        info.dtypes = dtypes.into_iter().collect();
    }
    if let Some(config) = &layout.config {
        info.architecture = config.architectures.first().cloned();
        for (key, value) in [
            ("hf:model-type", &config.model_type),
            ("hf:torch-dtype", &config.torch_dtype),
            ("hf:transformers-version", &config.transformers_version),
        ] {
            if let Some(value) = value {
                info.properties.insert(key.to_owned(), value.clone());
            }
        }
        if !config.auto_map.is_empty() {
            let classes = config.auto_map.join(", ");
            out.findings.push(finding(
                &join(&layout.dir, "config.json"),
                "BWM-HF-REMOTE-CODE",
                Severity::High,
                Some(classes.clone()),
                format!("config.json `auto_map` loads classes from code in the repository ({classes}); transformers runs it with trust_remote_code=True"),
                "review and pin the repository's Python files, or use a model whose architecture ships with transformers",
            ));
        }
    }
    let mut licenses = Vec::new();
    let mut datasets = Vec::new();
    let card_path = join(&layout.dir, "README.md");
    if layout.has_card {
        let card = read_small(resolver, &card_path)
            .map_err(crate::ModelError::from)
            .and_then(|bytes| hf::parse_model_card(&String::from_utf8_lossy(&bytes)));
        match card {
            Ok(card) => {
                info.task = card.pipeline_tag;
                info.base_models = card.base_models;
                info.datasets = card.datasets.clone();
                info.considerations = card.considerations;
                if !card.languages.is_empty() {
                    info.properties
                        .insert("hf:language".to_owned(), card.languages.join(","));
                }
                if !card.tags.is_empty() {
                    info.properties
                        .insert("hf:tags".to_owned(), card.tags.join(","));
                }
                licenses = card
                    .licenses
                    .iter()
                    .filter_map(|l| card_license(l))
                    .collect();
                datasets = card.datasets;
            }
            Err(error) => out.problems.push(bulwark_inventory::Problem {
                path: card_path.clone(),
                line: None,
                cataloger: Some(found_by.to_owned()),
                message: CatalogError::new(error).render(),
            }),
        }
    }
    if let Some((repo, revision)) = hub {
        info.repository = Some(repo.to_owned());
        info.revision = Some(revision.to_owned());
    }
    info.files = layout.weights.clone();
    let name = match hub {
        Some((repo, _)) => repo.to_owned(),
        None => layout
            .dir
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("model")
            .to_owned(),
    };
    let mut component = model_component(&name, &layout.anchor, found_by, info);
    component.licenses = licenses;
    if let Some((repo, revision)) = hub {
        component.version = Some(revision.to_owned());
        let (namespace, repo_name) = repo.split_once('/').unwrap_or(("", repo));
        let revision = revision.to_ascii_lowercase();
        component.purl = Purl::builder_for_type("huggingface", repo_name)
            .namespace(namespace)
            .version(Some(&revision))
            .build();
    }
    hash_and_identify(
        &mut component,
        &layout.weights,
        resolver,
        options,
        &mut out,
        found_by,
    );
    let model_id = ComponentId::of(&component);
    for dataset in datasets {
        let (namespace, dataset_name) = dataset.split_once('/').unwrap_or(("", &dataset));
        let mut data = Component::bare(ComponentKind::Data, &dataset, None, found_by);
        data.locations.insert(Location::new(&card_path));
        data.purl = Purl::builder_for_type("generic", dataset_name)
            .namespace(namespace)
            .build();
        out.relationships.push(Relationship {
            from: model_id.clone(),
            kind: RelationshipKind::DependsOn,
            to: ComponentId::of(&data),
        });
        out.components.push(data);
    }
    out.components.push(component);
    Ok(out)
}

/// A model card's `license`: the Hub writes SPDX ids in lowercase (`apache-2.0`,
/// `cc-by-nc-4.0`), so an id that matches one case-insensitively is taken in its SPDX
/// spelling; anything else (`llama2`, `openrail`, `other`) is classified as declared.
fn card_license(declared: &str) -> Option<License> {
    let declared = declared.trim();
    match spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(declared))
    {
        Some(license) => License::from_declared(license.name),
        None => License::from_declared(declared),
    }
}

/// Hugging Face snapshot directories and hub caches.
pub(crate) struct HuggingFaceCataloger {
    pub(crate) options: Options,
}

impl Cataloger for HuggingFaceCataloger {
    fn id(&self) -> &'static str {
        "model/huggingface"
    }

    /// Not inside installed Python packages: the `.npz` tables and test pickles scipy or
    /// joblib ship are the package's own files, not models of the stack (and a venv holds tens
    /// of thousands of such files).
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let name = file.file_name();
        if !file.explicit && bulwark_catalog::is_installed_package_content(file.dir()) {
            return false;
        }
        if in_hub_cache(file.path) {
            // In a cache, snapshot files are links the walk does not follow; `refs/<branch>`
            // is a regular file in every downloaded repository.
            return file.dir().ends_with("/refs")
                || file.dir() == "refs"
                || file.dir().contains("/refs/");
        }
        name == "config.json"
            || name.ends_with(".safetensors.index.json")
            || name.ends_with(".bin.index.json")
    }

    fn reads(&self, path: &str) -> bool {
        let file = FileRef {
            path,
            explicit: false,
        };
        let name = file.file_name();
        self.wants(&file)
            || name == "README.md"
            || is_hf_weight(name)
            || (in_hub_cache(path) && (path.contains("/blobs/") || path.contains("/snapshots/")))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        if let Some((repo, cache_dir)) = hf::hub_repo(file.path) {
            return self.catalog_cache(file, &repo, cache_dir, resolver);
        }
        match Layout::detect(file.dir(), resolver) {
            Some(layout) if layout.anchor == file.path => {
                catalog_layout(&layout, None, resolver, self.options, self.id())
            }
            _ => Ok(CatalogOutput::default()),
        }
    }
}

impl HuggingFaceCataloger {
    /// Catalogs every snapshot of a cached repository, once: from its first ref.
    fn catalog_cache(
        &self,
        file: &FileRef<'_>,
        repo: &str,
        cache_dir: &str,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let refs_dir = format!("{cache_dir}/refs");
        let first_ref = resolver
            .read_dir(&refs_dir)?
            .into_iter()
            .find(|r| resolver.is_file(&join(&refs_dir, r)));
        if first_ref.map(|r| join(&refs_dir, &r)).as_deref() != Some(file.path) {
            return Ok(CatalogOutput::default());
        }
        let snapshots_dir = format!("{cache_dir}/snapshots");
        let mut out = CatalogOutput::default();
        for revision in resolver.read_dir(&snapshots_dir).unwrap_or_default() {
            let dir = join(&snapshots_dir, &revision);
            let layout = Layout::detect(&dir, resolver).or_else(|| {
                // A snapshot with a single model file and no config is still the repository.
                let entries = resolver.read_dir(&dir).ok()?;
                let weights: Vec<String> = entries
                    .iter()
                    .filter(|e| is_model_name(e))
                    .map(|e| join(&dir, e))
                    .collect();
                let anchor = weights.first()?.clone();
                Some(Layout {
                    has_card: entries.iter().any(|e| e == "README.md"),
                    dir: dir.clone(),
                    anchor,
                    config: None,
                    weights,
                })
            });
            if let Some(layout) = layout {
                let part = catalog_layout(
                    &layout,
                    Some((repo, &revision)),
                    resolver,
                    self.options,
                    self.id(),
                )?;
                out.components.extend(part.components);
                out.relationships.extend(part.relationships);
                out.problems.extend(part.problems);
                out.findings.extend(part.findings);
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// model/tf-savedmodel

/// TensorFlow SavedModel directories.
pub(crate) struct SavedModelCataloger {
    pub(crate) options: Options,
}

impl Cataloger for SavedModelCataloger {
    fn id(&self) -> &'static str {
        "model/tf-savedmodel"
    }

    /// Not inside installed Python packages: the `.npz` tables and test pickles scipy or
    /// joblib ship are the package's own files, not models of the stack (and a venv holds tens
    /// of thousands of such files).
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "saved_model.pb"
            && (file.explicit || !bulwark_catalog::is_installed_package_content(file.dir()))
    }

    fn reads(&self, path: &str) -> bool {
        let file = FileRef {
            path,
            explicit: false,
        };
        self.wants(&file)
            || file.dir().ends_with("variables") && file.file_name().starts_with("variables.")
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let model = tensorflow::read_saved_model(resolver.open(file.path)?)?;
        let mut out = CatalogOutput::default();
        let mut info = ModelInfo {
            format: "tf-savedmodel".to_owned(),
            ..ModelInfo::default()
        };
        if let Some(version) = &model.tensorflow_version {
            info.properties
                .insert("tf:version".to_owned(), version.clone());
        }
        if !model.tags.is_empty() {
            info.properties.insert(
                "tf:tags".to_owned(),
                model.tags.iter().cloned().collect::<Vec<_>>().join(","),
            );
        }
        info.properties
            .insert("tf:ops".to_owned(), model.ops.len().to_string());
        for op in &model.ops {
            if let Some((severity, what)) = tensorflow::unsafe_op(op) {
                out.findings.push(finding(
                    file.path,
                    "BWM-TF-UNSAFE-OP",
                    severity,
                    Some(op.clone()),
                    format!("the graph uses the `{op}` op, which {what}"),
                    "review the graph; serve models whose graphs need no file-system or Python ops",
                ));
            }
        }
        let dir = file.dir();
        let mut files = vec![file.path.to_owned()];
        let variables = join(dir, "variables");
        for entry in resolver.read_dir(&variables).unwrap_or_default() {
            let path = join(&variables, &entry);
            if resolver.is_file(&path) {
                files.push(path);
            }
        }
        info.files = files.clone();
        let name = dir
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("saved_model");
        let mut component = model_component(name, file.path, self.id(), info);
        hash_and_identify(
            &mut component,
            &files,
            resolver,
            self.options,
            &mut out,
            self.id(),
        );
        out.components.push(component);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_catalog::DirResolver;

    fn testdata() -> DirResolver {
        DirResolver::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata"))
    }

    fn run(cataloger: &dyn Cataloger, resolver: &dyn Resolver, path: &str) -> CatalogOutput {
        let file = FileRef {
            path,
            explicit: false,
        };
        assert!(
            cataloger.wants(&file),
            "{} should want {path}",
            cataloger.id()
        );
        cataloger
            .catalog(&file, resolver)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn info(component: &Component) -> &ModelInfo {
        match &component.metadata {
            Metadata::Model(info) => info,
            other => panic!("not a model: {other:?}"),
        }
    }

    fn sha256(path: &str) -> String {
        let bytes =
            std::fs::read(format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        hash::sha256_reader(bytes.as_slice()).unwrap()
    }

    fn ids(out: &CatalogOutput) -> Vec<(&str, Severity)> {
        out.findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity))
            .collect()
    }

    /// Every standalone fixture: its format, and the rule ids it must (and must only) raise.
    #[test]
    fn standalone_files() {
        use Severity::{Critical, High};
        let cataloger = ModelFileCataloger {
            options: Options::default(),
        };
        let resolver = testdata();
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, Severity)]);
        let cases: &[Case<'_>] = &[
            ("tiny.safetensors", "safetensors", &[]),
            ("tiny.gguf", "gguf", &[]),
            (
                "hostile_template.gguf",
                "gguf",
                &[("BWM-GGUF-CHAT-TEMPLATE", High)],
            ),
            ("tiny.onnx", "onnx", &[]),
            (
                "external_escape.onnx",
                "onnx",
                &[("BWM-ONNX-EXTERNAL-DATA", High)],
            ),
            ("tiny.pt", "pytorch", &[]),
            ("tiny_legacy.pt", "pytorch-legacy", &[]),
            ("tiny_script.pt", "torchscript", &[]),
            ("tiny.keras", "keras", &[]),
            ("lambda.keras", "keras", &[("BWM-KERAS-LAMBDA", High)]),
            (
                "custom.keras",
                "keras",
                &[("BWM-KERAS-CUSTOM-OBJECT", High)],
            ),
            ("tiny.h5", "keras-hdf5", &[]),
            ("lambda.h5", "keras-hdf5", &[("BWM-KERAS-LAMBDA", Critical)]),
            ("tiny.tflite", "tflite", &[]),
            ("tiny.npy", "numpy", &[]),
            ("tiny.npz", "numpy", &[]),
            ("tiny.pkl", "pickle", &[]),
            ("tiny.joblib", "joblib", &[]),
        ];
        for (path, format, findings) in cases {
            let out = run(&cataloger, &resolver, path);
            assert_eq!(out.components.len(), 1, "{path}");
            let component = &out.components[0];
            assert_eq!(component.kind, ComponentKind::MachineLearningModel);
            assert_eq!(info(component).format, *format, "{path}");
            assert_eq!(info(component).files, [path.to_string()]);
            assert_eq!(ids(&out), *findings, "{path}");
            assert!(out.findings.iter().all(|f| f.path == *path));
            let digest = sha256(path);
            assert_eq!(
                component.purl.as_ref().map(Purl::as_str),
                Some(format!("pkg:generic/{path}?checksum=sha256:{digest}").as_str()),
                "{path}"
            );
            assert!(out.problems.is_empty(), "{path}: {:?}", out.problems);
        }
        assert_eq!(cases.len(), 18);
    }

    #[test]
    fn header_facts_reach_the_component() {
        let cataloger = ModelFileCataloger {
            options: Options::default(),
        };
        let resolver = testdata();
        let gguf = run(&cataloger, &resolver, "tiny.gguf");
        let gguf = info(&gguf.components[0]).clone();
        assert_eq!(gguf.architecture.as_deref(), Some("llama"));
        assert_eq!(gguf.quantization.as_deref(), Some("Q4_K_M"));
        assert_eq!(gguf.context_length, Some(2048));
        assert_eq!(gguf.properties["gguf:tokenizer"], "llama");
        let onnx = run(&cataloger, &resolver, "tiny.onnx");
        let onnx = info(&onnx.components[0]).clone();
        assert_eq!(onnx.parameters, Some(58));
        assert_eq!(onnx.inputs, ["input: float[batch,4]"]);
        assert_eq!(onnx.properties["onnx:opset"], "ai.onnx=17");
        let st = run(&cataloger, &resolver, "tiny.safetensors");
        let st = info(&st.components[0]).clone();
        assert_eq!(st.parameters, Some(58));
        assert_eq!(st.dtypes, ["F32"]);
        let h5 = run(&cataloger, &resolver, "tiny.h5");
        let h5 = info(&h5.components[0]).clone();
        assert_eq!(h5.architecture.as_deref(), Some("Sequential"));
        assert_eq!(h5.properties["keras:version"], "2.14.0");
    }

    #[test]
    fn hashing_can_be_turned_off() {
        let cataloger = ModelFileCataloger {
            options: Options { hashes: false },
        };
        let out = run(&cataloger, &testdata(), "tiny.safetensors");
        let component = &out.components[0];
        assert!(component.purl.is_none());
        assert!(component.hashes.is_empty());
        // Identified by location instead.
        assert!(
            ComponentId::of(component)
                .as_str()
                .contains("tiny.safetensors")
        );
    }

    #[test]
    fn sharded_snapshot_is_one_model() {
        let resolver = testdata();
        let hf = HuggingFaceCataloger {
            options: Options::default(),
        };
        let out = run(&hf, &resolver, "hf-sharded/config.json");
        let models: Vec<_> = out
            .components
            .iter()
            .filter(|c| c.kind == ComponentKind::MachineLearningModel)
            .collect();
        assert_eq!(models.len(), 1);
        let model = models[0];
        let meta = info(model);
        assert_eq!(meta.format, "safetensors");
        assert_eq!(meta.architecture.as_deref(), Some("TinyForCausalLM"));
        assert_eq!(meta.parameters, Some(58));
        assert_eq!(
            meta.files,
            [
                "hf-sharded/model-00001-of-00002.safetensors",
                "hf-sharded/model-00002-of-00002.safetensors"
            ]
        );
        assert_eq!(meta.task.as_deref(), Some("text-generation"));
        assert_eq!(meta.base_models, ["acme/tiny-base"]);
        assert_eq!(meta.considerations["limitations"], "It knows nothing.");
        assert_eq!(
            model.licenses,
            [License::Expression("Apache-2.0".to_owned())]
        );
        assert_eq!(model.hashes.len(), 2);
        let purl = model.purl.as_ref().unwrap().as_str();
        assert!(
            purl.starts_with("pkg:generic/hf-sharded?checksum=sha256:"),
            "{purl}"
        );
        assert!(purl.contains(&sha256("hf-sharded/model-00002-of-00002.safetensors")));
        let data: Vec<_> = out
            .components
            .iter()
            .filter(|c| c.kind == ComponentKind::Data)
            .map(|c| c.purl.as_ref().unwrap().as_str())
            .collect();
        assert_eq!(
            data,
            ["pkg:generic/acme/tiny-corpus", "pkg:generic/wikitext"]
        );
        assert_eq!(out.relationships.len(), 2);
        assert!(
            out.relationships
                .iter()
                .all(|r| r.from == ComponentId::of(model))
        );
        assert_eq!(ids(&out), [("BWM-HF-REMOTE-CODE", Severity::High)]);
        assert_eq!(
            out.findings[0].callable.as_deref(),
            Some("modeling_tiny.TinyForCausalLM")
        );

        // The shards, offered on their own, are left to the directory's model.
        let files = ModelFileCataloger {
            options: Options::default(),
        };
        for shard in &meta.files {
            assert!(
                run(&files, &resolver, shard).components.is_empty(),
                "{shard}"
            );
        }
        // And the index, which the cataloger also wants, does not report it twice.
        assert!(
            run(&hf, &resolver, "hf-sharded/model.safetensors.index.json")
                .components
                .is_empty()
        );
    }

    #[test]
    fn hub_cache_snapshot() {
        let resolver = testdata();
        let hf = HuggingFaceCataloger {
            options: Options::default(),
        };
        let out = run(&hf, &resolver, "hub/models--Acme--Tiny-Model/refs/main");
        assert_eq!(out.components.len(), 1, "{:?}", out.problems);
        let model = &out.components[0];
        assert_eq!(model.name, "Acme/Tiny-Model");
        assert_eq!(
            model.purl.as_ref().unwrap().as_str(),
            "pkg:huggingface/Acme/Tiny-Model@0123456789abcdef0123456789abcdef01234567"
        );
        let meta = info(model);
        assert_eq!(meta.repository.as_deref(), Some("Acme/Tiny-Model"));
        assert_eq!(meta.parameters, Some(58));
        assert_eq!(model.licenses, [License::Expression("MIT".to_owned())]);
        // Hashes read through the snapshot's links.
        assert!(
            model
                .hashes
                .iter()
                .any(|h| h.value == sha256("tiny.safetensors"))
        );
        assert!(
            !ModelFileCataloger {
                options: Options::default()
            }
            .wants(&FileRef {
                path: "hub/models--Acme--Tiny-Model/blobs/abc",
                explicit: false
            })
        );
        assert!(hf.reads("hub/models--Acme--Tiny-Model/blobs/abc"));
    }

    #[test]
    fn saved_model() {
        let cataloger = SavedModelCataloger {
            options: Options::default(),
        };
        let out = run(
            &cataloger,
            &testdata(),
            "savedmodel_readfile/saved_model.pb",
        );
        assert_eq!(ids(&out), [("BWM-TF-UNSAFE-OP", Severity::High)]);
        let model = &out.components[0];
        assert_eq!(model.name, "savedmodel_readfile");
        assert_eq!(info(model).files.len(), 3);
        assert!(cataloger.reads("savedmodel_readfile/variables/variables.index"));
    }

    #[test]
    fn hostile_files_are_problems_or_findings() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| fs_err::write(dir.path().join(name), bytes).unwrap();
        let mut huge = (1u64 << 62).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        write("huge.safetensors", &huge);
        let json = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
        let mut overlap = (json.len() as u64).to_le_bytes().to_vec();
        overlap.extend_from_slice(json);
        overlap.extend_from_slice(&[0; 12]);
        write("overlap.safetensors", &overlap);
        let mut gguf = b"GGUF".to_vec();
        gguf.extend_from_slice(&3u32.to_le_bytes());
        gguf.extend_from_slice(&u64::MAX.to_le_bytes());
        write("bad.gguf", &gguf);
        write("firmware.bin", &[0x7f, b'E', b'L', b'F', 0, 0, 0, 0]);
        write("empty.onnx", b"");
        write("zip.pt", b"PK\x03\x04 not really");
        let resolver = DirResolver::new(dir.path());
        let cataloger = ModelFileCataloger {
            options: Options::default(),
        };
        let catalog = |path: &str| {
            cataloger.catalog(
                &FileRef {
                    path,
                    explicit: false,
                },
                &resolver,
            )
        };
        assert!(catalog("huge.safetensors").is_err());
        assert!(catalog("bad.gguf").is_err());
        assert!(catalog("empty.onnx").is_err());
        assert!(catalog("zip.pt").is_err());
        assert!(catalog("firmware.bin").unwrap().components.is_empty());
        let out = catalog("overlap.safetensors").unwrap();
        assert_eq!(ids(&out), [("BWM-SAFETENSORS-HEADER", Severity::Medium)]);
        assert_eq!(out.components.len(), 1);
    }

    #[test]
    fn wants_is_narrow() {
        let files = ModelFileCataloger {
            options: Options::default(),
        };
        let hf = HuggingFaceCataloger {
            options: Options::default(),
        };
        let wants = |c: &dyn Cataloger, path: &str| {
            c.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants(&files, "models/llama.Q4_K_M.gguf"));
        assert!(wants(&files, "a/b/pytorch_model.bin"));
        assert!(!wants(&files, "src/main.rs"));
        assert!(!wants(&files, "README.md"));
        assert!(wants(&hf, "x/config.json"));
        assert!(!wants(&hf, "x/tokenizer.json"));
        assert!(!wants(&hf, "hub/models--a--b/snapshots/r/config.json"));
        // Files an installed Python package ships (scipy's test tables) are not models.
        let site = "venv/lib/python3.11/site-packages";
        assert!(!wants(
            &files,
            &format!("{site}/scipy/stats/_sobol_direction_numbers.npz")
        ));
        assert!(!wants(
            &hf,
            &format!("{site}/transformers/models/bert/config.json")
        ));
        assert!(!files.descend(&format!("{site}/scipy/stats")));
    }
}
