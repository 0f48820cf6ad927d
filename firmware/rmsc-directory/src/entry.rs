//! What a search returns: accounts and groups with their SID, kind, group scope and DN, read
//! from LDAP search result entries without trusting their shape.

use std::collections::HashMap;

use ldap3::asn1::{StructureTag, PL};
use rmsc_kerberos::Sid;

use crate::sid::decode_sid;

/// The attributes every search asks for.
pub(crate) const ATTRIBUTES: [&str; 6] = [
    "objectClass",
    "objectSid",
    "sAMAccountName",
    "cn",
    "displayName",
    "groupType",
];

/// What kind of directory object an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A user or service account.
    User,
    /// A computer account (`NAME$`).
    Computer,
    /// A group.
    Group,
}

/// The scope of a group, from the bits of `groupType` (MS-ADTS 2.2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupScope {
    /// Members from its own domain, usable across the forest.
    Global,
    /// Members from anywhere, usable in its own domain (includes builtin groups).
    DomainLocal,
    /// Members from anywhere, usable anywhere in the forest.
    Universal,
}

/// Which kinds of object a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindFilter {
    /// User and service accounts.
    pub users: bool,
    /// Computer accounts.
    pub computers: bool,
    /// Groups.
    pub groups: bool,
}

impl KindFilter {
    /// Every kind.
    pub const ALL: KindFilter = KindFilter {
        users: true,
        computers: true,
        groups: true,
    };

    pub(crate) fn admits(self, kind: EntryKind) -> bool {
        match kind {
            EntryKind::User => self.users,
            EntryKind::Computer => self.computers,
            EntryKind::Group => self.groups,
        }
    }
}

/// An account or group found in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Display name, else common name.
    pub name: String,
    /// The pre-Windows 2000 logon name (`EXCH01$`, `Exchange Servers`).
    pub sam_account_name: String,
    /// The object's SID, which is what the authorization list stores.
    pub sid: Sid,
    /// User, computer or group.
    pub kind: EntryKind,
    /// For groups, their scope.
    pub scope: Option<GroupScope>,
    /// For groups, whether it is a security group (usable for authorization) rather than a
    /// distribution list. Always false for accounts.
    pub security_group: bool,
    /// Distinguished name.
    pub dn: String,
}

const GROUP_TYPE_BUILTIN_LOCAL: u32 = 0x1;
const GROUP_TYPE_GLOBAL: u32 = 0x2;
const GROUP_TYPE_DOMAIN_LOCAL: u32 = 0x4;
const GROUP_TYPE_UNIVERSAL: u32 = 0x8;
const GROUP_TYPE_SECURITY: u32 = 0x8000_0000;

/// Scope and security flag from `groupType` as LDAP prints it (a signed 32-bit decimal).
pub fn group_type(text: &str) -> Option<(GroupScope, bool)> {
    let bits = u32::from_ne_bytes(text.trim().parse::<i32>().ok()?.to_ne_bytes());
    let scope = if bits & GROUP_TYPE_GLOBAL != 0 {
        GroupScope::Global
    } else if bits & GROUP_TYPE_UNIVERSAL != 0 {
        GroupScope::Universal
    } else if bits & (GROUP_TYPE_DOMAIN_LOCAL | GROUP_TYPE_BUILTIN_LOCAL) != 0 {
        GroupScope::DomainLocal
    } else {
        return None;
    };
    Some((scope, bits & GROUP_TYPE_SECURITY != 0))
}

/// A search result entry: DN and attribute values keyed by lower-cased attribute name.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<Vec<u8>>>,
}

impl RawEntry {
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.attrs.get(name)?.first().map(Vec::as_slice)
    }

    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.first(name)?).ok()
    }

    fn has_value(&self, name: &str, value: &str) -> bool {
        self.attrs
            .get(name)
            .is_some_and(|vs| vs.iter().any(|v| v.eq_ignore_ascii_case(value.as_bytes())))
    }
}

/// Reads a SearchResultEntry (RFC 4511 4.5.2: `[APPLICATION 4] SEQUENCE { objectName,
/// attributes SEQUENCE OF SEQUENCE { type, vals SET OF value } }`). `None` for anything else,
/// where ldap3's own reader would panic.
pub(crate) fn decode_entry(tag: StructureTag) -> Option<RawEntry> {
    if tag.id != 4 {
        return None;
    }
    let PL::C(parts) = tag.payload else {
        return None;
    };
    let mut parts = parts.into_iter();
    let dn = String::from_utf8(primitive(parts.next()?)?).ok()?;
    let PL::C(attributes) = parts.next()?.payload else {
        return None;
    };
    let mut attrs = HashMap::new();
    for attribute in attributes {
        let PL::C(pair) = attribute.payload else {
            return None;
        };
        let mut pair = pair.into_iter();
        let name = String::from_utf8(primitive(pair.next()?)?).ok()?;
        let PL::C(values) = pair.next()?.payload else {
            return None;
        };
        let values = values
            .into_iter()
            .map(primitive)
            .collect::<Option<Vec<_>>>()?;
        attrs.insert(name.to_ascii_lowercase(), values);
    }
    Some(RawEntry { dn, attrs })
}

fn primitive(tag: StructureTag) -> Option<Vec<u8>> {
    match tag.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}

/// Turns a raw entry into a [`DirectoryEntry`]; `None` for objects that are not accounts or
/// groups, or that lack a SID or account name.
pub(crate) fn to_directory_entry(raw: &RawEntry) -> Option<DirectoryEntry> {
    let kind = if raw.has_value("objectclass", "computer") {
        EntryKind::Computer
    } else if raw.has_value("objectclass", "group") {
        EntryKind::Group
    } else if raw.has_value("objectclass", "user") {
        EntryKind::User
    } else {
        return None;
    };
    let sid = decode_sid(raw.first("objectsid")?)?;
    let sam_account_name = raw.text("samaccountname")?.to_owned();
    let name = raw
        .text("displayname")
        .or_else(|| raw.text("cn"))
        .unwrap_or(&sam_account_name)
        .to_owned();
    let group = match kind {
        EntryKind::Group => raw.text("grouptype").and_then(group_type),
        _ => None,
    };
    Some(DirectoryEntry {
        name,
        sam_account_name,
        sid,
        kind,
        scope: group.map(|(scope, _)| scope),
        security_group: group.is_some_and(|(_, security)| security),
        dn: raw.dn.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::asn1::TagClass;

    fn prim(bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id: 4,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn cons(id: u64, class: TagClass, items: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(items),
        }
    }

    fn entry(dn: &str, attrs: &[(&str, &[&[u8]])]) -> StructureTag {
        let attrs = attrs
            .iter()
            .map(|(name, values)| {
                let values = values.iter().map(|v| prim(v)).collect();
                cons(
                    16,
                    TagClass::Universal,
                    vec![prim(name.as_bytes()), cons(17, TagClass::Universal, values)],
                )
            })
            .collect();
        cons(
            4,
            TagClass::Application,
            vec![prim(dn.as_bytes()), cons(16, TagClass::Universal, attrs)],
        )
    }

    const SID: &[u8] = &[1, 1, 0, 0, 0, 0, 0, 5, 0x20, 0x02, 0, 0];

    #[test]
    fn group_types_map_to_scopes() {
        assert_eq!(group_type("-2147483646"), Some((GroupScope::Global, true)));
        assert_eq!(
            group_type("-2147483644"),
            Some((GroupScope::DomainLocal, true))
        );
        assert_eq!(
            group_type("-2147483643"),
            Some((GroupScope::DomainLocal, true))
        );
        assert_eq!(group_type("8"), Some((GroupScope::Universal, false)));
        assert_eq!(group_type("0"), None);
        assert_eq!(group_type("global"), None);
    }

    #[test]
    fn a_group_entry_decodes_with_scope() {
        let raw = decode_entry(entry(
            "CN=Exchange Servers,CN=Users,DC=contoso,DC=test",
            &[
                ("objectClass", &[b"top", b"group"]),
                ("objectSid", &[SID]),
                ("sAMAccountName", &[b"Exchange Servers"]),
                ("cn", &[b"Exchange Servers"]),
                ("groupType", &[b"-2147483646"]),
            ],
        ))
        .expect("well-formed entry");
        let e = to_directory_entry(&raw).expect("a group");
        assert_eq!(e.kind, EntryKind::Group);
        assert_eq!(e.scope, Some(GroupScope::Global));
        assert!(e.security_group);
        assert_eq!(e.sid.to_string(), "S-1-5-544");
        assert_eq!(e.name, "Exchange Servers");
    }

    #[test]
    fn a_computer_is_not_a_user_and_has_no_scope() {
        let raw = decode_entry(entry(
            "CN=EXCH01,CN=Computers,DC=contoso,DC=test",
            &[
                ("objectClass", &[b"top", b"person", b"user", b"computer"]),
                ("objectSid", &[SID]),
                ("sAMAccountName", &[b"EXCH01$"]),
            ],
        ))
        .expect("well-formed entry");
        let e = to_directory_entry(&raw).expect("a computer");
        assert_eq!(
            (e.kind, e.scope, e.security_group),
            (EntryKind::Computer, None, false)
        );
        assert_eq!(e.name, "EXCH01$");
    }

    #[test]
    fn entries_without_sid_or_of_other_classes_are_skipped() {
        let no_sid = decode_entry(entry(
            "CN=x",
            &[("objectClass", &[b"user"]), ("sAMAccountName", &[b"x"])],
        ))
        .expect("well-formed entry");
        assert_eq!(to_directory_entry(&no_sid), None);
        let contact = decode_entry(entry(
            "CN=c",
            &[("objectClass", &[b"contact"]), ("objectSid", &[SID])],
        ))
        .expect("well-formed entry");
        assert_eq!(to_directory_entry(&contact), None);
    }

    #[test]
    fn malformed_entries_are_refused_without_panic() {
        assert_eq!(decode_entry(prim(b"x")), None);
        assert_eq!(decode_entry(cons(4, TagClass::Application, vec![])), None);
        assert_eq!(
            decode_entry(cons(
                4,
                TagClass::Application,
                vec![prim(b"dn"), prim(b"x")]
            )),
            None
        );
        let bad_values = cons(
            4,
            TagClass::Application,
            vec![
                prim(b"dn"),
                cons(
                    16,
                    TagClass::Universal,
                    vec![cons(16, TagClass::Universal, vec![prim(b"cn"), prim(b"v")])],
                ),
            ],
        );
        assert_eq!(decode_entry(bad_values), None);
        assert_eq!(
            decode_entry(cons(
                4,
                TagClass::Application,
                vec![prim(&[0xff]), cons(16, TagClass::Universal, vec![])]
            )),
            None
        );
    }
}
