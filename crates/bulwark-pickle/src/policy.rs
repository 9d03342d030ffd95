//! What an imported callable is allowed to be: the allowlist, the known-dangerous table, and
//! the name resolution CPython applies before it imports anything.
//!
//! The decision is default-deny. A `(module, name)` pair is allowed only when the full dotted
//! path is on the allowlist and no spelling of it reaches a known-dangerous callable; every
//! other import is a finding, at least medium. Denylists alone keep being bypassed (EXT
//! opcodes, unlisted gadgets such as `pydoc.locate`, attribute paths such as
//! `posixpath` + `os.system`), so the dangerous table only grades findings, it never clears.

use bulwark_inventory::ArtifactSeverity;

/// Rule ids, stable: users filter and suppress by them.
pub(crate) mod rule {
    /// A callable that runs code or commands, opens files, or reaches the network.
    pub(crate) const CODE_EXEC: &str = "BWM-PICKLE-CODE-EXEC";
    /// A callable that turns strings into callables (`getattr`, `importlib`, `pydoc.locate`).
    pub(crate) const RESOLVER: &str = "BWM-PICKLE-RESOLVER";
    /// An import outside the allowlist.
    pub(crate) const UNKNOWN_IMPORT: &str = "BWM-PICKLE-UNKNOWN-IMPORT";
    /// An `EXT1`/`EXT2`/`EXT4` extension-registry code: an unknown callable.
    pub(crate) const EXT_CODE: &str = "BWM-PICKLE-EXT-CODE";
    /// A stream the scanner could not read to the end: truncated, malformed, over budget.
    pub(crate) const MALFORMED: &str = "BWM-PICKLE-MALFORMED";
    /// A pickle, code object or encoded payload inside a pickle.
    pub(crate) const NESTED: &str = "BWM-PICKLE-NESTED";
    /// An allowlisted callable used outside the shape it is allowed in.
    pub(crate) const UNUSUAL_USE: &str = "BWM-PICKLE-UNUSUAL-USE";
    /// A call whose callee is computed (the result of a call), not an imported global.
    pub(crate) const DYNAMIC_CALL: &str = "BWM-PICKLE-DYNAMIC-CALL";
    /// State written into an imported module-level object (`BUILD`, `SETITEM` on a global).
    pub(crate) const MUTATION: &str = "BWM-PICKLE-GLOBAL-MUTATION";
    /// A persistent id not of the shape PyTorch writes.
    pub(crate) const PERSID: &str = "BWM-PICKLE-PERSISTENT-ID";
    /// Out-of-band buffers (protocol 5), which a plain load cannot resolve.
    pub(crate) const BUFFER: &str = "BWM-PICKLE-OUT-OF-BAND";
    /// Part of a file that was not scanned (over a size limit, unreadable compression).
    pub(crate) const LIMIT: &str = "BWM-PICKLE-LIMIT";
    /// A dangerous module or call in TorchScript source (`code/` of a TorchScript archive).
    pub(crate) const TORCHSCRIPT: &str = "BWM-PICKLE-TORCHSCRIPT-CODE";
}

/// The remedy shown with findings about what a pickle imports or calls.
pub(crate) const REMEDY_LOAD: &str = "do not load it with pickle or torch.load(weights_only=False); load with torch.load(weights_only=True) or convert the model to safetensors from a trusted source";
/// The remedy shown with findings about streams that could not be read.
pub(crate) const REMEDY_MALFORMED: &str = "treat the file as untrusted: re-export it from a trusted source (safetensors preferred) before loading";

/// What the policy says about one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class {
    /// On the allowlist.
    Allowed,
    /// `_codecs.encode`: allowed only as `encode(str, 'latin1')`, the way protocol-2 pickles
    /// of PyTorch rebuild `bytes`.
    Latin1Encode,
    /// Not allowed.
    Denied {
        rule: &'static str,
        severity: ArtifactSeverity,
        why: &'static str,
    },
}

/// How a callable treats a bytes or str argument that may hold another payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loader {
    /// Unpickles its argument (`pickle.loads`).
    Pickle,
    /// Unmarshals its argument (`marshal.loads`): a code object there is code.
    Marshal,
    /// Decodes base64 (`base64.b64decode`).
    Base64,
    /// Encodes a str to bytes (`_codecs.encode`).
    Encode,
}

/// Every spelling of `module.name` CPython may resolve: as written, through the Python 2
/// mappings of `_compat_pickle` (applied by `Unpickler(fix_imports=True)`, the default), and
/// with the private module aliases that hold the same objects (`posix.system` is
/// `os.system`). Each is a dotted path.
pub(crate) fn spellings(module: &str, name: &str) -> Vec<String> {
    let mut out = vec![format!("{module}.{name}")];
    let mut push = |path: String| {
        if !out.contains(&path) {
            out.push(path);
        }
    };
    if let Some((m, n)) = compat_name(module, name) {
        push(format!("{m}.{n}"));
    }
    let mapped = compat_module(module);
    if let Some(m) = mapped {
        push(format!("{m}.{name}"));
    }
    for base in [Some(module), mapped].into_iter().flatten() {
        if let Some(alias) = alias_module(base) {
            push(format!("{alias}.{name}"));
        }
    }
    out
}

/// Classifies an import. `torchscript` allows the classes a TorchScript archive's own
/// pickles name (`__torch__.*`, `torch.jit._pickle.*`), which its C++ unpickler resolves to
/// compiled code, never to Python imports.
pub(crate) fn classify(module: &str, name: &str, torchscript: bool) -> Class {
    let paths = spellings(module, name);
    let mut worst: Option<(&'static str, ArtifactSeverity, &'static str)> = None;
    for path in &paths {
        if let Some(found) = dangerous(path, module)
            && worst.is_none_or(|w| found.1 > w.1)
        {
            worst = Some(found);
        }
    }
    if let Some((rule, severity, why)) = worst {
        return Class::Denied {
            rule,
            severity,
            why,
        };
    }
    for path in &paths {
        if path == "_codecs.encode" {
            return Class::Latin1Encode;
        }
        if allowed(path)
            || (torchscript
                && (path.starts_with("__torch__.") || path.starts_with("torch.jit._pickle.")))
        {
            return Class::Allowed;
        }
    }
    Class::Denied {
        rule: rule::UNKNOWN_IMPORT,
        severity: ArtifactSeverity::Medium,
        why: "is not on the allowlist of reconstruction callables",
    }
}

/// The payload-handling behaviour of a callable, by any of its spellings.
pub(crate) fn loader(module: &str, name: &str) -> Option<Loader> {
    spellings(module, name).iter().find_map(|path| {
        Some(match path.as_str() {
            "pickle.loads"
            | "pickle._loads"
            | "dill.loads"
            | "dill._dill.loads"
            | "cloudpickle.loads"
            | "numpy.loads"
            | "numpy.core.numeric.loads"
            | "pandas.compat.pickle_compat.loads" => Loader::Pickle,
            "marshal.loads" => Loader::Marshal,
            "base64.b64decode"
            | "base64.standard_b64decode"
            | "base64.urlsafe_b64decode"
            | "base64.decodebytes"
            | "base64.decodestring"
            | "binascii.a2b_base64" => Loader::Base64,
            "_codecs.encode" | "codecs.encode" => Loader::Encode,
            _ => return None,
        })
    })
}

/// `_compat_pickle.NAME_MAPPING`: Python 2 `(module, name)` pairs that moved.
fn compat_name(module: &str, name: &str) -> Option<(&'static str, &'static str)> {
    Some(match (module, name) {
        ("__builtin__", "xrange") => ("builtins", "range"),
        ("__builtin__", "reduce") => ("functools", "reduce"),
        ("__builtin__", "intern") => ("sys", "intern"),
        ("__builtin__", "unichr") => ("builtins", "chr"),
        ("__builtin__", "unicode") => ("builtins", "str"),
        ("__builtin__", "long") => ("builtins", "int"),
        ("__builtin__", "basestring") => ("builtins", "str"),
        ("itertools", "izip") => ("builtins", "zip"),
        ("itertools", "imap") => ("builtins", "map"),
        ("itertools", "ifilter") => ("builtins", "filter"),
        ("itertools", "ifilterfalse") => ("itertools", "filterfalse"),
        ("itertools", "izip_longest") => ("itertools", "zip_longest"),
        ("UserDict", "IterableUserDict") => ("collections", "UserDict"),
        ("UserList", "UserList") => ("collections", "UserList"),
        ("UserString", "UserString") => ("collections", "UserString"),
        ("whichdb", "whichdb") => ("dbm", "whichdb"),
        ("_socket", "fromfd") => ("socket", "fromfd"),
        ("_multiprocessing", "Connection") => ("multiprocessing.connection", "Connection"),
        ("multiprocessing.process", "Process") => ("multiprocessing.context", "Process"),
        ("multiprocessing.forking", "Popen") => ("multiprocessing.popen_fork", "Popen"),
        ("urllib", "urlopen") => ("urllib.request", "urlopen"),
        ("urllib", "urlretrieve") => ("urllib.request", "urlretrieve"),
        ("urllib2", "urlopen") => ("urllib.request", "urlopen"),
        ("exceptions", "StandardError") => ("builtins", "Exception"),
        _ => return None,
    })
}

/// `_compat_pickle.IMPORT_MAPPING`: Python 2 module names (the subset that matters for
/// grading, plus every one whose target is dangerous).
fn compat_module(module: &str) -> Option<&'static str> {
    Some(match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "UserDict" | "UserList" | "UserString" => "collections",
        "cStringIO" | "StringIO" => "io",
        "urllib2" => "urllib.request",
        "urlparse" => "urllib.parse",
        "thread" => "_thread",
        "Queue" => "queue",
        "httplib" => "http.client",
        "BaseHTTPServer" | "SimpleHTTPServer" | "CGIHTTPServer" => "http.server",
        "SocketServer" => "socketserver",
        "xmlrpclib" => "xmlrpc.client",
        "SimpleXMLRPCServer" | "DocXMLRPCServer" => "xmlrpc.server",
        "cookielib" => "http.cookiejar",
        "repr" => "reprlib",
        "ConfigParser" => "configparser",
        "anydbm" | "whichdb" => "dbm",
        "Tkinter" => "tkinter",
        "dummy_thread" => "_dummy_thread",
        "_winreg" => "winreg",
        _ => return None,
    })
}

/// Private or platform modules that hold the same objects as a public one.
fn alias_module(module: &str) -> Option<&'static str> {
    Some(match module {
        "posix" | "nt" => "os",
        "posixpath" | "ntpath" | "genericpath" | "macpath" => "os.path",
        "_operator" => "operator",
        "_pickle" | "cPickle" => "pickle",
        "_io" | "_pyio" => "io",
        "_collections" => "collections",
        "_functools" => "functools",
        "_socket" => "socket",
        "_posixsubprocess" | "commands" => "subprocess",
        "_ctypes" => "ctypes",
        "_imp" | "imp" | "_frozen_importlib" | "_frozen_importlib_external" => "importlib",
        "__builtin__" => "builtins",
        "_thread" | "thread" => "threading",
        "_codecs" => "codecs",
        "numpy._core.multiarray" => "numpy.core.multiarray",
        _ => return None,
    })
}

/// Attribute names that lead from any object to the interpreter's internals.
const INTERNAL_ATTRIBUTES: &[&str] = &[
    "__builtins__",
    "__globals__",
    "__code__",
    "__subclasses__",
    "__class__",
    "__dict__",
    "__getattribute__",
    "__getattr__",
    "__reduce__",
    "__reduce_ex__",
    "__import__",
    "__loader__",
    "__spec__",
    "__func__",
    "__self__",
    "__closure__",
    "__mro__",
    "__bases__",
    "__base__",
    "__init__",
    "__call__",
    "__setattr__",
    "__delattr__",
    "__setstate__",
];

/// The known-dangerous verdict for one spelling (`os.system`), if any: `(rule, severity,
/// why)`. Every position of the attribute path is tried as a module (`posixpath.os.system`
/// reaches `os.system`), and every prefix of the module path (`subprocess.foo` is inside
/// `subprocess`).
fn dangerous(
    path: &str,
    written_module: &str,
) -> Option<(&'static str, ArtifactSeverity, &'static str)> {
    let segments: Vec<&str> = path.split('.').collect();
    // Where the name (the attribute path) begins in this spelling.
    let module_len = written_module.split('.').count().min(segments.len());
    let name_segments = &segments[module_len.min(segments.len().saturating_sub(1))..];
    let dotted_name = name_segments.len() > 1;
    for segment in &segments {
        if INTERNAL_ATTRIBUTES.contains(segment)
            || (dotted_name
                && name_segments.contains(segment)
                && segment.len() > 4
                && segment.starts_with("__")
                && segment.ends_with("__"))
        {
            return Some((
                rule::RESOLVER,
                ArtifactSeverity::Critical,
                "reaches interpreter internals through an attribute path",
            ));
        }
    }
    let mut worst: Option<(&'static str, ArtifactSeverity, &'static str)> = None;
    // Start 0 covers the module and its prefixes; later starts inside the attribute path.
    let starts = std::iter::once(0).chain((module_len.max(1))..segments.len());
    for start in starts {
        let top = segments[start];
        let top = alias_module(top).unwrap_or(top);
        let top = compat_module(top).unwrap_or(top);
        // An alias may itself be dotted (`posixpath` is `os.path`).
        let mut parts: Vec<&str> = top.split('.').collect();
        parts.extend_from_slice(&segments[start + 1..]);
        if let Some(found) = dangerous_in(&parts)
            && worst.is_none_or(|w| found.1 > w.1)
        {
            worst = Some(found);
        }
    }
    worst
}

/// The dangerous table proper, over a path whose first part is a top-level module.
fn dangerous_in(parts: &[&str]) -> Option<(&'static str, ArtifactSeverity, &'static str)> {
    use ArtifactSeverity::{Critical, High};
    const EXEC: &str = "runs code or commands, or touches files or the network, when loaded";
    const RESOLVE: &str = "resolves strings to arbitrary callables or objects";
    const LOADS: &str = "deserializes a nested payload (which may run code)";
    const COMPOSE: &str = "composes calls, so any callable can be reached through it";
    const NET: &str = "reaches the network or the process environment";
    let top = *parts.first()?;
    let first = parts.get(1).copied().unwrap_or("");
    let exec = Some((rule::CODE_EXEC, Critical, EXEC));
    let resolve = Some((rule::RESOLVER, Critical, RESOLVE));
    match top {
        "os" if first == "path" => None,
        "os" | "subprocess" | "pty" | "runpy" | "webbrowser" | "code" | "codeop" | "shutil"
        | "socket" | "ctypes" | "cffi" | "multiprocessing" | "popen2" | "pdb" | "bdb"
        | "timeit" | "cProfile" | "profile" | "trace" | "doctest" | "idlelib" | "pip"
        | "ensurepip" | "venv" | "distutils" | "setuptools" | "site" | "tempfile"
        | "socketserver" | "winreg" | "msvcrt" | "_winapi" | "fcntl" | "resource" | "signal"
        | "asyncio" | "concurrent" | "sched" | "zipimport" | "tkinter" => exec,
        "logging" if first == "config" => exec,
        "io" | "codecs" | "gzip" | "bz2" | "lzma" | "tarfile" | "zipfile" | "fileinput"
        | "glob" | "pathlib"
            if matches!(
                first,
                "open"
                    | "FileIO"
                    | "open_code"
                    | "BufferedWriter"
                    | "BufferedRandom"
                    | "TextIOWrapper"
                    | "Path"
                    | "PosixPath"
                    | "WindowsPath"
                    | "ZipFile"
                    | "TarFile"
                    | "GzipFile"
                    | "input"
                    | "FileInput"
                    | "glob"
                    | "iglob"
                    | "extractall"
                    | "BZ2File"
                    | "LZMAFile"
            ) =>
        {
            exec
        }
        "builtins" => match first {
            "exec" | "eval" | "compile" | "execfile" | "breakpoint" | "open" | "input" | "help"
            | "exit" | "quit" | "apply" | "file" | "reload" | "runfile" => exec,
            "getattr" | "__import__" | "globals" | "locals" | "vars" | "setattr" | "delattr"
            | "__build_class__" | "type" | "super" | "dir" | "classmethod" | "staticmethod"
            | "property" | "memoryview" => resolve,
            "map" | "filter" | "iter" | "next" | "sorted" | "min" | "max" | "any" | "all"
            | "zip" | "enumerate" | "reversed" => Some((rule::RESOLVER, High, COMPOSE)),
            _ => None,
        },
        "importlib" | "pkgutil" | "inspect" | "pydoc" | "types" => resolve,
        "operator" => match first {
            "attrgetter" | "methodcaller" => resolve,
            "itemgetter" | "call" => Some((rule::RESOLVER, High, RESOLVE)),
            _ => None,
        },
        "functools" if matches!(first, "partial" | "reduce" | "partialmethod" | "wraps") => {
            Some((rule::RESOLVER, High, COMPOSE))
        }
        "pickle" | "dill" | "cloudpickle" | "shelve" | "marshal" | "jsonpickle" | "_pickle" => {
            Some((rule::RESOLVER, Critical, LOADS))
        }
        "joblib" if first == "load" => Some((rule::RESOLVER, Critical, LOADS)),
        "numpy" if matches!(first, "load" | "loads" | "testing" | "f2py" | "distutils") => {
            Some((rule::CODE_EXEC, Critical, EXEC))
        }
        "numpy" if parts.ends_with(&["runstring"]) || parts.contains(&"load_library") => exec,
        "torch"
            if matches!(first, "load" | "hub" | "package")
                || (first == "serialization"
                    && parts.get(2).is_some_and(|n| n.contains("load")))
                || (first == "jit" && parts.get(2).is_some_and(|n| n.contains("load")))
                || (first == "utils" && parts.get(2) == Some(&"cpp_extension"))
                || parts.contains(&"load_library") =>
        {
            exec
        }
        "yaml" if first.contains("load") => Some((rule::RESOLVER, Critical, LOADS)),
        "pandas" if first == "read_pickle" => Some((rule::RESOLVER, Critical, LOADS)),
        "base64" | "binascii" | "zlib" | "quopri" | "uu" => {
            Some((rule::RESOLVER, High, "decodes a hidden payload"))
        }
        "sys" | "gc" | "threading" | "_thread" | "weakref" | "platform" | "ctypes.util" => Some((
            rule::RESOLVER,
            High,
            "reaches the interpreter or process state",
        )),
        "urllib" | "urllib2" | "http" | "httplib" | "requests" | "aiohttp" | "ftplib"
        | "smtplib" | "telnetlib" | "poplib" | "imaplib" | "nntplib" | "xmlrpc" | "ssl"
        | "httpx" | "urllib3" => Some((rule::CODE_EXEC, High, NET)),
        _ => None,
    }
}

/// The allowlist: what PyTorch's `weights_only` unpickler accepts, NumPy's array
/// reconstruction, a few builtin containers, and joblib's array wrappers.
fn allowed(path: &str) -> bool {
    const EXACT: &[&str] = &[
        "collections.OrderedDict",
        "collections.Counter",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "torch.nn.parameter.Parameter",
        "torch.nn.parameter.Buffer",
        "torch.serialization._get_layout",
        "torch._tensor._rebuild_from_type_v2",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "torch.UntypedStorage",
        "torch.TypedStorage",
        "torch.storage._LegacyStorage",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.bytes",
        "builtins.slice",
        "builtins.complex",
        "builtins.range",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.bool",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy._core.numeric._frombuffer",
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "joblib.numpy_pickle.NDArrayWrapper",
        "joblib.numpy_pickle.ZNDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
    ];
    if EXACT.contains(&path) {
        return true;
    }
    if let Some(name) = path.strip_prefix("torch._utils.") {
        return name.starts_with("_rebuild_") && !name.contains('.');
    }
    if let Some(name) = path.strip_prefix("numpy.dtypes.") {
        return name.ends_with("DType") && !name.contains('.');
    }
    let Some(name) = path
        .strip_prefix("torch.cuda.")
        .or_else(|| path.strip_prefix("torch."))
    else {
        return false;
    };
    if name.contains('.') {
        return false;
    }
    (name.ends_with("Storage") && name.len() > "Storage".len()) || TORCH_NAMES.contains(&name)
}

/// `torch.<name>` objects pickled by name: dtypes, memory formats, layouts, qschemes.
#[rustfmt::skip]
const TORCH_NAMES: &[&str] = &[
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex32",
    "chalf", "complex64", "cfloat", "complex128", "cdouble", "uint8", "uint16", "uint32",
    "uint64", "int8", "int16", "short", "int32", "int", "int64", "long", "bool", "quint8",
    "qint8", "qint32", "quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits8",
    "bits16", "bits1x8", "bits2x4", "bits4x2", "int1", "int2", "int3", "int4", "int5",
    "int6", "int7", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7",
    "contiguous_format", "channels_last", "channels_last_3d", "preserve_format", "strided",
    "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn",
    "jagged", "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
    "per_channel_symmetric", "per_channel_affine_float_qparams",
];

#[cfg(test)]
mod tests {
    use super::*;
    use ArtifactSeverity::{Critical, Medium};

    fn severity(module: &str, name: &str) -> Option<ArtifactSeverity> {
        match classify(module, name, false) {
            Class::Denied { severity, .. } => Some(severity),
            _ => None,
        }
    }

    #[test]
    fn allowlisted_reconstruction_callables() {
        for (module, name) in [
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch._utils", "_rebuild_parameter"),
            ("torch", "FloatStorage"),
            ("torch", "BFloat16Storage"),
            ("torch", "float16"),
            ("torch", "Size"),
            ("collections", "OrderedDict"),
            ("_collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "dtype"),
            ("builtins", "set"),
            ("__builtin__", "set"),
            ("__builtin__", "xrange"),
            ("joblib.numpy_pickle", "NumpyArrayWrapper"),
            ("torch", "_utils._rebuild_tensor_v2"),
        ] {
            assert_eq!(severity(module, name), None, "{module}.{name}");
        }
        assert_eq!(classify("_codecs", "encode", false), Class::Latin1Encode);
    }

    #[test]
    fn dangerous_callables_are_critical_under_every_spelling() {
        for (module, name) in [
            ("os", "system"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("commands", "getoutput"),
            ("builtins", "exec"),
            ("__builtin__", "eval"),
            ("builtins", "getattr"),
            ("_operator", "attrgetter"),
            ("operator", "methodcaller"),
            ("_pickle", "loads"),
            ("cPickle", "loads"),
            ("pydoc", "locate"),
            ("inspect", "getattr_static"),
            ("codeop", "compile_command"),
            ("importlib", "import_module"),
            ("pkgutil", "resolve_name"),
            ("marshal", "loads"),
            ("types", "FunctionType"),
            ("posixpath", "os.system"),
            ("torch", "serialization.os.system"),
            ("builtins", "getattr.__self__"),
            ("_io", "open"),
            ("runpy", "run_path"),
            ("torch", "load"),
        ] {
            assert_eq!(severity(module, name), Some(Critical), "{module}.{name}");
        }
    }

    #[test]
    fn unknown_imports_are_medium_and_never_allowed_by_prefix() {
        for (module, name) in [
            ("torch.serialization", "_get_layout_x"),
            ("torch.nn.modules.linear", "Linear"),
            ("argparse", "Namespace"),
            ("os.path", "join"),
            ("mylib.code", "Thing"),
            ("torch._utils", "_rebuild_tensor_v2.extra"),
        ] {
            assert_eq!(severity(module, name), Some(Medium), "{module}.{name}");
        }
        // Exact names only: a module that merely starts like an allowed one is not allowed.
        assert!(matches!(
            classify("torch.serialization", "Size", false),
            Class::Denied { .. }
        ));
        assert_eq!(classify("__torch__.Model", "M", true), Class::Allowed);
        assert!(matches!(
            classify("__torch__.Model", "M", false),
            Class::Denied { .. }
        ));
    }

    #[test]
    fn loaders_by_any_spelling() {
        assert_eq!(loader("_pickle", "loads"), Some(Loader::Pickle));
        assert_eq!(loader("cPickle", "loads"), Some(Loader::Pickle));
        assert_eq!(loader("marshal", "loads"), Some(Loader::Marshal));
        assert_eq!(loader("base64", "b64decode"), Some(Loader::Base64));
        assert_eq!(loader("os", "system"), None);
    }
}
