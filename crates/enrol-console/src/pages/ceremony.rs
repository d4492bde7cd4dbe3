//! The allocation ceremony (电脑随机派位): the commitment published at open,
//! the sealed seed and the public draw taken in front of witnesses, then the
//! round seed and how anyone recomputes a lottery number.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use enrol_api::Role;
use enrol_orchestrator::{RoundError, RoundState, SeedReveal};
use enrol_report::{CommitmentCheck, check_commitment, lottery_digest};
use maud::{Markup, html};

use super::{Fields, round_path, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::layout::{Head, csrf, page as shell};
use crate::session::Ctx;

/// Shell quoting for the commands shown (a `'` becomes `'\''`).
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

pub async fn page(State(console): State<Console>, ctx: Ctx, Path(round): Path<String>) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let info = orchestrator.round(&round).await?;
    let example = if info.round_seed.is_some() {
        orchestrator
            .application_page(&round, None, 1000)
            .await?
            .into_iter()
            .find(|v| v.status == Some(enrol_domain::Status::Eligible))
    } else {
        None
    };
    let body = html! {
        h1 { (lang.pick("电脑随机派位", "Allocation ceremony")) }
        section.panel {
            h2 { (lang.pick("种子承诺（批次创建时公布）", "Seed commitment (published at open)")) }
            p.mono.big #commitment { (info.seed_commitment) }
        }
        @match &info.round_seed {
            None => {
                @if info.state == RoundState::Verified && ctx.may(Role::RoundManager) {
                    section.panel {
                        h2 { (lang.pick("揭示种子并派位", "Reveal the seed and allocate")) }
                        form #allocate method="post" action=(round_path(&round, "/allocation")) {
                            (csrf(&ctx))
                            label for="sealed_seed" { (lang.pick("密封种子（十六进制）", "Sealed seed (hex)")) }
                            input #sealed_seed type="text" name="sealed_seed" required pattern="[0-9a-fA-F]+" autocomplete="off" spellcheck="false";
                            label for="public_draw" { (lang.pick("现场公开抽取值", "Public draw")) }
                            input #public_draw type="text" name="public_draw" required autocomplete="off" spellcheck="false";
                            p.hint { (lang.pick("随机种子 = 密封种子-公开抽取值；密封种子的 SHA-256 必须等于上面的承诺。", "Round seed = sealed-public; SHA-256 of the sealed seed must equal the commitment above.")) }
                            button type="submit" { (lang.pick("派位", "Allocate")) }
                        }
                    }
                } @else if info.state < RoundState::Verified {
                    p.secondary { (lang.pick("批次核验完成后方可派位。", "The round must be verified before allocation.")) }
                }
            }
            Some(seed) => {
                section.panel {
                    h2 { (lang.pick("随机种子", "Round seed")) }
                    p.mono.big #round-seed { (seed) }
                    @match check_commitment(seed, &info.seed_commitment) {
                        CommitmentCheck::Mismatch => p.error { (lang.pick("种子与承诺不一致！", "The seed does not match the commitment!")) },
                        CommitmentCheck::WholeSeed => p.ok #commitment-check { (lang.pick("一致：承诺为整个种子的 SHA-256。", "Matches: the commitment is SHA-256 of the whole seed.")) },
                        CommitmentCheck::SealedAndPublic { sealed, public } => p.ok #commitment-check {
                            (lang.pick("一致：承诺为密封部分的 SHA-256。", "Matches: the commitment is SHA-256 of the sealed part."))
                            " " code { (sealed) } " + " code { (public) }
                        },
                    }
                }
                section.panel {
                    h2 { (lang.pick("任何人都可复算派位号", "Anyone can recompute a lottery number")) }
                    p { (lang.pick("派位号 = SHA-256(\"随机种子:子女身份证号\") 的前 16 位十六进制数，小者在前。", "Lottery number = first 16 hex digits of SHA-256(\"round seed:child ID\"), lower first.")) }
                    pre { "printf '%s' " (quoted(&format!("{seed}:CHILD_ID"))) " | sha256sum | cut -c1-16" }
                    @if let Some(v) = &example {
                        @let digest = lottery_digest(seed, &v.child_id);
                        p { (lang.pick("示例：", "Example: ")) span.mono #example-child { (v.child_id) } " → " code #example-lottery { (&digest[..16]) } }
                        pre { "printf '%s' " (quoted(&format!("{seed}:{}", v.child_id))) " | sha256sum | cut -c1-16" }
                    }
                }
                p { a href=(round_path(&round, "/report.html")) { (lang.pick("查看招生结果报告", "Open the round report")) } }
            }
        }
    };
    Ok(shell(
        &ctx,
        lang.pick("电脑随机派位", "Allocation"),
        Some(&round),
        Head::default(),
        body,
    ))
}

/// verified → allocated with the sealed seed and the public draw (round manager).
pub async fn allocate(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::RoundManager)?;
    let reveal = match (fields.get("sealed_seed"), fields.get("public_draw")) {
        (Some(sealed), Some(public)) => Some(SeedReveal {
            sealed: sealed.to_owned(),
            public: public.to_owned(),
        }),
        (None, None) => None,
        (None, Some(_)) => return Err(ConsoleError::invalid("sealed_seed", "the sealed seed is required")),
        (Some(_), None) => return Err(ConsoleError::invalid("public_draw", "the public draw is required")),
    };
    console
        .engine
        .orchestrator()
        .allocate(&round, reveal, &ctx.officer.name)
        .await
        .map_err(|e| match e {
            RoundError::Seed(detail) => ConsoleError::invalid("sealed_seed", detail),
            other => other.into(),
        })?;
    Ok(see_other(&round_path(&round, "/allocation")))
}
