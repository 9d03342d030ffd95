//! The symbolic pickle machine: every opcode of protocols 0 to 5 is decoded and its effect on
//! the stack and the memo simulated exactly, without executing anything.
//!
//! Values are kept in an arena per pickle (indices on the stack and in the memo), so `DUP`,
//! `GET` and self-referencing containers cost nothing and cannot blow up. Only what decides
//! a verdict is modelled precisely: strings (the operands of `STACK_GLOBAL`), bytes (nested
//! payloads), imported globals and the calls made on them. The rest is opaque.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use bulwark_inventory::ArtifactSeverity;

use crate::Limits;
use crate::opcode::{self, op};
use crate::policy::{self, Class, Loader, REMEDY_LOAD, REMEDY_MALFORMED, rule};

/// One finding in a pickle stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickleFinding {
    /// Stable rule id (`BWM-PICKLE-CODE-EXEC`).
    pub id: &'static str,
    /// How dangerous it is.
    pub severity: ArtifactSeverity,
    /// Byte offset of the opcode in the stream it was found in (the innermost one when
    /// [`nesting`](Self::nesting) is not empty).
    pub offset: u64,
    /// The opcode's name as `pickletools` spells it (`STACK_GLOBAL`).
    pub opcode: &'static str,
    /// The callable involved (`os.system`), when there is one.
    pub callable: Option<String>,
    /// What was found, in one sentence.
    pub message: String,
    /// What to do about it.
    pub remedy: &'static str,
    /// Offsets of the calls that carried the nested payload this was found in, outermost
    /// first; empty for the top-level stream.
    pub nesting: Vec<u64>,
}

impl fmt::Display for PickleFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outer in &self.nesting {
            write!(f, "[nested at {outer}] ")?;
        }
        write!(
            f,
            "{} {} at {} ({}): {}",
            self.id, self.severity, self.offset, self.opcode, self.message
        )
    }
}

/// One import (`GLOBAL`, `STACK_GLOBAL`, `INST`) and the verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The module as written.
    pub module: String,
    /// The name as written (may be a dotted attribute path).
    pub name: String,
    /// Byte offset of the opcode.
    pub offset: u64,
    /// The opcode's name.
    pub opcode: &'static str,
    /// Whether the allowlist accepts it.
    pub allowed: bool,
    /// How many nested payloads deep it was found (0: the stream itself).
    pub depth: usize,
}

/// What [`analyze`] found in a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// How many pickles the stream held (each `STOP`-terminated pickle, plus one for a
    /// pickle cut short by an error).
    pub pickles: usize,
    /// Everything unsafe or unreadable, in stream order.
    pub findings: Vec<PickleFinding>,
    /// Every import, in stream order (at most [`Limits::max_imports`]).
    pub imports: Vec<Import>,
}

impl Analysis {
    /// The greatest severity found, if any.
    pub fn max_severity(&self) -> Option<ArtifactSeverity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Analyzes every pickle in `data` (several may be concatenated). Nothing is executed;
/// time and memory are bounded by `limits`.
pub fn analyze(data: &[u8], limits: &Limits) -> Analysis {
    let mut session = Session::new(limits, Context::default());
    let run = session.stream(data, &[], None);
    session.finish(run.pickles)
}

/// Where a pickle is read: some containers allow more names for their own pickles.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context {
    /// Inside a TorchScript archive (`__torch__.*` classes are compiled code).
    pub(crate) torchscript: bool,
}

/// How far a stream was read.
#[derive(Debug, Clone)]
pub(crate) struct StreamRun {
    /// Pickles read.
    pub(crate) pickles: usize,
    /// Offset after the last pickle read.
    pub(crate) end: usize,
    /// Whether a pickle ran past the end of the data (a bigger window may complete it).
    pub(crate) cut: bool,
    /// What the last complete pickle returned.
    pub(crate) root: Root,
}

/// The few facts about a pickle's result that containers need: the legacy PyTorch formats
/// interleave pickles with raw data whose size they declare.
#[derive(Debug, Clone, Default)]
pub(crate) struct Root {
    /// The result, when it is an int (a count).
    pub(crate) int: Option<i64>,
    /// The imported globals among the result's items, when it is a tuple (a storage type).
    pub(crate) globals: Vec<String>,
}

/// State shared by all the pickles of one file: budgets and what was found.
pub(crate) struct Session<'l> {
    limits: &'l Limits,
    ctx: Context,
    ops_left: u64,
    findings: Vec<PickleFinding>,
    imports: Vec<Import>,
    omitted: usize,
}

impl<'l> Session<'l> {
    pub(crate) fn new(limits: &'l Limits, ctx: Context) -> Self {
        Self {
            limits,
            ctx,
            ops_left: limits.max_ops,
            findings: Vec::new(),
            imports: Vec::new(),
            omitted: 0,
        }
    }

    /// The analysis so far.
    pub(crate) fn finish(mut self, pickles: usize) -> Analysis {
        if self.omitted > 0 {
            let omitted = self.omitted;
            self.findings.push(PickleFinding {
                id: rule::LIMIT,
                severity: ArtifactSeverity::Low,
                offset: 0,
                opcode: "",
                callable: None,
                message: format!("{omitted} more findings were left out of the report"),
                remedy: REMEDY_MALFORMED,
                nesting: Vec::new(),
            });
        }
        Analysis {
            pickles,
            findings: self.findings,
            imports: self.imports,
        }
    }

    fn report(&mut self, finding: PickleFinding) {
        if self.findings.len() >= self.limits.max_findings {
            self.omitted += 1;
        } else {
            self.findings.push(finding);
        }
    }

    /// Reads pickles from `data` until its end (or `max_pickles`), resynchronizing after
    /// errors at the next protocol header.
    pub(crate) fn stream(
        &mut self,
        data: &[u8],
        nesting: &[u64],
        max_pickles: Option<usize>,
    ) -> StreamRun {
        let mut pos = 0;
        let mut pickles = 0;
        let mut cut = false;
        let mut root = Root::default();
        while pos < data.len() && max_pickles.is_none_or(|max| pickles < max) {
            if pickles > 0
                && data[pos..]
                    .iter()
                    .all(|b| b.is_ascii_whitespace() || *b == 0)
            {
                // Padding after the last pickle is not another pickle.
                pos = data.len();
                break;
            }
            pickles += 1;
            match Machine::new(self, data, pos, nesting).run() {
                Ok((end, result)) => {
                    pos = end;
                    root = result;
                }
                Err(error) => {
                    let budget = matches!(error.fault, Fault::Budget(_));
                    cut |= matches!(error.fault, Fault::Truncated);
                    self.malformed(&error, nesting);
                    if budget {
                        return StreamRun {
                            pickles,
                            end: data.len(),
                            cut,
                            root,
                        };
                    }
                    let from = (error.offset + 1).min(data.len());
                    let next = find_protocol_header(data, from);
                    self.scan_skipped(&data[from..next.unwrap_or(data.len())], from, nesting);
                    match next {
                        Some(next) => pos = next,
                        None => {
                            pos = data.len();
                            break;
                        }
                    }
                }
            }
        }
        StreamRun {
            pickles,
            end: pos,
            cut,
            root,
        }
    }

    fn malformed(&mut self, error: &MachineError, nesting: &[u64]) {
        let severity = match error.fault {
            Fault::UnknownOpcode(_) => ArtifactSeverity::High,
            _ => ArtifactSeverity::Medium,
        };
        self.report(PickleFinding {
            id: rule::MALFORMED,
            severity,
            offset: error.offset as u64,
            opcode: error.opcode,
            callable: None,
            message: format!(
                "the pickle cannot be read past this point: {}; what follows is scanned from the next protocol header",
                error.fault
            ),
            remedy: REMEDY_MALFORMED,
            nesting: nesting.to_vec(),
        });
    }

    /// Looks for `GLOBAL`-shaped text (`c<module>\n<name>\n`) in bytes skipped after an
    /// error: a loader that reads the stream differently may still import them.
    fn scan_skipped(&mut self, skipped: &[u8], base: usize, nesting: &[u64]) {
        let mut i = 0;
        while i < skipped.len() {
            if skipped[i] == op::GLOBAL
                && let Some((module, name, len)) = global_text(&skipped[i + 1..])
            {
                if let Class::Denied {
                    rule,
                    severity,
                    why,
                } = policy::classify(module, name, self.ctx.torchscript)
                    && severity >= ArtifactSeverity::High
                {
                    self.report(PickleFinding {
                        id: rule,
                        severity,
                        offset: (base + i) as u64,
                        opcode: "GLOBAL",
                        callable: Some(format!("{module}.{name}")),
                        message: format!(
                            "bytes skipped after a malformed opcode hold an import of {module}.{name}, which {why}"
                        ),
                        remedy: REMEDY_LOAD,
                        nesting: nesting.to_vec(),
                    });
                }
                i += 1 + len;
                continue;
            }
            i += 1;
        }
    }
}

/// `module\nname\n` at the start of `bytes`, both identifier-like: `(module, name, length)`.
fn global_text(bytes: &[u8]) -> Option<(&str, &str, usize)> {
    const MAX: usize = 256;
    let window = &bytes[..bytes.len().min(2 * MAX + 2)];
    let first = window.iter().position(|&b| b == b'\n')?;
    let second = window[first + 1..].iter().position(|&b| b == b'\n')? + first + 1;
    let module = std::str::from_utf8(&window[..first]).ok()?;
    let name = std::str::from_utf8(&window[first + 1..second]).ok()?;
    let identifier = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    (identifier(module) && identifier(name)).then_some((module, name, second + 1))
}

/// The offset of the next `PROTO 2..5` at or after `from`.
fn find_protocol_header(data: &[u8], from: usize) -> Option<usize> {
    data.get(from..)?
        .windows(2)
        .position(|w| w[0] == op::PROTO && (2..=5).contains(&w[1]))
        .map(|p| p + from)
}

/// Why a pickle could not be read further.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Fault {
    #[error("the stream ends inside the opcode or before STOP (truncated)")]
    Truncated,
    #[error("byte 0x{0:02x} is not a pickle opcode")]
    UnknownOpcode(u8),
    #[error(
        "the opcode needs a value the stack does not hold above the last MARK (stack underflow)"
    )]
    Underflow,
    #[error("the opcode needs a MARK and there is none")]
    NoMark,
    #[error("memo index {0} is read before anything was stored there")]
    MissingMemo(u64),
    #[error("{0}")]
    Invalid(String),
    #[error("the scanner's {0} budget is exhausted; the rest was not scanned")]
    Budget(&'static str),
}

/// A fault at an opcode.
#[derive(Debug)]
pub(crate) struct MachineError {
    offset: usize,
    opcode: &'static str,
    fault: Fault,
}

type Id = u32;

/// Bytes held by a value: a range of the machine's input, or decoded ones.
#[derive(Debug)]
enum Blob {
    Slice(usize, usize),
    Owned(Vec<u8>),
}

#[derive(Debug)]
struct GlobalRef {
    module: String,
    name: String,
    class: Class,
    loader: Option<Loader>,
}

impl GlobalRef {
    fn path(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// A value on the symbolic stack.
#[derive(Debug)]
enum Node {
    Opaque,
    Int(i64),
    Str(String),
    Bytes(Blob),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Set(Vec<Id>),
    /// Keys and values, alternating.
    Dict(Vec<Id>),
    Global(Box<GlobalRef>),
    /// The result of calling `callee` (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`).
    Object {
        callee: Id,
        args: Id,
    },
    Persistent,
    Ext(i64),
}

struct Machine<'s, 'l, 'd> {
    session: &'s mut Session<'l>,
    data: &'d [u8],
    pos: usize,
    nesting: &'s [u64],
    nodes: Vec<Node>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    /// Offset and name of the opcode being executed.
    at: usize,
    opname: &'static str,
}

type Step<T> = Result<T, Fault>;

impl<'s, 'l, 'd> Machine<'s, 'l, 'd> {
    fn new(session: &'s mut Session<'l>, data: &'d [u8], pos: usize, nesting: &'s [u64]) -> Self {
        Self {
            session,
            data,
            pos,
            nesting,
            nodes: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            at: pos,
            opname: "",
        }
    }

    /// Runs one pickle to its `STOP`; returns the offset after it and its result.
    fn run(mut self) -> Result<(usize, Root), MachineError> {
        loop {
            self.at = self.pos;
            let Some(&byte) = self.data.get(self.pos) else {
                return Err(self.error(Fault::Truncated));
            };
            let Some(opcode) = opcode::lookup(byte) else {
                self.opname = "";
                return Err(self.error(Fault::UnknownOpcode(byte)));
            };
            self.opname = opcode.name;
            if self.session.ops_left == 0 {
                return Err(self.error(Fault::Budget("operation")));
            }
            self.session.ops_left -= 1;
            match self.step(opcode.code) {
                Ok(true) => {
                    let root = self.summarize();
                    return Ok((self.pos, root));
                }
                Ok(false) => {}
                Err(fault) => return Err(self.error(fault)),
            }
        }
    }

    fn error(&self, fault: Fault) -> MachineError {
        MachineError {
            offset: self.at,
            opcode: self.opname,
            fault,
        }
    }

    /// The [`Root`] of the value `STOP` left on top of the stack.
    fn summarize(&self) -> Root {
        let Some(&result) = self.stack.last() else {
            return Root::default();
        };
        let int = match self.node(result) {
            Node::Int(n) => Some(*n),
            _ => None,
        };
        let globals = self
            .items(result)
            .iter()
            .filter_map(|&item| self.global(item).map(GlobalRef::path))
            .collect();
        Root { int, globals }
    }

    // ---- reading arguments ----

    fn take(&mut self, n: usize) -> Step<&'d [u8]> {
        let data = self.data;
        let end = self.pos.checked_add(n).ok_or(Fault::Truncated)?;
        let bytes = data.get(self.pos..end).ok_or(Fault::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn uint(&mut self, n: usize) -> Step<u64> {
        let bytes = self.take(n)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A length prefix of `n` bytes, checked against what is left before anything is
    /// allocated. `signed` lengths (`BINSTRING`, `LONG4`) may not be negative.
    fn length(&mut self, n: usize, signed: bool) -> Step<usize> {
        let raw = self.uint(n)?;
        if signed && n == 4 && raw & 0x8000_0000 != 0 {
            return Err(Fault::Invalid(format!(
                "{} declares a negative length",
                self.opname
            )));
        }
        let left = (self.data.len() - self.pos) as u64;
        if raw > left {
            return Err(Fault::Truncated);
        }
        Ok(raw as usize)
    }

    fn line(&mut self) -> Step<&'d [u8]> {
        let data = self.data;
        let rest = &data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(Fault::Truncated)?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    fn line_str(&mut self) -> Step<String> {
        let line = self.line()?;
        Ok(String::from_utf8_lossy(line).into_owned())
    }

    // ---- the stack ----

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn add(&mut self, node: Node) -> Step<Id> {
        if self.nodes.len() >= self.session.limits.max_values {
            return Err(Fault::Budget("value"));
        }
        self.nodes.push(node);
        Ok((self.nodes.len() - 1) as Id)
    }

    fn push_id(&mut self, id: Id) -> Step<()> {
        if self.stack.len() >= self.session.limits.max_stack {
            return Err(Fault::Budget("stack depth"));
        }
        self.stack.push(id);
        Ok(())
    }

    fn push(&mut self, node: Node) -> Step<()> {
        let id = self.add(node)?;
        self.push_id(id)
    }

    fn pop(&mut self) -> Step<Id> {
        if self.stack.len() <= self.fence() {
            return Err(Fault::Underflow);
        }
        self.stack.pop().ok_or(Fault::Underflow)
    }

    fn top(&self) -> Step<Id> {
        if self.stack.len() <= self.fence() {
            return Err(Fault::Underflow);
        }
        self.stack.last().copied().ok_or(Fault::Underflow)
    }

    fn pop_mark(&mut self) -> Step<Vec<Id>> {
        let mark = self.marks.pop().ok_or(Fault::NoMark)?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn node(&self, id: Id) -> &Node {
        &self.nodes[id as usize]
    }

    fn str_of(&self, id: Id) -> Option<&str> {
        match self.node(id) {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    fn bytes_of(&self, id: Id) -> Option<&[u8]> {
        match self.node(id) {
            Node::Bytes(Blob::Slice(start, end)) => self.data.get(*start..*end),
            Node::Bytes(Blob::Owned(bytes)) => Some(bytes),
            Node::Str(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    fn items(&self, id: Id) -> &[Id] {
        match self.node(id) {
            Node::Tuple(items) | Node::List(items) => items,
            _ => &[],
        }
    }

    fn global(&self, id: Id) -> Option<&GlobalRef> {
        match self.node(id) {
            Node::Global(g) => Some(g),
            _ => None,
        }
    }

    /// What a value is, for messages.
    fn describe(&self, id: Id) -> String {
        match self.node(id) {
            Node::Global(g) => g.path(),
            Node::Object { callee, .. } => match self.global(*callee) {
                Some(g) => format!("the result of {}(...)", g.path()),
                None => "the result of a computed call".to_owned(),
            },
            Node::Ext(code) => format!("extension code {code}"),
            Node::Persistent => "a persistent-load result".to_owned(),
            Node::Str(_) => "a str".to_owned(),
            Node::Bytes(_) => "bytes".to_owned(),
            Node::Int(_) => "an int".to_owned(),
            Node::List(_) | Node::Tuple(_) | Node::Set(_) | Node::Dict(_) => {
                "a container".to_owned()
            }
            Node::Opaque => "a value".to_owned(),
        }
    }

    fn finding(
        &mut self,
        id: &'static str,
        severity: ArtifactSeverity,
        callable: Option<String>,
        message: String,
    ) {
        let remedy = if id == rule::MALFORMED {
            REMEDY_MALFORMED
        } else {
            REMEDY_LOAD
        };
        let finding = PickleFinding {
            id,
            severity,
            offset: self.at as u64,
            opcode: self.opname,
            callable,
            message,
            remedy,
            nesting: self.nesting.to_vec(),
        };
        self.session.report(finding);
    }

    fn charge(&mut self, bytes: usize) -> Step<()> {
        let cost = (bytes / 64) as u64;
        if self.session.ops_left < cost {
            return Err(Fault::Budget("operation"));
        }
        self.session.ops_left -= cost;
        Ok(())
    }

    // ---- opcodes ----

    /// Executes one opcode; `true` at `STOP`.
    fn step(&mut self, code: u8) -> Step<bool> {
        self.pos += 1;
        match code {
            op::MARK => {
                if self.marks.len() >= self.session.limits.max_stack {
                    return Err(Fault::Budget("mark depth"));
                }
                self.marks.push(self.stack.len());
            }
            op::STOP => {
                let result = self.pop()?;
                self.stack.push(result);
                return Ok(true);
            }
            op::POP => {
                if self.stack.len() > self.fence() {
                    self.stack.pop();
                } else {
                    // CPython pops the mark itself when nothing is above it.
                    self.pop_mark()?;
                }
            }
            op::POP_MARK => {
                self.pop_mark()?;
            }
            op::DUP => {
                let top = self.top()?;
                self.push_id(top)?;
            }
            op::FLOAT => {
                let line = self.line()?;
                let text = String::from_utf8_lossy(line);
                if text.trim().parse::<f64>().is_err() {
                    return Err(Fault::Invalid(format!(
                        "FLOAT argument {text:?} is not a number"
                    )));
                }
                self.push(Node::Opaque)?;
            }
            op::BINFLOAT => {
                self.take(8)?;
                self.push(Node::Opaque)?;
            }
            op::INT => {
                let text = self.line_str()?;
                let node = match text.trim() {
                    "00" | "01" => Node::Opaque,
                    digits => Node::Int(parse_int(digits, "INT")?),
                };
                self.push(node)?;
            }
            op::LONG => {
                let text = self.line_str()?;
                let digits = text.trim().trim_end_matches('L');
                self.push(Node::Int(parse_int(digits, "LONG")?))?;
            }
            op::BININT => {
                let value = self.uint(4)? as u32 as i32;
                self.push(Node::Int(i64::from(value)))?;
            }
            op::BININT1 => {
                let value = self.uint(1)?;
                self.push(Node::Int(value as i64))?;
            }
            op::BININT2 => {
                let value = self.uint(2)?;
                self.push(Node::Int(value as i64))?;
            }
            op::LONG1 | op::LONG4 => {
                let n = self.length(if code == op::LONG1 { 1 } else { 4 }, true)?;
                let bytes = self.take(n)?;
                let node = if n <= 8 {
                    let mut value: i64 = 0;
                    for (i, b) in bytes.iter().enumerate() {
                        value |= i64::from(*b) << (8 * i);
                    }
                    if n > 0 && n < 8 && bytes[n - 1] & 0x80 != 0 {
                        value -= 1i64 << (8 * n);
                    }
                    Node::Int(value)
                } else {
                    Node::Opaque
                };
                self.push(node)?;
            }
            op::NONE | op::NEWTRUE | op::NEWFALSE => self.push(Node::Opaque)?,
            op::STRING => {
                let line = self.line()?;
                let text = unquote(line).ok_or_else(|| {
                    Fault::Invalid("the STRING opcode argument must be quoted".to_owned())
                })?;
                self.push(Node::Str(text))?;
            }
            op::BINSTRING | op::SHORT_BINSTRING => {
                let n = self.length(if code == op::SHORT_BINSTRING { 1 } else { 4 }, true)?;
                let bytes = self.take(n)?;
                // Python 2 `str`: decoded to `str` by the default `encoding`.
                self.push(Node::Str(bytes.iter().map(|&b| char::from(b)).collect()))?;
            }
            op::UNICODE => {
                let line = self.line()?;
                self.push(Node::Str(raw_unicode_escape(line)))?;
            }
            op::BINUNICODE | op::SHORT_BINUNICODE | op::BINUNICODE8 => {
                let width = match code {
                    op::SHORT_BINUNICODE => 1,
                    op::BINUNICODE => 4,
                    _ => 8,
                };
                let n = self.length(width, false)?;
                let bytes = self.take(n)?;
                self.push(Node::Str(String::from_utf8_lossy(bytes).into_owned()))?;
            }
            op::BINBYTES | op::SHORT_BINBYTES | op::BINBYTES8 | op::BYTEARRAY8 => {
                let width = match code {
                    op::SHORT_BINBYTES => 1,
                    op::BINBYTES => 4,
                    _ => 8,
                };
                let n = self.length(width, false)?;
                let start = self.pos;
                self.take(n)?;
                self.push(Node::Bytes(Blob::Slice(start, start + n)))?;
            }
            op::EMPTY_LIST => self.push(Node::List(Vec::new()))?,
            op::EMPTY_TUPLE => self.push(Node::Tuple(Vec::new()))?,
            op::EMPTY_DICT => self.push(Node::Dict(Vec::new()))?,
            op::EMPTY_SET => self.push(Node::Set(Vec::new()))?,
            op::LIST => {
                let items = self.pop_mark()?;
                self.push(Node::List(items))?;
            }
            op::TUPLE => {
                let items = self.pop_mark()?;
                self.push(Node::Tuple(items))?;
            }
            op::FROZENSET => {
                let items = self.pop_mark()?;
                self.push(Node::Set(items))?;
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let n = usize::from(code - op::TUPLE1 + 1);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.push(Node::Tuple(items))?;
            }
            op::DICT => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Fault::Invalid("odd number of items for DICT".to_owned()));
                }
                self.push(Node::Dict(items))?;
            }
            op::APPEND => {
                let value = self.pop()?;
                let target = self.top()?;
                self.extend(target, vec![value]);
            }
            op::APPENDS | op::ADDITEMS => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.extend(target, items);
            }
            op::SETITEM => {
                let value = self.pop()?;
                let key = self.pop()?;
                let target = self.top()?;
                self.extend(target, vec![key, value]);
            }
            op::SETITEMS => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Fault::Invalid(
                        "odd number of items for SETITEMS".to_owned(),
                    ));
                }
                let target = self.top()?;
                self.extend(target, items);
            }
            op::GET | op::BINGET | op::LONG_BINGET => {
                let index = match code {
                    op::GET => parse_memo_index(&self.line_str()?)?,
                    op::BINGET => self.uint(1)?,
                    _ => self.uint(4)?,
                };
                let id = *self.memo.get(&index).ok_or(Fault::MissingMemo(index))?;
                self.push_id(id)?;
            }
            op::PUT | op::BINPUT | op::LONG_BINPUT | op::MEMOIZE => {
                let index = match code {
                    op::PUT => parse_memo_index(&self.line_str()?)?,
                    op::BINPUT => self.uint(1)?,
                    op::LONG_BINPUT => self.uint(4)?,
                    _ => self.memo.len() as u64,
                };
                let top = self.top()?;
                if self.memo.len() >= self.session.limits.max_memo
                    && !self.memo.contains_key(&index)
                {
                    return Err(Fault::Budget("memo size"));
                }
                self.memo.insert(index, top);
            }
            op::GLOBAL => {
                let module = self.line_str()?;
                let name = self.line_str()?;
                let id = self.import(module, name)?;
                self.push_id(id)?;
            }
            op::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let id = match (self.str_of(module), self.str_of(name)) {
                    (Some(m), Some(n)) => {
                        let (m, n) = (m.to_owned(), n.to_owned());
                        self.import(m, n)?
                    }
                    _ => {
                        let what = format!(
                            "STACK_GLOBAL imports a module and name computed from {} and {}, which the scanner cannot resolve",
                            self.describe(module),
                            self.describe(name)
                        );
                        self.finding(rule::RESOLVER, ArtifactSeverity::High, None, what);
                        self.add(Node::Opaque)?
                    }
                };
                self.push_id(id)?;
            }
            op::INST => {
                let module = self.line_str()?;
                let name = self.line_str()?;
                let callee = self.import(module, name)?;
                let items = self.pop_mark()?;
                let args = self.add(Node::Tuple(items))?;
                let result = self.call(callee, args)?;
                self.push_id(result)?;
            }
            op::OBJ => {
                let items = self.pop_mark()?;
                let (&callee, rest) = items.split_first().ok_or(Fault::Underflow)?;
                let args = self.add(Node::Tuple(rest.to_vec()))?;
                let result = self.call(callee, args)?;
                self.push_id(result)?;
            }
            op::NEWOBJ | op::NEWOBJ_EX => {
                if code == op::NEWOBJ_EX {
                    // Keyword arguments go to the callee, whose verdict was given at import.
                    self.pop()?;
                }
                let args = self.pop()?;
                let callee = self.pop()?;
                let result = self.call(callee, args)?;
                self.push_id(result)?;
            }
            op::REDUCE => {
                let args = self.pop()?;
                let callee = self.pop()?;
                let result = self.call(callee, args)?;
                self.push_id(result)?;
            }
            op::BUILD => {
                let state = self.pop()?;
                let target = self.top()?;
                self.build(target, state)?;
            }
            op::PERSID => {
                let pid = self.line_str()?;
                self.finding(
                    rule::PERSID,
                    ArtifactSeverity::Medium,
                    None,
                    format!("a text persistent id ({pid:.40}) is resolved by the loader's persistent_load, which PyTorch never writes"),
                );
                self.push(Node::Persistent)?;
            }
            op::BINPERSID => {
                let pid = self.pop()?;
                self.check_persistent_id(pid);
                self.push(Node::Persistent)?;
            }
            op::EXT1 | op::EXT2 | op::EXT4 => {
                let width = match code {
                    op::EXT1 => 1,
                    op::EXT2 => 2,
                    _ => 4,
                };
                let raw = self.uint(width)?;
                let code_value = if width == 4 {
                    i64::from(raw as u32 as i32)
                } else {
                    raw as i64
                };
                if code_value <= 0 {
                    return Err(Fault::Invalid(format!(
                        "{} specifies code <= 0",
                        self.opname
                    )));
                }
                self.finding(
                    rule::EXT_CODE,
                    ArtifactSeverity::High,
                    Some(format!("copyreg extension {code_value}")),
                    format!(
                        "{} loads whatever callable the loading process registered under extension code {code_value} (copyreg.add_extension); the scanner cannot know which",
                        self.opname
                    ),
                );
                self.push(Node::Ext(code_value))?;
            }
            op::FRAME => {
                let n = self.uint(8)?;
                if n > (self.data.len() - self.pos) as u64 {
                    return Err(Fault::Truncated);
                }
            }
            op::PROTO => {
                let version = self.uint(1)?;
                if version > 5 {
                    return Err(Fault::Invalid(format!(
                        "unsupported pickle protocol {version}"
                    )));
                }
            }
            op::NEXT_BUFFER => {
                self.finding(
                    rule::BUFFER,
                    ArtifactSeverity::Low,
                    None,
                    "the pickle takes out-of-band buffers (protocol 5), supplied by the loading code".to_owned(),
                );
                self.push(Node::Opaque)?;
            }
            op::READONLY_BUFFER => {
                self.top()?;
            }
            _ => return Err(Fault::UnknownOpcode(code)),
        }
        Ok(false)
    }

    /// `GLOBAL`, `STACK_GLOBAL`, `INST`: records the import and grades it.
    fn import(&mut self, module: String, name: String) -> Step<Id> {
        let class = policy::classify(&module, &name, self.session.ctx.torchscript);
        let loader = policy::loader(&module, &name);
        if self.session.imports.len() < self.session.limits.max_imports {
            self.session.imports.push(Import {
                module: module.clone(),
                name: name.clone(),
                offset: self.at as u64,
                opcode: self.opname,
                allowed: !matches!(class, Class::Denied { .. }),
                depth: self.nesting.len(),
            });
        }
        if let Class::Denied {
            rule,
            severity,
            why,
        } = &class
        {
            let path = format!("{module}.{name}");
            let message = format!("imports {path}, which {why}");
            self.finding(rule, *severity, Some(path), message);
        }
        self.add(Node::Global(Box::new(GlobalRef {
            module,
            name,
            class,
            loader,
        })))
    }

    /// `APPEND(S)`, `SETITEM(S)`, `ADDITEMS`: containers grow; anything else is told.
    fn extend(&mut self, target: Id, items: Vec<Id>) {
        match &mut self.nodes[target as usize] {
            Node::List(existing) | Node::Set(existing) | Node::Dict(existing) => {
                existing.extend(items);
            }
            Node::Global(g) => {
                let path = g.path();
                self.finding(
                    rule::MUTATION,
                    ArtifactSeverity::Critical,
                    Some(path.clone()),
                    format!(
                        "{} writes into the module-level object {path}, changing it for the whole process",
                        self.opname
                    ),
                );
            }
            _ => {}
        }
    }

    /// A call (`REDUCE`, `NEWOBJ(_EX)`, `OBJ`, `INST`): the callee's verdict was given at its
    /// import; here the arguments of conditionally allowed callables, nested payloads and
    /// computed callees are checked, and the few calls that matter are evaluated.
    fn call(&mut self, callee: Id, args: Id) -> Step<Id> {
        let object = Node::Object { callee, args };
        let Some(global) = self.global(callee) else {
            match self.node(callee) {
                Node::Ext(_) => {}
                _ => {
                    let what = self.describe(callee);
                    self.finding(
                        rule::DYNAMIC_CALL,
                        ArtifactSeverity::High,
                        None,
                        format!("{} calls {what}, a callee computed inside the pickle rather than imported", self.opname),
                    );
                }
            }
            return self.add(object);
        };
        let path = global.path();
        let class = global.class.clone();
        let loader = global.loader;
        let first = self.items(args).first().copied();
        match loader {
            Some(Loader::Encode) => {
                let encoding = self.items(args).get(1).and_then(|&e| self.str_of(e));
                let latin1 = matches!(
                    encoding
                        .map(|e| e.to_ascii_lowercase().replace('_', "-"))
                        .as_deref(),
                    Some("latin1" | "latin-1" | "iso-8859-1" | "l1")
                );
                let text = first.and_then(|f| self.str_of(f)).map(str::to_owned);
                match (text, latin1 && self.items(args).len() == 2) {
                    (Some(text), true) => {
                        self.charge(text.len())?;
                        let bytes = text.chars().map(|c| c as u32 as u8).collect();
                        return self.add(Node::Bytes(Blob::Owned(bytes)));
                    }
                    _ if class == Class::Latin1Encode => {
                        self.finding(
                            rule::UNUSUAL_USE,
                            ArtifactSeverity::Medium,
                            Some(path.clone()),
                            "_codecs.encode is allowed only as encode(str, 'latin1'), the way protocol-2 pickles rebuild bytes; this call differs".to_owned(),
                        );
                    }
                    _ => {}
                }
            }
            Some(Loader::Base64) => {
                if let Some(bytes) = first.and_then(|f| self.bytes_of(f)) {
                    let cleaned: Vec<u8> = bytes
                        .iter()
                        .copied()
                        .filter(|b| !b.is_ascii_whitespace())
                        .collect();
                    self.charge(cleaned.len())?;
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(&cleaned)
                        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&cleaned));
                    if let Ok(decoded) = decoded {
                        return self.add(Node::Bytes(Blob::Owned(decoded)));
                    }
                }
            }
            Some(Loader::Pickle) => {
                if let Some(payload) = first.and_then(|f| self.bytes_of(f)).map(<[u8]>::to_vec) {
                    self.nested_pickle(&payload, &path)?;
                }
            }
            Some(Loader::Marshal) => {
                if let Some(payload) = first.and_then(|f| self.bytes_of(f))
                    && matches!(payload.first(), Some(0x63 | 0xe3))
                {
                    self.finding(
                        rule::NESTED,
                        ArtifactSeverity::Critical,
                        Some(path.clone()),
                        "a marshal-encoded code object is unmarshalled: Python bytecode carried inside the pickle".to_owned(),
                    );
                }
            }
            None => {}
        }
        if matches!(path.as_str(), "builtins.getattr" | "__builtin__.getattr")
            && let [target, attribute] = *self.items(args)
            && let (Some(target), Some(attribute)) = (self.global(target), self.str_of(attribute))
        {
            // getattr(module_object, "name"): the value reached is itself an import.
            let (module, name) = (
                target.module.clone(),
                format!("{}.{attribute}", target.name),
            );
            let reached = format!("{module}.{name}");
            if let Class::Denied {
                rule,
                severity,
                why,
                ..
            } = policy::classify(&module, &name, self.session.ctx.torchscript)
            {
                self.finding(
                    rule,
                    severity,
                    Some(reached.clone()),
                    format!("builtins.getattr reaches {reached}, which {why}"),
                );
            }
            let class = policy::classify(&module, &name, self.session.ctx.torchscript);
            let loader = policy::loader(&module, &name);
            return self.add(Node::Global(Box::new(GlobalRef {
                module,
                name,
                class,
                loader,
            })));
        }
        if matches!(path.as_str(), "builtins.str")
            && let [only] = *self.items(args)
            && let Some(text) = self.str_of(only)
        {
            let text = text.to_owned();
            return self.add(Node::Str(text));
        }
        self.add(object)
    }

    /// A pickle passed to a loader: analyzed in turn, one level deeper.
    fn nested_pickle(&mut self, payload: &[u8], loader: &str) -> Step<()> {
        let depth = self.nesting.len() + 1;
        if depth > self.session.limits.max_nesting as usize {
            self.finding(
                rule::NESTED,
                ArtifactSeverity::High,
                Some(loader.to_owned()),
                format!("a pickle nested more than {} levels deep is loaded by {loader}; it was not scanned", self.session.limits.max_nesting),
            );
            return Ok(());
        }
        self.charge(payload.len())?;
        let mut nesting = self.nesting.to_vec();
        nesting.push(self.at as u64);
        let before = self.session.findings.len();
        let run = self.session.stream(payload, &nesting, None);
        let inner = &self.session.findings[before.min(self.session.findings.len())..];
        let worst = inner.iter().map(|f| f.severity).max();
        let count = inner.len();
        self.finding(
            rule::NESTED,
            worst.unwrap_or(ArtifactSeverity::High).max(ArtifactSeverity::High),
            Some(loader.to_owned()),
            format!(
                "{loader} loads a nested pickle ({} bytes, {} pickle(s), {count} finding(s) inside, reported with this offset in their nesting)",
                payload.len(),
                run.pickles
            ),
        );
        Ok(())
    }

    /// `BUILD`: state applied to the top of the stack.
    fn build(&mut self, target: Id, state: Id) -> Step<()> {
        if let Some(global) = self.global(target) {
            let path = global.path();
            self.finding(
                rule::MUTATION,
                ArtifactSeverity::Critical,
                Some(path.clone()),
                format!("BUILD sets attributes of the module-level object {path} itself (not of an instance), changing it for the whole process"),
            );
            return Ok(());
        }
        let dunder = self
            .state_keys(state)
            .into_iter()
            .find(|key| key.len() > 4 && key.starts_with("__") && key.ends_with("__"));
        if let Some(key) = dunder {
            let what = self.describe(target);
            self.finding(
                rule::MUTATION,
                ArtifactSeverity::High,
                None,
                format!("BUILD sets the interpreter attribute {key} on {what}"),
            );
        }
        if let Node::Object { callee, .. } = *self.node(target)
            && let Some(global) = self.global(callee)
            && global.name.ends_with("NumpyArrayWrapper")
            && global.class == Class::Allowed
        {
            self.skip_joblib_array(state)?;
        }
        Ok(())
    }

    /// The str keys of a state dict (or of the dicts in a `(dict, slots)` state tuple).
    fn state_keys(&self, state: Id) -> Vec<String> {
        let dicts: Vec<Id> = match self.node(state) {
            Node::Dict(_) => vec![state],
            Node::Tuple(items) => items.clone(),
            _ => Vec::new(),
        };
        dicts
            .into_iter()
            .flat_map(|d| match self.node(d) {
                Node::Dict(items) => items
                    .chunks(2)
                    .filter_map(|kv| self.str_of(kv[0]).map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    fn dict_get(&self, dict: Id, key: &str) -> Option<Id> {
        match self.node(dict) {
            Node::Dict(items) => items
                .chunks(2)
                .rev()
                .find(|kv| self.str_of(kv[0]) == Some(key))
                .and_then(|kv| kv.get(1).copied()),
            _ => None,
        }
    }

    /// joblib writes an array's raw bytes into the stream right after its
    /// `NumpyArrayWrapper`'s `BUILD` (object arrays: a whole protocol-2 pickle). They are
    /// skipped by the size the wrapper declares, or the pickle is read in turn.
    fn skip_joblib_array(&mut self, state: Id) -> Step<()> {
        let unknown = || {
            Fault::Invalid("a joblib array wrapper whose data size cannot be computed".to_owned())
        };
        let shape = self.dict_get(state, "shape").ok_or_else(unknown)?;
        let mut count: u64 = 1;
        for &dim in self.items(shape) {
            let Node::Int(n) = *self.node(dim) else {
                return Err(unknown());
            };
            count = count
                .checked_mul(u64::try_from(n).map_err(|_| unknown())?)
                .ok_or_else(unknown)?;
        }
        let dtype = self.dict_get(state, "dtype").ok_or_else(unknown)?;
        let descr = match *self.node(dtype) {
            Node::Object { args, .. } => self
                .items(args)
                .first()
                .and_then(|&d| self.str_of(d))
                .map(str::to_owned),
            _ => None,
        }
        .ok_or_else(unknown)?;
        let descr = descr.trim_start_matches(['<', '>', '|', '=']);
        if descr.starts_with('O') {
            let start = self.pos;
            let mut nesting = self.nesting.to_vec();
            nesting.push(self.at as u64);
            let run = self.session.stream(&self.data[start..], &nesting, Some(1));
            if run.cut {
                return Err(Fault::Truncated);
            }
            self.pos = start + run.end;
            return Ok(());
        }
        let kind = descr.chars().next().ok_or_else(unknown)?;
        let width: u64 = descr[kind.len_utf8()..].parse().map_err(|_| unknown())?;
        let itemsize = if kind == 'U' { width * 4 } else { width };
        if let Some(alignment) = self.dict_get(state, "numpy_array_alignment_bytes")
            && matches!(self.node(alignment), Node::Int(n) if *n > 0)
        {
            let padding = self.uint(1)?;
            self.take(padding as usize)?;
        }
        let total = count.checked_mul(itemsize).ok_or_else(unknown)?;
        if total > (self.data.len() - self.pos) as u64 {
            return Err(Fault::Truncated);
        }
        self.pos += total as usize;
        Ok(())
    }

    /// `BINPERSID`: PyTorch's ids are `('storage', <storage type>, key, location, numel)`.
    fn check_persistent_id(&mut self, pid: Id) {
        let items = self.items(pid);
        if !matches!(self.node(pid), Node::Tuple(_)) {
            let what = self.describe(pid);
            self.finding(
                rule::PERSID,
                ArtifactSeverity::Medium,
                None,
                format!("a persistent id that is {what}, not the tuple PyTorch writes; the loader's persistent_load decides what it becomes"),
            );
            return;
        }
        let typename = items.first().and_then(|&t| self.str_of(t));
        let storage_type = items.get(1).and_then(|&s| self.global(s));
        let ok =
            typename == Some("storage") && storage_type.is_some_and(|g| g.class == Class::Allowed);
        if !ok {
            let typename = typename.unwrap_or("?").to_owned();
            self.finding(
                rule::PERSID,
                ArtifactSeverity::Medium,
                None,
                format!("a persistent id of kind {typename:.40} is not a PyTorch storage reference; the loader's persistent_load decides what it becomes"),
            );
        }
    }
}

fn parse_int(text: &str, opcode: &str) -> Step<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::Invalid(format!(
            "{opcode} argument {text:.40} is not an integer"
        )));
    }
    // Larger than i64: a valid Python int the scanner does not need the value of.
    Ok(text.parse::<i64>().unwrap_or(i64::MAX))
}

fn parse_memo_index(text: &str) -> Step<u64> {
    text.trim().parse::<u64>().map_err(|_| {
        Fault::Invalid(format!(
            "memo index {text:.40} is not a non-negative integer"
        ))
    })
}

/// A protocol-0 `STRING` argument: a quoted Python 2 string literal, escapes decoded.
fn unquote(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let quote = *line.first()?;
    if line.len() < 2 || !(quote == b'\'' || quote == b'"') || line[line.len() - 1] != quote {
        return None;
    }
    let body = &line[1..line.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' || i >= body.len() {
            out.push(char::from(b));
            continue;
        }
        let e = body[i];
        i += 1;
        match e {
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from((value & 0xff) as u8));
            }
            b'x' => {
                let hex = body.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(value) => {
                        out.push(char::from(value));
                        i += 2;
                    }
                    None => return None,
                }
            }
            b'\n' => {}
            b'a' => out.push('\u{7}'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'v' => out.push('\u{b}'),
            other => {
                if !matches!(other, b'\\' | b'\'' | b'"') {
                    out.push('\\');
                }
                out.push(char::from(other));
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` codec: `\uXXXX` and `\UXXXXXXXX`, all else Latin-1.
fn raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && matches!(line.get(i + 1), Some(b'u' | b'U')) {
            let width = if line[i + 1] == b'u' { 4 } else { 8 };
            let hex = line
                .get(i + 2..i + 2 + width)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32);
            if let Some(c) = hex {
                out.push(c);
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(line[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_decode_like_python() {
        assert_eq!(unquote(b"'os'").as_deref(), Some("os"));
        assert_eq!(unquote(br"'a\x41\n\\'").as_deref(), Some("aA\n\\"));
        assert_eq!(unquote(br#""it's""#).as_deref(), Some("it's"));
        assert_eq!(unquote(b"os"), None);
        assert_eq!(raw_unicode_escape(br"sys\u0074em"), "system");
    }
}
