//! Reading the instance JSON with errors that say where.

use serde_json::error::Category;

use crate::error::{InstanceError, Subject};
use crate::instance::Instance;

/// Reads an allocation instance from its formats.md JSON. Unknown fields are
/// ignored (an instance may carry notes for people); missing or mistyped
/// fields are refused with their path, line and column, and the id of the
/// school or applicant whose entry is at fault when it can be read.
pub fn parse_instance(input: &str) -> Result<Instance, InstanceError> {
    let mut deserializer = serde_json::Deserializer::from_str(input);
    match serde_path_to_error::deserialize::<_, Instance>(&mut deserializer) {
        Ok(instance) => {
            deserializer.end().map_err(syntax)?;
            Ok(instance)
        }
        Err(err) => {
            let path = err.path().clone();
            let inner = err.into_inner();
            match inner.classify() {
                Category::Data => Err(InstanceError::Shape {
                    path: path.to_string(),
                    subject: subject_at(input, &path),
                    message: inner.to_string(),
                    line: inner.line(),
                    column: inner.column(),
                }),
                Category::Syntax | Category::Eof | Category::Io => Err(syntax(inner)),
            }
        }
    }
}

fn syntax(err: serde_json::Error) -> InstanceError {
    InstanceError::Syntax {
        message: err.to_string(),
        line: err.line(),
        column: err.column(),
    }
}

/// The school or applicant whose entry a path points into, read leniently from
/// the raw JSON (only on the error path, so its cost does not matter).
fn subject_at(input: &str, path: &serde_path_to_error::Path) -> Option<Subject> {
    use serde_path_to_error::Segment;
    let mut segments = path.iter();
    let list = match segments.next()? {
        Segment::Map { key } => key.as_str(),
        _ => return None,
    };
    let index = match segments.next()? {
        Segment::Seq { index } => *index,
        _ => return None,
    };
    let value: serde_json::Value = serde_json::from_str(input).ok()?;
    let id = value.get(list)?.get(index)?.get("id")?.as_str()?.to_owned();
    match list {
        "schools" => Some(Subject::School(id)),
        "applicants" => Some(Subject::Applicant(id)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_field_names_the_applicant_and_the_path() {
        let input = r#"{"mechanism": "deferred-acceptance",
            "schools": [{"id": "S1", "capacity": 1}],
            "applicants": [{"id": "A1", "lottery": "0000000000000001", "choices": []},
                           {"id": "A2", "lottery": "0000000000000002",
                            "choices": [{"school": "S1", "key": [1, "x"]}]}]}"#;
        let err = parse_instance(input).unwrap_err();
        match &err {
            InstanceError::Shape {
                path, subject, line, ..
            } => {
                assert_eq!(path, "applicants[1].choices[0].key[1]");
                assert_eq!(subject, &Some(Subject::Applicant("A2".into())));
                assert_eq!(*line, 5);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("applicant \"A2\""), "{err}");
    }

    #[test]
    fn a_negative_capacity_names_the_school() {
        let input = r#"{"mechanism": "deferred-acceptance",
            "schools": [{"id": "S1", "capacity": -1}], "applicants": []}"#;
        let err = parse_instance(input).unwrap_err();
        assert_eq!(err.subject(), Some(Subject::School("S1".into())));
    }

    #[test]
    fn an_unknown_mechanism_is_refused_at_its_path() {
        let input = r#"{"mechanism": "lottery", "schools": [], "applicants": []}"#;
        let err = parse_instance(input).unwrap_err();
        assert!(
            matches!(&err, InstanceError::Shape { path, subject: None, .. } if path == "mechanism"),
            "{err:?}"
        );
    }

    #[test]
    fn broken_json_and_trailing_garbage_are_syntax_errors() {
        let err = parse_instance(r#"{"mechanism": "#).unwrap_err();
        assert!(matches!(err, InstanceError::Syntax { .. }), "{err:?}");
        let err =
            parse_instance(r#"{"mechanism": "deferred-acceptance", "schools": [], "applicants": []} x"#).unwrap_err();
        assert!(matches!(err, InstanceError::Syntax { line: 1, .. }), "{err:?}");
    }

    #[test]
    fn overflow_defaults_to_false_and_unknown_fields_are_ignored() {
        let input = r#"{"mechanism": "immediate-acceptance", "round": "2027-primary",
            "schools": [], "applicants": []}"#;
        let instance = parse_instance(input).unwrap();
        assert!(!instance.overflow);
    }
}
