//! Request bodies: JSON only, within the size limit, and a refusal that
//! names the field at fault.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::problem::ApiError;

/// Parses a JSON body into `T`: 400 when it is not JSON, 422 naming the field
/// when it is JSON but not a valid `T`, 413 over the limit, 415 when its
/// `Content-Type` says it is something else.
pub fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = read(headers, body)?;
    from_slice(&bytes)
}

/// Like [`parse_json`], but an empty body counts as `{}`.
pub fn parse_json_or_empty<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = read(headers, body)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        from_slice(b"{}")
    } else {
        from_slice(&bytes)
    }
}

fn read(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    if let Some(found) = headers.get(header::CONTENT_TYPE) {
        let text = found.to_str().unwrap_or("");
        let essence = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType { found: text.to_owned() });
        }
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit: None }
        } else {
            ApiError::Malformed {
                detail: rejection.body_text(),
            }
        }
    })
}

/// Deserialises `bytes`, telling a syntax error (400) from a field that does
/// not fit (422, with its path).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, over the whole body: `{} {}` is not JSON, whatever `{}` would mean.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::Malformed { detail: e.to_string() })?;
    // serde would also read a struct from an array of its fields in order: not our format.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::InvalidField {
            field: String::new(),
            pointer: Some(String::new()),
            detail: "the body must be a JSON object".to_owned(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(err) => {
            let path = err.path().clone();
            let inner = err.into_inner();
            return Err(match inner.classify() {
                Category::Data => field_error(&path, &inner),
                Category::Syntax | Category::Eof | Category::Io => ApiError::Malformed {
                    detail: inner.to_string(),
                },
            });
        }
    };
    de.end().map_err(|e| ApiError::Malformed { detail: e.to_string() })?;
    Ok(value)
}

/// The field a data error is about. serde reports a missing, unknown or
/// duplicate field at its parent, naming it in the message: add it to the path.
fn field_error(path: &serde_path_to_error::Path, err: &serde_json::Error) -> ApiError {
    use serde_path_to_error::Segment;
    let message = strip_location(&err.to_string());
    let mut segments: Vec<String> = Vec::new();
    let mut field = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                field.push_str(&format!("[{index}]"));
                segments.push(index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
                segments.push(key.clone());
            }
            Segment::Unknown => {
                field.push_str(".?");
                segments.push("?".to_owned());
            }
        }
    }
    for prefix in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(name) = rest.split('`').next()
            // An unknown field is already the last segment of the path.
            && segments.last().map(String::as_str) != Some(name)
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(name);
            segments.push(name.to_owned());
            break;
        }
    }
    let pointer: String = segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect();
    let detail = if field.is_empty() {
        message
    } else {
        format!("{field}: {message}")
    };
    ApiError::InvalidField {
        field,
        pointer: Some(pointer),
        detail,
    }
}

/// serde_json ends its messages with " at line L column C"; the field says where.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enrol_domain::Application;

    const SAMPLE: &str = r#"{"application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77",
 "round": "2027-primary", "child_id": "370811202011150023", "applicant_id": "11010519491231002X",
 "guardian_ids": [], "sibling_ids": [], "choices": ["S031"], "consent_id": "CNS-1",
 "submitted_at": "2027-05-06T09:00:00+08:00"}"#;

    fn invalid(body: &str) -> (String, Option<String>, String) {
        match from_slice::<Application>(body.as_bytes()) {
            Err(ApiError::InvalidField { field, pointer, detail }) => (field, pointer, detail),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_at_fault() {
        from_slice::<Application>(SAMPLE.as_bytes()).unwrap();
        let (field, pointer, detail) = invalid(&SAMPLE.replace("370811202011150023", "370811202011150024"));
        assert_eq!((field.as_str(), pointer.as_deref()), ("child_id", Some("/child_id")));
        assert!(detail.contains("checksum") && !detail.contains("line"), "{detail}");

        let (field, pointer, _) = invalid(&SAMPLE.replace(
            "\"guardian_ids\": []",
            "\"guardian_ids\": [\"11010519491231002X\", \"1\"]",
        ));
        assert_eq!(
            (field.as_str(), pointer.as_deref()),
            ("guardian_ids[1]", Some("/guardian_ids/1"))
        );

        let (field, _, detail) = invalid(&SAMPLE.replace("\"consent_id\": \"CNS-1\",", ""));
        assert_eq!(field, "consent_id");
        assert!(detail.contains("missing"), "{detail}");

        let (field, _, _) = invalid(&SAMPLE.replace("\"sibling_ids\"", "\"hukou_scan\": \"…\", \"sibling_ids\""));
        assert_eq!(field, "hukou_scan");

        let (field, _, _) = invalid(&SAMPLE.replace("[\"S031\"]", "\"S031\""));
        assert_eq!(field, "choices");

        let (field, pointer, _) = invalid("[1, 2]");
        assert_eq!((field.as_str(), pointer.as_deref()), ("", Some("")));
    }

    #[test]
    fn tells_malformed_json_apart() {
        for body in ["", "{", "{\"round\": }", "not json", "{} {}"] {
            assert!(
                matches!(
                    from_slice::<Application>(body.as_bytes()),
                    Err(ApiError::Malformed { .. })
                ),
                "{body:?}"
            );
        }
    }
}
