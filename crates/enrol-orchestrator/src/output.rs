//! The round output of formats.md: `decisions.jsonl`, `assignments.csv`,
//! `schools.csv`, plus the allocation instance and each school's cutoff
//! (`cutoffs.csv`, see [`crate::cutoffs`]). UTF-8, LF, sorted.
//!
//! The files are streamed from the database in ascending application id, a
//! page of rows at a time ([`Orchestrator::write_output`]), so a whole city's
//! output is written in memory bounded by the page, not by the round. The
//! seats per school are counted by the database (`GROUP BY`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use enrol_domain::{NationalId, SchoolKind, Status};
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use enrol_store::{application, assignment, decision, round};

use crate::answers::allocation_of;
use crate::cutoffs::{cutoff_lines, cutoffs_csv};
use crate::error::{Corrupt, RoundError, Stored, decode, unknown_value};
use crate::round::{Orchestrator, RoundState, load_round};

/// Rows read from the database at once while streaming the output.
const PAGE: u64 = 1_000;

/// The files a round publishes, as bytes ready to write (for callers that
/// want them in memory: the API's exports, tests). [`Orchestrator::write_output`]
/// writes the same bytes to files without holding them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundOutput {
    pub decisions_jsonl: String,
    pub assignments_csv: String,
    pub schools_csv: String,
    /// The allocation instance, so anyone can recompute the seats.
    pub instance_json: String,
    /// Each school's cutoff (录取线): the last child admitted by choice, or not full.
    pub cutoffs_csv: String,
}

impl RoundOutput {
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("decisions.jsonl"), &self.decisions_jsonl)?;
        std::fs::write(dir.join("assignments.csv"), &self.assignments_csv)?;
        std::fs::write(dir.join("schools.csv"), &self.schools_csv)?;
        std::fs::write(dir.join("instance.json"), &self.instance_json)?;
        std::fs::write(dir.join("cutoffs.csv"), &self.cutoffs_csv)?;
        Ok(())
    }
}

/// What the written output holds, counted on the way (for a summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSummary {
    /// Lines of `assignments.csv` by `status`.
    pub by_status: BTreeMap<String, usize>,
    /// Lines of `assignments.csv` by `route`.
    pub by_route: BTreeMap<String, usize>,
}

/// Why the round output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Round(#[from] RoundError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// One CSV field per RFC 4180: quoted only when it must be.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv_line(fields: &[&str]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// The five files being written, each with the name errors give it.
struct Sinks<'w> {
    decisions: (&'w mut (dyn Write + Send), PathBuf),
    assignments: (&'w mut (dyn Write + Send), PathBuf),
    schools: (&'w mut (dyn Write + Send), PathBuf),
    instance: (&'w mut (dyn Write + Send), PathBuf),
    cutoffs: (&'w mut (dyn Write + Send), PathBuf),
}

fn put(sink: &mut (&mut (dyn Write + Send), PathBuf), bytes: &[u8]) -> Result<(), OutputError> {
    sink.0.write_all(bytes).map_err(|source| OutputError::Write {
        path: sink.1.clone(),
        source,
    })
}

/// The part of a stored decision `assignments.csv` needs.
#[derive(serde::Deserialize)]
struct DecisionHead {
    child_id: NationalId,
    status: Status,
}

impl Orchestrator {
    /// The round output in memory, once the round is allocated.
    pub async fn output(&self, round_id: &str) -> Result<RoundOutput, RoundError> {
        let (mut d, mut a, mut s, mut i, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let sinks = Sinks {
            decisions: (&mut d, PathBuf::from("decisions.jsonl")),
            assignments: (&mut a, PathBuf::from("assignments.csv")),
            schools: (&mut s, PathBuf::from("schools.csv")),
            instance: (&mut i, PathBuf::from("instance.json")),
            cutoffs: (&mut c, PathBuf::from("cutoffs.csv")),
        };
        match self.stream_output(round_id, sinks).await {
            Ok(_) => {}
            Err(OutputError::Round(err)) => return Err(err),
            Err(OutputError::Write { path, source }) => {
                unreachable!("writing {} into memory failed: {source}", path.display())
            }
        }
        // Every byte written is from a `String`: always UTF-8.
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("written from strings");
        Ok(RoundOutput {
            decisions_jsonl: text(d),
            assignments_csv: text(a),
            schools_csv: text(s),
            instance_json: text(i),
            cutoffs_csv: text(c),
        })
    }

    /// Writes `decisions.jsonl`, `assignments.csv`, `schools.csv`,
    /// `instance.json` and `cutoffs.csv` into `dir` (created if need be),
    /// streamed from the database: the same bytes as [`Orchestrator::output`],
    /// in memory bounded by a page of rows (and the stored instance with the
    /// round's seats, which the cutoffs are computed from).
    pub async fn write_output(&self, round_id: &str, dir: &Path) -> Result<OutputSummary, OutputError> {
        let fail = |path: &Path| {
            let path = path.to_owned();
            move |source| OutputError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(fail(dir))?;
        let open = |name: &str| {
            let path = dir.join(name);
            std::fs::File::create(&path)
                .map(|f| (io::BufWriter::with_capacity(1 << 20, f), path.clone()))
                .map_err(fail(&path))
        };
        let (mut d, mut a, mut s, mut i, mut c) = (
            open("decisions.jsonl")?,
            open("assignments.csv")?,
            open("schools.csv")?,
            open("instance.json")?,
            open("cutoffs.csv")?,
        );
        let sinks = Sinks {
            decisions: (&mut d.0, d.1.clone()),
            assignments: (&mut a.0, a.1.clone()),
            schools: (&mut s.0, s.1.clone()),
            instance: (&mut i.0, i.1.clone()),
            cutoffs: (&mut c.0, c.1.clone()),
        };
        let summary = self.stream_output(round_id, sinks).await?;
        for (mut writer, path) in [d, a, s, i, c] {
            writer.flush().map_err(fail(&path))?;
        }
        Ok(summary)
    }

    async fn stream_output(&self, round_id: &str, mut sinks: Sinks<'_>) -> Result<OutputSummary, OutputError> {
        let conn = self.store.connection();
        let (state, policy_toml, schools_json): (String, String, Option<String>) = round::Entity::find_by_id(round_id)
            .select_only()
            .column(round::Column::State)
            .column(round::Column::PolicyToml)
            .column(round::Column::SchoolsJson)
            .into_tuple()
            .one(conn)
            .await
            .map_err(RoundError::from)?
            .ok_or_else(|| RoundError::UnknownRound(round_id.to_owned()))?;
        let parsed: RoundState = state.parse()?;
        if parsed < RoundState::Allocated {
            return Err(RoundError::WrongState {
                round: round_id.to_owned(),
                state,
                expected: "allocated or published",
            }
            .into());
        }
        let policy = enrol_rules::Policy::from_toml_str(&policy_toml).map_err(RoundError::from)?;
        // Only the columns the files need: the stored instance is written on its own.
        let schools: enrol_domain::SchoolCatalogue = decode(
            Stored::SchoolCatalogue,
            round_id,
            schools_json.as_deref().unwrap_or("{}"),
        )
        .map_err(RoundError::from)?;

        let summary = self.stream_rows(round_id, &mut sinks).await?;

        // schools.csv: the database counts the seats per school, route and priority.
        let groups: Vec<(Option<String>, String, Option<String>, i64)> = assignment::Entity::find()
            .select_only()
            .column(assignment::Column::SchoolId)
            .column(assignment::Column::Route)
            .column(assignment::Column::Priority)
            .column_as(assignment::Column::ApplicationId.count(), "seats")
            .filter(assignment::Column::RoundId.eq(round_id))
            .filter(assignment::Column::SchoolId.is_not_null())
            .group_by(assignment::Column::SchoolId)
            .group_by(assignment::Column::Route)
            .group_by(assignment::Column::Priority)
            .into_tuple()
            .all(conn)
            .await
            .map_err(RoundError::from)?;
        let mut by_school: HashMap<String, Vec<(String, Option<String>, usize)>> = HashMap::new();
        for (school, route, priority, seats) in groups {
            let seats = usize::try_from(seats).map_err(|_| {
                RoundError::from(unknown_value(
                    Stored::SeatCount,
                    school.as_deref().unwrap_or_default(),
                    &seats.to_string(),
                ))
            })?;
            by_school
                .entry(school.unwrap_or_default())
                .or_default()
                .push((route, priority, seats));
        }
        let tiers = policy.tier_names();
        let mut header = vec!["school_id", "kind", "capacity", "assigned"];
        header.extend(tiers.iter().copied());
        header.extend(["lottery", "overflow"]);
        put(&mut sinks.schools, csv_line(&header).as_bytes())?;
        let stage = policy.stage();
        for school in schools.values().filter(|s| s.stage == stage) {
            let here = by_school.get(school.id.as_str()).map(Vec::as_slice).unwrap_or_default();
            let count = |keep: &dyn Fn(&str, Option<&str>) -> bool| {
                here.iter()
                    .filter(|(route, priority, _)| keep(route, priority.as_deref()))
                    .map(|(_, _, n)| n)
                    .sum::<usize>()
                    .to_string()
            };
            let mut fields = vec![
                school.id.to_string(),
                match school.kind {
                    SchoolKind::Public => "public".to_owned(),
                    SchoolKind::Private => "private".to_owned(),
                },
                school.capacity_in(policy.entry_year()).to_string(),
                count(&|_, _| true),
            ];
            fields.extend(
                tiers
                    .iter()
                    .map(|t| count(&|route, priority| route == "choice" && priority == Some(*t))),
            );
            fields.push(count(&|route, priority| {
                route == "choice" && priority == Some(enrol_domain::LOTTERY_PRIORITY)
            }));
            fields.push(count(&|route, _| route == "overflow"));
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            put(&mut sinks.schools, csv_line(&refs).as_bytes())?;
        }

        // instance.json: stored whole at allocation; read only now, and let go
        // once written, with the seats the cutoffs are computed from.
        let row = load_round(conn, round_id).await?;
        let cutoffs = match allocation_of(conn, &row).await? {
            Some((instance, allocation)) => enrol_allocation::cutoffs(&instance, &allocation),
            None => Vec::new(),
        };
        put(&mut sinks.instance, row.instance_json.unwrap_or_default().as_bytes())?;
        put(
            &mut sinks.cutoffs,
            cutoffs_csv(&cutoff_lines(&cutoffs, &schools, &policy)).as_bytes(),
        )?;
        Ok(summary)
    }

    /// `decisions.jsonl` and `assignments.csv`: every live application's
    /// current decision with its seat, in ascending application id, a page at
    /// a time (keyset pagination on the unique `current_for`).
    async fn stream_rows(&self, round_id: &str, sinks: &mut Sinks<'_>) -> Result<OutputSummary, OutputError> {
        let conn = self.store.connection();
        put(
            &mut sinks.assignments,
            csv_line(&[
                "application_id",
                "child_id",
                "status",
                "school_id",
                "route",
                "choice_rank",
                "priority",
                "unit_no",
            ])
            .as_bytes(),
        )?;
        let mut summary = OutputSummary::default();
        let mut after: Option<String> = None;
        loop {
            let query = decision::Entity::find()
                .select_only()
                .column(decision::Column::CurrentFor)
                .column(decision::Column::Decision)
                .filter(decision::Column::RoundId.eq(round_id));
            let query = match &after {
                Some(last) => query.filter(decision::Column::CurrentFor.gt(last.as_str())),
                None => query.filter(decision::Column::CurrentFor.is_not_null()),
            };
            let page: Vec<(String, String)> = query
                .order_by_asc(decision::Column::CurrentFor)
                .limit(PAGE)
                .into_tuple()
                .all(conn)
                .await
                .map_err(RoundError::from)?;
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                break;
            };
            let (first, last) = (first.0.clone(), last.0.clone());
            let withdrawn: HashSet<String> = application::Entity::find()
                .select_only()
                .column(application::Column::Id)
                .filter(application::Column::RoundId.eq(round_id))
                .filter(application::Column::State.eq("withdrawn"))
                .filter(application::Column::Id.between(first.as_str(), last.as_str()))
                .into_tuple()
                .all(conn)
                .await
                .map_err(RoundError::from)?
                .into_iter()
                .collect();
            let seats: HashMap<String, assignment::Model> = assignment::Entity::find()
                .filter(assignment::Column::RoundId.eq(round_id))
                .filter(assignment::Column::ApplicationId.between(first.as_str(), last.as_str()))
                .all(conn)
                .await
                .map_err(RoundError::from)?
                .into_iter()
                .map(|a| (a.application_id.clone(), a))
                .collect();
            for (id, decision_json) in &page {
                // The files promise byte order of ids; a database collation must not reorder them.
                if after.as_deref().is_some_and(|previous| previous >= id.as_str()) {
                    return Err(RoundError::from(Corrupt::OutOfOrder {
                        round: round_id.to_owned(),
                        id: id.clone(),
                        previous: after.clone().unwrap_or_default(),
                    })
                    .into());
                }
                after = Some(id.clone());
                if withdrawn.contains(id) {
                    continue;
                }
                let head: DecisionHead = decode(Stored::Decision, id, decision_json).map_err(RoundError::from)?;
                put(&mut sinks.decisions, decision_json.as_bytes())?;
                put(&mut sinks.decisions, b"\n")?;
                let seat = seats.get(id);
                let rank = seat
                    .and_then(|s| s.choice_rank)
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                let route = seat.map(|s| s.route.as_str()).unwrap_or("none");
                put(
                    &mut sinks.assignments,
                    csv_line(&[
                        id,
                        head.child_id.as_str(),
                        head.status.as_str(),
                        seat.and_then(|s| s.school_id.as_deref()).unwrap_or(""),
                        route,
                        &rank,
                        seat.and_then(|s| s.priority.as_deref()).unwrap_or(""),
                        seat.and_then(|s| s.unit_no.as_deref()).unwrap_or(""),
                    ])
                    .as_bytes(),
                )?;
                *summary.by_status.entry(head.status.as_str().to_owned()).or_default() += 1;
                *summary.by_route.entry(route.to_owned()).or_default() += 1;
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_what_rfc4180_needs() {
        assert_eq!(super::csv_field("S014"), "S014");
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_line(&["a", "", "c"]), "a,,c\n");
    }
}
