//! Round trips, refusal of wrong passphrases, tampering and truncation.

use super::*;
use proptest::prelude::*;

const CHEAP: KdfParams = KdfParams::MINIMAL;

fn small_backup() -> Vec<u8> {
    seal_with(CHEAP, b"{\"authorized\":[]}", "correct horse").expect("sealing works")
}

#[test]
fn roundtrip_with_default_parameters() {
    let sealed = seal(b"settings", "a long passphrase").expect("sealing works");
    assert_eq!(&sealed[..8], MAGIC);
    assert_eq!(
        open(&sealed, "a long passphrase").expect("opens"),
        b"settings"
    );
}

#[test]
fn default_parameters_are_written_to_the_header() {
    let sealed = seal(b"x", "p").expect("sealing works");
    assert_eq!(sealed[8], FORMAT_VERSION);
    assert_eq!(&sealed[9..13], &(64u32 * 1024).to_le_bytes());
    assert_eq!(&sealed[13..17], &3u32.to_le_bytes());
    assert_eq!(&sealed[17..21], &1u32.to_le_bytes());
}

#[test]
fn empty_plaintext_roundtrips() {
    let sealed = seal_with(CHEAP, b"", "p").expect("sealing works");
    assert_eq!(sealed.len(), HEADER_LEN + TAG_LEN);
    assert_eq!(open(&sealed, "p").expect("opens"), b"");
}

#[test]
fn wrong_passphrase_is_refused() {
    let sealed = small_backup();
    assert_eq!(
        open(&sealed, "Correct horse"),
        Err(BackupError::WrongPassphraseOrTampered)
    );
}

#[test]
fn two_seals_of_the_same_data_differ() {
    assert_ne!(small_backup(), small_backup());
}

#[test]
fn every_single_byte_flip_is_refused() {
    let sealed = small_backup();
    for at in 0..sealed.len() {
        // 0x01 keeps parameter changes small (cheap to try); 0x80 makes them large.
        for mask in [0x01u8, 0x80] {
            let mut bad = sealed.clone();
            bad[at] ^= mask;
            assert!(
                open(&bad, "correct horse").is_err(),
                "flip of byte {at} with {mask:#x} was accepted"
            );
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let sealed = small_backup();
    for len in 0..sealed.len() {
        let err = open(&sealed[..len], "correct horse").expect_err("truncated file opened");
        assert!(
            matches!(
                err,
                BackupError::Truncated | BackupError::WrongPassphraseOrTampered
            ),
            "length {len}: {err:?}"
        );
    }
    assert_eq!(
        open(&sealed[..HEADER_LEN + TAG_LEN - 1], "correct horse"),
        Err(BackupError::Truncated)
    );
}

#[test]
fn appended_bytes_are_refused() {
    let mut sealed = small_backup();
    sealed.push(0);
    assert_eq!(
        open(&sealed, "correct horse"),
        Err(BackupError::WrongPassphraseOrTampered)
    );
}

#[test]
fn oversized_input_is_refused_without_work() {
    let mut big = vec![0u8; MAX_BACKUP_BYTES + 1];
    big[..8].copy_from_slice(MAGIC);
    assert_eq!(open(&big, "p"), Err(BackupError::TooLarge));
}

#[test]
fn oversized_plaintext_is_refused() {
    let big = vec![0u8; MAX_PLAINTEXT_BYTES + 1];
    assert_eq!(seal_with(CHEAP, &big, "p"), Err(BackupError::TooLarge));
}

#[test]
fn out_of_bounds_parameters_are_refused_when_sealing() {
    let greedy = KdfParams {
        memory_kib: u32::MAX,
        ..CHEAP
    };
    assert_eq!(
        seal_with(greedy, b"x", "p"),
        Err(BackupError::BadParameters)
    );
}

#[test]
fn unknown_version_is_reported() {
    let mut sealed = small_backup();
    sealed[8] = 9;
    assert_eq!(
        open(&sealed, "correct horse"),
        Err(BackupError::UnknownVersion(9))
    );
}

#[test]
fn errors_map_to_the_api_code() {
    assert_eq!(BackupError::WrongPassphraseOrTampered.code(), "bad_backup");
    assert_eq!(BackupError::Truncated.code(), "bad_backup");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn roundtrip_any_data(data in proptest::collection::vec(any::<u8>(), 0..2048), pass in ".{0,40}") {
        let sealed = seal_with(CHEAP, &data, &pass).expect("sealing works");
        prop_assert_eq!(open(&sealed, &pass).expect("opens"), data);
    }

    #[test]
    fn open_never_panics_on_noise(noise in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = open(&noise, "p");
    }
}
