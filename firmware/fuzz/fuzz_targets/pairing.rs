//! Fuzzes what the cloud hands an appliance during pairing and sharing: a pairing code as
//! typed, a pairing answer, and a sealed shared configuration. None may panic, and none but
//! genuinely sealed bytes may open.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_pairing::{
    open_answer, open_shared, seal_shared, GroupKey, JoinerKey, PairingCode, SealedAnswer,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(code) = PairingCode::parse(&String::from_utf8_lossy(rest)) {
                assert_eq!(PairingCode::parse(&code.display()).ok(), Some(code));
            }
        }
        1 => {
            let keys = PairingCode::parse("ABCD-EFGH-JKMN-PQRS")
                .and_then(|c| c.keys())
                .expect("fixed code");
            let joiner = JoinerKey::generate().expect("random");
            let third = rest.len() / 3;
            let answer = SealedAnswer {
                public_key: rest[..third].to_vec(),
                sealed: rest[third..2 * third].to_vec(),
                mac: rest[2 * third..].to_vec(),
            };
            assert!(open_answer(&keys, joiner, &answer).is_err());
        }
        _ => {
            let group = GroupKey::from_bytes(&[7u8; 32]).expect("fixed key");
            assert!(open_shared(&group, 1, rest).is_err());
            let sealed = seal_shared(&group, 2, rest).expect("seal");
            assert_eq!(open_shared(&group, 2, &sealed).expect("own"), rest);
            assert!(open_shared(&group, 3, &sealed).is_err());
        }
    }
});
