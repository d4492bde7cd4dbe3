//! Seat allocation (录取) for the enrolment engine: the mechanism policy.md
//! names, over the allocation instance of formats.md, so that any officer or
//! auditor can re-run it from the published instance and get the same seats.
//!
//! - [`Mechanism::DeferredAcceptance`]: student-proposing deferred acceptance,
//!   the unique student-optimal stable matching (priorities are strict).
//! - [`Mechanism::ImmediateAcceptance`]: the Boston mechanism.
//! - With `overflow`, policy.md's overflow step (统筹安排) then seats the rest.
//! - [`cutoffs`]: each school's last admitted key and lottery number (录取线),
//!   and [`above_seat`]: a family's own standing beside them.
//!
//! A school orders those who list it by `key` (lexicographic, a prefix first),
//! then lottery as an unsigned 64-bit number, then applicant id (byte order).
//!
//! The crate is pure: no IO, no clock, no randomness. See `docs/allocation.md`.

mod cutoff;
mod error;
mod instance;
mod json;
mod mechanism;
mod overflow;
mod prepare;
mod result;
mod view;

pub use cutoff::{AboveSeat, Cutoff, Standing, above_seat, above_seats, cutoffs};
pub use error::{InstanceError, Subject};
pub use instance::{Allocation, Applicant, Choice, Home, Instance, Location, Lottery, LotteryError, Mechanism, School};
pub use json::parse_instance;

use prepare::NONE;
use view::View;

/// Checks an instance as [`allocate`] does, without allocating.
pub fn validate(instance: &Instance) -> Result<(), InstanceError> {
    prepare::prepare(&View::of(instance)).map(|_| ())
}

/// Allocates the seats of a round. Refuses a malformed instance with an error
/// naming the applicant or school at fault.
pub fn allocate(instance: &Instance) -> Result<Allocation, InstanceError> {
    let view = View::of(instance);
    let outcome = Outcome::compute(&view)?;
    let assignments = outcome
        .assignments()
        .map(|(applicant, school)| (applicant.to_owned(), school.map(str::to_owned)))
        .collect();
    let overflow = outcome.overflow().map(str::to_owned).collect();
    Ok(Allocation { assignments, overflow })
}

/// `enrol allocate` in one call: instance JSON in, result JSON out, exactly
/// as [`Allocation::to_json`] writes it (pretty, two-space indent, trailing
/// newline).
///
/// The instance is read into borrowed ids and packed keys, and the result is
/// written straight from the seats, without an owned [`Instance`] or
/// [`Allocation`] in between. Only a text that does not follow formats.md is
/// read a second time, carefully, for an error that says where.
pub fn allocate_json(input: &str) -> Result<String, InstanceError> {
    match view::parse(input) {
        Some(view) => Ok(result::write(&Outcome::compute(&view)?)),
        None => {
            let instance = parse_instance(input)?;
            Ok(result::write(&Outcome::compute(&View::of(&instance))?))
        }
    }
}

/// The seats in index form, readable as ids without copying them.
struct Outcome<'v, 'a> {
    instance: &'v View<'a>,
    prep: prepare::Prepared,
    assigned: Vec<u32>,
    /// Placed by overflow, in ascending id order.
    placed_by_overflow: Vec<u32>,
}

impl<'v, 'a> Outcome<'v, 'a> {
    fn compute(instance: &'v View<'a>) -> Result<Self, InstanceError> {
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
    fn assignments(&self) -> impl ExactSizeIterator<Item = (&'v str, Option<&'v str>)> + '_ {
        let (applicants, schools) = (&self.instance.applicants, &self.instance.schools);
        self.prep.by_id.iter().map(move |&a| {
            let s = self.assigned[a as usize];
            let school = (s != NONE).then(|| &*schools[s as usize].id);
            (&*applicants[a as usize].id, school)
        })
    }

    fn overflow(&self) -> impl ExactSizeIterator<Item = &'v str> + '_ {
        let applicants = &self.instance.applicants;
        self.placed_by_overflow
            .iter()
            .map(move |&a| &*applicants[a as usize].id)
    }
}

/// For the crate's benchmark only: reads an instance text the way
/// [`allocate_json`] does, and says how many applicants it holds (`None`
/// when the text does not follow formats.md).
#[doc(hidden)]
pub fn bench_read_instance(input: &str) -> Option<usize> {
    view::parse(input).map(|view| view.applicants.len())
}
