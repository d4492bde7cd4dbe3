//! Published cutoffs (录取线): each school's last child admitted by choice,
//! or "not full", as the round output's `cutoffs.csv` and the public notice's
//! companion `notice_cutoffs.csv` (公示录取线).
//!
//! formats.md fixes the columns of `schools.csv`, so the cutoffs are a file
//! of their own (docs/orchestrator.md, "Cutoffs"). Both files list every
//! school of the round's stage in ascending school id, like `schools.csv`.

use std::collections::BTreeMap;

use enrol_allocation::Cutoff;
use enrol_domain::{LOTTERY_PRIORITY, SchoolCatalogue, SchoolKind};
use enrol_rules::Policy;

use crate::output::csv_field;

/// The header of `cutoffs.csv`.
pub const CUTOFF_COLUMNS: [&str; 8] = [
    "school_id",
    "kind",
    "capacity",
    "admitted_by_choice",
    "cutoff",
    "priority",
    "key",
    "lottery",
];

/// The header of `notice_cutoffs.csv` (公示录取线): Chinese, for families.
pub const NOTICE_CUTOFF_HEADER: [&str; 8] = [
    "学校代码",
    "学校名称",
    "核定学位",
    "志愿录取人数",
    "录取线",
    "类别",
    "排序键",
    "随机号",
];

/// One school's line: the cutoff as the files write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffLine {
    pub school_id: String,
    pub school_name: String,
    pub kind: SchoolKind,
    pub capacity: u32,
    pub admitted_by_choice: u32,
    /// Every seat filled by the children's own choice.
    pub full: bool,
    /// The priority of the last child admitted (a tier's name or `lottery`),
    /// read from its key; `None` when not full (or a school without seats).
    pub priority: Option<String>,
    /// The last child's order key, integers separated by spaces (`1 1 20230411`).
    pub key: Option<String>,
    /// The last child's lottery number, 16 hex digits.
    pub lottery: Option<String>,
}

/// The priority an order key stands for: its first integer is the tier's
/// 1-based rank in the policy, 0 the lottery of a private school.
pub fn priority_of_key(policy: &Policy, key: &[i64]) -> Option<String> {
    let rank = *key.first()?;
    if rank == 0 {
        return Some(LOTTERY_PRIORITY.to_owned());
    }
    let index = usize::try_from(rank).ok()?.checked_sub(1)?;
    policy.tiers().get(index).map(|t| t.name.clone())
}

/// The lines of every school of the round's stage, ascending school id; a
/// school the allocation instance does not list admitted no one.
pub fn cutoff_lines(cutoffs: &[Cutoff], schools: &SchoolCatalogue, policy: &Policy) -> Vec<CutoffLine> {
    let by_id: BTreeMap<&str, &Cutoff> = cutoffs.iter().map(|c| (c.school.as_str(), c)).collect();
    let stage = policy.stage();
    let mut lines: Vec<CutoffLine> = schools
        .values()
        .filter(|s| s.stage == stage)
        .map(|school| {
            let capacity = school.capacity_in(policy.entry_year());
            let found = by_id.get(school.id.as_str());
            let admitted = found.map_or(0, |c| c.admitted_by_choice);
            let full = found.map_or(capacity == 0, |c| c.full);
            let last = found.and_then(|c| c.last.as_ref());
            CutoffLine {
                school_id: school.id.to_string(),
                school_name: school.name.clone(),
                kind: school.kind,
                capacity,
                admitted_by_choice: admitted,
                full,
                priority: last.and_then(|l| priority_of_key(policy, &l.key)),
                key: last.map(|l| l.key.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")),
                lottery: last.map(|l| l.lottery.clone()),
            }
        })
        .collect();
    lines.sort_by(|a, b| a.school_id.cmp(&b.school_id));
    lines
}

fn line(fields: &[&str]) -> String {
    let mut out = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

/// `cutoffs.csv`: UTF-8 without BOM, LF, as the other round output files.
/// `cutoff` is `full` or `not full`; `priority`, `key` and `lottery` are
/// empty when not full.
pub fn cutoffs_csv(lines: &[CutoffLine]) -> String {
    let mut out = line(&CUTOFF_COLUMNS);
    for l in lines {
        let (capacity, admitted) = (l.capacity.to_string(), l.admitted_by_choice.to_string());
        out.push_str(&line(&[
            &l.school_id,
            match l.kind {
                SchoolKind::Public => "public",
                SchoolKind::Private => "private",
            },
            &capacity,
            &admitted,
            if l.full { "full" } else { "not full" },
            l.priority.as_deref().unwrap_or(""),
            l.key.as_deref().unwrap_or(""),
            l.lottery.as_deref().unwrap_or(""),
        ]));
    }
    out
}

/// `notice_cutoffs.csv` (公示录取线): the same lines with the school's name,
/// Chinese header and words (已满额 / 未满额), UTF-8 with a BOM like the notice.
pub fn notice_cutoffs_csv(lines: &[CutoffLine]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&line(&NOTICE_CUTOFF_HEADER));
    for l in lines {
        let (capacity, admitted) = (l.capacity.to_string(), l.admitted_by_choice.to_string());
        out.push_str(&line(&[
            &l.school_id,
            &l.school_name,
            &capacity,
            &admitted,
            if l.full { "已满额" } else { "未满额" },
            l.priority.as_deref().unwrap_or(""),
            l.key.as_deref().unwrap_or(""),
            l.lottery.as_deref().unwrap_or(""),
        ]));
    }
    out
}
