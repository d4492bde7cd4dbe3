//! The rounds: the list, and opening a round (round manager) from a policy
//! file and the seed commitment.

use axum::extract::{Multipart, State};
use axum::response::Response;
use enrol_api::Role;
use enrol_orchestrator::RoundSeed;
use maud::{Markup, html};

use super::{Fields, round_path, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n;
use crate::layout::{Head, csrf, page};
use crate::session::Ctx;

/// Every round, newest state first by id; the form to open one.
pub async fn list(State(console): State<Console>, ctx: Ctx) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let rounds = console.engine.orchestrator().rounds().await?;
    let body = html! {
        h1 { (lang.pick("招生批次", "Admission rounds")) }
        @if rounds.is_empty() {
            p.empty { (lang.pick("尚无批次。", "No round yet.")) }
        } @else {
            table.data {
                thead { tr {
                    th { (lang.pick("批次", "Round")) }
                    th { (lang.pick("状态", "State")) }
                    th { (lang.pick("政策版本", "Policy version")) }
                    th { (lang.pick("创建时间", "Opened")) }
                } }
                tbody {
                    @for round in &rounds {
                        tr {
                            td { a href=(round_path(&round.id, "")) { (round.id) } }
                            td { span class={ "state state-" (round.state.as_str()) } { (i18n::round_state(lang, round.state.as_str())) } }
                            td.mono { (round.policy_version) }
                            td { (round.created_at.format("%Y-%m-%d %H:%M UTC")) }
                        }
                    }
                }
            }
        }
        @if ctx.may(Role::RoundManager) {
            section.panel {
                h2 { (lang.pick("新建批次", "Open a round")) }
                form method="post" action="/console/rounds" enctype="multipart/form-data" {
                    (csrf(&ctx))
                    label for="policy" { (lang.pick("政策文件（TOML）", "Policy file (TOML)")) }
                    input #policy type="file" name="policy" accept=".toml,text/plain";
                    details {
                        summary { (lang.pick("或粘贴政策文件内容", "or paste the policy file")) }
                        textarea name="policy_text" rows="8" {}
                    }
                    label for="seed_commitment" { (lang.pick("随机种子承诺（SHA-256，64 位十六进制）", "Seed commitment (SHA-256, 64 hex digits)")) }
                    input #seed_commitment type="text" name="seed_commitment" required pattern="[0-9a-fA-F]{64}" minlength="64" maxlength="64" autocomplete="off" spellcheck="false";
                    p.hint {
                        (lang.pick("密封种子由批次管理员保管至派位时公开；承诺为其 SHA-256：", "Keep the sealed seed until allocation; the commitment is its SHA-256:"))
                        code { "printf '%s' 'SEALED' | sha256sum" }
                    }
                    button type="submit" { (lang.pick("新建批次", "Open the round")) }
                }
            }
        }
    };
    Ok(page(
        &ctx,
        lang.pick("招生批次", "Admission rounds"),
        None,
        Head::default(),
        body,
    ))
}

/// Opens a round (round manager): multipart, so the policy can be a file.
pub async fn create(State(console): State<Console>, ctx: Ctx, mut form: Multipart) -> Result<Response, ConsoleError> {
    let mut fields = Fields::default();
    let mut policy_file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ConsoleError::invalid("form", e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let text = field
            .text()
            .await
            .map_err(|e| ConsoleError::invalid(&name, e.body_text()))?;
        if name == "policy" {
            policy_file = Some(text);
        } else {
            fields.0.push((name, text));
        }
    }
    fields.check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    let policy = policy_file
        .filter(|p| !p.trim().is_empty())
        .or_else(|| fields.get("policy_text").map(str::to_owned))
        .ok_or_else(|| ConsoleError::invalid("policy", "choose a policy file or paste one"))?;
    let commitment = fields
        .get("seed_commitment")
        .ok_or_else(|| ConsoleError::invalid("seed_commitment", "the seed commitment is required"))?
        .to_ascii_lowercase();
    let info = console
        .engine
        .orchestrator()
        .create_round(&policy, RoundSeed::Committed { commitment }, &ctx.officer.name)
        .await?;
    Ok(see_other(&round_path(&info.id, "")))
}
