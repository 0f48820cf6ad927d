//! Fuzzes backup restores: rmsc_backup::open on arbitrary bytes, and seal/open round trips.
//!
//! Key-derivation parameters that are in bounds but costly are lowered to cheap ones before
//! `open`, so each input runs in microseconds; out-of-bounds ones are left as they are, so
//! their refusal is still exercised.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_backup::{open, seal_with, KdfParams};

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn cheapen(input: &mut [u8]) {
    if input.len() < 21 {
        return;
    }
    let memory_kib = read_u32(input, 9);
    if (65..=256 * 1024).contains(&memory_kib) {
        input[9..13].copy_from_slice(&8u32.to_le_bytes());
    }
    let iterations = read_u32(input, 13);
    if (3..=10).contains(&iterations) {
        input[13..17].copy_from_slice(&1u32.to_le_bytes());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = data.to_vec();
    cheapen(&mut input);
    let _ = open(&input, "fuzz passphrase");

    let sealed = seal_with(KdfParams::MINIMAL, data, "fuzz passphrase").expect("small inputs seal");
    assert_eq!(
        open(&sealed, "fuzz passphrase").expect("own backup opens"),
        data
    );
    assert!(open(&sealed, "other passphrase").is_err());
    if let Some(&first) = data.first() {
        let mut tampered = sealed.clone();
        let at = usize::from(first) % tampered.len();
        tampered[at] ^= 0x01;
        assert!(
            open(&tampered, "fuzz passphrase").is_err(),
            "flip at {at} accepted"
        );
    }
});
