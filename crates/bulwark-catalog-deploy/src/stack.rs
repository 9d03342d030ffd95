//! Known ML serving stacks, recognized by image repository path.
//!
//! Patterns are written on the repository *path*, never on a registry host: the same image is
//! pulled from vendor registries, mirrors and caches under many hosts, and a mirror may put it
//! below a prefix (`mirror/vllm/vllm-openai`). So a pattern matches the end of the path on
//! whole segments, or, for a namespace every image of which belongs to a stack
//! (`kserve/…`, `bentoml/…`, `nim/…`), the first segment.

use std::fmt;

/// An ML model serving stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ServingStack {
    /// vLLM's OpenAI-compatible server.
    Vllm,
    /// NVIDIA Triton Inference Server.
    Triton,
    /// TorchServe.
    TorchServe,
    /// Hugging Face Text Generation Inference.
    Tgi,
    /// Ray Serve (Ray images; KubeRay `RayService` and `RayCluster` resources).
    RayServe,
    /// KServe (its runtime images; `InferenceService` and serving-runtime resources).
    KServe,
    /// BentoML.
    BentoMl,
    /// Ollama.
    Ollama,
    /// TensorFlow Serving.
    TensorFlowServing,
    /// NVIDIA NIM microservices.
    NvidiaNim,
    /// SGLang.
    SgLang,
    /// LocalAI.
    LocalAi,
    /// llama.cpp's HTTP server.
    LlamaCppServer,
}

impl ServingStack {
    /// Every stack, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::Vllm,
        Self::Triton,
        Self::TorchServe,
        Self::Tgi,
        Self::RayServe,
        Self::KServe,
        Self::BentoMl,
        Self::Ollama,
        Self::TensorFlowServing,
        Self::NvidiaNim,
        Self::SgLang,
        Self::LocalAi,
        Self::LlamaCppServer,
    ];

    /// The stack's name as its project writes it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Vllm => "vLLM",
            Self::Triton => "NVIDIA Triton",
            Self::TorchServe => "TorchServe",
            Self::Tgi => "Hugging Face TGI",
            Self::RayServe => "Ray Serve",
            Self::KServe => "KServe",
            Self::BentoMl => "BentoML",
            Self::Ollama => "Ollama",
            Self::TensorFlowServing => "TensorFlow Serving",
            Self::NvidiaNim => "NVIDIA NIM",
            Self::SgLang => "SGLang",
            Self::LocalAi => "LocalAI",
            Self::LlamaCppServer => "llama.cpp server",
        }
    }

    /// The stack an image repository path (`vllm/vllm-openai`, without registry) belongs to.
    pub fn from_repository(path: &str) -> Option<Self> {
        let first = path.split('/').next().unwrap_or(path);
        if let Some(&(_, stack)) = NAMESPACES.iter().find(|(namespace, _)| *namespace == first) {
            return Some(stack);
        }
        REPOSITORIES
            .iter()
            .find(|(repository, _)| ends_with_segments(path, repository))
            .map(|&(_, stack)| stack)
    }

    /// The stack a Kubernetes resource kind implies for every image it runs: KServe's
    /// resources (`serving.kserve.io`) and KubeRay's (`ray.io`).
    pub fn from_resource(api_version: &str, kind: &str) -> Option<Self> {
        let group = api_version.split('/').next().unwrap_or_default();
        match (group, kind) {
            (
                "serving.kserve.io",
                "InferenceService"
                | "InferenceGraph"
                | "ServingRuntime"
                | "ClusterServingRuntime"
                | "TrainedModel",
            ) => Some(Self::KServe),
            ("ray.io", "RayService" | "RayCluster" | "RayJob") => Some(Self::RayServe),
            _ => None,
        }
    }
}

impl fmt::Display for ServingStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// First path segments all of whose images belong to a stack.
const NAMESPACES: &[(&str, ServingStack)] = &[
    ("kserve", ServingStack::KServe),
    ("kfserving", ServingStack::KServe),
    ("bentoml", ServingStack::BentoMl),
    // NVIDIA's NIM images live below `nim/<publisher>/<model>` on NVIDIA's registry.
    ("nim", ServingStack::NvidiaNim),
];

/// Repository paths, matched against the end of an image's path on whole segments.
const REPOSITORIES: &[(&str, ServingStack)] = &[
    ("vllm/vllm-openai", ServingStack::Vllm),
    ("vllm/vllm-openai-cpu", ServingStack::Vllm),
    ("vllm/vllm-tpu", ServingStack::Vllm),
    ("rocm/vllm", ServingStack::Vllm),
    ("nvidia/tritonserver", ServingStack::Triton),
    ("pytorch/torchserve", ServingStack::TorchServe),
    ("pytorch/torchserve-kfs", ServingStack::TorchServe),
    ("pytorch/torchserve-nightly", ServingStack::TorchServe),
    ("huggingface/text-generation-inference", ServingStack::Tgi),
    ("rayproject/ray", ServingStack::RayServe),
    ("rayproject/ray-ml", ServingStack::RayServe),
    ("rayproject/ray-llm", ServingStack::RayServe),
    ("ollama/ollama", ServingStack::Ollama),
    ("tensorflow/serving", ServingStack::TensorFlowServing),
    ("lmsysorg/sglang", ServingStack::SgLang),
    ("localai/localai", ServingStack::LocalAi),
    ("mudler/localai", ServingStack::LocalAi),
    ("go-skynet/local-ai", ServingStack::LocalAi),
    ("ggerganov/llama.cpp", ServingStack::LlamaCppServer),
    ("ggml-org/llama.cpp", ServingStack::LlamaCppServer),
];

/// Whether `path` ends with the segments of `suffix` (`mirror/vllm/vllm-openai` ends with
/// `vllm/vllm-openai`; `myvllm/vllm-openai` does not).
fn ends_with_segments(path: &str, suffix: &str) -> bool {
    path == suffix
        || path
            .strip_suffix(suffix)
            .is_some_and(|prefix| prefix.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        for (path, stack) in [
            ("vllm/vllm-openai", Some(ServingStack::Vllm)),
            ("mirror/vllm/vllm-openai", Some(ServingStack::Vllm)),
            ("myvllm/vllm-openai", None),
            ("vllm/vllm-openai-extra", None),
            ("nvidia/tritonserver", Some(ServingStack::Triton)),
            ("pytorch/torchserve", Some(ServingStack::TorchServe)),
            (
                "huggingface/text-generation-inference",
                Some(ServingStack::Tgi),
            ),
            ("rayproject/ray-ml", Some(ServingStack::RayServe)),
            ("kserve/sklearnserver", Some(ServingStack::KServe)),
            ("bentoml/model-server", Some(ServingStack::BentoMl)),
            ("ollama/ollama", Some(ServingStack::Ollama)),
            ("tensorflow/serving", Some(ServingStack::TensorFlowServing)),
            ("nim/meta/llama3-8b-instruct", Some(ServingStack::NvidiaNim)),
            ("team/nim/thing", None),
            ("lmsysorg/sglang", Some(ServingStack::SgLang)),
            ("localai/localai", Some(ServingStack::LocalAi)),
            ("ggml-org/llama.cpp", Some(ServingStack::LlamaCppServer)),
            ("nginx", None),
        ] {
            assert_eq!(ServingStack::from_repository(path), stack, "{path}");
        }
    }

    #[test]
    fn resources() {
        assert_eq!(
            ServingStack::from_resource("serving.kserve.io/v1beta1", "InferenceService"),
            Some(ServingStack::KServe)
        );
        assert_eq!(
            ServingStack::from_resource("ray.io/v1", "RayService"),
            Some(ServingStack::RayServe)
        );
        assert_eq!(ServingStack::from_resource("apps/v1", "Deployment"), None);
        assert_eq!(
            ServingStack::from_resource("serving.knative.dev/v1", "Service"),
            None
        );
    }

    #[test]
    fn names_are_distinct() {
        let mut names: Vec<&str> = ServingStack::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ServingStack::ALL.len());
    }
}
