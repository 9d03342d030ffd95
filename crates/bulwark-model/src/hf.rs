//! Hugging Face layouts: `config.json`, the model card's YAML front matter and sections,
//! sharded-checkpoint indexes, and hub cache paths (`models--org--name/snapshots/<rev>/`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{ModelError, Result};

/// Largest front matter parsed.
const MAX_FRONT_MATTER: usize = 1024 * 1024;
/// Longest consideration section kept.
const MAX_SECTION: usize = 4096;

/// What `config.json` of a transformers model says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HfConfig {
    /// `architectures` (`LlamaForCausalLM`).
    pub architectures: Vec<String>,
    /// `model_type` (`llama`).
    pub model_type: Option<String>,
    /// `torch_dtype` (`bfloat16`).
    pub torch_dtype: Option<String>,
    /// `transformers_version`.
    pub transformers_version: Option<String>,
    /// `auto_map` values (`modeling_tiny.TinyForCausalLM`): classes loaded from code in the
    /// repository, which transformers runs only with `trust_remote_code=True`.
    pub auto_map: Vec<String>,
}

impl HfConfig {
    /// Whether the file is a transformers model config (it names an architecture or type),
    /// as opposed to any other `config.json`.
    pub fn is_model(&self) -> bool {
        !self.architectures.is_empty() || self.model_type.is_some()
    }
}

/// Parses `config.json`.
pub fn parse_config(bytes: &[u8]) -> Result<HfConfig> {
    let value: Value = serde_json::from_slice(bytes).map_err(|source| ModelError::Json {
        what: "config.json",
        source,
    })?;
    let string = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut auto_map = Vec::new();
    if let Some(Value::Object(map)) = value.get("auto_map") {
        for entry in map.values() {
            // A class reference, or a [slow, fast] tokenizer pair.
            match entry {
                Value::String(s) => auto_map.push(s.clone()),
                Value::Array(items) => {
                    auto_map.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                _ => {}
            }
        }
    }
    auto_map.sort();
    auto_map.dedup();
    Ok(HfConfig {
        architectures: value
            .get("architectures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        model_type: string("model_type"),
        torch_dtype: string("torch_dtype").or_else(|| string("dtype")),
        transformers_version: string("transformers_version"),
        auto_map,
    })
}

/// What a model card (`README.md`) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelCard {
    /// `license` (one or several); `other` is kept as written, with `license_name` when given.
    pub licenses: Vec<String>,
    /// `base_model`.
    pub base_models: Vec<String>,
    /// `datasets`.
    pub datasets: Vec<String>,
    /// `pipeline_tag`.
    pub pipeline_tag: Option<String>,
    /// `language`.
    pub languages: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// Sections on limitations, bias, risks and intended use, by slug.
    pub considerations: BTreeMap<String, String>,
}

/// Parses a model card: its YAML front matter (between `---` lines at the top) and its
/// consideration sections. A card without front matter yields only sections.
pub fn parse_model_card(text: &str) -> Result<ModelCard> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front, body) = split_front_matter(text);
    let mut card = ModelCard::default();
    if let Some(front) = front {
        ModelError::check_limit(
            "model card front matter",
            front.len() as u64,
            MAX_FRONT_MATTER as u64,
        )?;
        let value: Value = serde_saphyr::from_str(front)
            .map_err(|e| ModelError::invalid("model card front matter", e.to_string()))?;
        let list = |key: &str| -> Vec<String> {
            match value.get(key) {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        card.licenses = list("license");
        if let Some(name) = value.get("license_name").and_then(Value::as_str) {
            card.licenses.retain(|l| l != "other");
            card.licenses.push(name.to_owned());
        }
        card.base_models = list("base_model");
        card.datasets = list("datasets");
        card.pipeline_tag = value
            .get("pipeline_tag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        card.languages = list("language");
        card.tags = list("tags");
    }
    card.considerations = considerations(body);
    Ok(card)
}

fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, text)
}

/// The key a model-card heading is kept under: the CycloneDX `considerations` field it
/// belongs to where there is one (`limitations`, `ethical-considerations`, `use-cases`), so
/// SBOM encoders can put it in the card; else the heading's slug.
fn section_key(title: &str) -> String {
    let lower = title.to_ascii_lowercase();
    if lower.contains("out-of-scope") || lower.contains("out of scope") {
        slug(title)
    } else if lower.contains("ethic") {
        "ethical-considerations".to_owned()
    } else if lower.contains("limitation") || lower.contains("bias") || lower.contains("risk") {
        "limitations".to_owned()
    } else if lower.contains("intended use") {
        "use-cases".to_owned()
    } else {
        slug(title)
    }
}

/// Markdown sections whose heading speaks of limitations, bias, risks, ethics, intended or
/// out-of-scope use, keyed by [`section_key`].
fn considerations(body: &str) -> BTreeMap<String, String> {
    const TOPICS: &[&str] = &[
        "limitation",
        "bias",
        "risk",
        "ethic",
        "out-of-scope",
        "out of scope",
        "intended use",
        "recommendation",
    ];
    let mut out = BTreeMap::new();
    let mut current: Option<(usize, String, String)> = None;
    let mut in_fence = false;
    let finish = |section: Option<(usize, String, String)>, out: &mut BTreeMap<String, String>| {
        if let Some((_, slug, text)) = section {
            let text = text.trim();
            if !text.is_empty() {
                // Several headings may land on one key ("Bias" and "Limitations").
                let entry: &mut String = out.entry(slug).or_default();
                if !entry.is_empty() {
                    entry.push_str("\n\n");
                }
                entry.push_str(text);
                *entry = truncate(entry, MAX_SECTION);
            }
        }
    };
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let level = line.bytes().take_while(|&b| b == b'#').count();
        let is_heading = !in_fence && (1..=6).contains(&level) && line[level..].starts_with(' ');
        if is_heading {
            let title = line[level..].trim();
            if current.as_ref().is_some_and(|(l, _, _)| level <= *l) || current.is_none() {
                finish(current.take(), &mut out);
                let lower = title.to_ascii_lowercase();
                if TOPICS.iter().any(|t| lower.contains(t)) {
                    current = Some((level, section_key(title), String::new()));
                }
                continue;
            }
        }
        if let Some((_, _, text)) = current.as_mut()
            && text.len() <= MAX_SECTION
        {
            text.push_str(line);
            text.push('\n');
        }
    }
    finish(current, &mut out);
    out
}

fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

/// The shard files of a sharded-checkpoint index (`weight_map` values), sorted, deduplicated.
/// Names that climb out of the directory are dropped.
pub fn index_shards(bytes: &[u8]) -> Result<Vec<String>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|source| ModelError::Json {
        what: "checkpoint index",
        source,
    })?;
    let map = value
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| ModelError::invalid("checkpoint index", "no `weight_map` object"))?;
    let mut shards: Vec<String> = map
        .values()
        .filter_map(Value::as_str)
        .filter(|f| !f.starts_with('/') && !f.split('/').any(|s| s == ".."))
        .map(str::to_owned)
        .collect();
    shards.sort();
    shards.dedup();
    Ok(shards)
}

/// Splits `model-00001-of-00003.safetensors` into (`model`, 1, 3, `safetensors`).
pub fn shard_name(file: &str) -> Option<(&str, u32, u32, &str)> {
    let (stem, ext) = file.rsplit_once('.')?;
    let (rest, total) = stem.rsplit_once("-of-")?;
    let (base, index) = rest.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(index) || !digits(total) {
        return None;
    }
    Some((base, index.parse().ok()?, total.parse().ok()?, ext))
}

/// For a path inside a hub cache, the repository (`org/name`, or `name` for legacy
/// un-namespaced repositories) and the cache directory (`…/models--org--name`).
pub fn hub_repo(path: &str) -> Option<(String, &str)> {
    let mut offset = 0;
    for segment in path.split('/') {
        if let Some(rest) = segment.strip_prefix("models--") {
            let repo = match rest.split_once("--") {
                Some((org, name)) if !org.is_empty() && !name.is_empty() => format!("{org}/{name}"),
                _ if !rest.is_empty() => rest.to_owned(),
                _ => return None,
            };
            return Some((repo, &path[..offset + segment.len()]));
        }
        offset += segment.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_card() {
        let card = parse_model_card(
            "---\nlicense: apache-2.0\nbase_model: [a/b]\ndatasets:\n- x/y\npipeline_tag: text-generation\nlanguage: en\n---\n# T\n\n## Bias, Risks, and Limitations\n\nIt is biased.\n\n### Sub\n\nMore.\n\n## Training\n\nNo.\n\n## Out-of-Scope Use\n\nDo not.\n",
        )
        .unwrap();
        assert_eq!(card.licenses, ["apache-2.0"]);
        assert_eq!(card.base_models, ["a/b"]);
        assert_eq!(card.datasets, ["x/y"]);
        assert_eq!(card.languages, ["en"]);
        assert_eq!(card.pipeline_tag.as_deref(), Some("text-generation"));
        assert_eq!(
            card.considerations["limitations"],
            "It is biased.\n\n### Sub\n\nMore."
        );
        assert_eq!(card.considerations["out-of-scope-use"], "Do not.");
        assert!(
            parse_model_card("no front matter")
                .unwrap()
                .licenses
                .is_empty()
        );
        assert!(parse_model_card("---\nlicense: [unclosed\n---\n").is_err());
    }

    #[test]
    fn hostile_yaml_is_bounded() {
        let bomb = "---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n---\n";
        // Either refused by the parser's budget or parsed; never a hang or an abort.
        let _ = parse_model_card(bomb);
        let deep = format!(
            "---\nx: {}{}\n---\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let _ = parse_model_card(&deep);
    }

    #[test]
    fn shards_and_cache_paths() {
        assert_eq!(
            shard_name("model-00001-of-00003.safetensors"),
            Some(("model", 1, 3, "safetensors"))
        );
        assert_eq!(
            shard_name("pytorch_model-00002-of-00002.bin"),
            Some(("pytorch_model", 2, 2, "bin"))
        );
        assert_eq!(shard_name("model.safetensors"), None);
        assert_eq!(
            hub_repo("home/.cache/huggingface/hub/models--Org--Name/snapshots/abc/config.json"),
            Some((
                "Org/Name".to_owned(),
                "home/.cache/huggingface/hub/models--Org--Name"
            ))
        );
        assert_eq!(
            hub_repo("models--gpt2/refs/main").map(|r| r.0),
            Some("gpt2".to_owned())
        );
        assert_eq!(hub_repo("x/y"), None);
        assert_eq!(
            index_shards(
                br#"{"weight_map":{"a":"m-1.safetensors","b":"m-1.safetensors","c":"../x"}}"#
            )
            .unwrap(),
            ["m-1.safetensors"]
        );
    }

    #[test]
    fn config() {
        let config = parse_config(br#"{"architectures":["X"],"model_type":"x","auto_map":{"AutoModel":"m.X","AutoTokenizer":["t.T",null]}}"#).unwrap();
        assert!(config.is_model());
        assert_eq!(config.auto_map, ["m.X", "t.T"]);
        assert!(!parse_config(br#"{"name":"app"}"#).unwrap().is_model());
    }
}
