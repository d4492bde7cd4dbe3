//! Seat allocation (录取) for the enrolment engine: the mechanism policy.md
//! names, over the allocation instance of formats.md, so that any officer or
//! auditor can re-run it from the published instance and get the same seats.
//!
//! - [`Mechanism::DeferredAcceptance`]: student-proposing deferred acceptance,
//!   the unique student-optimal stable matching (priorities are strict).
//! - [`Mechanism::ImmediateAcceptance`]: the Boston mechanism.
//! - With `overflow`, policy.md's overflow step (统筹安排) then seats the rest.
//!
//! A school orders those who list it by `key` (lexicographic, a prefix first),
//! then lottery as an unsigned 64-bit number, then applicant id (byte order).
//!
//! The crate is pure: no IO, no clock, no randomness. See `docs/allocation.md`.

mod error;
mod instance;
mod json;
mod mechanism;
mod overflow;
mod prepare;

pub use error::{InstanceError, Subject};
pub use instance::{Allocation, Applicant, Choice, Home, Instance, Location, Lottery, LotteryError, Mechanism, School};
pub use json::parse_instance;

use prepare::NONE;

/// Checks an instance as [`allocate`] does, without allocating.
pub fn validate(instance: &Instance) -> Result<(), InstanceError> {
    prepare::prepare(instance).map(|_| ())
}

/// Allocates the seats of a round. Refuses a malformed instance with an error
/// naming the applicant or school at fault.
pub fn allocate(instance: &Instance) -> Result<Allocation, InstanceError> {
    let outcome = Outcome::compute(instance)?;
    let assignments = outcome
        .assignments()
        .map(|(applicant, school)| (applicant.to_owned(), school.map(str::to_owned)))
        .collect();
    let overflow = outcome.overflow().map(str::to_owned).collect();
    Ok(Allocation { assignments, overflow })
}

/// `enrol allocate` in one call: instance JSON in, result JSON out, exactly
/// as [`Allocation::to_json`] writes it (pretty, two-space indent, trailing
/// newline), but without building the owned [`Allocation`] first.
pub fn allocate_json(input: &str) -> Result<String, InstanceError> {
    let instance = parse_instance(input)?;
    let outcome = Outcome::compute(&instance)?;
    let mut out = serde_json::to_string_pretty(&outcome).map_err(|err| InstanceError::Output {
        message: err.to_string(),
    })?;
    out.push('\n');
    Ok(out)
}

/// The seats in index form, readable as ids without copying them.
struct Outcome<'a> {
    instance: &'a Instance,
    prep: prepare::Prepared,
    assigned: Vec<u32>,
    /// Placed by overflow, in ascending id order.
    placed_by_overflow: Vec<u32>,
}

impl<'a> Outcome<'a> {
    fn compute(instance: &'a Instance) -> Result<Self, InstanceError> {
        let prep = prepare::prepare(instance)?;
        let mut assigned = match instance.mechanism {
            Mechanism::DeferredAcceptance => mechanism::deferred_acceptance(&prep),
            Mechanism::ImmediateAcceptance => mechanism::immediate_acceptance(&prep),
        };
        let mut placed_by_overflow = if instance.overflow {
            overflow::overflow(instance, &prep, &mut assigned)
        } else {
            Vec::new()
        };
        placed_by_overflow.sort_unstable_by_key(|&a| prep.id_rank[a as usize]);
        Ok(Outcome {
            instance,
            prep,
            assigned,
            placed_by_overflow,
        })
    }

    /// (applicant id, school id) in ascending applicant id order.
    fn assignments(&self) -> impl ExactSizeIterator<Item = (&'a str, Option<&'a str>)> + '_ {
        let (applicants, schools) = (&self.instance.applicants, &self.instance.schools);
        self.prep.by_id.iter().map(move |&a| {
            let s = self.assigned[a as usize];
            let school = (s != NONE).then(|| schools[s as usize].id.as_str());
            (applicants[a as usize].id.as_str(), school)
        })
    }

    fn overflow(&self) -> impl ExactSizeIterator<Item = &'a str> + '_ {
        let applicants = &self.instance.applicants;
        self.placed_by_overflow
            .iter()
            .map(move |&a| applicants[a as usize].id.as_str())
    }
}

/// Serializes as [`Allocation`] does: same field names, order and values.
impl serde::Serialize for Outcome<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Assignments<'o, 'a>(&'o Outcome<'a>);
        impl serde::Serialize for Assignments<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.assignments())
            }
        }
        struct Overflow<'o, 'a>(&'o Outcome<'a>);
        impl serde::Serialize for Overflow<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.overflow())
            }
        }
        let mut result = serializer.serialize_struct("Allocation", 2)?;
        result.serialize_field("assignments", &Assignments(self))?;
        result.serialize_field("overflow", &Overflow(self))?;
        result.end()
    }
}
