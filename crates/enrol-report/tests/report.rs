//! report.html and assignments.xlsx from the fixture round, and what bad
//! round output is refused with.

mod support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use enrol_domain::{SchoolId, Status};
use enrol_report::{
    LineProblem, ReportError, ReportInput, Route, SHEETS, TierLabel, lottery_digest, render_html, write_xlsx,
    xlsx_bytes,
};
use support::{facts, fixture, fixture_file};

fn from_strings(decisions: &str, assignments: &str, schools: &str) -> Result<ReportInput, ReportError> {
    ReportInput::from_strings(decisions, assignments, schools, facts())
}

fn fixture_strings() -> (String, String, String) {
    (
        fixture_file("decisions.jsonl"),
        fixture_file("assignments.csv"),
        fixture_file("schools.csv"),
    )
}

/// The (file, line, problem) of a line error, or a panic naming what came instead.
fn line_error(result: Result<ReportInput, ReportError>) -> (String, usize, LineProblem) {
    match result {
        Err(ReportError::Line { file, line, problem }) => (file, line, problem),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn reads_the_fixture_round() {
    let input = fixture();
    assert_eq!(input.decisions().len(), 12);
    assert_eq!(input.assignments().len(), 12);
    assert_eq!(input.schools().len(), 5);
    assert_eq!(
        input.tiers().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["tier1", "tier2", "tier3", "tier4"]
    );
    let overflow: Vec<_> = input
        .assignments()
        .iter()
        .filter_map(|a| a.seat.as_ref())
        .filter(|s| s.route == Route::Overflow)
        .map(|s| s.school_id.as_str())
        .collect();
    assert_eq!(overflow, ["S002"]);
    let s002 = &input.schools()[1];
    assert_eq!(
        (s002.capacity, s002.assigned, s002.overflow, s002.empty_seats()),
        (4, 3, 1, 1)
    );
    assert_eq!(input.school_name(&SchoolId::new("S003")), Some("明德民办小学"));
}

#[test]
fn in_memory_and_directory_input_are_the_same() {
    let (d, a, s) = fixture_strings();
    assert_eq!(from_strings(&d, &a, &s).unwrap_or_else(|e| panic!("{e}")), fixture());
}

#[test]
fn report_html_snapshot() {
    insta::assert_snapshot!("report_html", render_html(&fixture()));
}

#[test]
fn same_input_same_bytes() {
    let (a, b) = (fixture(), fixture());
    assert_eq!(render_html(&a), render_html(&b));
    let (x, y) = (
        xlsx_bytes(&a).unwrap_or_else(|e| panic!("{e}")),
        xlsx_bytes(&b).unwrap_or_else(|e| panic!("{e}")),
    );
    assert!(x == y, "the workbook differs between two runs");
}

#[test]
fn one_chart_per_school_with_its_id() {
    let input = fixture();
    let html = render_html(&input);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), input.schools().len());
    for school in input.schools() {
        let tag = format!("<svg class=\"chart\" data-school=\"{}\"", school.school_id);
        assert_eq!(html.matches(&tag).count(), 1, "{tag}");
    }
}

#[test]
fn the_report_loads_nothing_from_anywhere() {
    let html = render_html(&fixture());
    // The only URL is the SVG namespace, which is a name, not a fetch.
    assert_eq!(
        html.matches("://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    for forbidden in ["<script", "src=", "url(", "@import", "@font-face"] {
        assert!(!html.contains(forbidden), "report.html contains {forbidden}");
    }
    assert_eq!(html.matches("<link").count(), 1, "only the inline data: icon");
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">"));
}

#[test]
fn every_text_is_escaped() {
    let mut facts = facts();
    facts
        .school_names
        .insert(SchoolId::new("S001"), "<script>alert('x')</script> & Co".into());
    facts.round_id = "2027-primary\"><b>".into();
    let (d, a, s) = fixture_strings();
    let html = render_html(&ReportInput::from_strings(&d, &a, &s, facts).unwrap_or_else(|e| panic!("{e}")));
    assert!(!html.contains("<script>") && !html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("2027-primary&quot;&gt;&lt;b&gt;"));
    // The fixture's unresolved address holds markup characters.
    assert!(html.contains("幸福路&lt;12&gt;号 &amp; &quot;东门&quot;"));
    assert!(!html.contains("幸福路<12>"));
}

#[test]
fn the_review_queue_lists_every_review_with_its_reasons() {
    let input = fixture();
    let html = render_html(&input);
    let queue = &html[html.find("id=\"review\"").unwrap_or(0)..html.find("<details>").unwrap_or(html.len())];
    let in_review: Vec<_> = input
        .decisions()
        .iter()
        .filter(|d| d.status == Status::Review)
        .collect();
    assert_eq!(in_review.len(), 3);
    assert!(queue.contains("Review queue</span> (3)"));
    for d in in_review {
        assert!(queue.contains(&d.application_id.to_string()));
        for r in &d.reasons {
            let code = format!("<code>{}</code>", r.code);
            assert!(queue.contains(&code), "{code}");
            assert!(queue.contains(&enrol_report::escape(&r.zh)), "{}", r.zh);
            assert!(queue.contains(&enrol_report::escape(&r.en)), "{}", r.en);
            for e in &r.evidence {
                assert!(queue.contains(&enrol_report::escape(e)), "{e}");
            }
        }
    }
    // An eligible child's reasons are not in the queue.
    assert!(!queue.contains("tier1_same_dwelling"));
}

#[test]
fn the_lottery_section_recomputes_a_number_from_the_data() {
    let input = fixture();
    let html = render_html(&input);
    let first = input
        .decisions()
        .iter()
        .find(|d| d.lottery.is_some())
        .unwrap_or_else(|| panic!("an eligible child"));
    let digest = lottery_digest(support::SEED, first.child_id.as_str());
    assert_eq!(first.lottery.map(|n| n.to_string()).as_deref(), Some(&digest[..16]));
    let command = format!(
        "$ printf '%s' 'demo-2027-primary:{}' | sha256sum | cut -c1-16\n{}",
        first.child_id,
        &digest[..16]
    );
    assert!(html.contains(&enrol_report::escape(&command)), "{command}");
    assert!(html.contains(&format!("Full digest: <code>{digest}</code>")));
    assert!(html.contains("The seed matches the commitment"));
    assert!(html.contains("All 8 lottery numbers in decisions.jsonl recompute from the seed"));
}

#[test]
fn a_wrong_seed_is_shown_as_such() {
    let mut facts = facts();
    facts.round_seed = "another-seed".into();
    let (d, a, s) = fixture_strings();
    let html = render_html(&ReportInput::from_strings(&d, &a, &s, facts).unwrap_or_else(|e| panic!("{e}")));
    assert!(html.contains("The seed does NOT match the commitment"));
    assert!(html.contains("8 / 8 个派位号与种子不符"));
    assert!(html.contains("✗ 不一致 does not match"));
}

#[test]
fn an_eligible_decision_without_its_number_is_flagged() {
    let (d, a, s) = fixture_strings();
    let first = fixture().decisions()[0]
        .lottery
        .map(|n| n.to_string())
        .unwrap_or_default();
    let d = d.replacen(&format!(",\"lottery\":\"{first}\""), "", 1);
    let html = render_html(&from_strings(&d, &a, &s).unwrap_or_else(|e| panic!("{e}")));
    assert!(html.contains("✗ 1 个符合条件的申请没有派位号"));
    assert!(html.contains("All 7 lottery numbers in decisions.jsonl recompute from the seed"));
    assert!(html.contains("decisions.jsonl: <span class=\"bad\">✗ 无派位号 no lottery number</span>"));
}

#[test]
fn tiers_come_from_the_header_when_the_facts_name_none() {
    let mut facts = facts();
    facts.tiers.clear();
    let (d, a, s) = fixture_strings();
    let input = ReportInput::from_strings(&d, &a, &s, facts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input.tiers()[3], TierLabel::named("tier4"));
}

#[test]
fn tiers_of_the_facts_must_be_the_header_columns() {
    let mut facts = facts();
    facts.tiers.pop();
    let (d, a, s) = fixture_strings();
    match ReportInput::from_strings(&d, &a, &s, facts) {
        Err(ReportError::TierMismatch { facts, header }) => {
            assert_eq!(facts, ["tier1", "tier2", "tier3"]);
            assert_eq!(header, ["tier1", "tier2", "tier3", "tier4"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_directory_names_the_file() {
    let err = ReportInput::from_output_dir("/nonexistent/round", facts()).err();
    assert!(
        matches!(&err, Some(ReportError::Read { path, .. }) if path.ends_with("decisions.jsonl")),
        "{err:?}"
    );
}

#[test]
fn bad_decisions_name_their_line() {
    let (d, a, s) = fixture_strings();
    let mut lines: Vec<&str> = d.lines().collect();
    lines[2] = "{\"application_id\": \"not json";
    let (file, line, problem) = line_error(from_strings(&(lines.join("\n") + "\n"), &a, &s));
    assert_eq!((file.as_str(), line), ("decisions.jsonl", 3));
    assert!(matches!(problem, LineProblem::Decision(_)), "{problem:?}");

    let mut lines: Vec<&str> = d.lines().collect();
    lines.swap(4, 5);
    let (file, line, problem) = line_error(from_strings(&(lines.join("\n") + "\n"), &a, &s));
    assert_eq!((file.as_str(), line), ("decisions.jsonl", 6));
    assert!(
        matches!(
            problem,
            LineProblem::OutOfOrder {
                what: "application",
                ..
            }
        ),
        "{problem:?}"
    );
}

#[test]
fn bad_assignments_name_their_line() {
    let (d, a, s) = fixture_strings();
    let edit = |line: usize, from: &str, to: &str| -> String {
        let mut lines: Vec<String> = a.lines().map(str::to_owned).collect();
        assert!(lines[line - 1].contains(from), "{} has no {from}", lines[line - 1]);
        lines[line - 1] = lines[line - 1].replacen(from, to, 1);
        lines.join("\n") + "\n"
    };
    let cases: Vec<(String, usize, LineProblem)> = vec![
        (
            edit(1, "unit_no", "unit"),
            1,
            LineProblem::Header {
                expected: "application_id,child_id,status,school_id,route,choice_rank,priority,unit_no".into(),
                found: "application_id,child_id,status,school_id,route,choice_rank,priority,unit".into(),
            },
        ),
        (
            edit(2, ",S001,", ",S009,"),
            2,
            LineProblem::UnknownSchool("S009".into()),
        ),
        (
            edit(7, ",,none,", ",none,"),
            7,
            LineProblem::FieldCount { expected: 8, found: 7 },
        ),
        (
            edit(10, ",review,,none,,,", ",eligible,,none,,,"),
            10,
            LineProblem::DisagreesWithDecision {
                column: "status",
                row: "eligible".into(),
                decision: "review".into(),
            },
        ),
        (
            edit(10, ",review,,none,,,", ",review,S001,choice,1,tier1,"),
            10,
            LineProblem::SeatNotEligible("review".into()),
        ),
        (
            edit(10, ",none,,,", ",none,,,U1"),
            10,
            LineProblem::MustBeEmpty {
                column: "unit_no",
                route: "none",
            },
        ),
        (
            edit(7, ",overflow,,none,", ",overflow,,tier2,"),
            7,
            LineProblem::Field {
                column: "priority".into(),
                value: "tier2".into(),
                why: "is not none, as an overflow seat's is".into(),
            },
        ),
        (
            edit(2, ",choice,1,", ",choice,0,"),
            2,
            LineProblem::Field {
                column: "choice_rank".into(),
                value: "0".into(),
                why: "is not 1 or more".into(),
            },
        ),
        (
            edit(2, ",tier1,", ",tier9,"),
            2,
            LineProblem::Field {
                column: "priority".into(),
                value: "tier9".into(),
                why: "is neither a tier of the policy nor lottery".into(),
            },
        ),
    ];
    for (text, want_line, want) in cases {
        let (file, line, problem) = line_error(from_strings(&d, &text, &s));
        assert_eq!((file.as_str(), line, &problem), ("assignments.csv", want_line, &want));
    }

    // A decision without its row is named in decisions.jsonl.
    let mut lines: Vec<&str> = a.lines().collect();
    let dropped = lines.remove(5);
    let (file, line, problem) = line_error(from_strings(&d, &(lines.join("\n") + "\n"), &s));
    assert_eq!((file.as_str(), line), ("decisions.jsonl", 5));
    assert_eq!(problem, LineProblem::NoAssignment(dropped[..36].to_owned()));
}

#[test]
fn school_counts_must_match_the_assignments() {
    let (d, a, s) = fixture_strings();
    let wrong = s.replace("S002,public,4,3,0,1,0,1,0,1", "S002,public,4,3,0,2,0,0,0,1");
    let (file, line, problem) = line_error(from_strings(&d, &a, &wrong));
    assert_eq!((file.as_str(), line), ("schools.csv", 3));
    assert_eq!(
        problem,
        LineProblem::CountDisagrees {
            school: "S002".into(),
            column: "tier2".into(),
            stated: 2,
            counted: 1
        }
    );
    let unsorted = s.replace("S004", "S000");
    let (_, line, problem) = line_error(from_strings(&d, &a, &unsorted));
    assert_eq!(
        (line, problem),
        (
            5,
            LineProblem::OutOfOrder {
                what: "school",
                id: "S000".into()
            }
        )
    );
    let bad_kind = s.replace("S003,private", "S003,charter");
    let (_, line, _) = line_error(from_strings(&d, &a, &bad_kind));
    assert_eq!(line, 4);
}

#[test]
fn an_empty_round_renders() {
    let mut facts = facts();
    facts.tiers = vec![TierLabel::named("tier1")];
    let input = ReportInput::from_strings(
        "",
        "application_id,child_id,status,school_id,route,choice_rank,priority,unit_no\n",
        "school_id,kind,capacity,assigned,tier1,lottery,overflow\nS001,public,0,0,0,0,0\n",
        facts,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let html = render_html(&input);
    assert!(html.contains("data-school=\"S001\""));
    assert!(html.contains("no seats this year"));
    assert!(html.contains("No application in this round is eligible, so none has a lottery number."));
    assert!(xlsx_bytes(&input).is_ok());
}

fn cell(range: &calamine::Range<Data>, row: usize, col: usize) -> String {
    range.get((row, col)).map(ToString::to_string).unwrap_or_default()
}

#[test]
fn the_workbook_holds_the_assignments_and_the_schools() {
    let input = fixture();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("assignments.xlsx");
    write_xlsx(&input, &path).unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(bytes.starts_with(b"PK\x03\x04"), "an xlsx is a zip");

    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(book.sheet_names(), SHEETS);

    let sheet = book.worksheet_range(SHEETS[0]).unwrap_or_else(|e| panic!("{e}"));
    let csv = fixture_file("assignments.csv");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(sheet.height(), rows.len());
    assert_eq!(cell(&sheet, 0, 0), "申请编号");
    let header: Vec<String> = (0..13).map(|c| cell(&sheet, 0, c)).collect();
    assert!(
        header
            .iter()
            .all(|h| h.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "every header is Chinese: {header:?}"
    );
    for (r, fields) in rows.iter().enumerate().skip(1) {
        // The code columns are the CSV's fields; the sheet adds each code's
        // Chinese, the school's name and the lottery number.
        let got: Vec<String> = [0, 1, 3, 4, 7, 8, 10, 11].iter().map(|&c| cell(&sheet, r, c)).collect();
        assert_eq!(got, *fields, "row {r}");
        let decision = &input.decisions()[r - 1];
        assert_eq!(
            cell(&sheet, r, 12),
            decision.lottery.map(|n| n.to_string()).unwrap_or_default(),
            "row {r}"
        );
    }
    assert_eq!(cell(&sheet, 1, 5), "实验小学");
    let values: std::collections::BTreeSet<String> = (1..sheet.height())
        .flat_map(|r| [cell(&sheet, r, 2), cell(&sheet, r, 6)])
        .collect();
    assert!(
        values.contains("符合条件") && values.contains("志愿录取") && values.contains("统筹安排"),
        "status and route in Chinese: {values:?}"
    );
    let priorities: std::collections::BTreeSet<String> = (1..sheet.height()).map(|r| cell(&sheet, r, 9)).collect();
    assert!(priorities.contains("房户一致"), "{priorities:?}");

    let sheet = book.worksheet_range(SHEETS[1]).unwrap_or_else(|e| panic!("{e}"));
    let header: Vec<String> = (0..14).map(|c| cell(&sheet, 0, c)).collect();
    assert_eq!(
        header,
        [
            "学校代码",
            "学校名称",
            "办学性质",
            "办学性质代码",
            "核定学位",
            "已录取",
            "房户一致（tier1）",
            "有房（tier2）",
            "有户（tier3）",
            "随迁子女（tier4）",
            "民办派位",
            "统筹安排",
            "空余学位",
            "录取率",
        ]
    );
    let s002: Vec<String> = (0..13).map(|c| cell(&sheet, 2, c)).collect();
    assert_eq!(
        s002,
        [
            "S002",
            "育才小学",
            "公办",
            "public",
            "4",
            "3",
            "0",
            "1",
            "0",
            "1",
            "0",
            "1",
            "1"
        ]
    );
    assert_eq!(sheet.get((2, 13)), Some(&Data::Float(0.75)));
    assert_eq!(cell(&sheet, 5, 13), "", "no fill rate without seats");

    let sheet = book.worksheet_range(SHEETS[2]).unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<String> = (1..sheet.height()).map(|r| cell(&sheet, r, 2)).collect();
    assert_eq!(
        codes,
        ["no_birth_certificate", "guardian_not_parent", "address_unresolved"]
    );

    let sheet = book.worksheet_range(SHEETS[3]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cell(&sheet, 3, 1), support::SEED);
}

/// `cutoffs.csv` of the fixture round: S001 and S003 filled by choice, S002
/// and S004 did not, S005 has no seats.
const FIXTURE_CUTOFFS: &str = "school_id,kind,capacity,admitted_by_choice,cutoff,priority,key,lottery
S001,public,3,3,full,tier3,3 1 20201220,0f3c2a91d4e5b607
S002,public,4,2,not full,,,
S003,private,2,2,full,lottery,0 1,7a1b2c3d4e5f6071
S004,public,2,0,not full,,,
S005,public,0,0,full,,,
";

#[test]
fn cutoffs_are_read_and_shown_beside_each_school() {
    let (d, a, s) = fixture_strings();
    let input = from_strings(&d, &a, &s)
        .and_then(|i| i.with_cutoffs_csv(FIXTURE_CUTOFFS))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input.cutoffs().len(), 5);
    assert!(input.cutoffs()[0].full && !input.cutoffs()[1].full);
    assert_eq!(input.cutoffs()[0].key.as_deref(), Some("3 1 20201220"));
    let html = render_html(&input);
    assert!(
        html.contains("<a href=\"#cutoffs\">"),
        "the section is in the navigation"
    );
    assert_eq!(html.matches("<tr data-cutoff=").count(), 5);
    let s001 = html.split("<tr data-cutoff=\"S001\">").nth(1).unwrap();
    let s001 = s001.split("</tr>").next().unwrap();
    for text in [
        "已满额 full",
        "tier3",
        "<code>3 1 20201220</code>",
        "<code>0f3c2a91d4e5b607</code>",
    ] {
        assert!(s001.contains(text), "{text} in {s001}");
    }
    // Without cutoffs.csv the report has no such section (the fixture snapshot).
    assert!(!render_html(&fixture()).contains("id=\"cutoffs\""));

    // A school missing from schools.csv, a standing where the school is not
    // full, an unknown cutoff word: each refused, naming the line.
    for (bad, line) in [
        (FIXTURE_CUTOFFS.replace("S004,", "S009,"), 5),
        (
            FIXTURE_CUTOFFS.replace("S002,public,4,2,not full,,,", "S002,public,4,2,not full,tier2,,"),
            3,
        ),
        (
            FIXTURE_CUTOFFS.replace("S005,public,0,0,full", "S005,public,0,0,closed"),
            6,
        ),
    ] {
        let err = from_strings(&d, &a, &s).unwrap().with_cutoffs_csv(&bad);
        let (file, at, _) = line_error(err);
        assert_eq!((file.as_str(), at), ("cutoffs.csv", line), "{bad}");
    }
}
