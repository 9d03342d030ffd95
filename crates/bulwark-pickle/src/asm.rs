//! A small pickle assembler for tests: opcodes emitted directly, so each technique is built
//! byte for byte (CPython's pickler would never write most of them).

use crate::opcode::op;

/// Pickle bytes under construction.
#[derive(Debug, Default, Clone)]
pub(crate) struct Asm(pub(crate) Vec<u8>);

impl Asm {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `PROTO n`.
    pub(crate) fn proto(n: u8) -> Self {
        Self(vec![op::PROTO, n])
    }

    pub(crate) fn op(mut self, code: u8) -> Self {
        self.0.push(code);
        self
    }

    pub(crate) fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// `GLOBAL module\nname\n`.
    pub(crate) fn global(self, module: &str, name: &str) -> Self {
        self.op(op::GLOBAL)
            .raw(format!("{module}\n{name}\n").as_bytes())
    }

    /// `INST module\nname\n`.
    pub(crate) fn inst(self, module: &str, name: &str) -> Self {
        self.op(op::INST)
            .raw(format!("{module}\n{name}\n").as_bytes())
    }

    /// `SHORT_BINUNICODE` (or `BINUNICODE` when longer than 255 bytes).
    pub(crate) fn str(self, s: &str) -> Self {
        if s.len() < 256 {
            self.op(op::SHORT_BINUNICODE)
                .raw(&[s.len() as u8])
                .raw(s.as_bytes())
        } else {
            self.op(op::BINUNICODE)
                .raw(&(s.len() as u32).to_le_bytes())
                .raw(s.as_bytes())
        }
    }

    /// `BINBYTES`.
    pub(crate) fn bytes(self, b: &[u8]) -> Self {
        self.op(op::BINBYTES)
            .raw(&(b.len() as u32).to_le_bytes())
            .raw(b)
    }

    /// `BININT1` / `BININT`.
    pub(crate) fn int(self, n: i32) -> Self {
        if (0..256).contains(&n) {
            self.op(op::BININT1).raw(&[n as u8])
        } else {
            self.op(op::BININT).raw(&n.to_le_bytes())
        }
    }

    pub(crate) fn put(self, i: u8) -> Self {
        self.op(op::BINPUT).raw(&[i])
    }

    pub(crate) fn get(self, i: u8) -> Self {
        self.op(op::BINGET).raw(&[i])
    }

    /// `module.name("true")`: a harmless call of a callable through `REDUCE`.
    pub(crate) fn call1(self, arg: &str) -> Self {
        self.str(arg).op(op::TUPLE1).op(op::REDUCE)
    }

    pub(crate) fn stop(self) -> Vec<u8> {
        self.op(op::STOP).0
    }
}
