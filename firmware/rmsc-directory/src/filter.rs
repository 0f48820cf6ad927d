//! LDAP search filters (RFC 4515) built from untrusted text: every value is escaped, so a
//! query such as `*)(objectClass=*` is searched for literally and cannot widen the filter.

use crate::entry::KindFilter;
use crate::error::DirectoryError;

/// Longest query accepted; longer text is not a name anyone types.
pub const MAX_QUERY_LEN: usize = 256;

/// Escapes a value for use inside a filter (RFC 4515 section 3): `*`, `(`, `)`, `\` and NUL
/// become `\2a`, `\28`, `\29`, `\5c`, `\00`. Other bytes, including UTF-8, pass through.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes arbitrary bytes (a binary objectSid) as `\xx` pairs.
pub fn escape_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// Trims a query and checks it is searchable.
pub(crate) fn check_query(query: &str) -> Result<&str, DirectoryError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(DirectoryError::InvalidQuery("empty query".into()));
    }
    if query.len() > MAX_QUERY_LEN {
        return Err(DirectoryError::InvalidQuery(format!(
            "longer than {MAX_QUERY_LEN} bytes"
        )));
    }
    Ok(query)
}

/// The object classes of the requested kinds. Computers are also users in AD's schema, so
/// users exclude them.
fn kinds_filter(kinds: KindFilter) -> String {
    let mut parts = Vec::new();
    if kinds.users {
        parts.push("(&(objectClass=user)(!(objectClass=computer)))");
    }
    if kinds.computers {
        parts.push("(objectClass=computer)");
    }
    if kinds.groups {
        parts.push("(objectClass=group)");
    }
    format!("(|{})", parts.concat())
}

/// Accounts and groups whose name, account name or display name contains `query`.
pub(crate) fn search_filter(query: &str, kinds: KindFilter) -> String {
    let v = escape_value(query);
    format!(
        "(&{}(|(sAMAccountName=*{v}*)(cn=*{v}*)(displayName=*{v}*)(userPrincipalName={v}*)))",
        kinds_filter(kinds)
    )
}

/// One account or group by name: `DOMAIN\name`, `name@upn.suffix`, `EXCH01$`, `EXCH01`
/// (a computer without its `$`) or a group's name.
pub(crate) fn name_filter(name: &str) -> String {
    // One domain per appliance: the NetBIOS prefix only tells the admin's habit.
    let bare = name.rsplit_once('\\').map_or(name, |(_, n)| n);
    let v = escape_value(bare);
    let mut alternatives = format!("(sAMAccountName={v})(cn={v})");
    if bare.contains('@') {
        alternatives.push_str(&format!("(userPrincipalName={v})"));
    } else if !bare.ends_with('$') {
        alternatives.push_str(&format!("(sAMAccountName={v}$)"));
    }
    format!("(&{}(|{alternatives}))", kinds_filter(KindFilter::ALL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_value("a*b(c)d\\e\0f"), "a\\2ab\\28c\\29d\\5ce\\00f");
        assert_eq!(escape_value("Exchange Servers"), "Exchange Servers");
        assert_eq!(escape_value("Müller"), "Müller");
        assert_eq!(escape_bytes(&[1, 0x5a, 0xff]), "\\01\\5a\\ff");
    }

    #[test]
    fn injection_attempt_stays_inside_its_value() {
        let filter = search_filter("*)(objectClass=*", KindFilter::ALL);
        assert!(!filter.contains("*)(objectClass=*"), "{filter}");
        assert!(filter.contains("(sAMAccountName=*\\2a\\29\\28objectClass=\\2a*)"));
        assert_balanced(&filter);
        let filter = name_filter("x)(|(cn=*");
        assert!(filter.contains("(cn=x\\29\\28|\\28cn=\\2a)"), "{filter}");
        assert_balanced(&filter);
    }

    /// Unescaped parentheses must pair up, or a value broke out of its item.
    fn assert_balanced(filter: &str) {
        let mut depth = 0i32;
        for c in filter.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{filter}");
        }
        assert_eq!(depth, 0, "{filter}");
    }

    #[test]
    fn names_accept_domain_prefix_upn_and_missing_dollar() {
        let f = name_filter("CONTOSO\\EXCH01$");
        assert!(
            f.contains("(sAMAccountName=EXCH01$)") && !f.contains("CONTOSO"),
            "{f}"
        );
        let f = name_filter("EXCH01");
        assert!(f.contains("(sAMAccountName=EXCH01$)"), "{f}");
        let f = name_filter("alice@contoso.test");
        assert!(f.contains("(userPrincipalName=alice@contoso.test)"), "{f}");
        let f = name_filter("Exchange Servers");
        assert!(f.contains("(cn=Exchange Servers)"), "{f}");
    }

    #[test]
    fn kinds_select_object_classes() {
        let only_groups = KindFilter {
            users: false,
            computers: false,
            groups: true,
        };
        let f = search_filter("x", only_groups);
        assert!(f.starts_with("(&(|(objectClass=group))"), "{f}");
        assert!(!f.contains("computer"));
    }

    #[test]
    fn empty_and_huge_queries_are_refused() {
        assert!(check_query("  ").is_err());
        assert!(check_query(&"a".repeat(MAX_QUERY_LEN + 1)).is_err());
        assert_eq!(check_query(" EXCH ").ok(), Some("EXCH"));
    }
}
