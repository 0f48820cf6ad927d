//! Decoding of PAC_LOGON_INFO: the NDR-serialized KERB_VALIDATION_INFO of MS-PAC 2.5.
//!
//! The buffer is a type serialization version 1 stream (MS-RPCE 2.2.6): a common header, a
//! private header, the top-level unique pointer, the fixed part of the structure, and then
//! every pointer's referent in the order the pointers appeared.

use std::collections::HashSet;

use super::error::{PacError, PacErrorKind};
use super::ndr::NdrReader;
use super::sid::Sid;
use super::unicode_string::{read_string_body, read_string_header, StringHeader};

/// The parts of a caller's logon information the connector uses for authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonInfo {
    /// Account name (sAMAccountName), e.g. `EXCH01$`.
    pub effective_name: String,
    /// Display name; often empty for computer accounts.
    pub full_name: String,
    /// NetBIOS name of the account's domain, e.g. `CONTOSO`.
    pub logon_domain_name: String,
    /// Name of the domain controller that issued the logon.
    pub logon_server: String,
    /// The account's relative id within its domain.
    pub user_id: u32,
    /// Relative id of the account's primary group.
    pub primary_group_id: u32,
    /// SID of the account's domain (LogonDomainId).
    pub domain_sid: Sid,
    /// The account's SID: `domain_sid` plus `user_id`.
    pub user_sid: Sid,
    /// GroupIds (as domain SIDs), then ExtraSids, then the resource domain's groups, without
    /// duplicates and in that order.
    pub group_sids: Vec<Sid>,
    /// UserFlags (MS-PAC 2.5), e.g. 0x20 when ExtraSids is populated.
    pub user_flags: u32,
    /// UserAccountControl bits (MS-SAMR 2.2.1.12).
    pub user_account_control: u32,
}

/// Size of one GROUP_MEMBERSHIP or KERB_SID_AND_ATTRIBUTES element on the wire.
const PAIR_SIZE: usize = 8;

/// Decodes a PAC_LOGON_INFO buffer, as MIT krb5 exposes it under `urn:mspac:logon-info`.
///
/// Every count, length and pointer is checked against the buffer; any inconsistency is an
/// error naming the field and its offset.
pub fn decode_logon_info(buf: &[u8]) -> Result<LogonInfo, PacError> {
    let mut r = NdrReader::new(buf);
    read_serialization_headers(&mut r)?;
    let top_offset = r.offset();
    if !r.pointer("KERB_VALIDATION_INFO")? {
        return Err(PacError::new(
            "KERB_VALIDATION_INFO",
            top_offset,
            PacErrorKind::NullPointer("the structure is required"),
        ));
    }
    let fixed = read_fixed_part(&mut r)?;

    let effective_name = read_string_body(&mut r, &fixed.effective_name)?;
    let full_name = read_string_body(&mut r, &fixed.full_name)?;
    for unused in &fixed.unused_strings {
        read_string_body(&mut r, unused)?;
    }
    let group_rids = read_memberships(&mut r, &fixed.group_ids)?;
    let logon_server = read_string_body(&mut r, &fixed.logon_server)?;
    let logon_domain_name = read_string_body(&mut r, &fixed.logon_domain_name)?;
    if !fixed.logon_domain_id {
        return Err(PacError::new(
            "LogonDomainId",
            fixed.logon_domain_id_offset,
            PacErrorKind::NullPointer("the domain SID is required"),
        ));
    }
    let domain_sid = Sid::read_ndr(&mut r, "LogonDomainId")?;
    let extra_sids = read_extra_sids(&mut r, &fixed.extra_sids)?;
    let resource_domain = if fixed.resource_group_domain_sid {
        Some(Sid::read_ndr(&mut r, "ResourceGroupDomainSid")?)
    } else {
        None
    };
    let resource_rids = read_memberships(&mut r, &fixed.resource_group_ids)?;

    let with_rid = |domain: &Sid, rid: u32, field: &'static str, offset: usize| {
        domain
            .with_rid(rid)
            .map_err(|e| PacError::new(field, offset, e.into()))
    };
    let user_sid = with_rid(&domain_sid, fixed.user_id, "UserId", fixed.user_id_offset)?;
    let mut groups = GroupSet::default();
    for rid in group_rids {
        groups.push(with_rid(
            &domain_sid,
            rid,
            "GroupIds",
            fixed.group_ids.offset,
        )?);
    }
    for sid in extra_sids {
        groups.push(sid);
    }
    match resource_domain {
        Some(domain) => {
            for rid in resource_rids {
                let offset = fixed.resource_group_ids.offset;
                groups.push(with_rid(&domain, rid, "ResourceGroupIds", offset)?);
            }
        }
        None if !resource_rids.is_empty() => {
            return Err(PacError::new(
                "ResourceGroupDomainSid",
                fixed.resource_group_domain_sid_offset,
                PacErrorKind::NullPointer("ResourceGroupIds are present"),
            ));
        }
        None => {}
    }

    Ok(LogonInfo {
        effective_name,
        full_name,
        logon_domain_name,
        logon_server,
        user_id: fixed.user_id,
        primary_group_id: fixed.primary_group_id,
        domain_sid,
        user_sid,
        group_sids: groups.into_vec(),
        user_flags: fixed.user_flags,
        user_account_control: fixed.user_account_control,
    })
}

/// Checks the common and private headers of type serialization version 1 and limits the
/// reader to the object buffer they declare.
fn read_serialization_headers(r: &mut NdrReader<'_>) -> Result<(), PacError> {
    let expect = |r: &mut NdrReader<'_>, field, expected: u32, found: u32| {
        if found == expected {
            Ok(())
        } else {
            Err(PacError::new(
                field,
                r.offset(),
                PacErrorKind::UnexpectedValue { found, expected },
            ))
        }
    };
    let version = r.u8("CommonHeader.Version")?;
    expect(r, "CommonHeader.Version", 1, version.into())?;
    // 0x10 is little-endian; PACs are always little-endian, so big-endian is refused.
    let endianness = r.u8("CommonHeader.Endianness")?;
    expect(r, "CommonHeader.Endianness", 0x10, endianness.into())?;
    let header_length = r.u16("CommonHeader.CommonHeaderLength")?;
    expect(
        r,
        "CommonHeader.CommonHeaderLength",
        8,
        header_length.into(),
    )?;
    // The filler is conventionally 0xcccccccc but carries no meaning, so it is not checked.
    r.u32("CommonHeader.Filler")?;
    let object_length = r.u32("PrivateHeader.ObjectBufferLength")?;
    r.u32("PrivateHeader.Filler")?;
    let end = usize::try_from(object_length)
        .ok()
        .and_then(|len| r.offset().checked_add(len))
        .unwrap_or(usize::MAX);
    // Bytes after the object buffer are the PAC's own padding and are ignored.
    r.limit_to(end, "PrivateHeader.ObjectBufferLength")
}

/// A count and a pointer to a conformant array of 8-byte pairs.
#[derive(Debug)]
struct ArrayRef {
    field: &'static str,
    count: u32,
    present: bool,
    offset: usize,
}

/// The fields of the fixed part that later steps need.
#[derive(Debug)]
struct FixedPart {
    effective_name: StringHeader,
    full_name: StringHeader,
    /// LogonScript, ProfilePath, HomeDirectory, HomeDirectoryDrive: validated, not kept.
    unused_strings: [StringHeader; 4],
    user_id: u32,
    user_id_offset: usize,
    primary_group_id: u32,
    group_ids: ArrayRef,
    user_flags: u32,
    logon_server: StringHeader,
    logon_domain_name: StringHeader,
    logon_domain_id: bool,
    logon_domain_id_offset: usize,
    user_account_control: u32,
    extra_sids: ArrayRef,
    resource_group_domain_sid: bool,
    resource_group_domain_sid_offset: usize,
    resource_group_ids: ArrayRef,
}

/// Reads the 216-byte fixed part of KERB_VALIDATION_INFO, field by field in MS-PAC order.
fn read_fixed_part(r: &mut NdrReader<'_>) -> Result<FixedPart, PacError> {
    for field in [
        "LogonTime",
        "LogoffTime",
        "KickOffTime",
        "PasswordLastSet",
        "PasswordCanChange",
        "PasswordMustChange",
    ] {
        read_filetime(r, field)?;
    }
    let effective_name = read_string_header(r, "EffectiveName")?;
    let full_name = read_string_header(r, "FullName")?;
    let unused_strings = [
        read_string_header(r, "LogonScript")?,
        read_string_header(r, "ProfilePath")?,
        read_string_header(r, "HomeDirectory")?,
        read_string_header(r, "HomeDirectoryDrive")?,
    ];
    r.u16("LogonCount")?;
    r.u16("BadPasswordCount")?;
    let user_id_offset = r.offset();
    let user_id = r.u32("UserId")?;
    let primary_group_id = r.u32("PrimaryGroupId")?;
    let group_ids = read_array_ref(r, "GroupIds")?;
    let user_flags = r.u32("UserFlags")?;
    r.take(16, "UserSessionKey")?;
    let logon_server = read_string_header(r, "LogonServer")?;
    let logon_domain_name = read_string_header(r, "LogonDomainName")?;
    let logon_domain_id_offset = r.offset();
    let logon_domain_id = r.pointer("LogonDomainId")?;
    r.u32("Reserved1")?;
    r.u32("Reserved1")?;
    let user_account_control = r.u32("UserAccountControl")?;
    r.u32("SubAuthStatus")?;
    read_filetime(r, "LastSuccessfulILogon")?;
    read_filetime(r, "LastFailedILogon")?;
    r.u32("FailedILogonCount")?;
    r.u32("Reserved3")?;
    let extra_sids = read_array_ref(r, "ExtraSids")?;
    let resource_group_domain_sid_offset = r.offset();
    let resource_group_domain_sid = r.pointer("ResourceGroupDomainSid")?;
    let resource_group_ids = read_array_ref(r, "ResourceGroupIds")?;
    Ok(FixedPart {
        effective_name,
        full_name,
        unused_strings,
        user_id,
        user_id_offset,
        primary_group_id,
        group_ids,
        user_flags,
        logon_server,
        logon_domain_name,
        logon_domain_id,
        logon_domain_id_offset,
        user_account_control,
        extra_sids,
        resource_group_domain_sid,
        resource_group_domain_sid_offset,
        resource_group_ids,
    })
}

/// A FILETIME is two aligned `unsigned long`s (MS-DTYP 2.3.3), so its alignment is 4, not 8.
fn read_filetime(r: &mut NdrReader<'_>, field: &'static str) -> Result<(), PacError> {
    r.u32(field)?;
    r.u32(field)?;
    Ok(())
}

/// Reads a count (the field before the pointer in the structure) and the pointer itself.
fn read_array_ref(r: &mut NdrReader<'_>, field: &'static str) -> Result<ArrayRef, PacError> {
    let offset = r.offset();
    let count = r.u32(field)?;
    let present = r.pointer(field)?;
    if !present && count != 0 {
        return Err(PacError::new(
            field,
            offset,
            PacErrorKind::NullPointer("the declared count is not zero"),
        ));
    }
    Ok(ArrayRef {
        field,
        count,
        present,
        offset,
    })
}

/// Reads the deferred conformant count of an array and checks it against the declared one.
fn read_array_count(r: &mut NdrReader<'_>, array: &ArrayRef) -> Result<usize, PacError> {
    let offset = r.offset();
    let found = r.u32(array.field)?;
    if found != array.count {
        return Err(PacError::new(
            array.field,
            offset,
            PacErrorKind::CountMismatch {
                declared: array.count,
                found,
            },
        ));
    }
    r.check_fits(found, PAIR_SIZE, array.field)
}

/// Reads a deferred GROUP_MEMBERSHIP array and returns the relative ids.
fn read_memberships(r: &mut NdrReader<'_>, array: &ArrayRef) -> Result<Vec<u32>, PacError> {
    if !array.present {
        return Ok(Vec::new());
    }
    let count = read_array_count(r, array)?;
    let mut rids = Vec::with_capacity(count);
    for _ in 0..count {
        rids.push(r.u32(array.field)?);
        r.u32(array.field)?; // Attributes: every listed group counts, whatever its flags.
    }
    Ok(rids)
}

/// Reads the deferred KERB_SID_AND_ATTRIBUTES array, then the SIDs its entries point to.
fn read_extra_sids(r: &mut NdrReader<'_>, array: &ArrayRef) -> Result<Vec<Sid>, PacError> {
    if !array.present {
        return Ok(Vec::new());
    }
    let count = read_array_count(r, array)?;
    for _ in 0..count {
        let offset = r.offset();
        if !r.pointer(array.field)? {
            return Err(PacError::new(
                array.field,
                offset,
                PacErrorKind::NullPointer("an entry must carry a SID"),
            ));
        }
        r.u32(array.field)?; // Attributes.
    }
    // Each SID is at least 12 bytes; the check bounds the allocation below.
    r.check_fits(array.count, 12, array.field)?;
    let mut sids = Vec::with_capacity(count);
    for _ in 0..count {
        sids.push(Sid::read_ndr(r, "ExtraSids.Sid")?);
    }
    Ok(sids)
}

/// Collects SIDs in first-seen order without duplicates.
#[derive(Debug, Default)]
struct GroupSet {
    seen: HashSet<Sid>,
    ordered: Vec<Sid>,
}

impl GroupSet {
    fn push(&mut self, sid: Sid) {
        if self.seen.insert(sid.clone()) {
            self.ordered.push(sid);
        }
    }

    fn into_vec(self) -> Vec<Sid> {
        self.ordered
    }
}
