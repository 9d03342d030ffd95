//! A minimal protobuf wire-format reader: enough to walk the few fields of ONNX and
//! TensorFlow messages this crate reports, skipping everything else by seeking.
//!
//! Written by hand rather than generated (prost + a vendored `.proto`) because only a dozen
//! fields are needed and because skipping matters more than decoding: an ONNX file's
//! initializers (`raw_data`) or a SavedModel's constants can be gigabytes, and a decoder that
//! materializes messages would read them all. Every length is checked against the enclosing
//! message, so a hostile length cannot make the reader allocate or seek past its bounds.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{ModelError, Result};

/// Protobuf wire types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// A reader over a seekable stream with the current offset tracked.
pub(crate) struct Reader<R> {
    inner: R,
    pos: u64,
}

impl<R: Read + Seek> Reader<R> {
    pub(crate) fn new(mut inner: R) -> Result<(Self, u64)> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok((Self { inner, pos: 0 }, len))
    }

    fn byte(&mut self, end: u64) -> Result<u8> {
        if self.pos >= end {
            return Err(ModelError::Truncated {
                what: "protobuf field",
            });
        }
        let mut b = [0u8; 1];
        self.inner.read_exact(&mut b)?;
        self.pos += 1;
        Ok(b[0])
    }

    pub(crate) fn varint(&mut self, end: u64) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte(end)?;
            if shift < 64 {
                value |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ModelError::invalid(
            "protobuf varint",
            "longer than 10 bytes",
        ))
    }

    /// The next field's number and wire type, or `None` at `end`.
    pub(crate) fn field(&mut self, end: u64) -> Result<Option<(u64, Wire)>> {
        if self.pos >= end {
            return Ok(None);
        }
        let key = self.varint(end)?;
        let wire = match key & 7 {
            0 => Wire::Varint,
            1 => Wire::Fixed64,
            2 => Wire::Len,
            5 => Wire::Fixed32,
            other => {
                return Err(ModelError::invalid(
                    "protobuf wire type",
                    format!("{other} at offset {}", self.pos),
                ));
            }
        };
        Ok(Some((key >> 3, wire)))
    }

    /// The length of a length-delimited field, checked against `end`; returns the field's end.
    pub(crate) fn len(&mut self, end: u64) -> Result<u64> {
        let len = self.varint(end)?;
        let remaining = end - self.pos;
        if len > remaining {
            return Err(ModelError::Limit {
                what: "protobuf field length",
                value: len,
                limit: remaining,
            });
        }
        Ok(self.pos + len)
    }

    /// Skips a field's value.
    pub(crate) fn skip(&mut self, wire: Wire, end: u64) -> Result<()> {
        match wire {
            Wire::Varint => self.varint(end).map(drop),
            Wire::Fixed64 => self.seek_to(self.pos + 8, end),
            Wire::Fixed32 => self.seek_to(self.pos + 4, end),
            Wire::Len => {
                let field_end = self.len(end)?;
                self.seek_to(field_end, end)
            }
        }
    }

    /// Moves to `to`, which must not pass `end`.
    pub(crate) fn seek_to(&mut self, to: u64, end: u64) -> Result<()> {
        if to > end {
            return Err(ModelError::Truncated {
                what: "protobuf field",
            });
        }
        if to != self.pos {
            let delta = i64::try_from(to - self.pos)
                .map_err(|_| ModelError::invalid("protobuf field", "offset overflow"))?;
            self.inner.seek(SeekFrom::Current(delta))?;
            self.pos = to;
        }
        Ok(())
    }

    /// Reads a length-delimited field as text, keeping at most `keep` bytes (the rest is
    /// skipped).
    pub(crate) fn string(&mut self, end: u64, keep: u64) -> Result<String> {
        let field_end = self.len(end)?;
        let take = (field_end - self.pos).min(keep);
        let mut bytes = Vec::new();
        (&mut self.inner).take(take).read_to_end(&mut bytes)?;
        if (bytes.len() as u64) < take {
            return Err(ModelError::Truncated {
                what: "protobuf string",
            });
        }
        self.pos += take;
        self.seek_to(field_end, end)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads a `repeated int64` field in either encoding: one varint, or a packed run.
    pub(crate) fn int64s(
        &mut self,
        wire: Wire,
        end: u64,
        into: &mut Vec<i64>,
        max: usize,
    ) -> Result<()> {
        match wire {
            // Two's complement: a negative int64 is a 10-byte varint.
            #[allow(clippy::cast_possible_wrap)]
            Wire::Varint => {
                let v = self.varint(end)? as i64;
                if into.len() < max {
                    into.push(v);
                }
                Ok(())
            }
            Wire::Len => {
                let field_end = self.len(end)?;
                while self.pos < field_end {
                    #[allow(clippy::cast_possible_wrap)]
                    let v = self.varint(field_end)? as i64;
                    if into.len() < max {
                        into.push(v);
                    }
                }
                Ok(())
            }
            other => self.skip(other, end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lengths_past_the_message_are_errors() {
        // Field 1, length-delimited, length 2^40, one byte of content.
        let bytes = [0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00];
        let (mut r, len) = Reader::new(Cursor::new(&bytes[..])).unwrap();
        let (field, wire) = r.field(len).unwrap().unwrap();
        assert_eq!((field, wire), (1, Wire::Len));
        assert!(matches!(r.skip(wire, len), Err(ModelError::Limit { .. })));
    }

    #[test]
    fn overlong_varints_are_errors() {
        let bytes = [0xff; 20];
        let (mut r, len) = Reader::new(Cursor::new(&bytes[..])).unwrap();
        assert!(r.varint(len).is_err());
    }

    #[test]
    fn packed_and_unpacked_ints() {
        // field 1 packed [3, 300], then field 1 unpacked -1.
        let mut bytes = vec![0x0a, 0x03, 0x03, 0xac, 0x02, 0x08];
        bytes.extend_from_slice(&[0xff; 9]);
        bytes.push(0x01);
        let (mut r, len) = Reader::new(Cursor::new(bytes)).unwrap();
        let mut out = Vec::new();
        while let Some((_, wire)) = r.field(len).unwrap() {
            r.int64s(wire, len, &mut out, 10).unwrap();
        }
        assert_eq!(out, [3, 300, -1]);
    }
}
