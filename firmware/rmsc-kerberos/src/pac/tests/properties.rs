//! Property tests: encoder/decoder round trips, and no panic on any input.

use proptest::prelude::*;

use super::fixed_vector::hand_built_logon_info;
use crate::pac::{
    decode_logon_info, encode_logon_info, encode_logon_info_parts, LogonInfo, LogonInfoParts, Sid,
    MAX_AUTHORITY, MAX_SUB_AUTHORITIES,
};

fn sid_with(max_subs: usize) -> impl Strategy<Value = Sid> {
    (
        prop_oneof![Just(5u64), 0..=MAX_AUTHORITY],
        proptest::collection::vec(any::<u32>(), 0..=max_subs),
    )
        .prop_map(|(authority, subs)| Sid::new(1, authority, subs).expect("within limits"))
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn dedup(sids: Vec<Sid>) -> Vec<Sid> {
    let mut out: Vec<Sid> = Vec::new();
    for sid in sids {
        if !out.contains(&sid) {
            out.push(sid);
        }
    }
    out
}

prop_compose! {
    fn logon_info()(
        names in (text(), text(), text(), text()),
        user_id in any::<u32>(),
        primary_group_id in any::<u32>(),
        domain_sid in sid_with(MAX_SUB_AUTHORITIES - 1),
        flags in (any::<u32>(), any::<u32>()),
        choices in proptest::collection::vec(
            (any::<bool>(), any::<u32>(), sid_with(MAX_SUB_AUTHORITIES)), 0..24),
    ) -> LogonInfo {
        let group_sids = dedup(choices.into_iter().map(|(in_domain, rid, other)| {
            if in_domain { domain_sid.with_rid(rid).expect("domain leaves room") } else { other }
        }).collect());
        LogonInfo {
            effective_name: names.0,
            full_name: names.1,
            logon_domain_name: names.2,
            logon_server: names.3,
            user_id,
            primary_group_id,
            user_sid: domain_sid.with_rid(user_id).expect("domain leaves room"),
            domain_sid,
            group_sids,
            user_flags: flags.0,
            user_account_control: flags.1,
        }
    }
}

prop_compose! {
    fn parts()(
        info in logon_info(),
        extra_strings in (text(), text(), text(), text()),
        resource in proptest::option::of(sid_with(MAX_SUB_AUTHORITIES - 1)),
        resource_rids in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..8),
        null_pointers_for_empty in any::<bool>(),
    ) -> LogonInfoParts {
        let mut parts = LogonInfoParts::from_logon_info(&info);
        parts.logon_script = extra_strings.0;
        parts.profile_path = extra_strings.1;
        parts.home_directory = extra_strings.2;
        parts.home_directory_drive = extra_strings.3;
        if resource.is_some() {
            parts.resource_group_ids = resource_rids;
        }
        parts.resource_group_domain_sid = resource;
        parts.null_pointers_for_empty = null_pointers_for_empty;
        parts
    }
}

/// What decoding `parts` must give, computed without any NDR.
fn expected_groups(parts: &LogonInfoParts) -> Vec<Sid> {
    let domain = parts
        .domain_sid
        .clone()
        .expect("strategy always sets a domain");
    let mut all: Vec<Sid> = parts
        .group_ids
        .iter()
        .map(|(rid, _)| domain.with_rid(*rid).expect("room"))
        .collect();
    all.extend(parts.extra_sids.iter().map(|(sid, _)| sid.clone()));
    if let Some(resource) = &parts.resource_group_domain_sid {
        all.extend(
            parts
                .resource_group_ids
                .iter()
                .map(|(rid, _)| resource.with_rid(*rid).expect("room")),
        );
    }
    dedup(all)
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetWord(usize, u32),
    Truncate(usize),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (
            any::<usize>(),
            prop_oneof![Just(0u32), Just(u32::MAX), Just(0x8000_0000), any::<u32>()]
        )
            .prop_map(|(at, v)| Mutation::SetWord(at, v)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
    ]
}

fn apply(buf: &mut Vec<u8>, m: &Mutation) {
    if buf.is_empty() {
        return;
    }
    match *m {
        Mutation::FlipBit(at, bit) => {
            let at = at % buf.len();
            buf[at] ^= 1 << bit;
        }
        Mutation::SetWord(at, value) => {
            let at = at % buf.len();
            for (i, b) in value.to_le_bytes().into_iter().enumerate() {
                if let Some(slot) = buf.get_mut(at + i) {
                    *slot = b;
                }
            }
        }
        Mutation::Truncate(len) => buf.truncate(len % buf.len()),
        Mutation::Insert(at, b) => buf.insert(at % buf.len(), b),
    }
}

proptest! {
    #[test]
    fn encode_then_decode_gives_back_the_logon_info(info in logon_info()) {
        prop_assert_eq!(decode_logon_info(&encode_logon_info(&info)), Ok(info));
    }

    #[test]
    fn encoded_parts_decode_to_their_groups(parts in parts()) {
        let info = decode_logon_info(&encode_logon_info_parts(&parts));
        let info = info.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(info.group_sids, expected_groups(&parts));
        prop_assert_eq!(info.effective_name, parts.effective_name);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..700),
        keep_header in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if keep_header && bytes.len() >= 16 {
            // A valid header gets random bytes past the first checks.
            bytes[..8].copy_from_slice(&[0x01, 0x10, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc]);
            let len = u32::try_from(bytes.len() - 16).expect("small").to_le_bytes();
            bytes[8..12].copy_from_slice(&len);
        }
        let _ = decode_logon_info(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_valid_buffers(
        start_from_hand_built in any::<bool>(),
        info in logon_info(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut buf = if start_from_hand_built {
            hand_built_logon_info()
        } else {
            encode_logon_info(&info)
        };
        for m in &mutations {
            apply(&mut buf, m);
        }
        let _ = decode_logon_info(&buf);
    }
}
