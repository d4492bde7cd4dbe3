//! `report.html`: one self-contained file for officers whose machines are
//! often offline. No script, no external resource (a Content-Security-Policy
//! of `default-src 'none'` makes the browser refuse any), charts as inline SVG,
//! every text escaped, and the same input gives the same bytes.

use std::fmt::Write as _;

use enrol_domain::{SchoolKind, Status};

use crate::input::{DecisionRow, ReportInput, Route, SchoolRow};
use crate::seed::{CommitmentCheck, check_commitment, lottery_digest};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A string as one POSIX shell word in single quotes.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One band of a chart: a priority, overflow, or empty seats.
struct Band {
    zh: String,
    en: String,
    fill: &'static str,
    ink: &'static str,
}

/// Tier colours, best tier darkest; a policy with more tiers reuses them.
const TIER_COLOURS: [(&str, &str); 6] = [
    ("#1b4f8a", "#ffffff"),
    ("#3a7dc9", "#ffffff"),
    ("#7fb3e0", "#10202f"),
    ("#b9d7ef", "#10202f"),
    ("#2a9d8f", "#ffffff"),
    ("#8fd0c4", "#10202f"),
];
const LOTTERY_COLOUR: (&str, &str) = ("#7b5ea7", "#ffffff");
const OVERFLOW_COLOUR: (&str, &str) = ("#e07b24", "#1d1206");
const EMPTY_COLOUR: (&str, &str) = ("#eef0f3", "#4a5361");

impl Band {
    /// Both labels, for places with room for one line.
    fn label(&self) -> String {
        if self.en.is_empty() {
            self.zh.clone()
        } else {
            format!("{} {}", self.zh, self.en)
        }
    }
}

/// The bands of a school chart, in drawing order: each tier, lottery,
/// overflow, empty seats.
fn bands(input: &ReportInput) -> Vec<Band> {
    let mut out: Vec<Band> = input
        .tiers()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (fill, ink) = TIER_COLOURS[i % TIER_COLOURS.len()];
            Band {
                zh: match &t.label_zh {
                    Some(zh) => format!("{} {zh}", t.name),
                    None => t.name.clone(),
                },
                en: t.label_en.clone().unwrap_or_default(),
                fill,
                ink,
            }
        })
        .collect();
    out.push(Band {
        zh: "民办派位".into(),
        en: "lottery (private school)".into(),
        fill: LOTTERY_COLOUR.0,
        ink: LOTTERY_COLOUR.1,
    });
    out.push(Band {
        zh: "统筹安排".into(),
        en: "overflow".into(),
        fill: OVERFLOW_COLOUR.0,
        ink: OVERFLOW_COLOUR.1,
    });
    out.push(Band {
        zh: "空余学位".into(),
        en: "empty seats".into(),
        fill: EMPTY_COLOUR.0,
        ink: EMPTY_COLOUR.1,
    });
    out
}

/// A school's counts in band order (tiers, lottery, overflow, empty).
fn school_counts(school: &SchoolRow) -> Vec<u32> {
    let mut counts = school.by_tier.clone();
    counts.extend([school.lottery, school.overflow, school.empty_seats()]);
    counts
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn kind_label(kind: SchoolKind) -> &'static str {
    match kind {
        SchoolKind::Public => "公办 public",
        SchoolKind::Private => "民办 private",
    }
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", system-ui, sans-serif; color: #1d2430; background: #f6f7f9; line-height: 1.45; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; border-bottom: 2px solid #d7dce3; padding-bottom: .3rem; }
h2 .en, h1 .en, h3 .en { font-weight: normal; color: #4a5361; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 1rem 1.25rem; margin: 1rem 0; }
nav a { margin-right: 1rem; color: #1b4f8a; }
.meta { color: #4a5361; margin: 0 0 .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e6e9ee; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .88rem; }
code { overflow-wrap: anywhere; }
code.id { white-space: nowrap; overflow-wrap: normal; }
pre { background: #1d2430; color: #e8edf3; padding: .75rem 1rem; border-radius: 4px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1.1rem; margin: 0 0 .9rem; padding: 0; list-style: none; font-size: .9rem; }
.swatch { display: inline-block; width: .95rem; height: .95rem; border-radius: 2px; vertical-align: -.15rem; margin-right: .35rem; border: 1px solid #c5ccd6; }
.school { display: grid; grid-template-columns: 15rem minmax(12rem, 1fr) 8.5rem; gap: .75rem; align-items: center; padding: .3rem 0; border-bottom: 1px solid #f0f2f5; }
.school .name { color: #4a5361; }
.school .kind { display: block; font-size: .8rem; color: #6a7382; }
.school .fill { text-align: right; font-variant-numeric: tabular-nums; font-size: .9rem; }
svg.chart { display: block; width: 100%; height: auto; max-width: 640px; }
svg.tier-mix { display: block; width: 100%; height: auto; max-width: 720px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .75rem; }
.card { border: 1px solid #e1e5eb; border-radius: 4px; padding: .5rem .75rem; }
.card .v { font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { font-size: .85rem; color: #4a5361; }
.reason { margin: 0 0 .5rem; }
.reason p { margin: .1rem 0; }
.evidence { font-size: .85rem; color: #4a5361; }
.ok { color: #1e7b34; font-weight: 600; }
.bad { color: #b42318; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: 16rem 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: #4a5361; }
dl.facts dd { margin: 0; }
footer { color: #6a7382; font-size: .85rem; padding-bottom: 2rem; }
@media (max-width: 760px) { .school { grid-template-columns: 1fr; } dl.facts { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } section { break-inside: avoid-page; border: none; } nav { display: none; } }
"#;

/// Renders `report.html`.
pub fn render_html(input: &ReportInput) -> String {
    let facts = input.facts();
    let mut out = String::with_capacity(32 * 1024);
    let title = format!("招生批次报告 Round report: {}", facts.round_id);
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Forbid every fetch: the file must work, and be seen to work, offline.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // An inline empty icon, so no browser asks for /favicon.ico.
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<header>\n");
    let _ = writeln!(
        out,
        "<h1>招生批次报告 <span class=\"en\">Round report</span>: {}</h1>",
        escape(&facts.round_id)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">政策版本 <span lang=\"en\">Policy version</span>: <code>{}</code></p>",
        escape(&facts.policy_version)
    );
    out.push_str(concat!(
        "<nav><a href=\"#summary\">概况 Summary</a><a href=\"#fill\">各校录取 Schools</a>",
        "<a href=\"#tiers\">类别构成 Tier mix</a><a href=\"#overflow\">统筹安排 Overflow</a>",
        "<a href=\"#review\">人工审核 Review</a><a href=\"#lottery\">随机派位 Lottery</a>",
    ));
    if !input.cutoffs().is_empty() {
        out.push_str("<a href=\"#cutoffs\">录取线 Cutoffs</a>");
    }
    out.push_str("</nav>\n");
    out.push_str("</header>\n<main>\n");
    summary(&mut out, input);
    fill(&mut out, input);
    tier_mix(&mut out, input);
    overflow(&mut out, input);
    review(&mut out, input);
    lottery(&mut out, input);
    crate::cutoffs::render_cutoffs(&mut out, input);
    out.push_str("</main>\n<footer><p>由 enrol 根据 decisions.jsonl、assignments.csv、schools.csv 生成。");
    out.push_str("Generated by enrol from decisions.jsonl, assignments.csv and schools.csv.</p></footer>\n");
    out.push_str("</body>\n</html>\n");
    out
}

fn card(out: &mut String, value: impl std::fmt::Display, zh: &str, en: &str) {
    let _ = writeln!(
        out,
        "<div class=\"card\"><div class=\"v\">{value}</div><div class=\"k\">{} <span lang=\"en\">{}</span></div></div>",
        escape(zh),
        escape(en)
    );
}

fn summary(out: &mut String, input: &ReportInput) {
    let count = |status: Status| input.decisions().iter().filter(|d| d.status == status).count();
    let seats = || input.assignments().iter().filter_map(|a| a.seat.as_ref());
    let by_choice = seats().filter(|s| s.route == Route::Choice).count();
    let first_choice = seats().filter(|s| s.choice_rank == Some(1)).count();
    let by_overflow = seats().filter(|s| s.route == Route::Overflow).count();
    let unplaced = input
        .assignments()
        .iter()
        .filter(|a| a.status == Status::Eligible && a.seat.is_none())
        .count();
    let capacity: u64 = input.schools().iter().map(|s| u64::from(s.capacity)).sum();
    let empty: u64 = input.schools().iter().map(|s| u64::from(s.empty_seats())).sum();
    out.push_str("<section id=\"summary\">\n<h2>概况 <span class=\"en\">Summary</span></h2>\n<div class=\"cards\">\n");
    card(out, input.decisions().len(), "申请", "applications");
    card(out, count(Status::Eligible), "符合条件", "eligible");
    card(out, count(Status::Review), "人工审核", "in review");
    card(out, count(Status::Ineligible), "不符合条件", "ineligible");
    card(out, by_choice, "按志愿录取", "placed at a choice");
    card(out, first_choice, "第一志愿录取", "at first choice");
    card(out, by_overflow, "统筹安排", "placed by overflow");
    card(out, unplaced, "符合条件未安置", "eligible, no seat");
    card(out, capacity, "核定学位", "seats");
    card(out, empty, "空余学位", "empty seats");
    out.push_str("</div>\n</section>\n");
}

fn legend(out: &mut String, bands: &[Band]) {
    out.push_str("<ul class=\"legend\">\n");
    for band in bands {
        let _ = writeln!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{} <span lang=\"en\">{}</span></li>",
            band.fill,
            escape(&band.zh),
            escape(&band.en)
        );
    }
    out.push_str("</ul>\n");
}

/// The chart's width in SVG units.
const CHART_W: f64 = 640.0;

fn fill(out: &mut String, input: &ReportInput) {
    let bands = bands(input);
    out.push_str(
        "<section id=\"fill\">\n<h2>各校录取构成 <span class=\"en\">Seats by priority at each school</span></h2>\n",
    );
    out.push_str(
        "<p class=\"meta\">每条为一所学校的核定学位，按录取类别分段。Each bar is one school's seats, split by the priority that won them.</p>\n",
    );
    legend(out, &bands);
    for school in input.schools() {
        let id = school.school_id.as_str();
        out.push_str("<div class=\"school\">\n<div>");
        let _ = write!(out, "<strong>{}</strong>", escape(id));
        if let Some(name) = input.school_name(&school.school_id) {
            let _ = write!(out, " <span class=\"name\">{}</span>", escape(name));
        }
        let _ = writeln!(out, "<span class=\"kind\">{}</span></div>", kind_label(school.kind));
        school_chart(out, school, &bands);
        let _ = writeln!(
            out,
            "<div class=\"fill\">{} / {} · {}</div>\n</div>",
            school.assigned,
            school.capacity,
            percent(u64::from(school.assigned), u64::from(school.capacity))
        );
    }
    out.push_str("</section>\n");
}

/// One school's stacked bar: seats by band against capacity (one chart
/// element per school, found by `data-school`).
fn school_chart(out: &mut String, school: &SchoolRow, bands: &[Band]) {
    let id = escape(school.school_id.as_str());
    let counts = school_counts(school);
    let full = school.capacity.max(school.assigned);
    let (height, bar_y, bar_h) = (32.0, 3.0, 26.0);
    let summary = format!("{}: {} / {}", school.school_id, school.assigned, school.capacity);
    let _ = writeln!(
        out,
        "<svg class=\"chart\" data-school=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {CHART_W} {height}\" width=\"{CHART_W}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(&summary)
    );
    if full == 0 {
        let _ = writeln!(
            out,
            "<rect x=\"0.5\" y=\"{bar_y}\" width=\"{}\" height=\"{bar_h}\" fill=\"#ffffff\" stroke=\"#9aa3b0\" stroke-dasharray=\"4 3\"/>",
            CHART_W - 1.0
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#4a5361\">本年度无核定学位 · no seats this year</text>",
            CHART_W / 2.0,
            bar_y + 17.5
        );
        out.push_str("</svg>\n");
        return;
    }
    let scale = CHART_W / f64::from(full);
    let mut before = 0u32;
    for (band, &count) in bands.iter().zip(&counts) {
        if count == 0 {
            continue;
        }
        // Positions from the running total, so rounding never drifts.
        let x = f64::from(before) * scale;
        let w = f64::from(count) * scale;
        before += count;
        let _ = write!(
            out,
            "<rect x=\"{x:.2}\" y=\"{bar_y}\" width=\"{w:.2}\" height=\"{bar_h}\" fill=\"{}\"",
            band.fill
        );
        if band.fill == EMPTY_COLOUR.0 {
            out.push_str(" stroke=\"#c5ccd6\"");
        }
        let _ = writeln!(out, "><title>{}: {count}</title></rect>", escape(&band.label()));
        // A count fits inside a band some 7 units per digit wide.
        let digits = count.to_string().len() as f64;
        if w >= 8.0 + 7.0 * digits {
            let _ = writeln!(
                out,
                "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"{}\">{count}</text>",
                x + w / 2.0,
                bar_y + 17.5,
                band.ink
            );
        }
    }
    if school.assigned > school.capacity {
        let x = f64::from(school.capacity) * scale;
        let _ = writeln!(
            out,
            "<line x1=\"{x:.2}\" y1=\"0\" x2=\"{x:.2}\" y2=\"{height}\" stroke=\"#b42318\" stroke-width=\"2\"><title>核定学位 capacity {}</title></line>",
            school.capacity
        );
    }
    out.push_str("</svg>\n");
}

fn tier_mix(out: &mut String, input: &ReportInput) {
    let bands = bands(input);
    // Seats city-wide by band, without the empty seats.
    let mut totals = vec![0u64; bands.len() - 1];
    for school in input.schools() {
        for (total, count) in totals.iter_mut().zip(school_counts(school)) {
            *total += u64::from(count);
        }
    }
    let assigned: u64 = totals.iter().sum();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let (row_h, label_w, bar_max) = (28.0, 290.0, 330.0);
    let height = row_h * totals.len() as f64 + 4.0;
    out.push_str("<section id=\"tiers\">\n<h2>录取类别构成 <span class=\"en\">Tier mix across the city</span></h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"meta\">全市已录取 {assigned} 个学位按录取类别统计。The {assigned} seats filled city-wide, by the priority that won them.</p>"
    );
    let _ = writeln!(
        out,
        "<svg class=\"tier-mix\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 {height}\" width=\"720\" height=\"{height}\" role=\"img\" aria-label=\"tier mix\">"
    );
    for (i, (band, &total)) in bands.iter().zip(&totals).enumerate() {
        let y = row_h * i as f64 + 2.0;
        let w = bar_max * total as f64 / max as f64;
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2430\">{}</text>",
            y + 17.0,
            escape(&band.label())
        );
        let _ = writeln!(
            out,
            "<rect x=\"{label_w}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"20\" fill=\"{}\"><title>{}: {total}</title></rect>",
            y + 2.0,
            band.fill,
            escape(&band.label())
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.2}\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2430\">{total} ({})</text>",
            label_w + w + 6.0,
            y + 17.0,
            percent(total, assigned)
        );
    }
    out.push_str("</svg>\n</section>\n");
}

fn school_cell(input: &ReportInput, school: &SchoolRow) -> String {
    match input.school_name(&school.school_id) {
        Some(name) => format!("{} {}", escape(school.school_id.as_str()), escape(name)),
        None => escape(school.school_id.as_str()),
    }
}

fn overflow(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"overflow\">\n<h2>统筹安排 <span class=\"en\">Overflow seats</span></h2>\n");
    out.push_str(concat!(
        "<p class=\"meta\">志愿未录取的符合条件儿童，由教育部门安排至最近的有空余学位的公办学校。",
        "Eligible children left without a seat by their choices are placed at the nearest public school with a free seat.</p>\n",
    ));
    let schools: Vec<&SchoolRow> = input.schools().iter().filter(|s| s.overflow > 0).collect();
    if schools.is_empty() {
        out.push_str("<p>本批次无统筹安排。No seat in this round was given by overflow.</p>\n");
    } else {
        out.push_str(concat!(
            "<table>\n<thead><tr><th>学校 School</th><th>类型 Kind</th><th class=\"n\">核定学位 Capacity</th>",
            "<th class=\"n\">已录取 Assigned</th><th class=\"n\">统筹安排 Overflow</th><th class=\"n\">空余 Empty</th></tr></thead>\n<tbody>\n",
        ));
        for s in &schools {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                school_cell(input, s),
                kind_label(s.kind),
                s.capacity,
                s.assigned,
                s.overflow,
                s.empty_seats()
            );
        }
        let total: u64 = schools.iter().map(|s| u64::from(s.overflow)).sum();
        let _ = writeln!(
            out,
            "</tbody>\n<tfoot><tr><th colspan=\"4\">合计 Total</th><th class=\"n\">{total}</th><th></th></tr></tfoot>\n</table>"
        );
    }
    let unplaced: Vec<&DecisionRow> = input
        .assignments()
        .iter()
        .zip(input.decisions())
        .filter(|(a, d)| d.status == Status::Eligible && a.seat.is_none())
        .map(|(_, d)| d)
        .collect();
    out.push_str("<h3>符合条件但未安置 <span class=\"en\">Eligible children without a seat</span></h3>\n");
    if unplaced.is_empty() {
        out.push_str("<p>无。None: every eligible child has a seat.</p>\n");
    } else {
        out.push_str("<table>\n<thead><tr><th>申请编号 Application</th><th>子女身份证号 Child</th><th>志愿 Preferences</th></tr></thead>\n<tbody>\n");
        for d in unplaced {
            let prefs: Vec<String> = d.preferences.iter().map(|p| escape(p.as_str())).collect();
            let _ = writeln!(
                out,
                "<tr><td><code class=\"id\">{}</code></td><td><code class=\"id\">{}</code></td><td>{}</td></tr>",
                d.application_id,
                escape(d.child_id.as_str()),
                prefs.join(", ")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn reasons_table(out: &mut String, decisions: &[&DecisionRow]) {
    out.push_str(concat!(
        "<table>\n<thead><tr><th class=\"n\">#</th><th>申请编号 Application</th><th>子女身份证号 Child</th>",
        "<th>原因 Reasons</th></tr></thead>\n<tbody>\n",
    ));
    for (i, d) in decisions.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td><code class=\"id\">{}</code></td><td>",
            i + 1,
            d.application_id,
            escape(d.child_id.as_str())
        );
        for r in &d.reasons {
            let _ = write!(
                out,
                "<div class=\"reason\"><code>{}</code><p lang=\"zh-CN\">{}</p><p lang=\"en\">{}</p>",
                escape(&r.code),
                escape(&r.zh),
                escape(&r.en)
            );
            if !r.evidence.is_empty() {
                let cited: Vec<String> = r
                    .evidence
                    .iter()
                    .map(|e| format!("<code>{}</code>", escape(e)))
                    .collect();
                let _ = write!(out, "<p class=\"evidence\">依据 Evidence: {}</p>", cited.join(", "));
            }
            out.push_str("</div>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn review(out: &mut String, input: &ReportInput) {
    let in_review: Vec<&DecisionRow> = input
        .decisions()
        .iter()
        .filter(|d| d.status == Status::Review)
        .collect();
    let _ = writeln!(
        out,
        "<section id=\"review\">\n<h2>人工审核队列 <span class=\"en\">Review queue</span> ({})</h2>",
        in_review.len()
    );
    out.push_str(concat!(
        "<p class=\"meta\">以下申请须经审核人员决定，决定前不参与派位。",
        "An officer decides each of these; none takes part in the allocation until then.</p>\n",
    ));
    if in_review.is_empty() {
        out.push_str("<p>无待审核申请。No application is in review.</p>\n");
    } else {
        reasons_table(out, &in_review);
    }
    let ineligible: Vec<&DecisionRow> = input
        .decisions()
        .iter()
        .filter(|d| d.status == Status::Ineligible)
        .collect();
    if !ineligible.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>不符合条件 <span lang=\"en\">Ineligible</span> ({})</summary>",
            ineligible.len()
        );
        reasons_table(out, &ineligible);
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn lottery(out: &mut String, input: &ReportInput) {
    let facts = input.facts();
    let seed = &facts.round_seed;
    out.push_str("<section id=\"lottery\">\n<h2>随机派位种子与验证 <span class=\"en\">The lottery seed, and how anyone checks it</span></h2>\n");
    out.push_str("<dl class=\"facts\">\n");
    let _ = writeln!(
        out,
        "<dt>批次 Round</dt><dd><code>{}</code></dd>",
        escape(&facts.round_id)
    );
    let _ = writeln!(
        out,
        "<dt>随机种子 Round seed</dt><dd><code>{}</code></dd>",
        escape(seed)
    );
    let _ = writeln!(
        out,
        "<dt>种子承诺 Seed commitment<br>(SHA-256, 开放申请时公布 published at open)</dt><dd><code>{}</code></dd>",
        escape(&facts.seed_commitment)
    );
    let check = check_commitment(seed, &facts.seed_commitment);
    let (committed, verdict) = match &check {
        CommitmentCheck::WholeSeed => (
            seed.clone(),
            "<span class=\"ok\">✓ 种子与承诺一致 The seed matches the commitment</span> (SHA-256 of the whole seed: a demo or audit round)".to_owned(),
        ),
        CommitmentCheck::SealedAndPublic { sealed, public } => (
            sealed.clone(),
            format!(
                "<span class=\"ok\">✓ 种子与承诺一致 The seed matches the commitment</span>: 密封部分 sealed part <code>{}</code>, 公证摇号 public draw <code>{}</code>",
                escape(sealed),
                escape(public)
            ),
        ),
        CommitmentCheck::Mismatch => (
            seed.clone(),
            "<span class=\"bad\">✗ 种子与承诺不一致 The seed does NOT match the commitment</span>".to_owned(),
        ),
    };
    let _ = writeln!(out, "<dt>核验 Check</dt><dd>{verdict}</dd>");
    // Every lottery number of the round, recomputed from the seed.
    let numbered: Vec<&DecisionRow> = input.decisions().iter().filter(|d| d.lottery.is_some()).collect();
    let wrong: Vec<&DecisionRow> = numbered
        .iter()
        .copied()
        .filter(|d| {
            let digest = lottery_digest(seed, d.child_id.as_str());
            d.lottery.map(|n| n.to_string()).as_deref() != Some(&digest[..16])
        })
        .collect();
    let recomputed = if wrong.is_empty() {
        format!(
            "<span class=\"ok\">✓ 全部 {n} 个派位号均可由种子重算 All {n} lottery numbers in decisions.jsonl recompute from the seed</span>",
            n = numbered.len()
        )
    } else {
        let ids: Vec<String> = wrong
            .iter()
            .take(10)
            .map(|d| format!("<code>{}</code>", d.application_id))
            .collect();
        format!(
            "<span class=\"bad\">✗ {} / {} 个派位号与种子不符 lottery numbers do not recompute from the seed</span>: {}",
            wrong.len(),
            numbered.len(),
            ids.join(", ")
        )
    };
    let _ = writeln!(out, "<dt>派位号 Lottery numbers</dt><dd>{recomputed}</dd>");
    // Every eligible child must carry its number once the round is allocated.
    let eligible: Vec<&DecisionRow> = input
        .decisions()
        .iter()
        .filter(|d| d.status == Status::Eligible)
        .collect();
    let missing = eligible.iter().filter(|d| d.lottery.is_none()).count();
    if missing > 0 {
        let _ = writeln!(
            out,
            "<dt>缺少派位号 Missing numbers</dt><dd><span class=\"bad\">✗ {missing} 个符合条件的申请没有派位号 eligible decisions carry no lottery number</span></dd>"
        );
    }
    out.push_str("</dl>\n");

    out.push_str(concat!(
        "<p lang=\"zh-CN\">派位号为 SHA-256(\"种子:子女身份证号\") 的前 16 位十六进制数（UTF-8 编码，身份证号末位 X 大写），",
        "按无符号 64 位整数比较，号小者优先。同一学校同一类别的申请人先按排序键、再按派位号排序。",
        "任何人都可用下列命令复算：</p>\n",
        "<p lang=\"en\">A child's lottery number is the first 16 hex digits of SHA-256(\"{round_seed}:{child_id}\") over the UTF-8 bytes ",
        "(the ID in canonical form, a final X upper-case), compared as an unsigned 64-bit number, lower first. ",
        "At a school, applicants are ordered by their priority key, then by lottery number. Anyone can recompute it:</p>\n",
    ));
    let _ = writeln!(
        out,
        "<pre><code>{}</code></pre>",
        escape("printf '%s' 'ROUND_SEED:CHILD_ID' | sha256sum | cut -c1-16")
    );
    let _ = writeln!(
        out,
        "<p>核验种子承诺 To check the commitment:</p>\n<pre><code>{}</code></pre>",
        escape(&format!("printf '%s' {} | sha256sum", shell_quote(&committed)))
    );
    // The first eligible application, in the files' order.
    match eligible.first() {
        Some(d) => {
            let child = d.child_id.as_str();
            let digest = lottery_digest(seed, child);
            let first = &digest[..16];
            let value = u64::from_str_radix(first, 16).unwrap_or(0);
            let stated = d.lottery.map(|n| n.to_string());
            let _ = writeln!(
                out,
                "<h3>示例 <span class=\"en\">Worked example</span></h3>\n<p>申请 Application <code>{}</code>, 子女 child <code>{}</code>:</p>",
                d.application_id,
                escape(child)
            );
            let command = format!(
                "$ printf '%s' {} | sha256sum | cut -c1-16",
                shell_quote(&format!("{seed}:{child}"))
            );
            let _ = writeln!(out, "<pre><code>{}\n{first}</code></pre>", escape(&command));
            let stated = match stated.as_deref() {
                Some(n) if n == first => format!("<code>{n}</code> <span class=\"ok\">✓ 一致 matches</span>"),
                Some(n) => format!("<code>{n}</code> <span class=\"bad\">✗ 不一致 does not match</span>"),
                None => "<span class=\"bad\">✗ 无派位号 no lottery number</span>".to_owned(),
            };
            let _ = writeln!(
                out,
                "<p>完整摘要 Full digest: <code>{digest}</code><br>派位号 Lottery number: <code>{first}</code> = {value}（无符号 64 位整数 unsigned 64-bit）<br>decisions.jsonl: {stated}</p>"
            );
        }
        None => out.push_str(
            "<p>本批次无符合条件的申请，故无派位号。No application in this round is eligible, so none has a lottery number.</p>\n",
        ),
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("房户一致"), "房户一致");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Escaped text holds no markup character and decodes back to itself.
        #[test]
        fn escaping_is_safe_and_lossless(text in "[a-z<>&\"'房 ;#]{0,40}") {
            let escaped = escape(&text);
            proptest::prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
            let decoded = escaped
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            proptest::prop_assert_eq!(decoded, text);
        }
    }

    #[test]
    fn quotes_shell_words() {
        assert_eq!(shell_quote("seed:370811202011150015"), "'seed:370811202011150015'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
