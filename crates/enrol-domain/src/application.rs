//! The application an upstream app submits (formats.md, "Application").

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ConsentId, NationalId, RoundId, SchoolId};

/// A family's application, exactly the JSON of formats.md. It carries no
/// document: the engine reads everything else from the registries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Chosen by the app; the idempotency key.
    pub application_id: Uuid,
    pub round: RoundId,
    pub child_id: NationalId,
    /// The signed-in citizen who submits: a guardian.
    pub applicant_id: NationalId,
    pub guardian_ids: Vec<NationalId>,
    pub sibling_ids: Vec<NationalId>,
    pub choices: Vec<SchoolId>,
    pub consent_id: ConsentId,
    pub submitted_at: DateTime<FixedOffset>,
}

impl Application {
    /// The guardians: the applicant and `guardian_ids`, each once, in order of first mention.
    pub fn guardians(&self) -> Vec<&NationalId> {
        let mut seen = BTreeSet::new();
        std::iter::once(&self.applicant_id)
            .chain(&self.guardian_ids)
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// Declared siblings, each once, in order of first mention, never the child itself.
    /// (The rules give a reason for a dropped self-mention; see `raw_sibling_ids`.)
    pub fn siblings(&self) -> Vec<&NationalId> {
        let mut seen = BTreeSet::new();
        self.sibling_ids
            .iter()
            .filter(|id| **id != self.child_id && seen.insert(*id))
            .collect()
    }

    /// Whether `citizen` may read this application: the applicant or a listed guardian.
    pub fn is_family_member(&self, citizen: &NationalId) -> bool {
        self.guardians().contains(&citizen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77",
 "round": "2027-primary",
 "child_id": "370811202011150023",
 "applicant_id": "11010519491231002x",
 "guardian_ids": ["11010519491231002X"],
 "sibling_ids": [],
 "choices": ["S031", "S014"],
 "consent_id": "CNS-2027-000123",
 "submitted_at": "2027-05-06T09:00:00+08:00"}"#;

    #[test]
    fn reads_and_writes_the_formats_json() {
        let app: Application = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(app.guardians().len(), 1, "a repeated guardian counts once");
        insta::assert_json_snapshot!(app, @r#"
        {
          "application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77",
          "round": "2027-primary",
          "child_id": "370811202011150023",
          "applicant_id": "11010519491231002X",
          "guardian_ids": [
            "11010519491231002X"
          ],
          "sibling_ids": [],
          "choices": [
            "S031",
            "S014"
          ],
          "consent_id": "CNS-2027-000123",
          "submitted_at": "2027-05-06T09:00:00+08:00"
        }
        "#);
    }

    #[test]
    fn refuses_unknown_fields_and_bad_ids() {
        let extra = SAMPLE.replace("\"sibling_ids\"", "\"scan_of_hukou_book\": \"...\", \"sibling_ids\"");
        let err = serde_json::from_str::<Application>(&extra).unwrap_err();
        assert!(err.to_string().contains("scan_of_hukou_book"), "{err}");
        let bad = SAMPLE.replace("370811202011150023", "370811202011150024");
        let err = serde_json::from_str::<Application>(&bad).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
