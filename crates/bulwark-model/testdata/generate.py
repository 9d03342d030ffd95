#!/usr/bin/env python3
"""Writes the small, real model files the bulwark-model tests read.

Run with the ML virtualenv (torch 2.1.2, onnx 1.15, keras 2.14 / tensorflow, h5py, numpy,
safetensors, joblib):

    /tmp/bulwark-corpus/ml-venv/bin/python crates/bulwark-model/testdata/generate.py

Every output is written next to this script. Weights are seeded so reruns give the same
tensors, but several formats embed timestamps or library versions, so the bytes (and the
SHA-256 of each file) change from run to run: the tests never hard-code a digest, they
recompute it from the file.
"""

import json
import os
import pickle
import shutil
import struct
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
torch.manual_seed(0)
np.random.seed(0)


class Tiny(torch.nn.Module):
    """Two linear layers: 4 -> 8 -> 2 (58 parameters)."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def torch_files(out: Path):
    model = Tiny().eval()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, out / "tiny.safetensors", metadata={"format": "pt"})
    torch.save(state, out / "tiny.pt")
    torch.save(state, out / "tiny_legacy.pt", _use_new_zipfile_serialization=False)
    torch.jit.script(model).save(str(out / "tiny_script.pt"))
    torch.onnx.export(
        model,
        torch.zeros(1, 4),
        str(out / "tiny.onnx"),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}},
        opset_version=17,
    )
    return state


def onnx_external(out: Path):
    """An ONNX model whose initializer lives outside the directory (`../`)."""
    import onnx
    from onnx import TensorProto, helper

    weight = TensorProto()
    weight.name = "w"
    weight.data_type = TensorProto.FLOAT
    weight.dims.extend([2, 2])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../etc/weights.bin"), ("offset", "0"), ("length", "16")):
        entry = weight.external_data.add()
        entry.key = key
        entry.value = value
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "escape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        initializer=[weight],
    )
    model = helper.make_model(graph, producer_name="bulwark-testdata", opset_imports=[helper.make_opsetid("", 17)])
    (out / "external_escape.onnx").write_bytes(model.SerializeToString())


def keras_files(out: Path):
    import tensorflow as tf
    from tensorflow import keras

    tf.random.set_seed(0)

    def plain():
        return keras.Sequential(
            [keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
        )

    def with_lambda():
        return keras.Sequential(
            [
                keras.Input(shape=(4,)),
                keras.layers.Dense(8),
                keras.layers.Lambda(lambda x: x * 2.0, name="double"),
                keras.layers.Dense(2),
            ]
        )

    plain().save(out / "tiny.keras")
    plain().save(out / "tiny.h5")
    with_lambda().save(out / "lambda.keras")
    with_lambda().save(out / "lambda.h5")

    @keras.saving.register_keras_serializable(package="acme")
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 3.0

    Scale.__module__ = "acme.layers"
    keras.Sequential([keras.Input(shape=(4,)), Scale(name="scale"), keras.layers.Dense(2)]).save(
        out / "custom.keras"
    )

    # TFLite: a flatbuffer with the `TFL3` identifier.
    converter = tf.lite.TFLiteConverter.from_keras_model(plain())
    (out / "tiny.tflite").write_bytes(converter.convert())

    # A SavedModel whose graph reads a file from disk (`ReadFile`).
    class Reader(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
        def read(self, path):
            return tf.io.read_file(path)

    saved = out / "savedmodel_readfile"
    shutil.rmtree(saved, ignore_errors=True)
    tf.saved_model.save(Reader(), str(saved))


def numpy_files(out: Path, state):
    np.save(out / "tiny.npy", np.arange(12, dtype="<f4").reshape(3, 4))
    np.savez(out / "tiny.npz", a=np.zeros((2, 3), dtype="<i8"), b=np.ones(5, dtype="<f2"))
    with open(out / "tiny.pkl", "wb") as f:
        pickle.dump({"weights": [1.0, 2.0]}, f, protocol=4)
    import joblib

    joblib.dump({"weights": np.zeros(3)}, out / "tiny.joblib")


# --- GGUF, written by hand after https://github.com/ggerganov/ggml/blob/master/docs/gguf.md ---

GGUF_UINT32, GGUF_STRING, GGUF_ARRAY, GGUF_UINT64 = 4, 8, 9, 10


def gguf_string(s: str) -> bytes:
    raw = s.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def gguf_kv(key: str, ty: int, value) -> bytes:
    out = gguf_string(key) + struct.pack("<I", ty)
    if ty == GGUF_UINT32:
        out += struct.pack("<I", value)
    elif ty == GGUF_UINT64:
        out += struct.pack("<Q", value)
    elif ty == GGUF_STRING:
        out += gguf_string(value)
    elif ty == GGUF_ARRAY:
        out += struct.pack("<IQ", GGUF_STRING, len(value))
        out += b"".join(gguf_string(v) for v in value)
    return out


def write_gguf(path: Path, chat_template: str):
    kvs = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, "tiny-llama-test"),
        ("general.file_type", GGUF_UINT32, 15),  # MOSTLY_Q4_K_M
        ("llama.context_length", GGUF_UINT32, 2048),
        ("tokenizer.ggml.model", GGUF_STRING, "llama"),
        ("tokenizer.ggml.tokens", GGUF_ARRAY, ["<s>", "</s>", "a", "b"]),
        ("tokenizer.chat_template", GGUF_STRING, chat_template),
    ]
    # (name, dims, ggml type): F32 = 0, Q4_K = 12.
    tensors = [("token_embd.weight", [256, 4], 12), ("output_norm.weight", [256], 0)]
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    header += b"".join(gguf_kv(*kv) for kv in kvs)
    offset = 0
    sizes = {0: lambda n: 4 * n, 12: lambda n: n // 256 * 144}
    for name, dims, ty in tensors:
        header += gguf_string(name) + struct.pack("<I", len(dims))
        header += b"".join(struct.pack("<Q", d) for d in dims)
        header += struct.pack("<IQ", ty, offset)
        count = 1
        for d in dims:
            count *= d
        offset += (sizes[ty](count) + 31) // 32 * 32
    header += b"\0" * (-len(header) % 32)
    path.write_bytes(header + b"\0" * offset)


def gguf_files(out: Path):
    benign = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
    hostile = "{{ cycler.__init__.__globals__.os.popen('id').read() }}{% for m in messages %}{{ m['content'] }}{% endfor %}"
    write_gguf(out / "tiny.gguf", benign)
    write_gguf(out / "hostile_template.gguf", hostile)


def hf_layouts(out: Path, state):
    from safetensors.torch import save_file

    # A sharded snapshot: two shards, an index, config.json with auto_map, a model card.
    snap = out / "hf-sharded"
    shutil.rmtree(snap, ignore_errors=True)
    snap.mkdir()
    names = sorted(state)
    shards = [names[:2], names[2:]]
    weight_map = {}
    for i, part in enumerate(shards, start=1):
        file = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file({k: state[k] for k in part}, snap / file, metadata={"format": "pt"})
        weight_map.update({k: file for k in part})
    (snap / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 232}, "weight_map": weight_map}, indent=2)
    )
    (snap / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["TinyForCausalLM"],
                "model_type": "tiny",
                "torch_dtype": "float32",
                "auto_map": {"AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM"},
            },
            indent=2,
        )
    )
    (snap / "README.md").write_text(
        "---\n"
        "license: apache-2.0\n"
        "base_model: acme/tiny-base\n"
        "datasets:\n- acme/tiny-corpus\n- wikitext\n"
        "pipeline_tag: text-generation\n"
        "language:\n- en\n"
        "tags:\n- test\n"
        "---\n\n# Tiny\n\nA test model.\n\n"
        "## Bias, Risks, and Limitations\n\nIt knows nothing.\n\n## Training\n\nNone.\n"
    )

    # A hub cache: snapshots/<rev>/ files are symlinks into blobs/.
    cache = out / "hub" / "models--Acme--Tiny-Model"
    shutil.rmtree(out / "hub", ignore_errors=True)
    rev = "0123456789abcdef0123456789ABCDEF01234567"
    (cache / "refs").mkdir(parents=True)
    (cache / "blobs").mkdir()
    (cache / "snapshots" / rev).mkdir(parents=True)
    (cache / "refs" / "main").write_text(rev)
    import hashlib

    for name, data in (
        ("config.json", json.dumps({"architectures": ["TinyModel"], "model_type": "tiny"}).encode()),
        ("model.safetensors", (out / "tiny.safetensors").read_bytes()),
        ("README.md", b"---\nlicense: mit\n---\n# Tiny\n"),
    ):
        blob = hashlib.sha256(data).hexdigest()
        (cache / "blobs" / blob).write_bytes(data)
        os.symlink(f"../../blobs/{blob}", cache / "snapshots" / rev / name)


def main():
    state = torch_files(HERE)
    onnx_external(HERE)
    numpy_files(HERE, state)
    gguf_files(HERE)
    hf_layouts(HERE, state)
    keras_files(HERE)


if __name__ == "__main__":
    main()
