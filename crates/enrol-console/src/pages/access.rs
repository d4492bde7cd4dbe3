//! The registry access log (查询留痕): who caused the registries to be read
//! about a person in this round, when, under which consent. The lookup is
//! itself a read of personal data: it is a POST with the CSRF token (the ID
//! stays out of URLs, histories and request logs) and the orchestrator
//! records it in the audit log under the officer before answering.

use axum::Form;
use axum::extract::{Path, State};
use enrol_domain::NationalId;
use maud::{Markup, html};

use super::{Fields, round_path};
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n;
use crate::layout::{Head, csrf, page};
use crate::session::Ctx;

fn shell(ctx: &Ctx, round: &str, person: Option<&str>, results: Markup) -> Markup {
    let lang = ctx.lang;
    let body = html! {
        h1 { (lang.pick("查询留痕", "Registry access log")) }
        p.secondary { (lang.pick(
            "按身份证号查询本批次中因谁的操作、何时、凭哪份授权读取了此人的登记记录。每次查询本身记入操作日志。",
            "Who caused this person's records to be read in this round, when, and under which consent. Each lookup is itself recorded in the audit log."
        )) }
        form.filters #access method="post" action=(round_path(round, "/access")) {
            (csrf(ctx))
            label for="person" { (lang.pick("身份证号", "National ID")) }
            input #person type="text" name="person" required autocomplete="off" spellcheck="false"
                pattern="[0-9]{17}[0-9Xx]" value=(person.unwrap_or(""));
            button type="submit" { (lang.pick("查询", "Look up")) }
        }
        (results)
    };
    page(
        ctx,
        lang.pick("查询留痕", "Access log"),
        Some(round),
        Head::default(),
        body,
    )
}

/// The lookup form.
pub async fn form(ctx: Ctx, Path(round): Path<String>) -> Markup {
    shell(&ctx, &round, None, html! {})
}

/// One person's reads, audited.
pub async fn lookup(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Markup, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    let lang = ctx.lang;
    let text = fields
        .get("person")
        .ok_or_else(|| ConsoleError::invalid("person", "the national ID is required"))?;
    let person = NationalId::parse(text).map_err(|e| ConsoleError::invalid("person", e.to_string()))?;
    let reads = console
        .engine
        .orchestrator()
        .person_accesses(&round, &person, None, 1000, &ctx.officer.name)
        .await?;
    let results = html! {
        p { (lang.pick("共", "")) span.count #access-count { (reads.len()) } (lang.pick(" 次读取", " reads")) }
        table.data #access-log {
            thead { tr {
                th { (lang.pick("时间", "When")) } th { (lang.pick("操作人", "Caused by")) }
                th { (lang.pick("登记机关", "Registry")) } th { (lang.pick("结果", "Outcome")) }
                th { (lang.pick("用途", "Purpose")) }
                th { (lang.pick("授权编号", "Consent")) } th { (lang.pick("申请编号", "Application")) }
            } }
            tbody {
                @for r in &reads {
                    tr {
                        td { (r.at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (r.actor) }
                        td { (i18n::registry(lang, &r.registry)) }
                        td { (i18n::access_outcome(lang, &r.outcome, r.status)) }
                        td.mono { (r.purpose) }
                        td.mono { (r.consent_id.as_deref().unwrap_or("—")) }
                        td.mono {
                            @if let Some(id) = &r.application_id {
                                a href=(round_path(&round, &format!("/reviews/{id}"))) { (id) }
                            } @else { "—" }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(&ctx, &round, Some(person.as_str()), results))
}
