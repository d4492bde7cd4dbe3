//! The round output of formats.md: `decisions.jsonl`, `assignments.csv`,
//! `schools.csv`, plus the allocation instance. UTF-8, LF, sorted.

use std::collections::BTreeMap;
use std::path::Path;

use enrol_domain::{Decision, SchoolKind};
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use enrol_store::{application, assignment};

use crate::error::{RoundError, corrupt};
use crate::round::{Orchestrator, RoundState, load_round};
use crate::verify::{current_decisions, round_schools};

/// The files a round publishes, as bytes ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundOutput {
    pub decisions_jsonl: String,
    pub assignments_csv: String,
    pub schools_csv: String,
    /// The allocation instance, so anyone can recompute the seats.
    pub instance_json: String,
}

impl RoundOutput {
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("decisions.jsonl"), &self.decisions_jsonl)?;
        std::fs::write(dir.join("assignments.csv"), &self.assignments_csv)?;
        std::fs::write(dir.join("schools.csv"), &self.schools_csv)?;
        std::fs::write(dir.join("instance.json"), &self.instance_json)?;
        Ok(())
    }
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

impl Orchestrator {
    /// The round output, once the round is allocated.
    pub async fn output(&self, round_id: &str) -> Result<RoundOutput, RoundError> {
        let conn = self.store.connection();
        let round = load_round(conn, round_id).await?;
        let state: RoundState = round.state.parse()?;
        if state < RoundState::Allocated {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "allocated or published",
            });
        }
        let policy = enrol_rules::Policy::from_toml_str(&round.policy_toml)?;
        let schools: enrol_domain::SchoolCatalogue =
            serde_json::from_str(round.schools_json.as_deref().unwrap_or("{}"))
                .map_err(|e| corrupt("school catalogue", e))?;
        let withdrawn: std::collections::BTreeSet<String> = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .filter(application::Column::State.eq("withdrawn"))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let decisions = current_decisions(conn, round_id).await?;
        let seats: BTreeMap<String, assignment::Model> = assignment::Entity::find()
            .filter(assignment::Column::RoundId.eq(round_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.application_id.clone(), a))
            .collect();

        let mut decisions_jsonl = String::new();
        let mut assignments_csv = csv_line(&[
            "application_id",
            "child_id",
            "status",
            "school_id",
            "route",
            "choice_rank",
            "priority",
            "unit_no",
        ]);
        for (id, row) in decisions.iter().filter(|(id, _)| !withdrawn.contains(*id)) {
            let decision: Decision = serde_json::from_str(&row.decision).map_err(|e| corrupt("decision", e))?;
            decisions_jsonl.push_str(&row.decision);
            decisions_jsonl.push('\n');
            let seat = seats.get(id);
            let rank = seat
                .and_then(|s| s.choice_rank)
                .map(|r| r.to_string())
                .unwrap_or_default();
            assignments_csv.push_str(&csv_line(&[
                id,
                decision.child_id.as_str(),
                decision.status.as_str(),
                seat.and_then(|s| s.school_id.as_deref()).unwrap_or(""),
                seat.map(|s| s.route.as_str()).unwrap_or("none"),
                &rank,
                seat.and_then(|s| s.priority.as_deref()).unwrap_or(""),
                seat.and_then(|s| s.unit_no.as_deref()).unwrap_or(""),
            ]));
        }

        let tiers = policy.tier_names();
        let mut header = vec!["school_id", "kind", "capacity", "assigned"];
        header.extend(tiers.iter().copied());
        header.extend(["lottery", "overflow"]);
        let mut schools_csv = csv_line(&header);
        for school in round_schools(&schools, policy.stage()) {
            let here: Vec<&assignment::Model> = seats
                .values()
                .filter(|s| s.school_id.as_deref() == Some(school.id.as_str()))
                .collect();
            let by = |route: &str, priority: &str| {
                here.iter()
                    .filter(|s| s.route == route && s.priority.as_deref() == Some(priority))
                    .count()
                    .to_string()
            };
            let mut fields = vec![
                school.id.to_string(),
                match school.kind {
                    SchoolKind::Public => "public".to_owned(),
                    SchoolKind::Private => "private".to_owned(),
                },
                school.capacity_in(policy.entry_year()).to_string(),
                here.len().to_string(),
            ];
            fields.extend(tiers.iter().map(|t| by("choice", t)));
            fields.push(by("choice", enrol_domain::LOTTERY_PRIORITY));
            fields.push(here.iter().filter(|s| s.route == "overflow").count().to_string());
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            schools_csv.push_str(&csv_line(&refs));
        }
        Ok(RoundOutput {
            decisions_jsonl,
            assignments_csv,
            schools_csv,
            instance_json: round.instance_json.unwrap_or_default(),
        })
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
