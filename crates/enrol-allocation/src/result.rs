//! The result JSON of formats.md, written straight from the seats: byte for
//! byte what `serde_json::to_string_pretty` makes of an [`crate::Allocation`]
//! (two-space indent, `{}` and `[]` when empty), plus a trailing newline.

use crate::Outcome;

/// The result text of an outcome.
pub(crate) fn write(outcome: &Outcome<'_, '_>) -> String {
    let assignments = outcome.assignments();
    // About 60 bytes a line for UUID ids and short school ids.
    let mut out = String::with_capacity(64 + assignments.len() * 64 + outcome.placed_by_overflow.len() * 48);
    out.push_str("{\n  \"assignments\": {");
    let mut any = false;
    for (applicant, school) in assignments {
        out.push_str(if any { ",\n    " } else { "\n    " });
        any = true;
        string(&mut out, applicant);
        out.push_str(": ");
        match school {
            Some(school) => string(&mut out, school),
            None => out.push_str("null"),
        }
    }
    out.push_str(if any {
        "\n  },\n  \"overflow\": ["
    } else {
        "},\n  \"overflow\": ["
    });
    let mut any = false;
    for applicant in outcome.overflow() {
        out.push_str(if any { ",\n    " } else { "\n    " });
        any = true;
        string(&mut out, applicant);
    }
    out.push_str(if any { "\n  ]\n}\n" } else { "]\n}\n" });
    out
}

/// A JSON string as serde_json writes it: verbatim when nothing needs an
/// escape (the usual id), otherwise through serde_json itself.
fn string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(text).expect("a string always serializes"));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::{Allocation, Instance, Mechanism, School, allocate, allocate_json};

    #[test]
    fn writes_what_serde_json_writes_even_for_odd_ids() {
        let ids = [
            "A",
            "quote\"d",
            "back\\slash",
            "tab\there",
            "nul\u{0}",
            "中文",
            "\u{7f}",
            "e\u{301}",
        ];
        let instance = Instance {
            mechanism: Mechanism::DeferredAcceptance,
            overflow: false,
            schools: vec![School {
                id: "S\"1".into(),
                capacity: 3,
                public: None,
                county: None,
                location: None,
            }],
            applicants: ids
                .iter()
                .enumerate()
                .map(|(i, id)| crate::Applicant {
                    id: (*id).into(),
                    lottery: format!("{i:016x}"),
                    best_tier: None,
                    home: None,
                    choices: vec![crate::Choice {
                        school: "S\"1".into(),
                        key: vec![1],
                    }],
                })
                .collect(),
        };
        let text = serde_json::to_string(&instance).unwrap();
        assert_eq!(
            allocate_json(&text).unwrap(),
            allocate(&instance).unwrap().to_json().unwrap()
        );
        let empty = Allocation {
            assignments: BTreeMap::new(),
            overflow: vec![],
        };
        let none = r#"{"mechanism": "deferred-acceptance", "schools": [], "applicants": []}"#;
        assert_eq!(allocate_json(none).unwrap(), empty.to_json().unwrap());
    }
}
