//! Unit tests of the hardened XML walker.

use super::*;

fn rejects(body: &str) -> EnvelopeError {
    nodes(body.as_bytes()).expect_err(body)
}

#[test]
fn a_small_document_walks_in_order() {
    let got = nodes(b"<?xml version='1.0'?><a xmlns='urn:x'><b/>t&amp;<![CDATA[<c>]]></a>")
        .expect("well-formed");
    let start = |local: &str| Node::Start {
        ns: Some(b"urn:x".to_vec()),
        local: local.as_bytes().to_vec(),
    };
    assert_eq!(
        got,
        vec![
            start("a"),
            start("b"),
            Node::End,
            Node::Text("t&".into()),
            Node::Text("<c>".into()),
            Node::End
        ]
    );
}

#[test]
fn utf8_bom_and_comments_are_accepted() {
    assert!(nodes(b"\xEF\xBB\xBF<!-- c --><a/><!-- d -->\n").is_ok());
}

#[test]
fn document_level_rules_are_enforced() {
    for body in [
        "",
        "   ",
        "<a>",
        "<a></b>",
        "</a>",
        "<a/><b/>",
        "<a/>junk",
        "junk<a/>",
        "<a/><![CDATA[x]]>",
        "<a>&unknown;</a>",
        "<a>&#0;</a>",
        "<a>&#1;</a>",
        "<a x='1' x='2'/>",
        "<a x=1/>",
        "<a x='&bad;'/>",
        "<p:a/>",
        "<a p:x='1'/>",
        "<a/><?xml version='1.0'?>",
        "<a><!-- -- --></a>",
    ] {
        assert!(
            matches!(
                nodes(body.as_bytes()),
                Err(EnvelopeError::NotXml { .. } | EnvelopeError::Empty)
            ),
            "{body:?} gave {:?}",
            nodes(body.as_bytes())
        );
    }
}

#[test]
fn doctype_and_processing_instructions_are_refused() {
    let laughs = "<!DOCTYPE a [<!ENTITY l 'lol'><!ENTITY l2 '&l;&l;'>]><a>&l2;</a>";
    assert_eq!(rejects(laughs), EnvelopeError::DoctypeForbidden);
    let xxe = "<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><a>&x;</a>";
    assert_eq!(rejects(xxe), EnvelopeError::DoctypeForbidden);
    assert_eq!(
        rejects("<a><?pi x?></a>"),
        EnvelopeError::ProcessingInstructionForbidden
    );
}

#[test]
fn encodings_other_than_utf8_are_refused() {
    assert!(matches!(
        rejects("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
        EnvelopeError::UnsupportedEncoding { .. }
    ));
    assert!(nodes(b"<?xml version='1.0' encoding='UTF-8'?><a/>").is_ok());
    assert!(matches!(
        nodes(b"\xFF\xFE<\x00a\x00/\x00>\x00"),
        Err(EnvelopeError::NotUtf8 { position: 0 })
    ));
    assert!(matches!(
        nodes(b"<a>\x00</a>"),
        Err(EnvelopeError::NotXml { position: 3, .. })
    ));
}

#[test]
fn limits_are_enforced() {
    let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
    assert_eq!(rejects(&deep), EnvelopeError::TooDeep { limit: MAX_DEPTH });
    let ok_deep = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
    assert!(nodes(ok_deep.as_bytes()).is_ok());

    let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
    assert_eq!(
        rejects(&many),
        EnvelopeError::TooManyElements {
            limit: MAX_ELEMENTS
        }
    );

    let attrs: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='x'")).collect();
    assert_eq!(
        rejects(&format!("<a{attrs}/>")),
        EnvelopeError::TooManyAttributes {
            limit: MAX_ATTRIBUTES
        }
    );

    let per_level = MAX_ATTRIBUTES / 2;
    let level: String = (0..per_level)
        .map(|i| format!(" xmlns:p{i}='urn:{i}'"))
        .collect();
    let levels = MAX_NAMESPACES_IN_SCOPE / per_level + 1;
    let body = format!("<a{level}>").repeat(levels) + &"</a>".repeat(levels);
    assert_eq!(
        rejects(&body),
        EnvelopeError::TooManyNamespaces {
            limit: MAX_NAMESPACES_IN_SCOPE
        }
    );
}

#[test]
fn namespace_declarations_leave_scope_with_their_element() {
    let per_level = MAX_ATTRIBUTES / 2;
    let level: String = (0..per_level)
        .map(|i| format!(" xmlns:p{i}='urn:{i}'"))
        .collect();
    let siblings = format!("<b{level}/>").repeat(MAX_NAMESPACES_IN_SCOPE);
    assert!(nodes(format!("<a>{siblings}</a>").as_bytes()).is_ok());
}

/// The definition `first_non_xml_char` must agree with.
fn first_non_xml_char_naive(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| !is_xml_char(c))
}

#[test]
fn the_fast_character_check_finds_what_the_definition_finds() {
    let filler = "aé€😀\u{FFFD}\u{F000}\t\r\n";
    for bad in ["\u{0}", "\u{1}", "\u{1F}", "\u{FFFE}", "\u{FFFF}", "\u{B}"] {
        // Around the 64-byte block boundaries, including a bad character split by one.
        for prefix in 0..140 {
            let text: String = "x".repeat(prefix) + bad + filler;
            assert_eq!(
                first_non_xml_char(&text),
                first_non_xml_char_naive(&text),
                "{prefix} {bad:?}"
            );
        }
    }
    let clean = filler.repeat(50);
    assert_eq!(first_non_xml_char(&clean), None);
    assert_eq!(first_non_xml_char(""), None);
}

proptest::proptest! {
    #[test]
    fn the_fast_character_check_agrees_on_any_text(text in "\\PC*|[\\x00-\\x20\\u{FFFC}-\\u{FFFF}a]*") {
        proptest::prop_assert_eq!(first_non_xml_char(&text), first_non_xml_char_naive(&text));
    }
}

#[test]
fn text_without_references_is_borrowed_from_the_input() {
    let body = b"<a>plain text</a>";
    let got = nodes(body).expect("well-formed");
    assert!(matches!(
        &got[1],
        Node::Text(std::borrow::Cow::Borrowed("plain text"))
    ));
    let got = nodes(b"<a>a&amp;b</a>").expect("well-formed");
    assert_eq!(got[1], Node::Text("a&b".into()));
    assert!(matches!(
        rejects("<a>&#xFFFE;</a>"),
        EnvelopeError::NotXml { reason, .. } if reason.contains("U+FFFE")
    ));
}
