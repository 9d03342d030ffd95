"""Writes the CPython-made pickle fixtures of bulwark-pickle's tests.

Run from this directory with any Python 3.8+: `python3 make_fixtures.py`. Nothing here is
ever unpickled; the payloads are harmless anyway (`os.system("true")`). PyTorch and NumPy are
not needed: modules with their names are faked so the pickler writes the same globals and
persistent ids a real `torch.save` / `numpy` pickle holds.
"""

import collections
import os
import pickle
import sys
import types


class RunsTrue:
    """Pickles as a call of os.system("true")."""

    def __reduce__(self):
        return (os.system, ("true",))


def fake(module_name, **attrs):
    module = types.ModuleType(module_name)
    for name, value in attrs.items():
        if callable(value):
            value.__module__ = module_name
            value.__qualname__ = name
            value.__name__ = name
        setattr(module, name, value)
    sys.modules[module_name] = module
    return module


def _rebuild_tensor_v2(*args):
    raise AssertionError("never called")


class FloatStorage:
    pass


class Size(tuple):
    pass


torch = fake("torch", FloatStorage=FloatStorage, Size=Size)
fake("torch._utils", _rebuild_tensor_v2=_rebuild_tensor_v2)


class Tensor:
    """Reduces like torch.Tensor: _rebuild_tensor_v2(storage, offset, size, stride, grad, hooks)."""

    def __init__(self, key, shape):
        self.key, self.shape = key, shape

    def __reduce_ex__(self, protocol):
        storage = ("storage", FloatStorage, self.key, "cpu", 6)
        return (
            _rebuild_tensor_v2,
            (StorageRef(storage), 0, self.shape, (3, 1), False, collections.OrderedDict()),
        )


class StorageRef:
    def __init__(self, pid):
        self.pid = pid


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, StorageRef) else None


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


for protocol in (0, 2, 4, 5):
    write(f"os_system_p{protocol}.pkl", pickle.dumps(RunsTrue(), protocol=protocol))

write(
    "benign_data_p4.pkl",
    pickle.dumps(
        {"a": [1, 2.5, None, True], "b": (b"bytes", "text"), "c": {1, 2}, "d": frozenset([3])},
        protocol=4,
    ),
)

import io

state_dict = collections.OrderedDict(
    [("linear.weight", Tensor("0", (2, 3))), ("linear.bias", Tensor("1", (2,)))]
)
buffer = io.BytesIO()
TorchPickler(buffer, protocol=2).dump(state_dict)
write("torch_state_dict_p2.pkl", buffer.getvalue())
