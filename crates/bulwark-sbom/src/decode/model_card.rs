//! A CycloneDX `modelCard` read into [`ModelInfo`], as far as the two map (the inverse of
//! [`crate::mlbom`], and tolerant of what other tools write).
//!
//! Mapping:
//! - `modelParameters.modelArchitecture` → `architecture`; `architectureFamily` → the model
//!   property `architecture-family` (a family such as "transformer" is not an architecture);
//!   `approach.type` → the model property `approach`; `task` → `task`.
//! - `datasets`: an inline entry gives its `name`; a `ref` gives the name of the component it
//!   points at and a depends-on edge from the model to it (resolved once every component is
//!   read, in [`super::cyclonedx::convert`]). A ref to nothing in the document (a BOM-Link to
//!   another BOM) is kept as the dataset's name, since it is the only identifier there is.
//! - `inputs`/`outputs` `format` → `inputs`/`outputs`.
//! - `considerations`: the text fields go to the section names of [`crate::mlbom::SECTIONS`]
//!   (several entries joined by newlines); an ethical consideration's `mitigationStrategy`
//!   follows its name; `fairnessAssessments` become the section `fairness-assessments` and
//!   `environmentalConsiderations.properties` the section `environmental-considerations`, one
//!   line per entry. Energy-consumption records are not read.
//! - `properties` → model properties by name; `quantitativeAnalysis` is not read.
//! - Facts already known from bulwark's own `bulwark:model:*` properties are kept; the card
//!   only fills what they leave empty.
//!
//! A model card of the wrong shape is ignored rather than costing the component: the card is
//! commentary, the component is what gets checked.

use bulwark_inventory::{Metadata, ModelInfo};
use serde::{Deserialize, Deserializer};

use super::cyclonedx::Property;
use crate::mlbom::{ARCHITECTURE_FAMILY, Section};

/// The property key of [`ModelInfo::properties`] that keeps `approach.type`.
const APPROACH: &str = "approach";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawModelCard {
    #[serde(default)]
    pub(super) model_parameters: Option<RawModelParameters>,
    #[serde(default)]
    pub(super) considerations: Option<RawConsiderations>,
    #[serde(default)]
    pub(super) properties: Vec<Property>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawModelParameters {
    #[serde(default)]
    pub(super) approach: Option<RawApproach>,
    #[serde(default)]
    pub(super) task: Option<String>,
    #[serde(default)]
    pub(super) architecture_family: Option<String>,
    #[serde(default)]
    pub(super) model_architecture: Option<String>,
    #[serde(default)]
    pub(super) datasets: Vec<RawDataset>,
    #[serde(default)]
    pub(super) inputs: Vec<RawFormat>,
    #[serde(default)]
    pub(super) outputs: Vec<RawFormat>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawApproach {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
}

/// A `datasets` entry: `{"ref": …}` or inline data (`{"type": "dataset", "name": …}`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDataset {
    #[serde(rename = "ref", default)]
    pub(super) reference: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawFormat {
    #[serde(default)]
    pub(super) format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawConsiderations {
    #[serde(default)]
    pub(super) users: Vec<String>,
    #[serde(default)]
    pub(super) use_cases: Vec<String>,
    #[serde(default)]
    pub(super) technical_limitations: Vec<String>,
    #[serde(default)]
    pub(super) performance_tradeoffs: Vec<String>,
    #[serde(default)]
    pub(super) ethical_considerations: Vec<RawRisk>,
    #[serde(default)]
    pub(super) fairness_assessments: Vec<RawFairness>,
    #[serde(default)]
    pub(super) environmental_considerations: Option<RawEnvironmental>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawRisk {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) mitigation_strategy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawFairness {
    #[serde(default)]
    pub(super) group_at_risk: Option<String>,
    #[serde(default)]
    pub(super) benefits: Option<String>,
    #[serde(default)]
    pub(super) harms: Option<String>,
    #[serde(default)]
    pub(super) mitigation_strategy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawEnvironmental {
    #[serde(default)]
    pub(super) properties: Vec<Property>,
}

/// Reads `modelCard` leniently: a card of the wrong shape is `None`, not an error.
pub(super) fn lenient<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RawModelCard>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A dataset `ref` waiting to be resolved: the position in [`ModelInfo::datasets`] that
/// holds the ref text until then.
#[derive(Debug)]
pub(super) struct PendingDataset {
    pub(super) position: usize,
    pub(super) reference: String,
}

/// Fills `metadata` from `card`. Metadata of another kind (a Python distribution that somehow
/// carries a card) is left alone. Returns the dataset refs to resolve.
pub(super) fn apply(card: RawModelCard, metadata: &mut Metadata) -> Vec<PendingDataset> {
    let mut model = match std::mem::take(metadata) {
        Metadata::Model(model) => model,
        Metadata::None => ModelInfo::default(),
        other => {
            *metadata = other;
            return Vec::new();
        }
    };
    let mut pending = Vec::new();
    let non_empty = |text: Option<String>| text.filter(|t| !t.trim().is_empty());

    if let Some(parameters) = card.model_parameters {
        model.architecture = model
            .architecture
            .or_else(|| non_empty(parameters.model_architecture));
        model.task = model.task.or_else(|| non_empty(parameters.task));
        if let Some(family) = non_empty(parameters.architecture_family) {
            model
                .properties
                .entry(ARCHITECTURE_FAMILY.to_owned())
                .or_insert(family);
        }
        if let Some(approach) = non_empty(parameters.approach.and_then(|a| a.kind)) {
            model
                .properties
                .entry(APPROACH.to_owned())
                .or_insert(approach);
        }
        if model.datasets.is_empty() {
            for dataset in parameters.datasets {
                if let Some(reference) = non_empty(dataset.reference) {
                    pending.push(PendingDataset {
                        position: model.datasets.len(),
                        reference: reference.clone(),
                    });
                    model.datasets.push(reference);
                } else if let Some(name) = non_empty(dataset.name) {
                    model.datasets.push(name);
                }
            }
        }
        let formats = |formats: Vec<RawFormat>| -> Vec<String> {
            formats
                .into_iter()
                .filter_map(|f| non_empty(f.format))
                .collect()
        };
        if model.inputs.is_empty() {
            model.inputs = formats(parameters.inputs);
        }
        if model.outputs.is_empty() {
            model.outputs = formats(parameters.outputs);
        }
    }

    if let Some(considerations) = card.considerations {
        let mut sections: Vec<(&str, Vec<String>)> = vec![
            (Section::Users.key(), considerations.users),
            (Section::UseCases.key(), considerations.use_cases),
            (
                Section::TechnicalLimitations.key(),
                considerations.technical_limitations,
            ),
            (
                Section::PerformanceTradeoffs.key(),
                considerations.performance_tradeoffs,
            ),
        ];
        let risks = considerations
            .ethical_considerations
            .into_iter()
            .filter_map(|risk| {
                let name = non_empty(risk.name);
                let mitigation = non_empty(risk.mitigation_strategy);
                match (name, mitigation) {
                    (Some(name), Some(m)) => Some(format!("{name}\nMitigation: {m}")),
                    (Some(name), None) => Some(name),
                    (None, Some(m)) => Some(format!("Mitigation: {m}")),
                    (None, None) => None,
                }
            })
            .collect();
        sections.push((Section::EthicalConsiderations.key(), risks));
        let fairness = considerations
            .fairness_assessments
            .into_iter()
            .map(|f| {
                [
                    ("group at risk", f.group_at_risk),
                    ("benefits", f.benefits),
                    ("harms", f.harms),
                    ("mitigation strategy", f.mitigation_strategy),
                ]
                .into_iter()
                .filter_map(|(label, text)| Some(format!("{label}: {}", non_empty(text)?)))
                .collect::<Vec<_>>()
                .join("; ")
            })
            .filter(|line| !line.is_empty())
            .collect();
        sections.push(("fairness-assessments", fairness));
        let environmental = considerations
            .environmental_considerations
            .map(|e| e.properties)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| Some(format!("{}: {}", p.name, non_empty(p.value)?)))
            .collect();
        sections.push(("environmental-considerations", environmental));
        for (key, entries) in sections {
            let entries: Vec<String> = entries
                .into_iter()
                .filter(|e| !e.trim().is_empty())
                .collect();
            if !entries.is_empty() {
                model
                    .considerations
                    .entry(key.to_owned())
                    .or_insert_with(|| entries.join("\n"));
            }
        }
    }

    for property in card.properties {
        if let Some(value) = non_empty(property.value)
            && !property.name.trim().is_empty()
        {
            model.properties.entry(property.name).or_insert(value);
        }
    }

    if model != ModelInfo::default() {
        *metadata = Metadata::Model(model);
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_of_the_wrong_shape_is_ignored() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(default, deserialize_with = "lenient")]
            card: Option<RawModelCard>,
        }
        let holder: Holder =
            serde_json::from_str(r#"{"card": {"modelParameters": {"datasets": "all of them"}}}"#)
                .unwrap();
        assert!(holder.card.is_none());
        let holder: Holder =
            serde_json::from_str(r#"{"card": {"modelParameters": {"task": "fill-mask"}}}"#)
                .unwrap();
        assert!(holder.card.is_some());
    }

    #[test]
    fn card_facts_fill_only_what_properties_leave_empty() {
        let mut metadata = Metadata::Model(ModelInfo {
            format: "onnx".into(),
            task: Some("from-properties".into()),
            ..ModelInfo::default()
        });
        let card: RawModelCard = serde_json::from_str(
            r#"{"modelParameters": {"task": "from-card", "modelArchitecture": "ResNet-50",
                "approach": {"type": "supervised"},
                "datasets": [{"ref": "ds"}, {"type": "dataset", "name": "imagenet"}, {"type": "dataset"}]},
              "considerations": {"ethicalConsiderations": [{"name": "bias", "mitigationStrategy": "audit"}],
                "users": ["researchers", "students"]}}"#,
        )
        .unwrap();
        let pending = apply(card, &mut metadata);
        let Metadata::Model(model) = metadata else {
            panic!("not a model: {metadata:?}");
        };
        assert_eq!(model.task.as_deref(), Some("from-properties"));
        assert_eq!(model.architecture.as_deref(), Some("ResNet-50"));
        assert_eq!(model.datasets, ["ds", "imagenet"]);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].position, 0);
        assert_eq!(model.considerations["users"], "researchers\nstudents");
        assert_eq!(
            model.considerations["ethical-considerations"],
            "bias\nMitigation: audit"
        );
        assert_eq!(model.properties["approach"], "supervised");
    }

    #[test]
    fn an_empty_card_leaves_no_metadata() {
        let mut metadata = Metadata::None;
        assert!(apply(RawModelCard::default(), &mut metadata).is_empty());
        assert_eq!(metadata, Metadata::None);
    }
}
