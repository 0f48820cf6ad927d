//! A bounds-checked little-endian NDR (MS-RPCE 2.2.5) reader over a type-serialization buffer.
//!
//! Every read names the field it is for, so that an error says which field of a hostile or
//! corrupt PAC was wrong and at which byte offset. Alignment is computed from the start of the
//! buffer, which is also the start of the serialization stream (its two headers are 16 bytes, a
//! multiple of every NDR alignment, so stream-relative and header-relative alignment agree).

use super::error::{PacError, PacErrorKind};

/// Reads NDR primitives from `buf[pos..end]`, never past `end`.
#[derive(Debug, Clone)]
pub(crate) struct NdrReader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> NdrReader<'a> {
    /// A reader over the whole of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            end: buf.len(),
        }
    }

    /// Current absolute offset, for error messages.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left before the end limit.
    pub(crate) fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Restricts further reads to the first `end` bytes of the buffer (the object buffer the
    /// private header declares); `end` must not exceed the buffer.
    pub(crate) fn limit_to(&mut self, end: usize, field: &'static str) -> Result<(), PacError> {
        if end > self.buf.len() || end < self.pos {
            return Err(PacError::new(
                field,
                self.pos,
                PacErrorKind::Truncated {
                    needed: end.saturating_sub(self.pos),
                    available: self.buf.len().saturating_sub(self.pos),
                },
            ));
        }
        self.end = end;
        Ok(())
    }

    /// Skips the padding that brings the offset to a multiple of `align` (a power of two).
    pub(crate) fn align(&mut self, align: usize, field: &'static str) -> Result<(), PacError> {
        let misalignment = self.pos % align;
        if misalignment != 0 {
            self.take(align - misalignment, field)?;
        }
        Ok(())
    }

    /// Takes the next `len` bytes.
    pub(crate) fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], PacError> {
        let available = self.remaining();
        if len > available {
            return Err(PacError::new(
                field,
                self.pos,
                PacErrorKind::Truncated {
                    needed: len,
                    available,
                },
            ));
        }
        // The bound check above guarantees pos + len <= end <= buf.len().
        let bytes = self.buf.get(self.pos..self.pos + len).ok_or_else(|| {
            PacError::new(
                field,
                self.pos,
                PacErrorKind::Truncated {
                    needed: len,
                    available,
                },
            )
        })?;
        self.pos += len;
        Ok(bytes)
    }

    /// Takes exactly `N` bytes as an array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], PacError> {
        let offset = self.pos;
        let bytes = self.take(N, field)?;
        bytes.try_into().map_err(|_| {
            PacError::new(
                field,
                offset,
                PacErrorKind::Truncated {
                    needed: N,
                    available: bytes.len(),
                },
            )
        })
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, PacError> {
        let [b] = self.array::<1>(field)?;
        Ok(b)
    }

    /// An aligned little-endian `unsigned short`.
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, PacError> {
        self.align(2, field)?;
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// An aligned little-endian `unsigned long`.
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, PacError> {
        self.align(4, field)?;
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// A unique pointer's referent id; `true` when a deferred referent follows later.
    pub(crate) fn pointer(&mut self, field: &'static str) -> Result<bool, PacError> {
        Ok(self.u32(field)? != 0)
    }

    /// Checks that `count` elements of `element_size` bytes fit in what is left.
    ///
    /// A hostile count would otherwise drive a huge allocation, so a count is refused unless
    /// the rest of the buffer could actually hold that many elements.
    pub(crate) fn check_fits(
        &self,
        count: u32,
        element_size: usize,
        field: &'static str,
    ) -> Result<usize, PacError> {
        let remaining = self.remaining();
        let count_usize = usize::try_from(count).unwrap_or(usize::MAX);
        match count_usize.checked_mul(element_size) {
            Some(bytes) if bytes <= remaining => Ok(count_usize),
            _ => Err(PacError::new(
                field,
                self.pos,
                PacErrorKind::CountTooLarge { count, remaining },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_aligned_little_endian_values() {
        let buf = [0x01, 0xff, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12];
        let mut r = NdrReader::new(&buf);
        assert_eq!(r.u8("a").expect("a"), 1);
        assert_eq!(r.u16("b").expect("b"), 0x1234);
        assert_eq!(r.u32("c").expect("c"), 0x1234_5678);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn truncated_read_names_field_and_offset() {
        let buf = [0u8; 6];
        let mut r = NdrReader::new(&buf);
        r.u32("first").expect("first");
        let err = r.u32("second").expect_err("only two bytes left");
        assert_eq!(err.field, "second");
        assert_eq!(err.offset, 4);
        assert_eq!(
            err.kind,
            PacErrorKind::Truncated {
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn huge_count_is_refused_before_allocation() {
        let buf = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let mut r = NdrReader::new(&buf);
        let count = r.u32("Groups").expect("count");
        let err = r.check_fits(count, 8, "Groups").expect_err("cannot fit");
        assert!(matches!(
            err.kind,
            PacErrorKind::CountTooLarge {
                count: u32::MAX,
                remaining: 4
            }
        ));
    }

    #[test]
    fn limit_stops_reads_at_object_end() {
        let buf = [0u8; 16];
        let mut r = NdrReader::new(&buf);
        r.limit_to(6, "limit").expect("within buffer");
        r.u32("x").expect("x");
        assert!(r.u32("y").is_err());
        assert!(NdrReader::new(&buf).limit_to(17, "limit").is_err());
    }
}
