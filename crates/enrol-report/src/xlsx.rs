//! `assignments.xlsx` for officers who work in spreadsheets: the assignments,
//! a per-school summary, the review queue and the round's seed. Deterministic:
//! the document's creation time is fixed, so the same input gives the same bytes.

use std::path::Path;

use enrol_domain::{SchoolKind, Status};
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::error::ReportError;
use crate::input::ReportInput;
use crate::seed::{CommitmentCheck, check_commitment};

/// Sheet names, in order.
pub const SHEETS: [&str; 4] = [
    "录取结果 Assignments",
    "学校汇总 Schools",
    "人工审核 Review",
    "批次 Round",
];

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDCE6F1))
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap()
}

/// Writes the header row, freezes it, and sets the column widths.
fn header(sheet: &mut Worksheet, columns: &[(&str, f64)]) -> Result<(), XlsxError> {
    let format = header_format();
    for (col, (title, width)) in (0u16..).zip(columns) {
        sheet.write_string_with_format(0, col, *title, &format)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Filters over the header and `rows` data rows.
fn filter(sheet: &mut Worksheet, rows: usize, columns: usize) -> Result<(), XlsxError> {
    let last_row = u32::try_from(rows).map_err(|_| XlsxError::RowColumnLimitError)?;
    let last_col = u16::try_from(columns.saturating_sub(1)).map_err(|_| XlsxError::RowColumnLimitError)?;
    sheet.autofilter(0, 0, last_row, last_col)?;
    Ok(())
}

fn row_no(i: usize) -> Result<u32, XlsxError> {
    u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)
}

fn assignments(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[0])?;
    let columns = [
        ("申请编号 application_id", 38.0),
        ("子女身份证号 child_id", 21.0),
        ("状态 status", 11.0),
        ("学校 school_id", 10.0),
        ("校名 school_name", 24.0),
        ("录取途径 route", 11.0),
        ("志愿序号 choice_rank", 11.0),
        ("录取类别 priority", 11.0),
        ("不动产单元号 unit_no", 30.0),
        ("派位号 lottery", 18.0),
    ];
    header(sheet, &columns)?;
    for (i, (row, decision)) in input.assignments().iter().zip(input.decisions()).enumerate() {
        let r = row_no(i)?;
        sheet.write_string(r, 0, row.application_id.to_string())?;
        // IDs stay text: 18 digits do not survive as a spreadsheet number.
        sheet.write_string(r, 1, row.child_id.as_str())?;
        sheet.write_string(r, 2, row.status.as_str())?;
        match &row.seat {
            Some(seat) => {
                sheet.write_string(r, 3, seat.school_id.as_str())?;
                if let Some(name) = input.school_name(&seat.school_id) {
                    sheet.write_string(r, 4, name)?;
                }
                sheet.write_string(r, 5, seat.route.as_str())?;
                if let Some(rank) = seat.choice_rank {
                    sheet.write_number(r, 6, rank)?;
                }
                sheet.write_string(r, 7, &seat.priority)?;
                if let Some(unit) = &seat.unit_no {
                    sheet.write_string(r, 8, unit.as_str())?;
                }
            }
            None => {
                sheet.write_string(r, 5, "none")?;
            }
        }
        if let Some(lottery) = decision.lottery {
            sheet.write_string(r, 9, lottery.to_string())?;
        }
    }
    filter(sheet, input.assignments().len(), columns.len())
}

fn schools(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[1])?;
    let tier_titles: Vec<String> = input
        .tiers()
        .iter()
        .map(|t| match &t.label_zh {
            Some(zh) => format!("{} {zh}", t.name),
            None => t.name.clone(),
        })
        .collect();
    let mut columns: Vec<(&str, f64)> = vec![
        ("学校 school_id", 10.0),
        ("校名 school_name", 24.0),
        ("类型 kind", 9.0),
        ("核定学位 capacity", 11.0),
        ("已录取 assigned", 11.0),
    ];
    columns.extend(tier_titles.iter().map(|t| (t.as_str(), 12.0)));
    columns.extend([
        ("民办派位 lottery", 11.0),
        ("统筹安排 overflow", 11.0),
        ("空余 empty", 9.0),
        ("录取率 fill", 9.0),
    ]);
    header(sheet, &columns)?;
    let percent = Format::new().set_num_format("0.0%");
    for (i, school) in input.schools().iter().enumerate() {
        let r = row_no(i)?;
        sheet.write_string(r, 0, school.school_id.as_str())?;
        if let Some(name) = input.school_name(&school.school_id) {
            sheet.write_string(r, 1, name)?;
        }
        sheet.write_string(
            r,
            2,
            match school.kind {
                SchoolKind::Public => "public",
                SchoolKind::Private => "private",
            },
        )?;
        let mut col = 3u16;
        let mut number = |sheet: &mut Worksheet, value: u32| -> Result<(), XlsxError> {
            sheet.write_number(r, col, value)?;
            col += 1;
            Ok(())
        };
        number(sheet, school.capacity)?;
        number(sheet, school.assigned)?;
        for &count in &school.by_tier {
            number(sheet, count)?;
        }
        number(sheet, school.lottery)?;
        number(sheet, school.overflow)?;
        number(sheet, school.empty_seats())?;
        if school.capacity > 0 {
            let fill = f64::from(school.assigned) / f64::from(school.capacity);
            sheet.write_number_with_format(r, col, fill, &percent)?;
        }
    }
    filter(sheet, input.schools().len(), columns.len())
}

fn review(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[2])?;
    let columns = [
        ("申请编号 application_id", 38.0),
        ("子女身份证号 child_id", 21.0),
        ("原因代码 code", 22.0),
        ("原因 reason (中文)", 50.0),
        ("reason (English)", 50.0),
        ("依据 evidence", 40.0),
    ];
    header(sheet, &columns)?;
    let wrap = Format::new().set_text_wrap();
    let mut rows = 0usize;
    for decision in input.decisions().iter().filter(|d| d.status == Status::Review) {
        // One row per reason, so a filter on the code finds every case.
        for reason in &decision.reasons {
            let r = row_no(rows)?;
            rows += 1;
            sheet.write_string(r, 0, decision.application_id.to_string())?;
            sheet.write_string(r, 1, decision.child_id.as_str())?;
            sheet.write_string(r, 2, &reason.code)?;
            sheet.write_string_with_format(r, 3, &reason.zh, &wrap)?;
            sheet.write_string_with_format(r, 4, &reason.en, &wrap)?;
            sheet.write_string_with_format(r, 5, reason.evidence.join("\n"), &wrap)?;
        }
    }
    filter(sheet, rows, columns.len())
}

fn round(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[3])?;
    let facts = input.facts();
    header(sheet, &[("项目 item", 34.0), ("值 value", 80.0)])?;
    let check = match check_commitment(&facts.round_seed, &facts.seed_commitment) {
        CommitmentCheck::WholeSeed => "matches: SHA-256 of the whole seed 种子与承诺一致".to_owned(),
        CommitmentCheck::SealedAndPublic { sealed, public } => {
            format!("matches: SHA-256 of the sealed part {sealed}; public draw {public} 种子与承诺一致")
        }
        CommitmentCheck::Mismatch => "DOES NOT MATCH 种子与承诺不一致".to_owned(),
    };
    let rows = [
        ("批次 round", facts.round_id.clone()),
        ("政策版本 policy version", facts.policy_version.clone()),
        ("随机种子 round seed", facts.round_seed.clone()),
        ("种子承诺 seed commitment (SHA-256)", facts.seed_commitment.clone()),
        ("核验 check", check),
        (
            "派位号 lottery number",
            "first 16 hex digits of SHA-256(\"{round_seed}:{child_id}\"); lower first. \
             printf '%s' 'ROUND_SEED:CHILD_ID' | sha256sum | cut -c1-16"
                .to_owned(),
        ),
    ];
    for (i, (item, value)) in rows.iter().enumerate() {
        let r = row_no(i)?;
        sheet.write_string(r, 0, *item)?;
        sheet.write_string(r, 1, value)?;
    }
    Ok(())
}

/// The workbook as bytes.
pub fn xlsx_bytes(input: &ReportInput) -> Result<Vec<u8>, ReportError> {
    build(input).map_err(ReportError::Xlsx)
}

fn build(input: &ReportInput) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the workbook is a function of the round output.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{} assignments", input.facts().round_id))
            .set_creation_datetime(&created),
    );
    assignments(workbook.add_worksheet(), input)?;
    schools(workbook.add_worksheet(), input)?;
    review(workbook.add_worksheet(), input)?;
    round(workbook.add_worksheet(), input)?;
    workbook.save_to_buffer()
}

/// Writes `assignments.xlsx` to `path`.
pub fn write_xlsx(input: &ReportInput, path: impl AsRef<Path>) -> Result<(), ReportError> {
    let path = path.as_ref();
    let bytes = xlsx_bytes(input)?;
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}
