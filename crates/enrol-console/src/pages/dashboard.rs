//! A round's dashboard: its state, counts by status, eligible applications
//! by their priority at the first choice (and, once allocated, seats by
//! priority), verification progress that refreshes itself while a
//! run goes (a meta refresh: no script), and the actions the officer's role
//! allows in this state.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use enrol_api::{JobState, Role};
use enrol_orchestrator::RoundState;
use maud::{Markup, html};

use super::{Fields, round_path, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n::{self, Lang};
use crate::layout::{Head, csrf, page as shell};
use crate::session::Ctx;

fn stat(label_zh: &str, label_en: &str, value: usize, lang: Lang, class: &str) -> Markup {
    html! {
        div class={ "stat " (class) } {
            span.value data-count=(class) { (value) }
            span.label { (lang.pick(label_zh, label_en)) }
        }
    }
}

/// Counts by priority in the policy's order: its tiers first to last, then
/// `lottery`, `none` and `overflow`, then anything else by name.
fn tier_order<'a, N: Copy>(tiers: &[&str], counts: &'a BTreeMap<String, N>) -> Vec<(&'a str, N)> {
    let rank = |name: &str| -> usize {
        tiers.iter().position(|t| *t == name).unwrap_or(match name {
            "lottery" => tiers.len(),
            enrol_orchestrator::NO_PRIORITY => tiers.len() + 1,
            "overflow" => tiers.len() + 2,
            _ => tiers.len() + 3,
        })
    };
    let mut ordered: Vec<(&str, N)> = counts.iter().map(|(name, n)| (name.as_str(), *n)).collect();
    ordered.sort_by_key(|(name, _)| (rank(name), *name));
    ordered
}

/// The dashboard.
pub async fn page_handler(console: &Console, ctx: &Ctx, round: &str) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let engine = &console.engine;
    let info = engine.orchestrator().round(round).await?;
    let verification = engine.verification(round).await?;
    let counts = verification.counts;
    let progress = verification.progress;
    let claims = verification.claims;
    let run = verification.run.clone();
    // Some server (this one or another) is verifying: the page follows it.
    let running = verification.running;
    let running_here = run.as_ref().is_some_and(|r| r.state == JobState::Running);
    let run_state = match (&run, running) {
        (_, true) => "running",
        (Some(run), false) => match run.state {
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
        },
        (None, false) => "idle",
    };
    let state = info.state;
    let waiting = if counts.pending > 0 {
        engine.orchestrator().pending_registries(round).await?
    } else {
        BTreeMap::new()
    };
    let seats_by_priority: Option<BTreeMap<String, u32>> = if state >= RoundState::Allocated {
        let mut totals = BTreeMap::new();
        for school in engine.orchestrator().school_reports(round).await? {
            for (priority, n) in school.by_priority.unwrap_or_default() {
                *totals.entry(priority).or_insert(0) += n;
            }
            *totals.entry("overflow".to_owned()).or_insert(0) += school.overflow.unwrap_or(0);
        }
        Some(totals)
    } else {
        None
    };
    // Eligible applications by their tier at the first choice: known from
    // the first decision on, so the bureau sees the demand on its tiers
    // before the lottery (one grouped statement, cheap on every refresh).
    let eligible_by_tier = if counts.eligible > 0 {
        engine.orchestrator().eligible_by_first_priority(round).await?
    } else {
        BTreeMap::new()
    };
    let tiers = engine.orchestrator().policy(round).await?;
    let tier_names: Vec<&str> = tiers.tiers().iter().map(|t| t.name.as_str()).collect();
    let tier_label = |name: &str| -> String {
        match name {
            "lottery" => lang.pick("民办派位", "private lottery").to_owned(),
            "overflow" => lang.pick("统筹安排", "overflow").to_owned(),
            enrol_orchestrator::NO_PRIORITY => lang
                .pick("无类别（统筹安排）", "no priority at any choice (overflow)")
                .to_owned(),
            other => tiers
                .tiers()
                .iter()
                .find(|t| t.name == other)
                .map(|t| format!("{} {}", t.name, lang.pick(&t.label_zh, &t.label_en)))
                .unwrap_or_else(|| other.to_owned()),
        }
    };

    let body = html! {
        h1 { (info.id) " " span class={ "state state-" (state.as_str()) } #round-state data-state=(state.as_str()) { (i18n::round_state(lang, state.as_str())) } }
        ol.lifecycle {
            @for s in ["open", "closed", "verified", "allocated", "published"] {
                li class=[(s == state.as_str()).then_some("current")] { (i18n::round_state(lang, s)) }
            }
        }
        section.stats {
            (stat("符合条件", "eligible", counts.eligible, lang, "eligible"))
            (stat("人工审核", "in review", counts.review, lang, "review"))
            (stat("不符合条件", "ineligible", counts.ineligible, lang, "ineligible"))
            (stat("待核验", "pending", counts.pending, lang, "pending"))
        }
        @if running || run.is_some() {
            section.panel #verification data-run=(run_state) {
                h2 { (lang.pick("核验进度", "Verification")) }
                // The round's progress as stored: every server shows the same.
                progress #verify-progress max=(progress.total.max(1)) value=(progress.decided) {}
                p {
                    (lang.pick("已决定", "Decided")) " " span #verify-done { (progress.decided) } " / " (progress.total)
                    @if progress.waiting > 0 { " · " (lang.pick("待登记机关响应", "waiting for registries")) " " (progress.waiting) }
                }
                @if claims.applications > 0 {
                    p.secondary #verify-claims data-workers=(claims.workers) {
                        (lang.pick("正在核验", "Being gathered")) " " (claims.applications)
                        " · " (lang.pick("核验进程", "workers")) " " (claims.workers)
                    }
                }
                p.secondary {
                    @if let Some(run) = &run {
                        (lang.pick("本服务器发起人", "Started on this server by")) " " (run.started_by) " · " (run.started_at.format("%H:%M:%S UTC"))
                        @if let Some(p) = run.progress.filter(|p| p.pass > 1) { " · " (lang.pick("重试轮次", "retry pass")) " " (p.pass) }
                        @match run.state {
                            JobState::Running => {}
                            JobState::Finished => {
                                " · " (lang.pick("已完成", "finished"))
                                @if run.verified == Some(false) && counts.review > 0 {
                                    " · " (lang.pick("尚有人工审核，处理后再次核验", "reviews are open: resolve them, then verify again"))
                                }
                            }
                            JobState::Failed => { " · " span.error { (lang.pick("失败", "failed")) ": " (run.error.as_deref().unwrap_or("")) } }
                        }
                    } @else {
                        (lang.pick("由其他服务器进行", "Run by another server"))
                    }
                    @if running { " · " (lang.pick("进行中，本页每 2 秒刷新", "running; this page refreshes every 2 s")) }
                }
            }
        }
        @if !waiting.is_empty() {
            section.panel #pending-registries {
                h2 { (lang.pick("待登记机关响应", "Waiting for registries")) }
                p.secondary { (lang.pick("以下登记机关未能应答，相关申请保持待核验；登记机关恢复后再次核验即可。", "These registries did not answer; their applications stay pending. Verify again once they are back.")) }
                table.data.compact {
                    tbody {
                        @for (registry, n) in &waiting {
                            tr data-registry=(registry) { th { (i18n::registry(lang, registry)) } td.num { (n) } }
                        }
                    }
                }
            }
        }
        @if !eligible_by_tier.is_empty() {
            section.panel #eligible-by-tier {
                h2 { (lang.pick("符合条件申请按第一志愿类别", "Eligible applications by priority at the first choice")) }
                table.data.compact {
                    tbody {
                        @for (priority, n) in tier_order(&tier_names, &eligible_by_tier) {
                            tr data-priority=(priority) { th { (tier_label(priority)) } td.num { (n) } }
                        }
                    }
                }
            }
        }
        @if let Some(totals) = &seats_by_priority {
            section.panel {
                h2 { (lang.pick("按类别录取人数", "Seats by priority")) }
                table.data.compact {
                    tbody {
                        @for (priority, n) in tier_order(&tier_names, totals) {
                            tr { th { (tier_label(priority)) } td.num { (n) } }
                        }
                    }
                }
            }
        }
        section.panel.actions {
            h2 { (lang.pick("操作", "Actions")) }
            @if state == RoundState::Open && ctx.may(Role::RoundManager) {
                form method="post" action=(round_path(round, "/close")) {
                    (csrf(ctx))
                    button type="submit" #close { (lang.pick("截止受理", "Close the round")) }
                }
            }
            @if state == RoundState::Closed && ctx.may(Role::RoundManager) && !running_here {
                form method="post" action=(round_path(round, "/verify")) {
                    (csrf(ctx))
                    label.check { input type="checkbox" name="leave_reviews_unplaced" value="1"; (lang.pick("保留未处理的人工审核（不参与派位）", "Leave open reviews unplaced")) }
                    button type="submit" #verify { (lang.pick("开始核验", "Verify")) }
                }
            }
            @if state == RoundState::Closed && counts.review > 0 {
                p { a href=(round_path(round, "/reviews")) { (lang.pick("处理人工审核", "Resolve the reviews")) " (" (counts.review) ")" } }
            }
            @if state == RoundState::Verified {
                p { a.button href=(round_path(round, "/allocation")) { (lang.pick("进入派位", "Go to the allocation")) } }
            }
            @if state == RoundState::Allocated && ctx.may(Role::RoundManager) {
                form method="post" action=(round_path(round, "/publish")) {
                    (csrf(ctx))
                    button type="submit" #publish { (lang.pick("公布结果", "Publish the results")) }
                }
            }
            @if state >= RoundState::Allocated {
                ul.links {
                    li { a href=(round_path(round, "/report.html")) { (lang.pick("招生结果报告", "Round report")) } }
                    li { a href=(round_path(round, "/files/assignments.xlsx")) { (lang.pick("录取结果表（Excel）", "Assignments (Excel)")) } }
                    li { a href=(round_path(round, "/files/assignments.csv")) { "assignments.csv" } }
                    @if state == RoundState::Published {
                        li { a href=(round_path(round, "/notice")) { (lang.pick("公示名单", "Public notice")) } }
                    }
                }
            }
        }
        section.panel.facts {
            h2 { (lang.pick("批次信息", "Round facts")) }
            dl {
                dt { (lang.pick("政策版本", "Policy version")) } dd.mono { (info.policy_version) }
                dt { (lang.pick("种子承诺", "Seed commitment")) } dd.mono { (info.seed_commitment) }
                @if let Some(seed) = &info.round_seed { dt { (lang.pick("随机种子", "Round seed")) } dd.mono { (seed) } }
            }
        }
    };
    let head = Head {
        refresh_seconds: running.then_some(2),
    };
    Ok(shell(ctx, &info.id, Some(round), head, body))
}

pub async fn page(State(console): State<Console>, ctx: Ctx, Path(round): Path<String>) -> Result<Markup, ConsoleError> {
    page_handler(&console, &ctx, &round).await
}

/// open → closed (round manager).
pub async fn close(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    Fields(fields).check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    console.engine.orchestrator().close(&round, &ctx.officer.name).await?;
    Ok(see_other(&round_path(&round, "")))
}

/// Starts verification in the background (round manager).
pub async fn verify(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    console
        .engine
        .start_verification(&round, &ctx.officer.name, fields.checked("leave_reviews_unplaced"))
        .await?;
    Ok(see_other(&round_path(&round, "")))
}

/// allocated → published (round manager).
pub async fn publish(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    Fields(fields).check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    console.engine.orchestrator().publish(&round, &ctx.officer.name).await?;
    Ok(see_other(&round_path(&round, "")))
}
