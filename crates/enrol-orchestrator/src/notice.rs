//! The public notice (公示) of a published round, and the evidence an officer
//! sees for one application.
//!
//! The notice lists every seat with the child's name and national ID masked
//! (`李*雨`, `3708**********1034`), sorted by school, then masked name, then
//! masked ID: safe to post on a public notice board. The engine never keeps
//! a child's whole name (the birth-certificate adapter keeps only the masked
//! form), so a whole name cannot leak into it.

use std::collections::BTreeMap;

use enrol_domain::{EvidenceBundle, MaskedName, NationalId, mask_national_id};
use enrol_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use enrol_store::{application, assignment, evidence_snapshot};

use crate::error::{Corrupt, RoundError, Stored, decode};
use crate::output::csv_field;
use crate::round::{Orchestrator, RoundState, load_round};
use crate::submit::load_application;

/// One line of the notice: a seat.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoticeLine {
    pub school_id: String,
    pub school_name: String,
    /// `None` when the birth registry gave no name (shown as `—`).
    pub name: Option<MaskedName>,
    pub national_id: String,
    /// `choice` or `overflow` (统筹安排).
    pub route: String,
}

/// The notice of a published round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub round_id: String,
    /// Sorted by school id, masked name, masked national ID.
    pub lines: Vec<NoticeLine>,
}

/// The notice's CSV header: Chinese, since it is posted for families.
pub const NOTICE_HEADER: [&str; 5] = ["学校代码", "学校名称", "姓名", "身份证号", "录取方式"];

/// `choice` → 志愿录取, `overflow` → 统筹安排.
pub fn route_zh(route: &str) -> &str {
    match route {
        "choice" => "志愿录取",
        "overflow" => "统筹安排",
        other => other,
    }
}

impl Notice {
    /// UTF-8 CSV with a BOM (so a spreadsheet opens the Chinese right), LF line ends.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        out.push_str(&NOTICE_HEADER.join(","));
        out.push('\n');
        for line in &self.lines {
            let name = line.name.as_ref().map_or("—", MaskedName::as_str);
            let fields = [
                line.school_id.as_str(),
                line.school_name.as_str(),
                name,
                line.national_id.as_str(),
                route_zh(&line.route),
            ];
            out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

/// The latest evidence snapshot of each application, decoded.
async fn latest_bundles<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
) -> Result<BTreeMap<String, EvidenceBundle>, RoundError> {
    let mut latest = BTreeMap::new();
    // Ascending id: a later snapshot replaces an earlier one.
    for row in evidence_snapshot::Entity::find()
        .filter(evidence_snapshot::Column::RoundId.eq(round_id))
        .order_by_asc(evidence_snapshot::Column::Id)
        .all(conn)
        .await?
    {
        latest.insert(row.application_id, row.bundle);
    }
    latest
        .into_iter()
        .map(|(id, bundle)| {
            decode::<EvidenceBundle>(Stored::EvidenceSnapshot, &id, &bundle)
                .map(|b| (id, b))
                .map_err(RoundError::from)
        })
        .collect()
}

impl Orchestrator {
    /// The public notice (公示) of a published round: every seat, masked.
    pub async fn notice(&self, round_id: &str) -> Result<Notice, RoundError> {
        let conn = self.store.connection();
        let round = load_round(conn, round_id).await?;
        let state: RoundState = round.state.parse()?;
        if state < RoundState::Published {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "published",
            });
        }
        let schools: enrol_domain::SchoolCatalogue = decode(
            Stored::SchoolCatalogue,
            round_id,
            round.schools_json.as_deref().unwrap_or("{}"),
        )?;
        let children: BTreeMap<String, String> = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id, a.child_id))
            .collect();
        let bundles = latest_bundles(conn, round_id).await?;
        let mut lines = Vec::new();
        for seat in assignment::Entity::find()
            .filter(assignment::Column::RoundId.eq(round_id))
            .all(conn)
            .await?
        {
            let Some(school_id) = seat.school_id else { continue };
            let child = children.get(&seat.application_id).ok_or_else(|| Corrupt::Value {
                what: Stored::Application,
                owner: seat.application_id.clone(),
                value: "(no such application)".into(),
            })?;
            let child_id = NationalId::parse(child).map_err(|_| Corrupt::Value {
                what: Stored::Application,
                owner: seat.application_id.clone(),
                value: "(malformed child id)".into(),
            })?;
            let name = bundles
                .get(&seat.application_id)
                .and_then(|b| b.birth_certificates.get(&child_id))
                .and_then(|f| f.record.as_ref())
                .and_then(|c| c.child_name_masked.clone());
            lines.push(NoticeLine {
                school_name: schools
                    .get(&enrol_domain::SchoolId::new(school_id.as_str()))
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                school_id,
                name,
                national_id: mask_national_id(&child_id),
                route: seat.route,
            });
        }
        lines.sort();
        Ok(Notice {
            round_id: round.id,
            lines,
        })
    }

    /// The latest evidence gathered for an application (the records its
    /// decision cites); `None` before verification read anything.
    pub async fn evidence(&self, application_id: &str) -> Result<Option<EvidenceBundle>, RoundError> {
        let conn = self.store.connection();
        load_application(conn, application_id).await?;
        let latest = evidence_snapshot::Entity::find()
            .filter(evidence_snapshot::Column::ApplicationId.eq(application_id))
            .order_by_desc(evidence_snapshot::Column::Id)
            .one(conn)
            .await?;
        latest
            .map(|s| {
                decode::<EvidenceBundle>(Stored::EvidenceSnapshot, application_id, &s.bundle).map_err(RoundError::from)
            })
            .transpose()
    }
}
