//! RPC_UNICODE_STRING (MS-DTYP 2.3.10): the inline Length/MaximumLength/pointer triple and
//! its deferred conformant varying array of UTF-16LE code units.

use super::error::{PacError, PacErrorKind};
use super::ndr::NdrReader;

/// An RPC_UNICODE_STRING's inline part; its characters follow among the deferred data.
#[derive(Debug)]
pub(super) struct StringHeader {
    field: &'static str,
    length: u16,
    maximum: u16,
    present: bool,
}

/// Reads the inline part and checks it on its own: Length even and at most MaximumLength,
/// and no characters promised behind a NULL pointer.
pub(super) fn read_string_header(
    r: &mut NdrReader<'_>,
    field: &'static str,
) -> Result<StringHeader, PacError> {
    let offset = r.offset();
    let length = r.u16(field)?;
    let maximum = r.u16(field)?;
    let present = r.pointer(field)?;
    if length % 2 != 0 || length > maximum {
        return Err(PacError::new(
            field,
            offset,
            PacErrorKind::BadStringLength { length, maximum },
        ));
    }
    if !present && length != 0 {
        return Err(PacError::new(
            field,
            offset,
            PacErrorKind::NullPointer("Length is not zero"),
        ));
    }
    Ok(StringHeader {
        field,
        length,
        maximum,
        present,
    })
}

/// Reads a string's deferred conformant varying array of UTF-16LE code units.
pub(super) fn read_string_body(
    r: &mut NdrReader<'_>,
    header: &StringHeader,
) -> Result<String, PacError> {
    if !header.present {
        return Ok(String::new());
    }
    let field = header.field;
    let mismatch = |offset, declared: u16, found: u32| {
        PacError::new(
            field,
            offset,
            PacErrorKind::CountMismatch {
                declared: u32::from(declared / 2),
                found,
            },
        )
    };
    let max_offset = r.offset();
    let max_count = r.u32(field)?;
    if max_count != u32::from(header.maximum / 2) {
        return Err(mismatch(max_offset, header.maximum, max_count));
    }
    let offset_offset = r.offset();
    let first = r.u32(field)?;
    if first != 0 {
        return Err(PacError::new(
            field,
            offset_offset,
            PacErrorKind::NonZeroArrayOffset(first),
        ));
    }
    let actual_offset = r.offset();
    let actual = r.u32(field)?;
    if actual != u32::from(header.length / 2) {
        return Err(mismatch(actual_offset, header.length, actual));
    }
    let text_offset = r.offset();
    let bytes = r.take(usize::from(header.length), field)?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units)
        .map_err(|_| PacError::new(field, text_offset, PacErrorKind::InvalidUtf16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<String, PacError> {
        let mut r = NdrReader::new(bytes);
        let header = read_string_header(&mut r, "Name")?;
        read_string_body(&mut r, &header)
    }

    #[test]
    fn maximum_larger_than_length_is_accepted() {
        // Length 4, MaximumLength 6, pointer; MaxCount 3, Offset 0, ActualCount 2, "ab".
        let bytes = [
            4, 0, 6, 0, 4, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, b'a', 0, b'b', 0,
        ];
        assert_eq!(decode(&bytes).expect("valid"), "ab");
    }

    #[test]
    fn null_pointer_with_zero_length_is_empty() {
        assert_eq!(decode(&[0, 0, 0, 0, 0, 0, 0, 0]).expect("valid"), "");
    }

    #[test]
    fn characters_behind_null_pointer_are_refused() {
        let err = decode(&[2, 0, 2, 0, 0, 0, 0, 0]).expect_err("NULL pointer");
        assert!(matches!(err.kind, PacErrorKind::NullPointer(_)));
    }

    #[test]
    fn surrogate_pairs_decode() {
        // U+1F600 as the pair D83D DE00.
        let bytes = [
            4, 0, 4, 0, 4, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x3d, 0xd8, 0x00, 0xde,
        ];
        assert_eq!(decode(&bytes).expect("valid"), "\u{1F600}");
    }
}
