//! Tests of the decoder against a hand-built vector, the encoder, and hostile input.

mod fixed_vector;
mod malformed;
mod properties;
mod samba_vector;

/// Turns whitespace-separated hex bytes into a buffer; lines keep their offset comments.
pub(super) fn hex(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|line| line.split_whitespace())
        .map(|byte| u8::from_str_radix(byte, 16).expect("test vector holds hex bytes"))
        .collect()
}
