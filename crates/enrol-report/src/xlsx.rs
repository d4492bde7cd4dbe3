//! `assignments.xlsx` for officers who work in spreadsheets: the assignments,
//! a per-school summary, the review queue and the round's seed. Deterministic:
//! the document's creation time is fixed, so the same input gives the same bytes.

use std::io::Write as _;
use std::path::Path;

use enrol_domain::{SchoolKind, Status};
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::error::ReportError;
use crate::input::{ReportInput, Route};
use crate::seed::{CommitmentCheck, check_commitment};

/// Sheet names, in order.
pub const SHEETS: [&str; 4] = ["录取结果", "学校汇总", "人工审核", "招生批次"];

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

fn status_zh(status: Status) -> &'static str {
    match status {
        Status::Eligible => "符合条件",
        Status::Review => "人工审核",
        Status::Ineligible => "不符合条件",
    }
}

fn route_zh(route: Route) -> &'static str {
    match route {
        Route::Choice => "志愿录取",
        Route::Overflow => "统筹安排",
    }
}

/// The Chinese name of a priority: the tier's label, 民办派位, or 统筹安排.
fn priority_zh<'a>(input: &'a ReportInput, priority: &'a str) -> &'a str {
    if priority == enrol_domain::LOTTERY_PRIORITY {
        return "民办派位";
    }
    if priority == "none" {
        return "统筹安排";
    }
    input
        .tiers()
        .iter()
        .find(|t| t.name == priority)
        .and_then(|t| t.label_zh.as_deref())
        .unwrap_or(priority)
}

fn kind_zh(kind: SchoolKind) -> (&'static str, &'static str) {
    match kind {
        SchoolKind::Public => ("公办", "public"),
        SchoolKind::Private => ("民办", "private"),
    }
}

fn assignments(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[0])?;
    // Chinese headers and values; each coded value also in a column of its
    // own (代码), exactly as assignments.csv writes it, so a filter matches the CSV.
    let columns = [
        ("申请编号", 38.0),
        ("子女身份证号", 21.0),
        ("审核结果", 11.0),
        ("审核结果代码", 11.0),
        ("学校代码", 10.0),
        ("学校名称", 24.0),
        ("录取方式", 11.0),
        ("录取方式代码", 11.0),
        ("志愿序号", 9.0),
        ("录取类别", 12.0),
        ("录取类别代码", 11.0),
        ("不动产单元号", 30.0),
        ("派位号", 18.0),
    ];
    header(sheet, &columns)?;
    for (i, (row, decision)) in input.assignments().iter().zip(input.decisions()).enumerate() {
        let r = row_no(i)?;
        sheet.write_string(r, 0, row.application_id.to_string())?;
        // IDs stay text: 18 digits do not survive as a spreadsheet number.
        sheet.write_string(r, 1, row.child_id.as_str())?;
        sheet.write_string(r, 2, status_zh(row.status))?;
        sheet.write_string(r, 3, row.status.as_str())?;
        match &row.seat {
            Some(seat) => {
                sheet.write_string(r, 4, seat.school_id.as_str())?;
                if let Some(name) = input.school_name(&seat.school_id) {
                    sheet.write_string(r, 5, name)?;
                }
                sheet.write_string(r, 6, route_zh(seat.route))?;
                sheet.write_string(r, 7, seat.route.as_str())?;
                if let Some(rank) = seat.choice_rank {
                    sheet.write_number(r, 8, rank)?;
                }
                sheet.write_string(r, 9, priority_zh(input, &seat.priority))?;
                sheet.write_string(r, 10, &seat.priority)?;
                if let Some(unit) = &seat.unit_no {
                    sheet.write_string(r, 11, unit.as_str())?;
                }
            }
            None => {
                sheet.write_string(r, 6, "未录取")?;
                sheet.write_string(r, 7, "none")?;
            }
        }
        if let Some(lottery) = decision.lottery {
            sheet.write_string(r, 12, lottery.to_string())?;
        }
    }
    filter(sheet, input.assignments().len(), columns.len())
}

fn schools(sheet: &mut Worksheet, input: &ReportInput) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[1])?;
    // A tier's column: its Chinese label, its code in brackets.
    let tier_titles: Vec<String> = input
        .tiers()
        .iter()
        .map(|t| match &t.label_zh {
            Some(zh) => format!("{zh}（{}）", t.name),
            None => t.name.clone(),
        })
        .collect();
    let mut columns: Vec<(&str, f64)> = vec![
        ("学校代码", 10.0),
        ("学校名称", 24.0),
        ("办学性质", 9.0),
        ("办学性质代码", 9.0),
        ("核定学位", 9.0),
        ("已录取", 9.0),
    ];
    columns.extend(tier_titles.iter().map(|t| (t.as_str(), 14.0)));
    columns.extend([("民办派位", 9.0), ("统筹安排", 9.0), ("空余学位", 9.0), ("录取率", 9.0)]);
    header(sheet, &columns)?;
    let percent = Format::new().set_num_format("0.0%");
    for (i, school) in input.schools().iter().enumerate() {
        let r = row_no(i)?;
        sheet.write_string(r, 0, school.school_id.as_str())?;
        if let Some(name) = input.school_name(&school.school_id) {
            sheet.write_string(r, 1, name)?;
        }
        let (kind, code) = kind_zh(school.kind);
        sheet.write_string(r, 2, kind)?;
        sheet.write_string(r, 3, code)?;
        let mut col = 4u16;
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
        ("申请编号", 38.0),
        ("子女身份证号", 21.0),
        ("原因代码", 22.0),
        ("原因", 50.0),
        ("原因（英文）", 50.0),
        ("依据", 40.0),
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
    header(sheet, &[("项目", 34.0), ("内容", 80.0)])?;
    let check = match check_commitment(&facts.round_seed, &facts.seed_commitment) {
        CommitmentCheck::WholeSeed => "一致：承诺为整个种子的 SHA-256".to_owned(),
        CommitmentCheck::SealedAndPublic { sealed, public } => {
            format!("一致：承诺为密封部分 {sealed} 的 SHA-256；公开抽取值 {public}")
        }
        CommitmentCheck::Mismatch => "不一致：种子与承诺不符".to_owned(),
    };
    let rows = [
        ("招生批次", facts.round_id.clone()),
        ("政策版本", facts.policy_version.clone()),
        ("随机种子", facts.round_seed.clone()),
        ("种子承诺（SHA-256）", facts.seed_commitment.clone()),
        ("核验", check),
        (
            "派位号算法",
            "SHA-256(\"随机种子:子女身份证号\") 的前 16 位十六进制数，小者在前。\
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
    build(input)
        .and_then(|mut workbook| workbook.save_to_buffer())
        .map_err(ReportError::Xlsx)
}

/// The workbook, its two long sheets (one row per application, one per
/// reason in review) in constant-memory mode: their rows go to a temporary
/// file as they are written, so a city's workbook needs memory for one row.
fn build(input: &ReportInput) -> Result<Workbook, XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the workbook is a function of the round output.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{} assignments", input.facts().round_id))
            .set_creation_datetime(&created),
    );
    assignments(workbook.add_worksheet_with_constant_memory()?, input)?;
    schools(workbook.add_worksheet(), input)?;
    review(workbook.add_worksheet_with_constant_memory()?, input)?;
    round(workbook.add_worksheet(), input)?;
    Ok(workbook)
}

/// Writes `assignments.xlsx` to `path`, straight to the file.
pub fn write_xlsx(input: &ReportInput, path: impl AsRef<Path>) -> Result<(), ReportError> {
    let path = path.as_ref();
    let mut workbook = build(input).map_err(ReportError::Xlsx)?;
    let file = std::fs::File::create(path).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })?;
    let mut file = std::io::BufWriter::new(file);
    workbook.save_to_writer(&mut file).map_err(ReportError::Xlsx)?;
    file.flush().map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}
