//! The ML-BOM parts of CycloneDX 1.6: the `modelCard` of a `machine-learning-model` component
//! and the `data` entries of a `data` component, built from [`ModelInfo`]; and the mapping
//! between the card's considerations and bulwark's section names, which the decoder reads back
//! with the same table.
//!
//! Decisions (<https://cyclonedx.org/docs/1.6/json/#components_items_modelCard>):
//! - `modelParameters.modelArchitecture` is [`ModelInfo::architecture`] as the source wrote it
//!   (`LlamaForCausalLM`, GGUF's `llama`). `architectureFamily` means a broad family
//!   ("transformer", "convolutional neural network") that no model file states, so it is
//!   written only when the inventory has one: the model property `architecture-family`, which
//!   is where the decoder keeps another tool's family.
//! - `datasets`: a dataset the inventory has a `data` component for becomes
//!   `{"ref": <its bom-ref>}` (preferring a component the model depends on), any other an inline
//!   `{"type": "dataset", "name": …}`.
//! - `inputs` and `outputs` are `{"format": "name: type[shape]"}`, the text [`ModelInfo`]
//!   keeps.
//! - `considerations`: a section whose bulwark name is in [`SECTIONS`] fills the card field of
//!   that name, one entry per section (`ethicalConsiderations` entries are `{"name": text}`).
//!   The mapping is one-to-one so a decoded card gives back the section names it was written
//!   from; sections without a field (`bias-risks-and-limitations`, `environmental-impact`, ...)
//!   stay `bulwark:model:consideration:<section>` properties. `fairnessAssessments` and
//!   `environmentalConsiderations` are structured records no model card text fills; they are
//!   read from other tools' documents but never written.
//! - `approach` (supervised, ...) and `quantitativeAnalysis` are not stated by model files and
//!   are left out.
//! - An empty card (a model whose card facts are all unknown) is left out: the schema allows
//!   that, and `{}` would say nothing.

use bulwark_inventory::ModelInfo;
use serde::Serialize;

/// The key of [`ModelInfo::properties`] written as `architectureFamily`.
pub(crate) const ARCHITECTURE_FAMILY: &str = "architecture-family";

/// A considerations field of the model card that holds free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// `users`: who the model is for.
    Users,
    /// `useCases`: what it is meant to be used for.
    UseCases,
    /// `technicalLimitations`.
    TechnicalLimitations,
    /// `performanceTradeoffs`.
    PerformanceTradeoffs,
    /// `ethicalConsiderations` (entries are risks with a `name`).
    EthicalConsiderations,
}

/// bulwark's section names (as in [`ModelInfo::considerations`]) and the card field each
/// fills.
pub(crate) const SECTIONS: [(&str, Section); 5] = [
    ("users", Section::Users),
    ("use-cases", Section::UseCases),
    ("limitations", Section::TechnicalLimitations),
    ("performance-tradeoffs", Section::PerformanceTradeoffs),
    ("ethical-considerations", Section::EthicalConsiderations),
];

impl Section {
    /// The card field for a section name, if the card has one.
    pub(crate) fn of_key(key: &str) -> Option<Self> {
        SECTIONS.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
    }

    /// bulwark's name for the section.
    pub(crate) fn key(self) -> &'static str {
        SECTIONS
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("considerations", |(k, _)| k)
    }
}

/// `modelCard`; field order follows the XML schema's sequence.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelCard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_parameters: Option<ModelParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) considerations: Option<Considerations>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) architecture_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_architecture: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) datasets: Vec<Dataset>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) inputs: Vec<MlFormat>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) outputs: Vec<MlFormat>,
}

/// One entry of `modelParameters.datasets`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Dataset {
    /// The `bom-ref` of a `data` component.
    Ref {
        #[serde(rename = "ref")]
        reference: String,
    },
    /// A dataset known only by name.
    Inline(ComponentData),
}

/// A `componentData` entry: what a `data` component's `data` array and an inline dataset hold.
#[derive(Debug, Serialize)]
pub(crate) struct ComponentData {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) name: String,
}

impl ComponentData {
    /// A dataset entry named `name`.
    pub(crate) fn dataset(name: &str) -> Self {
        Self {
            kind: "dataset",
            name: name.to_owned(),
        }
    }
}

/// An input or output: `{"format": …}`.
#[derive(Debug, Serialize)]
pub(crate) struct MlFormat {
    pub(crate) format: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Considerations {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) use_cases: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) technical_limitations: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) performance_tradeoffs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ethical_considerations: Vec<Risk>,
}

impl Considerations {
    fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.use_cases.is_empty()
            && self.technical_limitations.is_empty()
            && self.performance_tradeoffs.is_empty()
            && self.ethical_considerations.is_empty()
    }
}

/// An `ethicalConsiderations` entry.
#[derive(Debug, Serialize)]
pub(crate) struct Risk {
    pub(crate) name: String,
}

/// The model card of `model`, or `None` when it would be empty. `dataset_ref` gives the
/// `bom-ref` of the data component for a dataset name, where there is one.
pub(crate) fn model_card(
    model: &ModelInfo,
    dataset_ref: impl Fn(&str) -> Option<String>,
) -> Option<ModelCard> {
    let formats = |texts: &[String]| -> Vec<MlFormat> {
        texts
            .iter()
            .map(|format| MlFormat {
                format: format.clone(),
            })
            .collect()
    };
    let parameters = ModelParameters {
        task: model.task.clone(),
        architecture_family: model.properties.get(ARCHITECTURE_FAMILY).cloned(),
        model_architecture: model.architecture.clone(),
        datasets: model
            .datasets
            .iter()
            .map(|name| match dataset_ref(name) {
                Some(reference) => Dataset::Ref { reference },
                None => Dataset::Inline(ComponentData::dataset(name)),
            })
            .collect(),
        inputs: formats(&model.inputs),
        outputs: formats(&model.outputs),
    };
    let has_parameters = parameters.task.is_some()
        || parameters.architecture_family.is_some()
        || parameters.model_architecture.is_some()
        || !parameters.datasets.is_empty()
        || !parameters.inputs.is_empty()
        || !parameters.outputs.is_empty();

    let mut considerations = Considerations::default();
    for (key, text) in &model.considerations {
        let Some(section) = Section::of_key(key) else {
            continue;
        };
        let text = text.clone();
        match section {
            Section::Users => considerations.users.push(text),
            Section::UseCases => considerations.use_cases.push(text),
            Section::TechnicalLimitations => considerations.technical_limitations.push(text),
            Section::PerformanceTradeoffs => considerations.performance_tradeoffs.push(text),
            Section::EthicalConsiderations => {
                considerations
                    .ethical_considerations
                    .push(Risk { name: text });
            }
        }
    }

    let card = ModelCard {
        model_parameters: has_parameters.then_some(parameters),
        considerations: (!considerations.is_empty()).then_some(considerations),
    };
    (card.model_parameters.is_some() || card.considerations.is_some()).then_some(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_map_one_to_one() {
        for (key, section) in SECTIONS {
            assert_eq!(Section::of_key(key), Some(section));
            assert_eq!(section.key(), key);
        }
        assert_eq!(Section::of_key("bias-risks-and-limitations"), None);
    }

    #[test]
    fn a_model_without_card_facts_has_no_card() {
        let model = ModelInfo {
            format: "gguf".into(),
            parameters: Some(7),
            ..ModelInfo::default()
        };
        assert!(model_card(&model, |_| None).is_none());
    }

    #[test]
    fn datasets_are_refs_where_a_component_exists() {
        let model = ModelInfo {
            datasets: vec!["known".into(), "unknown".into()],
            ..ModelInfo::default()
        };
        let card = model_card(&model, |name| {
            (name == "known").then(|| "data:known#x".to_owned())
        })
        .unwrap();
        let json = serde_json::to_value(&card).unwrap();
        assert_eq!(
            json["modelParameters"]["datasets"],
            serde_json::json!([{"ref": "data:known#x"}, {"type": "dataset", "name": "unknown"}])
        );
    }
}
