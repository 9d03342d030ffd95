//! One test per technique: each builds its pickle with the assembler (or reads a CPython-made
//! fixture from `testdata/`) and checks the verdict. Payloads are harmless (`"true"`).

use std::io::{Cursor, Write as _};
use std::path::Path;

use bulwark_catalog::{DirResolver, FileRef};
use bulwark_inventory::{ArtifactFinding, ArtifactSeverity};

use crate::asm::Asm;
use crate::opcode::op;
use crate::{Analysis, Limits, analyze, scan_file};

use ArtifactSeverity::{Critical, High, Medium};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    fs_err::read(path).unwrap()
}

fn run(data: &[u8]) -> Analysis {
    analyze(data, &Limits::default())
}

/// Whether a finding with this rule (and callable, when given) is there.
fn has(analysis: &Analysis, id: &str, callable: Option<&str>) -> bool {
    analysis
        .findings
        .iter()
        .any(|f| f.id == id && callable.is_none_or(|c| f.callable.as_deref() == Some(c)))
}

fn assert_has(analysis: &Analysis, id: &str, callable: Option<&str>, severity: ArtifactSeverity) {
    assert!(
        analysis.findings.iter().any(|f| f.id == id
            && callable.is_none_or(|c| f.callable.as_deref() == Some(c))
            && f.severity == severity),
        "no {id} {callable:?} {severity} in {:#?}",
        analysis.findings
    );
}

fn assert_clean(analysis: &Analysis) {
    assert!(analysis.findings.is_empty(), "{:#?}", analysis.findings);
}

/// `os.system("true")` through `GLOBAL` + `REDUCE`, protocol 2.
fn os_system() -> Vec<u8> {
    Asm::proto(2).global("os", "system").call1("true").stop()
}

// ---- import and call routes ----

#[test]
fn cpython_pickles_of_os_system_at_every_protocol() {
    for protocol in [0, 2, 4, 5] {
        let analysis = run(&fixture(&format!("os_system_p{protocol}.pkl")));
        // CPython writes `posix.system` on Linux: the alias resolves to os.system.
        assert_eq!(
            analysis.max_severity(),
            Some(Critical),
            "protocol {protocol}"
        );
        assert!(
            analysis
                .findings
                .iter()
                .any(|f| f.id == "BWM-PICKLE-CODE-EXEC"
                    && f.callable
                        .as_deref()
                        .is_some_and(|c| c.ends_with(".system"))),
            "protocol {protocol}: {:#?}",
            analysis.findings
        );
        assert_eq!(analysis.pickles, 1);
        let expected_opcode = if protocol >= 4 {
            "STACK_GLOBAL"
        } else {
            "GLOBAL"
        };
        assert_eq!(analysis.imports[0].opcode, expected_opcode);
    }
}

#[test]
fn global_reduce() {
    let analysis = run(&os_system());
    assert_has(
        &analysis,
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
    assert_eq!(analysis.findings[0].offset, 2);
    assert_eq!(analysis.findings[0].opcode, "GLOBAL");
    assert!(analysis.findings[0].remedy.contains("weights_only=True"));
    assert!(!analysis.imports[0].allowed);
}

#[test]
fn inst_obj_newobj_newobj_ex() {
    let inst = Asm::new()
        .op(op::MARK)
        .str("true")
        .inst("subprocess", "call")
        .stop();
    assert_has(
        &run(&inst),
        "BWM-PICKLE-CODE-EXEC",
        Some("subprocess.call"),
        Critical,
    );

    let obj = Asm::new()
        .op(op::MARK)
        .global("subprocess", "Popen")
        .str("true")
        .op(op::OBJ)
        .stop();
    assert_has(
        &run(&obj),
        "BWM-PICKLE-CODE-EXEC",
        Some("subprocess.Popen"),
        Critical,
    );

    let newobj = Asm::proto(2)
        .global("subprocess", "Popen")
        .str("true")
        .op(op::TUPLE1)
        .op(op::NEWOBJ)
        .stop();
    assert_has(
        &run(&newobj),
        "BWM-PICKLE-CODE-EXEC",
        Some("subprocess.Popen"),
        Critical,
    );

    let newobj_ex = Asm::proto(4)
        .global("subprocess", "Popen")
        .str("true")
        .op(op::TUPLE1)
        .op(op::EMPTY_DICT)
        .op(op::NEWOBJ_EX)
        .stop();
    assert_has(
        &run(&newobj_ex),
        "BWM-PICKLE-CODE-EXEC",
        Some("subprocess.Popen"),
        Critical,
    );
}

#[test]
fn build_routes() {
    // An unknown class whose __setstate__ would run: the import is the finding.
    let setstate = Asm::proto(2)
        .global("evil_pkg.gadgets", "SetStateRunner")
        .op(op::EMPTY_TUPLE)
        .op(op::NEWOBJ)
        .op(op::EMPTY_DICT)
        .str("cmd")
        .str("true")
        .op(op::SETITEM)
        .op(op::BUILD)
        .stop();
    assert_has(
        &run(&setstate),
        "BWM-PICKLE-UNKNOWN-IMPORT",
        Some("evil_pkg.gadgets.SetStateRunner"),
        Medium,
    );

    // BUILD on an allowlisted function object itself rewrites it for the whole process.
    let mutate = Asm::proto(2)
        .global("torch._utils", "_rebuild_tensor_v2")
        .op(op::EMPTY_DICT)
        .str("__code__")
        .op(op::NONE)
        .op(op::SETITEM)
        .op(op::BUILD)
        .stop();
    let analysis = run(&mutate);
    assert_has(
        &analysis,
        "BWM-PICKLE-GLOBAL-MUTATION",
        Some("torch._utils._rebuild_tensor_v2"),
        Critical,
    );

    // Interpreter attributes set on an instance of an allowed class.
    let dunder = Asm::proto(2)
        .global("collections", "OrderedDict")
        .op(op::EMPTY_TUPLE)
        .op(op::REDUCE)
        .op(op::EMPTY_DICT)
        .str("__class__")
        .op(op::NONE)
        .op(op::SETITEM)
        .op(op::BUILD)
        .stop();
    assert_has(&run(&dunder), "BWM-PICKLE-GLOBAL-MUTATION", None, High);
}

#[test]
fn stack_global_operands_through_the_memo() {
    // picklescan's bypass: the operands come from memo entries written long before, one of
    // them overwritten after a decoy, so a scanner that pairs strings by position is wrong.
    let data = Asm::proto(4)
        .str("builtins")
        .put(0)
        .str("set")
        .put(1)
        .op(op::POP)
        .op(op::POP)
        .str("os")
        .put(0) // overwrites "builtins"
        .op(op::POP)
        .str("system")
        .op(op::MEMOIZE) // index len(memo) = 2
        .op(op::POP)
        .get(0)
        .get(2)
        .op(op::STACK_GLOBAL)
        .call1("true")
        .stop();
    let analysis = run(&data);
    assert_has(
        &analysis,
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
    assert_eq!(analysis.imports.len(), 1);
    assert_eq!(analysis.imports[0].opcode, "STACK_GLOBAL");

    // Operands the scanner cannot compute are a finding, not a pass.
    let computed = Asm::proto(4)
        .global("builtins", "str")
        .str("os")
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .global("collections", "OrderedDict")
        .op(op::EMPTY_TUPLE)
        .op(op::REDUCE)
        .op(op::STACK_GLOBAL)
        .stop();
    assert_has(&run(&computed), "BWM-PICKLE-RESOLVER", None, High);
}

#[test]
fn ext_opcodes() {
    for (code, arg) in [
        (op::EXT1, vec![1u8]),
        (op::EXT2, vec![0x34, 0x12]),
        (op::EXT4, vec![1, 0, 0, 0x10]),
    ] {
        let data = Asm::proto(2).op(code).raw(&arg).call1("true").stop();
        let analysis = run(&data);
        assert_has(&analysis, "BWM-PICKLE-EXT-CODE", None, High);
        assert!(analysis.max_severity() >= Some(High));
    }
    // A code <= 0 is rejected by CPython: malformed.
    let zero = Asm::proto(2).op(op::EXT1).raw(&[0]).stop();
    assert_has(&run(&zero), "BWM-PICKLE-MALFORMED", None, Medium);
}

#[test]
fn alias_modules() {
    for (module, name, callable) in [
        ("posix", "system", "posix.system"),
        ("nt", "system", "nt.system"),
        ("_operator", "attrgetter", "_operator.attrgetter"),
        ("_pickle", "loads", "_pickle.loads"),
        ("__builtin__", "eval", "__builtin__.eval"),
        ("copy_reg", "_reconstructor", "copy_reg._reconstructor"),
    ] {
        let analysis = run(&Asm::proto(2).global(module, name).call1("true").stop());
        let severity = if module == "copy_reg" {
            Medium
        } else {
            Critical
        };
        assert!(
            analysis
                .findings
                .iter()
                .any(|f| f.callable.as_deref() == Some(callable) && f.severity == severity),
            "{callable}: {:#?}",
            analysis.findings
        );
    }
}

#[test]
fn dotted_names() {
    // Protocol 4 resolves dotted names as attribute paths: posixpath.os is the os module.
    let data = Asm::proto(4)
        .str("posixpath")
        .str("os.system")
        .op(op::STACK_GLOBAL)
        .call1("true")
        .stop();
    assert_has(
        &run(&data),
        "BWM-PICKLE-CODE-EXEC",
        Some("posixpath.os.system"),
        Critical,
    );
    // A dotted path from an allowlisted object into interpreter internals.
    let data = Asm::proto(4)
        .str("torch._utils")
        .str("_rebuild_tensor_v2.__globals__")
        .op(op::STACK_GLOBAL)
        .stop();
    assert_has(&run(&data), "BWM-PICKLE-RESOLVER", None, Critical);
    // The full dotted name of an allowlisted callable spelt from its package is allowed.
    let data = Asm::proto(4)
        .str("torch")
        .str("_utils._rebuild_tensor_v2")
        .op(op::STACK_GLOBAL)
        .stop();
    assert_clean(&run(&data));
}

#[test]
fn getattr_chains() {
    let data = Asm::proto(2)
        .global("builtins", "getattr")
        .put(0)
        .get(0)
        .global("collections", "OrderedDict")
        .str("os")
        .op(op::TUPLE2)
        .op(op::REDUCE)
        .str("system")
        .op(op::TUPLE2)
        .op(op::REDUCE)
        .call1("true")
        .stop();
    let analysis = run(&data);
    assert_has(
        &analysis,
        "BWM-PICKLE-RESOLVER",
        Some("builtins.getattr"),
        Critical,
    );
    assert_has(
        &analysis,
        "BWM-PICKLE-CODE-EXEC",
        Some("collections.OrderedDict.os.system"),
        Critical,
    );
    // Calling what getattr returned is not a call of an imported global.
    assert!(!has(&analysis, "BWM-PICKLE-DYNAMIC-CALL", None));
}

#[test]
fn unlisted_gadgets_are_findings() {
    for (module, name) in [
        ("codeop", "compile_command"),
        ("inspect", "getattr_static"),
        ("pydoc", "locate"),
        ("pkgutil", "resolve_name"),
        ("importlib", "import_module"),
        ("types", "CodeType"),
        ("some_plugin.hooks", "on_load"),
    ] {
        let analysis = run(&Asm::proto(2).global(module, name).call1("true").stop());
        let severity = if module == "some_plugin.hooks" {
            Medium
        } else {
            Critical
        };
        assert_eq!(analysis.max_severity(), Some(severity), "{module}.{name}");
    }
}

#[test]
fn nested_pickle_through_pickle_loads() {
    let inner = os_system();
    let data = Asm::proto(3)
        .global("pickle", "loads")
        .bytes(&inner)
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .stop();
    let analysis = run(&data);
    assert_has(
        &analysis,
        "BWM-PICKLE-RESOLVER",
        Some("pickle.loads"),
        Critical,
    );
    assert_has(
        &analysis,
        "BWM-PICKLE-NESTED",
        Some("pickle.loads"),
        Critical,
    );
    let nested = analysis
        .findings
        .iter()
        .find(|f| f.callable.as_deref() == Some("os.system"))
        .expect("the inner finding");
    let reduce_at = (data.len() - 2) as u64;
    assert_eq!(nested.nesting, vec![reduce_at]);
    assert_eq!(nested.offset, 2);
    assert_eq!(analysis.imports.iter().filter(|i| i.depth == 1).count(), 1);

    // Through base64 and _codecs.encode: decoded symbolically, then analyzed.
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&inner);
    let data = Asm::proto(2)
        .global("_pickle", "loads")
        .global("base64", "b64decode")
        .str(&encoded)
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .stop();
    let analysis = run(&data);
    assert!(
        analysis
            .findings
            .iter()
            .any(|f| f.callable.as_deref() == Some("os.system") && f.nesting.len() == 1)
    );

    // Marshal-encoded code objects.
    let data = Asm::proto(3)
        .global("marshal", "loads")
        .bytes(b"\xe3\x00\x00\x00")
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .stop();
    assert_has(
        &run(&data),
        "BWM-PICKLE-NESTED",
        Some("marshal.loads"),
        Critical,
    );
}

#[test]
fn nesting_is_bounded() {
    let mut payload = os_system();
    for _ in 0..8 {
        payload = Asm::proto(3)
            .global("pickle", "loads")
            .bytes(&payload)
            .op(op::TUPLE1)
            .op(op::REDUCE)
            .stop();
    }
    let analysis = run(&payload);
    assert!(
        analysis
            .findings
            .iter()
            .any(|f| f.message.contains("was not scanned"))
    );
    assert!(analysis.findings.iter().all(|f| f.nesting.len() <= 4));
}

#[test]
fn codecs_encode_latin1_only() {
    let latin1 = Asm::proto(2)
        .global("_codecs", "encode")
        .str("\u{80}\u{ff}")
        .str("latin1")
        .op(op::TUPLE2)
        .op(op::REDUCE)
        .stop();
    assert_clean(&run(&latin1));
    let other = Asm::proto(2)
        .global("_codecs", "encode")
        .str("abc")
        .str("rot13")
        .op(op::TUPLE2)
        .op(op::REDUCE)
        .stop();
    assert_has(
        &run(&other),
        "BWM-PICKLE-UNUSUAL-USE",
        Some("_codecs.encode"),
        Medium,
    );
    // pickle.loads(_codecs.encode(<latin-1 text of a pickle>, 'latin1')) is still followed.
    let text: String = os_system().iter().map(|&b| char::from(b)).collect();
    let data = Asm::proto(2)
        .global("pickle", "loads")
        .global("_codecs", "encode")
        .str(&text)
        .str("latin1")
        .op(op::TUPLE2)
        .op(op::REDUCE)
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .stop();
    assert!(
        run(&data)
            .findings
            .iter()
            .any(|f| f.callable.as_deref() == Some("os.system"))
    );
}

// ---- streams ----

#[test]
fn second_pickle_after_a_benign_one() {
    let mut data = fixture("benign_data_p4.pkl");
    data.extend(os_system());
    let analysis = run(&data);
    assert_eq!(analysis.pickles, 2);
    let finding = analysis
        .findings
        .iter()
        .find(|f| f.callable.as_deref() == Some("os.system"))
        .unwrap();
    assert_eq!(
        finding.offset,
        fixture("benign_data_p4.pkl").len() as u64 + 2
    );
}

#[test]
fn truncated_streams() {
    let full = fixture("torch_state_dict_p2.pkl");
    for cut in 1..full.len() {
        let analysis = run(&full[..cut]);
        assert_has(&analysis, "BWM-PICKLE-MALFORMED", None, Medium);
    }
    // A huge declared length is checked against the input before anything is allocated.
    let data = Asm::proto(4)
        .op(op::BINUNICODE8)
        .raw(&u64::MAX.to_le_bytes())
        .raw(b"abc")
        .stop();
    assert!(run(&data).findings[0].message.contains("truncated"));
}

#[test]
fn malformed_streams() {
    for (data, what) in [
        (Asm::proto(2).op(op::REDUCE).stop(), "underflow"),
        (
            Asm::proto(2).op(op::EMPTY_LIST).op(op::APPENDS).stop(),
            "MARK",
        ),
        (Asm::proto(2).get(7).stop(), "memo index 7"),
        (
            Asm::proto(2).op(op::MARK).op(op::NONE).op(op::DICT).stop(),
            "odd number",
        ),
        (Asm::new().op(op::STRING).raw(b"os\n").stop(), "quoted"),
        (Asm::proto(9).op(op::NONE).stop(), "protocol 9"),
        (Asm::proto(2).op(op::MARK).op(op::STOP).0, "underflow"),
    ] {
        let analysis = run(&data);
        assert!(
            analysis
                .findings
                .iter()
                .any(|f| f.id == "BWM-PICKLE-MALFORMED" && f.message.contains(what)),
            "{what}: {:#?}",
            analysis.findings
        );
    }
}

#[test]
fn unknown_opcode_is_high_and_scanning_resynchronizes() {
    let mut data = Asm::proto(2).op(op::NONE).raw(&[0xfe]).0;
    data.extend(os_system());
    let analysis = run(&data);
    assert_has(&analysis, "BWM-PICKLE-MALFORMED", None, High);
    assert_has(
        &analysis,
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
    assert_eq!(analysis.pickles, 2);
    // Protocol-0 imports in the skipped bytes are still seen.
    let data = [b"\x80\x02\xfe garbage cos\nsystem\n(S'true'\ntR.".as_slice()].concat();
    assert_has(
        &run(&data),
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
}

#[test]
fn budgets_end_in_a_finding() {
    let limits = Limits {
        max_ops: 1_000,
        ..Limits::default()
    };
    let data = Asm::proto(2).raw(&vec![op::NONE; 5_000]).stop();
    let analysis = analyze(&data, &limits);
    assert!(
        analysis
            .findings
            .iter()
            .any(|f| f.message.contains("operation budget"))
    );

    let limits = Limits {
        max_stack: 100,
        ..Limits::default()
    };
    let deep = Asm::proto(2).raw(&vec![op::MARK; 1_000]).stop();
    assert!(
        analyze(&deep, &limits)
            .findings
            .iter()
            .any(|f| f.message.contains("mark depth budget"))
    );
    let wide = Asm::proto(2).raw(&vec![op::NONE; 1_000]).stop();
    assert!(
        analyze(&wide, &limits)
            .findings
            .iter()
            .any(|f| f.message.contains("stack depth budget"))
    );

    let limits = Limits {
        max_memo: 10,
        ..Limits::default()
    };
    let mut memo = Asm::proto(4).op(op::NONE);
    for _ in 0..20 {
        memo = memo.op(op::MEMOIZE);
    }
    assert!(
        analyze(&memo.stop(), &limits)
            .findings
            .iter()
            .any(|f| f.message.contains("memo size budget"))
    );
}

#[test]
fn benign_pytorch_state_dict_is_clean() {
    let analysis = run(&fixture("torch_state_dict_p2.pkl"));
    assert_clean(&analysis);
    let imports: Vec<String> = analysis
        .imports
        .iter()
        .map(|i| format!("{}.{}", i.module, i.name))
        .collect();
    assert_eq!(
        imports,
        [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch.FloatStorage"
        ]
    );
    assert!(analysis.imports.iter().all(|i| i.allowed));
}

#[test]
fn persistent_ids_are_checked() {
    let odd = Asm::proto(2)
        .str("module")
        .global("os", "path")
        .op(op::TUPLE2)
        .op(op::BINPERSID)
        .stop();
    assert_has(&run(&odd), "BWM-PICKLE-PERSISTENT-ID", None, Medium);
    let text = Asm::new().op(op::PERSID).raw(b"0\n").stop();
    assert_has(&run(&text), "BWM-PICKLE-PERSISTENT-ID", None, Medium);
}

/// `numpy.dtype('f8')` as NumPy pickles it.
fn numpy_dtype(a: Asm, descr: &str) -> Asm {
    a.global("numpy", "dtype")
        .str(descr)
        .op(op::NEWFALSE)
        .op(op::NEWTRUE)
        .op(op::TUPLE3)
        .op(op::REDUCE)
        .op(op::MARK)
        .int(3)
        .str("<")
        .op(op::NONE)
        .op(op::NONE)
        .op(op::NONE)
        .int(-1)
        .int(-1)
        .int(0)
        .op(op::TUPLE)
        .op(op::BUILD)
}

#[test]
fn numpy_array_pickle_is_clean() {
    let a = Asm::proto(2)
        .global("numpy.core.multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .int(0)
        .op(op::TUPLE1)
        .bytes(b"b")
        .op(op::TUPLE3)
        .op(op::REDUCE)
        .op(op::MARK)
        .int(1)
        .int(3)
        .op(op::TUPLE1);
    let data = numpy_dtype(a, "f8")
        .op(op::NEWFALSE)
        .bytes(&[0u8; 24])
        .op(op::TUPLE)
        .op(op::BUILD)
        .stop();
    assert_clean(&run(&data));
}

#[test]
fn protocol_0_text_opcodes() {
    // Every text opcode, benign: (lp0\nI1\naL2L\naF1.5\naS'x'\naVy\\u0041\nag0\na(dp1\n...
    let benign = b"(lp0\nI1\naL2L\naF1.5\naS'x'\naVy\\u0041\nap1\ng0\na(dp2\nS'k'\np3\nI01\nsa(I1\nI2\ntp4\na.";
    let analysis = run(benign);
    assert_clean(&analysis);
    assert_eq!(analysis.pickles, 1);
    let inst = b"(S'true'\nios\nsystem\np0\n.";
    assert_has(
        &run(inst),
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
    let unicode = b"(Vsubprocess\nVcall\n\x93.";
    // STACK_GLOBAL needs no protocol header: operands from protocol-0 strings still resolve.
    assert_has(
        &run(&unicode[1..]),
        "BWM-PICKLE-CODE-EXEC",
        Some("subprocess.call"),
        Critical,
    );
}

#[test]
fn random_bytes_and_truncations_never_panic() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds = [
        fixture("torch_state_dict_p2.pkl"),
        fixture("benign_data_p4.pkl"),
        fixture("os_system_p0.pkl"),
        os_system(),
    ];
    let limits = Limits {
        max_ops: 100_000,
        ..Limits::default()
    };
    for round in 0..3_000 {
        let mut data = seeds[round % seeds.len()].clone();
        for _ in 0..(next() % 6) {
            let at = (next() as usize) % data.len().max(1);
            match next() % 3 {
                0 if !data.is_empty() => data[at] = next() as u8,
                1 => data.insert(at.min(data.len()), next() as u8),
                _ => data.truncate(at),
            }
        }
        if round % 7 == 0 {
            data = (0..(next() % 300)).map(|_| next() as u8).collect();
        }
        let analysis = analyze(&data, &limits);
        assert!(analysis.findings.len() <= limits.max_findings + 1);
        let _ = scan_file(&mut Cursor::new(data), "fuzz", &limits);
    }
}

// ---- containers ----

fn crc_free_zip(members: &[(&str, &[u8], bool, bool)]) -> Vec<u8> {
    // (name, data, listed in the central directory, deflated)
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut listed = 0u16;
    for (name, data, in_directory, deflate) in members {
        let body = if *deflate {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        } else {
            data.to_vec()
        };
        let method: u16 = if *deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // time, date, crc (wrong on purpose: ignored)
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        if *in_directory {
            listed += 1;
            central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
    }
    let directory_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&listed.to_le_bytes());
    out.extend_from_slice(&listed.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

fn scan(data: Vec<u8>) -> Vec<ArtifactFinding> {
    scan_file(&mut Cursor::new(data), "model.pt", &Limits::default())
}

fn assert_member(findings: &[ArtifactFinding], member: &str, callable: &str) {
    assert!(
        findings.iter().any(|f| f.member.as_deref() == Some(member) && f.callable.as_deref() == Some(callable)),
        "no {callable} in {member}: {findings:#?}"
    );
}

/// Raw tensor bytes that would read as a broken pickle (and hold a PROTO header).
const STORAGE: &[u8] = b"\x80\x02\xfe\xff\x00\x01garbage\x80\x03cos\nsystem\n";

fn torch_zip(data_pkl: &[u8]) -> Vec<u8> {
    crc_free_zip(&[
        ("archive/data.pkl", data_pkl, true, false),
        ("archive/byteorder", b"little", true, false),
        ("archive/data/0", STORAGE, true, false),
        ("archive/data/1", STORAGE, true, false),
        ("archive/version", b"3\n", true, false),
    ])
}

#[test]
fn pytorch_zip_benign_and_malicious() {
    assert!(scan(torch_zip(&fixture("torch_state_dict_p2.pkl"))).is_empty());
    let findings = scan(torch_zip(&os_system()));
    assert_member(&findings, "archive/data.pkl", "os.system");
    assert_eq!(findings[0].path, "model.pt");
    assert_eq!(findings[0].offset, Some(2));
}

#[test]
fn zip_member_only_in_local_headers() {
    let benign = fixture("torch_state_dict_p2.pkl");
    let evil = os_system();
    let data = crc_free_zip(&[
        ("archive/data.pkl", &benign, true, false),
        ("archive/extra.pkl", &evil, false, true),
        ("archive/version", b"3\n", true, false),
    ]);
    assert_member(&scan(data), "archive/extra.pkl", "os.system");
}

#[test]
fn zip_member_only_in_central_directory() {
    // A local header the walk cannot step over (a bogus size) still lists through the
    // central directory.
    let evil = os_system();
    let mut data = crc_free_zip(&[
        ("a.bin", b"xx", true, false),
        ("archive/data.pkl", &evil, true, false),
    ]);
    data[18..22].copy_from_slice(&u32::MAX.to_le_bytes()); // a.bin's compressed size
    assert_member(&scan(data), "archive/data.pkl", "os.system");
}

#[test]
fn zip_in_zip() {
    let inner = torch_zip(&os_system());
    let outer = crc_free_zip(&[
        ("handler.py", b"pass\n", true, false),
        ("inner.pt", &inner, true, true),
    ]);
    assert_member(&scan(outer), "inner.pt!/archive/data.pkl", "os.system");
    // Nesting beyond the limit is a finding, not a pass.
    let mut nested = inner;
    for _ in 0..6 {
        nested = crc_free_zip(&[("inner.pt", &nested, true, false)]);
    }
    assert!(scan(nested).iter().any(|f| f.id == "BWM-PICKLE-LIMIT"));
}

fn legacy_pickles(data_pkl: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
    out.extend_from_slice(b"\x80\x02M\xe9\x03.");
    out.extend_from_slice(b"\x80\x02}q\x00X\x0d\x00\x00\x00little_endianq\x01\x88s.");
    out.extend_from_slice(data_pkl);
    out.extend_from_slice(b"\x80\x02]q\x00(X\x01\x00\x00\x000q\x01X\x01\x00\x00\x001q\x02e.");
    out
}

#[test]
fn legacy_stacked_pickles() {
    let mut benign = legacy_pickles(&fixture("torch_state_dict_p2.pkl"));
    benign.extend_from_slice(&6u64.to_le_bytes());
    benign.extend_from_slice(STORAGE);
    assert!(scan(benign).is_empty());
    let evil = legacy_pickles(&os_system());
    assert!(
        scan(evil)
            .iter()
            .any(|f| f.callable.as_deref() == Some("os.system") && f.member.is_none())
    );
}

#[test]
fn legacy_tar() {
    let count_one = b"\x80\x02K\x01.";
    let mut storages = count_one.to_vec();
    storages.extend_from_slice(
        b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\ntq\x00.",
    );
    storages.extend_from_slice(&2u64.to_le_bytes());
    storages.extend_from_slice(b"\xff\xfe\x80\x02cos\n");
    let mut tensors = count_one.to_vec();
    tensors.extend_from_slice(
        b"\x80\x02X\x01\x00\x00\x00tX\x01\x00\x00\x000ctorch\nFloatStorage\n\x87.",
    );
    tensors.extend_from_slice(&1u32.to_le_bytes());
    tensors.extend_from_slice(&[0xff; 4 + 8 + 8 + 8]);
    let sys_info = b"\x80\x02}q\x00X\x0d\x00\x00\x00little_endianq\x01\x88s.";
    let benign = fixture("torch_state_dict_p2.pkl");
    let archive = |pickle: &[u8]| {
        tar(&[
            ("sys_info", sys_info),
            ("pickle", pickle),
            ("storages", &storages),
            ("tensors", &tensors),
        ])
    };
    assert!(
        scan(archive(&benign)).is_empty(),
        "{:#?}",
        scan(archive(&benign))
    );
    assert_member(&scan(archive(&os_system())), "pickle", "os.system");
}

fn npy(descr: &str, body: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn npy_object_arrays_and_npz() {
    let evil = npy("|O", &os_system());
    let findings = scan(evil.clone());
    let pickle_at = (evil.len() - os_system().len()) as u64;
    assert_eq!(pickle_at % 64, 0);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].callable.as_deref(), Some("os.system"));
    assert_eq!(findings[0].offset, Some(pickle_at + 2));
    // Plain arrays hold no pickle, whatever their bytes look like.
    assert!(scan(npy("<f8", &os_system())).is_empty());
    let npz = crc_free_zip(&[
        ("a.npy", &npy("<f8", b"12345678"), true, false),
        ("b.npy", &evil, true, true),
    ]);
    assert_member(&scan(npz), "b.npy", "os.system");
}

#[test]
fn torchscript_archive() {
    let code = b"class Model(Module):\n  def forward(self: __torch__.Model) -> int:\n    _0 = getattr(self.layers, \"0\")\n    return os.system(\"true\")\n";
    let data_pkl = Asm::proto(2)
        .global("__torch__", "Model")
        .op(op::EMPTY_TUPLE)
        .op(op::NEWOBJ)
        .stop();
    let archive = crc_free_zip(&[
        ("archive/code/__torch__.py", code, true, true),
        ("archive/constants.pkl", b"\x80\x02).", true, false),
        ("archive/data.pkl", &data_pkl, true, false),
    ]);
    let findings = scan(archive);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].id, "BWM-PICKLE-TORCHSCRIPT-CODE");
    assert_eq!(findings[0].callable.as_deref(), Some("os.system"));
    assert_eq!(
        findings[0].member.as_deref(),
        Some("archive/code/__torch__.py")
    );
    // Outside a TorchScript archive the same class is an unknown import.
    assert!(
        scan(data_pkl)
            .iter()
            .any(|f| f.id == "BWM-PICKLE-UNKNOWN-IMPORT")
    );
}

#[test]
fn joblib_inline_array_data_is_skipped() {
    let state = |a: Asm| {
        let a = a
            .op(op::EMPTY_DICT)
            .op(op::MARK)
            .str("subclass")
            .global("numpy", "ndarray")
            .str("shape")
            .int(2)
            .op(op::TUPLE1)
            .str("order")
            .str("C")
            .str("dtype");
        numpy_dtype(a, "f8")
            .str("allow_mmap")
            .op(op::NEWFALSE)
            .str("numpy_array_alignment_bytes")
            .int(16)
            .op(op::SETITEMS)
    };
    let wrapper = Asm::proto(4)
        .global("joblib.numpy_pickle", "NumpyArrayWrapper")
        .op(op::EMPTY_TUPLE)
        .op(op::NEWOBJ)
        .op(op::MEMOIZE);
    let mut data = state(wrapper).op(op::BUILD).0;
    data.push(3); // padding length, then the padding, then 2 x f8 of raw data
    data.extend_from_slice(&[0xff; 3]);
    data.extend_from_slice(b"\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\x93\x93\x93\x93\x93\x93\x93\x93");
    let mut benign = data.clone();
    benign.push(op::STOP);
    let analysis = run(&benign);
    assert_clean(&analysis);
    let mut evil = data;
    evil.extend(
        Asm::new()
            .op(op::POP)
            .global("os", "system")
            .call1("true")
            .stop(),
    );
    assert_has(
        &run(&evil),
        "BWM-PICKLE-CODE-EXEC",
        Some("os.system"),
        Critical,
    );
}

#[test]
fn compressed_joblib() {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&os_system()).unwrap();
    let findings = scan(encoder.finish().unwrap());
    assert!(
        findings
            .iter()
            .any(|f| f.callable.as_deref() == Some("os.system"))
    );
}

#[test]
fn other_content_is_not_a_pickle() {
    assert!(scan(b"\x00\x01\x02 not a model".to_vec()).is_empty());
    assert!(scan(Vec::new()).is_empty());
}

#[test]
fn cataloger_reports_artifact_findings() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("models/bert");
    fs_err::create_dir_all(&model_dir).unwrap();
    fs_err::write(model_dir.join("pytorch_model.bin"), torch_zip(&os_system())).unwrap();
    fs_err::write(
        model_dir.join("clean.pt"),
        torch_zip(&fixture("torch_state_dict_p2.pkl")),
    )
    .unwrap();
    let resolver = DirResolver::new(dir.path());
    let cataloger = &crate::catalogers()[0];
    assert_eq!(cataloger.id(), "model/pickle");
    let file = FileRef {
        path: "models/bert/pytorch_model.bin",
        explicit: false,
    };
    assert!(cataloger.wants(&file));
    let output = cataloger.catalog(&file, &resolver).unwrap();
    assert!(output.components.is_empty());
    let finding = &output.findings[0];
    assert_eq!(finding.path, "models/bert/pytorch_model.bin");
    assert_eq!(finding.member.as_deref(), Some("archive/data.pkl"));
    assert_eq!(finding.id, "BWM-PICKLE-CODE-EXEC");
    assert_eq!(finding.severity, Critical);
    let clean = FileRef {
        path: "models/bert/clean.pt",
        explicit: false,
    };
    assert!(
        cataloger
            .catalog(&clean, &resolver)
            .unwrap()
            .findings
            .is_empty()
    );
}
