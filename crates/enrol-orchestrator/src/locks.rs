//! How the database decides every transition: each write transaction reads
//! the rows it changes with `SELECT … FOR UPDATE` (or `FOR SHARE` for the
//! round row when it only depends on the round's state), re-checks the state
//! it needs on the locked row, then writes. The lock order is always round,
//! then application, then school: no two transactions wait on each other in
//! a circle.
//!
//! On PostgreSQL the lock makes a concurrent writer wait for the first to
//! commit and then read the row as committed. SQLite ignores the clauses:
//! its write transactions begin IMMEDIATE, so writers already run one at a
//! time. docs/orchestrator.md lists the invariants each lock holds.

use enrol_store::sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use enrol_store::{application, round, school_seat};

use crate::error::RoundError;
use crate::round::RoundState;

/// What a shared lock on the round row reads: its id and state. Not the
/// policy, the school catalogue or the allocation instance the row also
/// carries: the shared lock is taken once for every application submitted
/// or decided, and copying those out of the database each time cost more
/// than the decision itself (issue 20).
#[derive(Debug, Clone)]
pub(crate) struct RoundHead {
    pub id: String,
    pub state: String,
}

/// The round row, locked against round transitions (`FOR SHARE`): for
/// changes that need the round to stay in its state until they commit
/// (a submission needs it open, a decision needs it closed). Many such
/// transactions hold it at once; a transition waits for all of them.
pub(crate) async fn share_round<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<RoundHead, RoundError> {
    round::Entity::find_by_id(round_id)
        .select_only()
        .column(round::Column::Id)
        .column(round::Column::State)
        .lock_shared()
        .into_tuple::<(String, String)>()
        .one(conn)
        .await?
        .map(|(id, state)| RoundHead { id, state })
        .ok_or_else(|| RoundError::UnknownRound(round_id.to_owned()))
}

/// The round row, locked for a transition (`FOR UPDATE`).
pub(crate) async fn lock_round<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<round::Model, RoundError> {
    round::Entity::find_by_id(round_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| RoundError::UnknownRound(round_id.to_owned()))
}

/// The round row locked as [`share_round`], refused unless in one of `states`.
pub(crate) async fn share_round_in<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
    states: &[RoundState],
    expected: &'static str,
) -> Result<RoundHead, RoundError> {
    let head = share_round(conn, round_id).await?;
    expect_in(&head.id, &head.state, states, expected)?;
    Ok(head)
}

/// The round row locked as [`lock_round`], refused unless in `state`.
pub(crate) async fn lock_round_in<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
    state: RoundState,
) -> Result<round::Model, RoundError> {
    let row = lock_round(conn, round_id).await?;
    expect_in(&row.id, &row.state, &[state], state.as_str())?;
    Ok(row)
}

fn expect_in(id: &str, state: &str, states: &[RoundState], expected: &'static str) -> Result<(), RoundError> {
    if !states.contains(&state.parse()?) {
        return Err(RoundError::WrongState {
            round: id.to_owned(),
            state: state.to_owned(),
            expected,
        });
    }
    Ok(())
}

/// The application row, locked for a change of its state (`FOR UPDATE`).
pub(crate) async fn lock_application<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<application::Model, RoundError> {
    application::Entity::find_by_id(application_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| RoundError::UnknownApplication(application_id.to_owned()))
}

/// A school's row in a round, locked while a seat there is counted and taken.
pub(crate) async fn lock_school<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
    school_id: &str,
) -> Result<Option<school_seat::Model>, RoundError> {
    Ok(
        school_seat::Entity::find_by_id((round_id.to_owned(), school_id.to_owned()))
            .lock_exclusive()
            .one(conn)
            .await?,
    )
}
