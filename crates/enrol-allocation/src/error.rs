//! Why an instance is refused: every error names the applicant or school at fault.

use std::fmt;

/// The entry of the instance an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    School(String),
    Applicant(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::School(id) => write!(f, "school {id:?}"),
            Subject::Applicant(id) => write!(f, "applicant {id:?}"),
        }
    }
}

/// A malformed allocation instance (or, exceptionally, a result that cannot be written).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// Not JSON at all (or trailing garbage after it).
    #[error("the instance is not valid JSON: {message}")]
    Syntax {
        message: String,
        line: usize,
        column: usize,
    },
    /// JSON, but a field is missing or of the wrong type.
    #[error("the instance does not follow formats.md at `{path}`{}: {message}", about(.subject))]
    Shape {
        /// Where, as `applicants[3].choices[0].key`.
        path: String,
        /// The school or applicant whose entry holds the fault, when its id could be read.
        subject: Option<Subject>,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("school number {index} (from 1) has an empty id")]
    EmptySchoolId { index: usize },
    #[error("school {school:?} is listed twice")]
    DuplicateSchool { school: String },
    #[error("applicant number {index} (from 1) has an empty id")]
    EmptyApplicantId { index: usize },
    #[error("applicant {applicant:?} is listed twice")]
    DuplicateApplicant { applicant: String },
    #[error("applicant {applicant:?} has lottery {lottery:?}, which is not exactly 16 lower-case hex digits")]
    BadLottery { applicant: String, lottery: String },
    #[error("applicant {applicant:?} lists school {school:?}, which is not in the instance")]
    UnknownSchool { applicant: String, school: String },
    #[error("applicant {applicant:?} lists school {school:?} more than once")]
    RepeatedChoice { applicant: String, school: String },
    #[error("school {school:?} has no `public` flag, which overflow needs")]
    MissingPublic { school: String },
    #[error("public school {school:?} has no `county`, which overflow needs")]
    MissingCounty { school: String },
    #[error("public school {school:?} has no `location`, which overflow needs")]
    MissingLocation { school: String },
    #[error("school {school:?} has location lat {lat}, lon {lon}, which is not on the globe")]
    BadSchoolLocation { school: String, lat: f64, lon: f64 },
    #[error("applicant {applicant:?} has best_tier {best_tier}; tiers count from 1 (leave it out for none)")]
    BadBestTier { applicant: String, best_tier: u32 },
    #[error("applicant {applicant:?} has a `home` without `county`, which overflow needs")]
    HomeWithoutCounty { applicant: String },
    #[error("applicant {applicant:?} has a home with only one of `lat` and `lon`")]
    HalfHomeLocation { applicant: String },
    #[error("applicant {applicant:?} has home lat {lat}, lon {lon}, which is not on the globe")]
    BadHomeLocation { applicant: String, lat: f64, lon: f64 },
    #[error("the instance has too many {what} for this engine (at most {limit})")]
    TooLarge { what: &'static str, limit: usize },
    #[error("the result could not be written as JSON: {message}")]
    Output { message: String },
}

impl InstanceError {
    /// The school or applicant at fault, when the error is about one.
    pub fn subject(&self) -> Option<Subject> {
        use InstanceError::*;
        match self {
            Shape { subject, .. } => subject.clone(),
            DuplicateSchool { school }
            | MissingPublic { school }
            | MissingCounty { school }
            | MissingLocation { school }
            | BadSchoolLocation { school, .. } => Some(Subject::School(school.clone())),
            DuplicateApplicant { applicant }
            | BadLottery { applicant, .. }
            | UnknownSchool { applicant, .. }
            | RepeatedChoice { applicant, .. }
            | BadBestTier { applicant, .. }
            | HomeWithoutCounty { applicant }
            | HalfHomeLocation { applicant }
            | BadHomeLocation { applicant, .. } => Some(Subject::Applicant(applicant.clone())),
            Syntax { .. } | EmptySchoolId { .. } | EmptyApplicantId { .. } | TooLarge { .. } | Output { .. } => None,
        }
    }
}

fn about(subject: &Option<Subject>) -> String {
    match subject {
        Some(subject) => format!(" ({subject})"),
        None => String::new(),
    }
}
