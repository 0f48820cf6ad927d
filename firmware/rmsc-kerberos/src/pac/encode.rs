//! An NDR encoder for PAC_LOGON_INFO, for tests only (the `test-util` feature).
//!
//! It writes what Windows writes: both serialization headers, referent ids counting up from
//! 0x00020000 by 4, the fixed part, then deferred referents in pointer order, with the object
//! buffer padded to 8 bytes. Other crates use it to craft PACs; this crate's property tests
//! use it to check the decoder.

use super::logon_info::LogonInfo;
use super::sid::Sid;

/// Everything the encoder can put into a KERB_VALIDATION_INFO, including fields the decoder
/// validates but does not return and the layout choices real encoders differ on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonInfoParts {
    pub effective_name: String,
    pub full_name: String,
    pub logon_script: String,
    pub profile_path: String,
    pub home_directory: String,
    pub home_directory_drive: String,
    pub logon_server: String,
    pub logon_domain_name: String,
    pub user_id: u32,
    pub primary_group_id: u32,
    /// LogonDomainId; `None` writes a NULL pointer (which the decoder refuses).
    pub domain_sid: Option<Sid>,
    /// GroupIds as (RelativeId, Attributes).
    pub group_ids: Vec<(u32, u32)>,
    pub user_flags: u32,
    pub user_account_control: u32,
    /// ExtraSids as (Sid, Attributes).
    pub extra_sids: Vec<(Sid, u32)>,
    pub resource_group_domain_sid: Option<Sid>,
    /// ResourceGroupIds as (RelativeId, Attributes).
    pub resource_group_ids: Vec<(u32, u32)>,
    /// Write NULL pointers for empty strings and arrays (Windows writes non-NULL pointers to
    /// empty referents; other encoders do not).
    pub null_pointers_for_empty: bool,
}

/// Attributes Windows gives to ordinary group memberships: mandatory, enabled by default,
/// enabled.
pub const DEFAULT_GROUP_ATTRIBUTES: u32 = 0x7;

impl LogonInfoParts {
    /// The parts that decode back to `info`: the leading run of `group_sids` that lie in
    /// `domain_sid` goes into GroupIds and the rest into ExtraSids, which keeps their order.
    pub fn from_logon_info(info: &LogonInfo) -> Self {
        let split = info
            .group_sids
            .iter()
            .position(|sid| sid.rid_in(&info.domain_sid).is_none())
            .unwrap_or(info.group_sids.len());
        let (domain_groups, others) = info.group_sids.split_at(split);
        Self {
            effective_name: info.effective_name.clone(),
            full_name: info.full_name.clone(),
            logon_script: String::new(),
            profile_path: String::new(),
            home_directory: String::new(),
            home_directory_drive: String::new(),
            logon_server: info.logon_server.clone(),
            logon_domain_name: info.logon_domain_name.clone(),
            user_id: info.user_id,
            primary_group_id: info.primary_group_id,
            domain_sid: Some(info.domain_sid.clone()),
            group_ids: domain_groups
                .iter()
                .filter_map(|sid| sid.rid_in(&info.domain_sid))
                .map(|rid| (rid, DEFAULT_GROUP_ATTRIBUTES))
                .collect(),
            user_flags: info.user_flags,
            user_account_control: info.user_account_control,
            extra_sids: others
                .iter()
                .map(|sid| (sid.clone(), DEFAULT_GROUP_ATTRIBUTES))
                .collect(),
            resource_group_domain_sid: None,
            resource_group_ids: Vec::new(),
            null_pointers_for_empty: false,
        }
    }
}

/// Encodes `info` as a PAC_LOGON_INFO buffer that [`crate::pac::decode_logon_info`] decodes
/// back to `info`, provided `user_sid` is `domain_sid` plus `user_id` and `group_sids` has no
/// duplicates.
pub fn encode_logon_info(info: &LogonInfo) -> Vec<u8> {
    encode_logon_info_parts(&LogonInfoParts::from_logon_info(info))
}

/// Encodes `parts`. Strings longer than the 32767 UTF-16 units an RPC_UNICODE_STRING can hold
/// are cut short.
pub fn encode_logon_info_parts(parts: &LogonInfoParts) -> Vec<u8> {
    let mut w = NdrWriter::default();
    w.bytes(&[0x01, 0x10, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc]);
    w.u32(0); // ObjectBufferLength, patched below.
    w.u32(0);
    w.pointer(true);

    let empty_null = parts.null_pointers_for_empty;
    let strings =
        |texts: &[&String]| -> Vec<Vec<u16>> { texts.iter().map(|t| utf16_capped(t)).collect() };
    let early = strings(&[
        &parts.effective_name,
        &parts.full_name,
        &parts.logon_script,
        &parts.profile_path,
        &parts.home_directory,
        &parts.home_directory_drive,
    ]);
    let late = strings(&[&parts.logon_server, &parts.logon_domain_name]);

    for _ in 0..6 {
        w.filetime();
    }
    let early_present: Vec<bool> = early
        .iter()
        .map(|s| w.string_header(s, empty_null))
        .collect();
    w.u16(0); // LogonCount
    w.u16(0); // BadPasswordCount
    w.u32(parts.user_id);
    w.u32(parts.primary_group_id);
    let groups_present = w.array_ref(parts.group_ids.len(), empty_null);
    w.u32(parts.user_flags);
    w.bytes(&[0; 16]); // UserSessionKey
    let late_present: Vec<bool> = late
        .iter()
        .map(|s| w.string_header(s, empty_null))
        .collect();
    w.pointer(parts.domain_sid.is_some());
    w.u32(0); // Reserved1
    w.u32(0);
    w.u32(parts.user_account_control);
    w.u32(0); // SubAuthStatus
    w.filetime(); // LastSuccessfulILogon
    w.filetime(); // LastFailedILogon
    w.u32(0); // FailedILogonCount
    w.u32(0); // Reserved3
    let extra_present = w.array_ref(parts.extra_sids.len(), empty_null);
    w.pointer(parts.resource_group_domain_sid.is_some());
    let resource_present = w.array_ref(parts.resource_group_ids.len(), empty_null);

    for (units, present) in early.iter().zip(early_present) {
        w.string_body(units, present);
    }
    if groups_present {
        w.pairs(parts.group_ids.iter().copied());
    }
    for (units, present) in late.iter().zip(late_present) {
        w.string_body(units, present);
    }
    if let Some(sid) = &parts.domain_sid {
        w.sid(sid);
    }
    if extra_present {
        w.u32(len_u32(parts.extra_sids.len()));
        for (_, attributes) in &parts.extra_sids {
            w.pointer(true);
            w.u32(*attributes);
        }
        for (sid, _) in &parts.extra_sids {
            w.sid(sid);
        }
    }
    if let Some(sid) = &parts.resource_group_domain_sid {
        w.sid(sid);
    }
    if resource_present {
        w.pairs(parts.resource_group_ids.iter().copied());
    }
    w.finish()
}

/// Truncates to what a u16 byte Length can describe without splitting a surrogate pair.
fn utf16_capped(text: &str) -> Vec<u16> {
    let mut units = Vec::new();
    for c in text.chars() {
        let mut buf = [0u16; 2];
        let encoded = c.encode_utf16(&mut buf);
        if units.len() + encoded.len() > usize::from(u16::MAX / 2) {
            break;
        }
        units.extend_from_slice(encoded);
    }
    units
}

/// Counts beyond u32 cannot occur in a test PAC; saturating keeps the encoder panic-free.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Appends aligned little-endian NDR values.
#[derive(Debug, Default)]
struct NdrWriter {
    buf: Vec<u8>,
    referents: u32,
}

impl NdrWriter {
    fn align(&mut self, align: usize) {
        let padding = (align - self.buf.len() % align) % align;
        self.buf.resize(self.buf.len() + padding, 0);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn u16(&mut self, value: u16) {
        self.align(2);
        self.bytes(&value.to_le_bytes());
    }

    fn u32(&mut self, value: u32) {
        self.align(4);
        self.bytes(&value.to_le_bytes());
    }

    fn filetime(&mut self) {
        self.u32(0);
        self.u32(0);
    }

    fn pointer(&mut self, present: bool) {
        if present {
            let id = 0x0002_0000u32.wrapping_add(self.referents.wrapping_mul(4));
            self.referents = self.referents.wrapping_add(1);
            self.u32(id);
        } else {
            self.u32(0);
        }
    }

    fn string_header(&mut self, units: &[u16], empty_null: bool) -> bool {
        let length = u16::try_from(units.len() * 2).unwrap_or(u16::MAX);
        self.u16(length);
        self.u16(length);
        let present = !(units.is_empty() && empty_null);
        self.pointer(present);
        present
    }

    fn string_body(&mut self, units: &[u16], present: bool) {
        if !present {
            return;
        }
        self.u32(len_u32(units.len()));
        self.u32(0);
        self.u32(len_u32(units.len()));
        for unit in units {
            self.bytes(&unit.to_le_bytes());
        }
    }

    fn array_ref(&mut self, len: usize, empty_null: bool) -> bool {
        self.u32(len_u32(len));
        let present = !(len == 0 && empty_null);
        self.pointer(present);
        present
    }

    fn pairs(&mut self, pairs: impl ExactSizeIterator<Item = (u32, u32)>) {
        self.u32(len_u32(pairs.len()));
        for (rid, attributes) in pairs {
            self.u32(rid);
            self.u32(attributes);
        }
    }

    fn sid(&mut self, sid: &Sid) {
        let count = u8::try_from(sid.sub_authorities().len()).unwrap_or(u8::MAX);
        self.u32(count.into());
        self.bytes(&[sid.revision(), count]);
        self.bytes(&sid.authority().to_be_bytes()[2..]);
        for sub in sid.sub_authorities() {
            self.u32(*sub);
        }
    }

    /// Pads the object buffer to 8 bytes and writes its length into the private header.
    fn finish(mut self) -> Vec<u8> {
        self.align(8);
        let object_length = len_u32(self.buf.len().saturating_sub(16)).to_le_bytes();
        if let Some(slot) = self.buf.get_mut(8..12) {
            slot.copy_from_slice(&object_length);
        }
        self.buf
    }
}
