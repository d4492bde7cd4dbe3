//! Paged tables: the round's applications (filtered by state on the
//! server) and the audit log (filtered by action and officer).

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::round_path;
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n;
use crate::layout::{Head, page};
use crate::session::{Ctx, percent_encode};

/// Rows per page.
const PAGE: u64 = 100;
/// How many stored rows one filtered page may scan, so a filter that
/// matches little cannot make one request read a whole large round.
const SCAN: u64 = 5_000;

#[derive(Debug, Deserialize)]
pub struct AppFilter {
    after: Option<String>,
    state: Option<String>,
}

/// The round's applications, a page at a time.
pub async fn applications(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Query(filter): Query<AppFilter>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let wanted = filter.state.filter(|s| !s.is_empty());
    let mut rows = Vec::new();
    let mut after = filter.after.filter(|a| !a.is_empty());
    let mut scanned = 0;
    let mut more = false;
    'scan: loop {
        let batch = orchestrator.application_page(&round, after.as_deref(), PAGE).await?;
        let full = batch.len() as u64 == PAGE;
        scanned += batch.len() as u64;
        for view in batch {
            after = Some(view.application_id.clone());
            if wanted.as_deref().is_none_or(|w| w == view.state.as_str()) {
                rows.push(view);
                if rows.len() as u64 == PAGE {
                    more = true;
                    break 'scan;
                }
            }
        }
        if !full {
            break;
        }
        if scanned >= SCAN {
            more = true;
            break;
        }
    }
    let states = [
        "submitted",
        "pending",
        "decided",
        "accepted",
        "rejected",
        "excluded",
        "withdrawn",
        "placed",
        "unplaced",
    ];
    let next = after.as_ref().filter(|_| more).map(|a| {
        format!(
            "{}?after={}&state={}",
            round_path(&round, "/applications"),
            percent_encode(a),
            percent_encode(wanted.as_deref().unwrap_or(""))
        )
    });
    let body = html! {
        h1 { (lang.pick("申请", "Applications")) }
        form.filters method="get" {
            label for="state" { (lang.pick("按状态筛选", "Filter by state")) }
            select #state name="state" {
                option value="" { (lang.pick("全部", "All")) }
                @for s in states { option value=(s) selected[wanted.as_deref() == Some(s)] { (i18n::application_state(lang, s)) } }
            }
            button type="submit" { (lang.pick("筛选", "Filter")) }
        }
        table.data {
            thead { tr {
                th { (lang.pick("申请编号", "Application")) } th { (lang.pick("子女身份证号", "Child ID")) }
                th { (lang.pick("状态", "State")) } th { (lang.pick("审核结果", "Decision")) } th { (lang.pick("更新时间", "Updated")) }
            } }
            tbody {
                @for v in &rows {
                    tr {
                        td.mono { a href=(round_path(&round, &format!("/reviews/{}", v.application_id))) { (v.application_id) } }
                        td.mono { (v.child_id) }
                        td { (i18n::application_state(lang, v.state.as_str())) }
                        td { (v.status.map_or("—", |s| i18n::status(lang, s.as_str()))) }
                        td { (v.updated_at.format("%Y-%m-%d %H:%M")) }
                    }
                }
            }
        }
        @if let Some(next) = next { p.pager { a href=(next) rel="next" { (lang.pick("下一页 →", "Next page →")) } } }
    };
    Ok(page(
        &ctx,
        lang.pick("申请", "Applications"),
        Some(&round),
        Head::default(),
        body,
    ))
}

#[derive(Debug, Deserialize)]
pub struct AuditFilter {
    after: Option<i64>,
    action: Option<String>,
    actor: Option<String>,
}

/// The audit log, oldest first, a page at a time.
pub async fn audit(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Query(filter): Query<AuditFilter>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let action = filter.action.filter(|a| !a.is_empty());
    let actor = filter.actor.filter(|a| !a.is_empty());
    let mut rows = Vec::new();
    let mut after = filter.after;
    let mut scanned = 0;
    let mut more = false;
    'scan: loop {
        let batch = orchestrator.audit_log(&round, after, PAGE).await?;
        let full = batch.len() as u64 == PAGE;
        scanned += batch.len() as u64;
        for entry in batch {
            after = Some(entry.id);
            if action.as_deref().is_none_or(|a| a == entry.action) && actor.as_deref().is_none_or(|a| a == entry.actor)
            {
                rows.push(entry);
                if rows.len() as u64 == PAGE {
                    more = true;
                    break 'scan;
                }
            }
        }
        if !full {
            break;
        }
        if scanned >= SCAN {
            more = true;
            break;
        }
    }
    let next = after.filter(|_| more).map(|a| {
        format!(
            "{}?after={a}&action={}&actor={}",
            round_path(&round, "/audit"),
            percent_encode(action.as_deref().unwrap_or("")),
            percent_encode(actor.as_deref().unwrap_or(""))
        )
    });
    let body = html! {
        h1 { (lang.pick("操作日志", "Audit log")) }
        form.filters method="get" {
            label for="action" { (lang.pick("操作", "Action")) }
            input #action type="text" name="action" value=(action.as_deref().unwrap_or(""));
            label for="actor" { (lang.pick("操作人", "Officer")) }
            input #actor type="text" name="actor" value=(actor.as_deref().unwrap_or(""));
            button type="submit" { (lang.pick("筛选", "Filter")) }
        }
        table.data #audit {
            thead { tr {
                th { "#" } th { (lang.pick("时间", "When")) } th { (lang.pick("操作人", "Officer")) }
                th { (lang.pick("操作", "Action")) } th { (lang.pick("对象", "Subject")) } th { (lang.pick("理由", "Reason")) }
            } }
            tbody {
                @for e in &rows {
                    tr {
                        td.num { (e.id) }
                        td { (e.at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (e.actor) }
                        td { code { (e.action) } }
                        td.mono { (e.subject.as_deref().unwrap_or("")) }
                        td { (e.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if let Some(next) = next { p.pager { a href=(next) rel="next" { (lang.pick("下一页 →", "Next page →")) } } }
    };
    Ok(page(
        &ctx,
        lang.pick("操作日志", "Audit log"),
        Some(&round),
        Head::default(),
        body,
    ))
}
