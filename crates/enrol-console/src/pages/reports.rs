//! The round's outputs for officers: the per-school report grouped by
//! county, the full `report.html`, the printable public notice (公示), file
//! downloads, and corrections after publication.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use enrol_api::Role;
use enrol_orchestrator::{RoundState, route_zh};
use maud::{Markup, html};

use super::{Fields, round_path, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::layout::{Head, csrf, page};
use crate::session::Ctx;

/// Per school, grouped by county, with a bar of its seats.
pub async fn schools(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let reports = orchestrator.school_reports(&round).await?;
    let catalogue = orchestrator.schools(&round).await?.unwrap_or_default();
    let cutoffs: BTreeMap<String, enrol_allocation::Cutoff> = orchestrator
        .cutoffs(&round)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.school.clone(), c))
        .collect();
    let mut by_county: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for report in &reports {
        let county = catalogue
            .get(&enrol_domain::SchoolId::new(report.school_id.as_str()))
            .map(|s| s.county.to_string())
            .unwrap_or_default();
        by_county.entry(county).or_default().push(report);
    }
    let body = html! {
        h1 { (lang.pick("学校报表", "Schools")) }
        p { a href=(round_path(&round, "/report.html")) { (lang.pick("完整的招生结果报告（含图表）", "The full round report (with charts)")) } }
        @for (county, schools) in &by_county {
            section.county {
                h2 { (lang.pick("区县", "County")) " " (county) " " span.count { (schools.len()) } }
                table.data {
                    thead { tr {
                        th { (lang.pick("学校", "School")) }
                        th { (lang.pick("性质", "Kind")) }
                        th.num { (lang.pick("核定学位", "Seats")) }
                        th.num { (lang.pick("填报", "Listed")) }
                        th.num { (lang.pick("第一志愿", "First choice")) }
                        th.num { (lang.pick("已录取", "Assigned")) }
                        th.num { (lang.pick("统筹", "Overflow")) }
                        th { (lang.pick("录取线（排序键 · 派位号）", "Cutoff (order key · lottery)")) }
                        th { (lang.pick("录取情况", "Fill")) }
                    } }
                    tbody {
                        @for s in schools {
                            @let assigned = s.assigned.unwrap_or(0);
                            tr data-school=(s.school_id) {
                                td { span.mono { (s.school_id) } " " (s.name) }
                                td { (if s.kind == "private" { lang.pick("民办", "private") } else { lang.pick("公办", "public") }) }
                                td.num { (s.capacity) }
                                td.num { (s.listed) }
                                td.num { (s.first_choice) }
                                td.num { (s.assigned.map_or("—".to_owned(), |a| a.to_string())) }
                                td.num { (s.overflow.map_or("—".to_owned(), |a| a.to_string())) }
                                td.cutoff { @if let Some(c) = cutoffs.get(&s.school_id) { (super::answers::cutoff(lang, c)) } @else { "—" } }
                                // A meter, not an inline style: the console's CSP forbids style attributes.
                                td { meter.bar min="0" max=(s.capacity.max(1)) value=(assigned.min(s.capacity)) title={ (assigned) "/" (s.capacity) } { (assigned) "/" (s.capacity) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &ctx,
        lang.pick("学校报表", "Schools"),
        Some(&round),
        Head::default(),
        body,
    ))
}

/// The officers' `report.html`, as `enrol demo` writes it (its own strict
/// CSP: inline styles, nothing fetched).
pub async fn report_html(
    State(console): State<Console>,
    _ctx: Ctx,
    Path(round): Path<String>,
) -> Result<Response, ConsoleError> {
    let input = enrol_api::report_input(console.engine.orchestrator(), &round).await?;
    let mut response = enrol_report::render_html(&input).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

/// A round file (the API's exports), for the signed-in officer.
pub async fn download(
    State(console): State<Console>,
    _ctx: Ctx,
    Path((round, file)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let Some((_, content_type)) = enrol_api::EXPORTS.iter().find(|(name, _)| *name == file) else {
        return Err(ConsoleError::NotFound(format!("file {file}")));
    };
    let bytes = enrol_api::export_bytes(console.engine.orchestrator(), &round, &file).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{round}-{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The printable public notice (公示) of a published round.
pub async fn notice(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let notice = console.engine.orchestrator().notice(&round).await?;
    let body = html! {
        div.print-hide {
            p { a href=(round_path(&round, "/files/notice.csv")) { (lang.pick("下载 notice.csv", "Download notice.csv")) } }
        }
        article.notice {
            h1 { (round) " " (lang.pick("义务教育招生录取结果公示", "Admission results (public notice)")) }
            p.secondary { (lang.pick("姓名与身份证号已按规定隐去部分信息。", "Names and ID numbers are partly masked.")) }
            table.data #notice {
                thead { tr {
                    th { "学校代码" } th { "学校名称" } th { "姓名" } th { "身份证号" } th { "录取方式" }
                } }
                tbody {
                    @for line in &notice.lines {
                        tr {
                            td.mono { (line.school_id) }
                            td { (line.school_name) }
                            td { (line.name.as_ref().map_or("—", |n| n.as_str())) }
                            td.mono { (line.national_id) }
                            td { (route_zh(&line.route)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &ctx,
        lang.pick("公示", "Public notice"),
        Some(&round),
        Head::default(),
        body,
    ))
}

/// Corrections after publication: the form and the ones made so far.
pub async fn corrections(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let info = orchestrator.round(&round).await?;
    let mut made = Vec::new();
    let mut after = None;
    loop {
        let page = orchestrator
            .audit_log_of_action(&round, "seat_corrected", after, 1000)
            .await?;
        let full = page.len() == 1000;
        after = page.last().map(|e| e.id);
        made.extend(page);
        if !full {
            break;
        }
    }
    let schools = orchestrator.schools(&round).await?.unwrap_or_default();
    let body = html! {
        h1 { (lang.pick("录取更正", "Corrections")) }
        @if info.state != RoundState::Published {
            p.secondary { (lang.pick("结果公布后方可更正。", "Seats can be corrected once the round is published.")) }
        } @else if ctx.may(Role::RoundManager) {
            section.panel {
                form #correct method="post" action=(round_path(&round, "/corrections")) {
                    (csrf(&ctx))
                    label for="application_id" { (lang.pick("申请编号", "Application id")) }
                    input #application_id type="text" name="application_id" required spellcheck="false";
                    label for="school_id" { (lang.pick("更正后的学校（空：取消学位）", "New school (empty: take the seat away)")) }
                    select #school_id name="school_id" {
                        option value="" { (lang.pick("— 取消学位 —", "— no seat —")) }
                        @for s in schools.values() { option value=(s.id) { (s.id) " " (s.name) } }
                    }
                    label for="correct-reason" { (lang.pick("更正理由", "Reason")) }
                    textarea #correct-reason name="reason" rows="2" required {}
                    button type="submit" { (lang.pick("更正", "Correct")) }
                }
            }
        }
        table.data #corrections {
            thead { tr {
                th { (lang.pick("时间", "When")) } th { (lang.pick("操作人", "Officer")) }
                th { (lang.pick("申请编号", "Application")) } th { (lang.pick("理由", "Reason")) } th { (lang.pick("详情", "Details")) }
            } }
            tbody {
                @for e in &made {
                    tr {
                        td { (e.at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (e.actor) }
                        td.mono { (e.subject.as_deref().unwrap_or("")) }
                        td { (e.reason.as_deref().unwrap_or("")) }
                        td.mono.small { (e.details.to_string()) }
                    }
                }
            }
        }
    };
    Ok(page(
        &ctx,
        lang.pick("录取更正", "Corrections"),
        Some(&round),
        Head::default(),
        body,
    ))
}

/// Corrects one seat (round manager).
pub async fn correct(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    let id = fields
        .get("application_id")
        .ok_or_else(|| ConsoleError::invalid("application_id", "the application id is required"))?
        .to_ascii_lowercase();
    let reason = fields
        .get("reason")
        .ok_or_else(|| ConsoleError::invalid("reason", "a correction needs a reason"))?;
    let orchestrator = console.engine.orchestrator();
    let (_, view) = orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ConsoleError::NotFound(format!("application {id} in round {round}")));
    }
    orchestrator
        .correct_seat(&id, fields.get("school_id"), reason, &ctx.officer.name)
        .await?;
    Ok(see_other(&round_path(&round, "/corrections")))
}
