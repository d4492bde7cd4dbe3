//! Caps and formats of an application at the door (docs/api.md, "Limits and
//! formats"): each refusal is a 422 naming its field. They bound what one
//! request can cost the engine and other people: every declared sibling is a
//! birth-registry read of someone's certificate, every guardian a read of
//! their household, property and permits.

use std::collections::BTreeSet;

use enrol_domain::Application;

use crate::body::from_slice;
use crate::problem::ApiError;

/// Distinct `guardian_ids` at most (a repeated ID counts once).
pub const MAX_GUARDIAN_IDS: usize = 4;
/// Distinct `sibling_ids` at most (a repeated ID counts once).
pub const MAX_SIBLING_IDS: usize = 8;
/// Distinct `choices` at most. The policy names no school count (the zone
/// registry's catalogue is read at verification), so the cap is fixed here:
/// more than any family ranks, and every zoned school is appended anyway.
pub const MAX_CHOICES: usize = 20;
/// Characters of `consent_id` at most.
pub const MAX_CONSENT_ID_LEN: usize = 64;

/// Parses an application body and checks its caps and formats: what
/// `POST /v1/applications` does with the body before anything else.
/// Public so that the fuzz targets drive exactly this code.
pub fn parse_application(bytes: &[u8]) -> Result<Application, ApiError> {
    let app: Application = from_slice(bytes)?;
    check_application(&app)?;
    Ok(app)
}

/// The caps and formats JSON parsing alone does not check.
pub fn check_application(app: &Application) -> Result<(), ApiError> {
    cap("guardian_ids", distinct(&app.guardian_ids), MAX_GUARDIAN_IDS)?;
    cap("sibling_ids", distinct(&app.sibling_ids), MAX_SIBLING_IDS)?;
    cap("choices", distinct(&app.choices), MAX_CHOICES)?;
    consent_id(app.consent_id.as_str())
}

fn distinct<T: Ord>(items: &[T]) -> usize {
    items.iter().collect::<BTreeSet<_>>().len()
}

fn cap(field: &str, count: usize, max: usize) -> Result<(), ApiError> {
    if count > max {
        return Err(ApiError::invalid(
            field,
            format!("{field}: at most {max} distinct entries, found {count}"),
        ));
    }
    Ok(())
}

/// `consent_id`: 1 to 64 visible ASCII characters. It travels to every
/// registry as the `X-Consent-Id` header, so nothing else is safe to send;
/// an empty one would make every registry refuse every read.
fn consent_id(consent: &str) -> Result<(), ApiError> {
    let problem = if consent.is_empty() {
        Some("consent_id: must not be empty".to_owned())
    } else if consent.chars().count() > MAX_CONSENT_ID_LEN {
        Some(format!(
            "consent_id: at most {MAX_CONSENT_ID_LEN} characters, found {}",
            consent.chars().count()
        ))
    } else if !consent.bytes().all(|b| b.is_ascii_graphic()) {
        Some("consent_id: only visible ASCII characters (no spaces or control characters)".to_owned())
    } else {
        None
    };
    match problem {
        Some(detail) => Err(ApiError::invalid("consent_id", detail)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> serde_json::Value {
        serde_json::json!({"application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77",
            "round": "2027-primary", "child_id": "370811202011150023", "applicant_id": "11010519491231002X",
            "guardian_ids": [], "sibling_ids": [], "choices": ["S031"], "consent_id": "CNS-1",
            "submitted_at": "2027-05-06T09:00:00+08:00"})
    }

    fn field_of(body: &serde_json::Value) -> Option<String> {
        match parse_application(&serde_json::to_vec(body).unwrap()) {
            Ok(_) => None,
            Err(ApiError::InvalidField { field, .. }) => Some(field),
            Err(other) => panic!("expected a field error, got {other:?}"),
        }
    }

    /// Valid IDs, distinct: 11010519491231002X with its sequence varied.
    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let first17 = format!("11010519491231{:03}", 100 + i);
                enrol_domain::NationalId::from_prefix(&first17).unwrap().to_string()
            })
            .collect()
    }

    #[test]
    fn each_cap_names_its_field() {
        assert_eq!(field_of(&app()), None);
        for (field, max) in [("guardian_ids", MAX_GUARDIAN_IDS), ("sibling_ids", MAX_SIBLING_IDS)] {
            let mut body = app();
            body[field] = serde_json::json!(ids(max));
            assert_eq!(field_of(&body), None, "{field} at its cap");
            body[field] = serde_json::json!(ids(max + 1));
            assert_eq!(field_of(&body).as_deref(), Some(field));
            // A repeated entry counts once.
            let mut repeated = ids(max);
            repeated.extend(ids(max));
            body[field] = serde_json::json!(repeated);
            assert_eq!(field_of(&body), None, "{field} repeated");
        }
        let mut body = app();
        body["choices"] = serde_json::json!((0..=MAX_CHOICES).map(|i| format!("S{i:03}")).collect::<Vec<_>>());
        assert_eq!(field_of(&body).as_deref(), Some("choices"));
        for consent in [
            "",
            " ",
            "CNS 1",
            "CNS-\u{7}",
            "同意书-1",
            &"C".repeat(MAX_CONSENT_ID_LEN + 1),
        ] {
            let mut body = app();
            body["consent_id"] = serde_json::json!(consent);
            assert_eq!(field_of(&body).as_deref(), Some("consent_id"), "{consent:?}");
        }
        let mut body = app();
        body["consent_id"] = serde_json::json!("C".repeat(MAX_CONSENT_ID_LEN));
        assert_eq!(field_of(&body), None);
    }
}
