//! The pickle opcode table (CPython's `pickletools.opcodes`, protocols 0 to 5).

/// One opcode: its byte and its name as `pickletools` spells it. Argument decoding lives
/// with each opcode's handler in the machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opcode {
    pub(crate) code: u8,
    pub(crate) name: &'static str,
}

macro_rules! opcodes {
    ($($code:expr => $name:ident;)*) => {
        /// Opcode bytes as named constants.
        #[allow(dead_code)]
        pub(crate) mod op {
            $(pub(crate) const $name: u8 = $code;)*
        }
        /// Every opcode, in `pickletools` order.
        pub(crate) const OPCODES: &[Opcode] = &[$(Opcode { code: $code, name: stringify!($name) }),*];
    };
}

opcodes! {
    b'(' => MARK;
    b'.' => STOP;
    b'0' => POP;
    b'1' => POP_MARK;
    b'2' => DUP;
    b'F' => FLOAT;
    b'I' => INT;
    b'J' => BININT;
    b'K' => BININT1;
    b'L' => LONG;
    b'M' => BININT2;
    b'N' => NONE;
    b'P' => PERSID;
    b'Q' => BINPERSID;
    b'R' => REDUCE;
    b'S' => STRING;
    b'T' => BINSTRING;
    b'U' => SHORT_BINSTRING;
    b'V' => UNICODE;
    b'X' => BINUNICODE;
    b'a' => APPEND;
    b'b' => BUILD;
    b'c' => GLOBAL;
    b'd' => DICT;
    b'}' => EMPTY_DICT;
    b'e' => APPENDS;
    b'g' => GET;
    b'h' => BINGET;
    b'i' => INST;
    b'j' => LONG_BINGET;
    b'l' => LIST;
    b']' => EMPTY_LIST;
    b'o' => OBJ;
    b'p' => PUT;
    b'q' => BINPUT;
    b'r' => LONG_BINPUT;
    b's' => SETITEM;
    b't' => TUPLE;
    b')' => EMPTY_TUPLE;
    b'u' => SETITEMS;
    b'G' => BINFLOAT;
    0x80 => PROTO;
    0x81 => NEWOBJ;
    0x82 => EXT1;
    0x83 => EXT2;
    0x84 => EXT4;
    0x85 => TUPLE1;
    0x86 => TUPLE2;
    0x87 => TUPLE3;
    0x88 => NEWTRUE;
    0x89 => NEWFALSE;
    0x8a => LONG1;
    0x8b => LONG4;
    b'B' => BINBYTES;
    b'C' => SHORT_BINBYTES;
    0x8c => SHORT_BINUNICODE;
    0x8d => BINUNICODE8;
    0x8e => BINBYTES8;
    0x8f => EMPTY_SET;
    0x90 => ADDITEMS;
    0x91 => FROZENSET;
    0x92 => NEWOBJ_EX;
    0x93 => STACK_GLOBAL;
    0x94 => MEMOIZE;
    0x95 => FRAME;
    0x96 => BYTEARRAY8;
    0x97 => NEXT_BUFFER;
    0x98 => READONLY_BUFFER;
}

/// The opcode for a byte, if the byte is one.
pub(crate) fn lookup(byte: u8) -> Option<&'static Opcode> {
    static TABLE: std::sync::OnceLock<[Option<&'static Opcode>; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [None; 256];
        for opcode in OPCODES {
            table[usize::from(opcode.code)] = Some(opcode);
        }
        table
    })[usize::from(byte)]
}

/// Whether a pickle may begin with this byte: an opcode that needs nothing on the stack.
/// Used to tell pickles from other binary content before reporting it as malformed.
pub(crate) fn may_start_pickle(byte: u8) -> bool {
    matches!(
        byte,
        op::PROTO
            | op::MARK
            | op::GLOBAL
            | op::INST
            | op::EMPTY_DICT
            | op::EMPTY_LIST
            | op::EMPTY_TUPLE
            | op::NONE
            | op::INT
            | op::LONG
            | op::FLOAT
            | op::STRING
            | op::UNICODE
            | op::BININT
            | op::BININT1
            | op::BININT2
            | op::BINSTRING
            | op::SHORT_BINSTRING
            | op::BINUNICODE
            | op::PERSID
            | op::FRAME
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_opcode_once() {
        assert_eq!(OPCODES.len(), 68);
        for opcode in OPCODES {
            assert_eq!(lookup(opcode.code).map(|o| o.name), Some(opcode.name));
        }
        assert!(lookup(0xff).is_none());
        assert!(lookup(b'z').is_none());
    }
}
