//! The review queue (人工审核): each application's reasons in Chinese and
//! English, the registry records they cite as readable cards, and one form
//! per decision: accept with the facts established (an ambiguous address
//! offers the zone registry's candidate codes), reject with a reason, or
//! exclude.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use enrol_api::Role;
use enrol_domain::{AddressCode, EvidenceBundle, NationalId, OfficerFacts};
use enrol_orchestrator::{ApplicationState, ReviewQuery, ReviewResolution, RoundState};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Fields, answers, round_path, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n::{self, Lang};
use crate::layout::{Head, both, csrf, page as shell};
use crate::session::Ctx;

#[derive(Debug, Deserialize)]
pub struct QueueFilter {
    reason: Option<String>,
    /// 1-based page of [`QUEUE_PAGE`] rows.
    page: Option<usize>,
}

/// Rows per page of the queue.
const QUEUE_PAGE: usize = 100;

/// The queue, filtered by a reason code on the server.
pub async fn queue(
    State(console): State<Console>,
    ctx: Ctx,
    Path(round): Path<String>,
    Query(filter): Query<QueueFilter>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let wanted = filter.reason.filter(|r| !r.is_empty());
    let page_no = filter.page.unwrap_or(1).max(1);
    let query = |page_no: usize| ReviewQuery {
        reason: wanted.as_deref(),
        offset: (page_no - 1).saturating_mul(QUEUE_PAGE),
        limit: QUEUE_PAGE,
    };
    let orchestrator = console.engine.orchestrator();
    let mut queue = orchestrator.review_queue_page(&round, query(page_no)).await?;
    let pages = queue.matching.div_ceil(QUEUE_PAGE).max(1);
    if page_no > pages {
        // Past the end (the queue shrank since the link was made): the last page.
        queue = orchestrator.review_queue_page(&round, query(pages)).await?;
    }
    let page_no = page_no.min(pages);
    let (codes, total, shown) = (&queue.by_reason, queue.matching, &queue.items);
    let link = |n: usize| {
        format!(
            "{}?reason={}&page={n}",
            round_path(&round, "/reviews"),
            crate::session::percent_encode(wanted.as_deref().unwrap_or(""))
        )
    };
    let body = html! {
        h1 { (lang.pick("人工审核", "Reviews")) " " span.count { (total) } }
        form.filters method="get" {
            label for="reason" { (lang.pick("按原因筛选", "Filter by reason")) }
            select #reason name="reason" {
                option value="" { (lang.pick("全部", "All")) }
                @for (code, n) in codes {
                    option value=(code) selected[wanted.as_deref() == Some(code.as_str())] { (code) " (" (n) ")" }
                }
            }
            button type="submit" { (lang.pick("筛选", "Filter")) }
        }
        @if shown.is_empty() {
            p.empty { (lang.pick("没有待处理的审核。", "No application waits for review.")) }
        } @else {
            table.data {
                thead { tr {
                    th { (lang.pick("申请编号", "Application")) }
                    th { (lang.pick("子女身份证号", "Child ID")) }
                    th { (lang.pick("原因", "Reasons")) }
                } }
                tbody {
                    @for (view, decision) in shown {
                        tr {
                            td.mono { a.review-link href=(round_path(&round, &format!("/reviews/{}", view.application_id))) { (view.application_id) } }
                            td.mono { (view.child_id) }
                            td {
                                @for r in &decision.reasons {
                                    div.reason { code { (r.code) } " " (lang.pick(&r.zh, &r.en)) }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                p.pager {
                    @if page_no > 1 { a href=(link(page_no - 1)) rel="prev" { (lang.pick("← 上一页", "← Previous page")) } " " }
                    (lang.pick("第", "Page ")) (page_no) " / " (pages) (lang.pick("页", ""))
                    @if page_no < pages { " " a href=(link(page_no + 1)) rel="next" { (lang.pick("下一页 →", "Next page →")) } }
                }
            }
        }
    };
    Ok(shell(
        &ctx,
        lang.pick("人工审核", "Reviews"),
        Some(&round),
        Head::default(),
        body,
    ))
}

fn card(title_zh: &str, title_en: &str, source: &str, lang: Lang, rows: Markup) -> Markup {
    html! {
        article.card {
            header { h3 { (lang.pick(title_zh, title_en)) } code.source { (source) } }
            dl { (rows) }
        }
    }
}

fn missing(lang: Lang) -> Markup {
    html! { dt {} dd.missing { (lang.pick("登记机关无此记录", "The registry has no record")) } }
}

fn address(lang: Lang, address: &enrol_domain::Address) -> Markup {
    html! {
        dt { (lang.pick("地址", "Address")) }
        dd {
            (address.text)
            @if let Some(code) = &address.code { br; code { (code) } } @else { br; span.warn { (lang.pick("无标准地址编码", "no address code")) } }
        }
    }
}

/// The evidence as cards, one per record read. Public so the escaping test
/// can render a bundle of its own.
pub fn evidence_cards(lang: Lang, bundle: &EvidenceBundle) -> Markup {
    html! {
        div.cards {
            @for (id, f) in &bundle.birth_certificates {
                (card("出生医学证明", "Birth certificate", &f.source.to_string(), lang, html! {
                    @if let Some(c) = &f.record {
                        dt { (lang.pick("证明编号", "Certificate")) } dd.mono { (c.certificate_no) }
                        dt { (lang.pick("子女", "Child")) } dd.mono { (id) @if let Some(n) = &c.child_name_masked { " " (n) } }
                        dt { (lang.pick("出生日期", "Born")) } dd { (c.birth_date) }
                        dt { (lang.pick("母亲", "Mother")) } dd.mono { (c.mother_id.as_ref().map_or("—".to_owned(), ToString::to_string)) }
                        dt { (lang.pick("父亲", "Father")) } dd.mono { (c.father_id.as_ref().map_or("—".to_owned(), ToString::to_string)) }
                    } @else { (missing(lang)) }
                }))
            }
            @for (id, f) in &bundle.household_records {
                (card("户籍", "Household registration", &f.source.to_string(), lang, html! {
                    @if let Some(h) = &f.record {
                        dt { (lang.pick("身份证号", "ID")) } dd.mono { (id) }
                        dt { (lang.pick("户号", "Household")) } dd.mono { (h.household_no) }
                        dt { (lang.pick("与户主关系", "Relation to head")) } dd { (format!("{:?}", h.relation_to_head).to_lowercase()) }
                        dt { (lang.pick("落户日期", "Registered on")) } dd { (h.registered_on) }
                        dt { (lang.pick("户籍所在地", "County")) } dd.mono { (h.region) }
                        (address(lang, &h.address))
                    } @else { (missing(lang)) }
                }))
            }
            @for (owner, f) in &bundle.holdings {
                (card("不动产", "Property", &f.source.to_string(), lang, html! {
                    @match &f.record {
                        Some(units) if !units.is_empty() => {
                            @for u in units {
                                dt { (lang.pick("不动产单元号", "Unit")) } dd.mono { (u.unit_no) }
                                (address(lang, &u.address))
                                dt { (lang.pick("用途 / 状态", "Usage / status")) } dd { (format!("{:?} / {:?}", u.usage, u.status).to_lowercase()) }
                                dt { (lang.pick("登记日期", "Registered on")) } dd { (u.registered_on) }
                                dt { (lang.pick("份额", "Shares")) } dd.mono {
                                    @for s in &u.owners { (s.id) " " (s.share_pct) "% " @if &s.id == owner { "◀" } br; }
                                }
                            }
                        }
                        _ => { dt {} dd.missing { (lang.pick("无不动产", "No holdings")) } }
                    }
                }))
            }
            @for (unit, f) in &bundle.unit_uses {
                (card("学位使用记录", "Seat use of a unit", &f.source.to_string(), lang, html! {
                    dt { (lang.pick("不动产单元号", "Unit")) } dd.mono { (unit) }
                    @for u in f.record.iter().flatten() {
                        dt { (u.year) } dd { (u.school_id) " · " span.mono { (u.child_id) } }
                    }
                }))
            }
            @for (holder, f) in &bundle.permits {
                (card("居住证", "Residence permit", &f.source.to_string(), lang, html! {
                    @if let Some(p) = &f.record {
                        dt { (lang.pick("持证人", "Holder")) } dd.mono { (holder) }
                        dt { (lang.pick("证号", "Permit")) } dd.mono { (p.permit_no) }
                        (address(lang, &p.address))
                        dt { (lang.pick("有效期", "Valid")) } dd { (p.issued_on) " — " (p.valid_until) }
                    } @else { (missing(lang)) }
                }))
            }
            @for (person, f) in &bundle.insurance_months {
                (card("社保缴费", "Social insurance", &f.source.to_string(), lang, html! {
                    dt { (lang.pick("参保人", "Person")) } dd.mono { (person) }
                    @let months = f.record.clone().unwrap_or_default();
                    dt { (lang.pick("缴费月数", "Months")) } dd { (months.len()) }
                    @if let (Some(first), Some(last)) = (months.first(), months.last()) {
                        dt { (lang.pick("区间", "From — to")) } dd { (first) " — " (last) }
                    }
                }))
            }
            @for (child, f) in &bundle.current_places {
                (card("学籍", "Current school", &f.source.to_string(), lang, html! {
                    @if let Some(p) = &f.record {
                        dt { (lang.pick("学生", "Pupil")) } dd.mono { (child) }
                        dt { (lang.pick("学校 / 年级", "School / grade")) } dd { (p.school_id) " · " (p.grade) }
                    } @else { (missing(lang)) }
                }))
            }
            @for (text, f) in &bundle.address_matches {
                (card("地址匹配", "Address search", &f.source.to_string(), lang, html! {
                    dt { (lang.pick("地址文本", "Text")) } dd { (text) }
                    @let codes = f.record.clone().unwrap_or_default();
                    dt { (lang.pick("匹配结果", "Matches")) }
                    dd {
                        @if codes.is_empty() { span.warn { (lang.pick("无匹配", "none")) } }
                        @for c in &codes { code { (c) } br; }
                        @if codes.len() > 1 { span.warn { (lang.pick("多个匹配：有歧义", "several: ambiguous")) } }
                    }
                }))
            }
            @for (key, f) in &bundle.buildings {
                (card("学区划片", "School zone", &f.source.to_string(), lang, html! {
                    dt { (lang.pick("楼栋", "Building")) } dd.mono { (key) }
                    @if let Some(z) = &f.record {
                        dt { (lang.pick("划片学校", "Zoned schools")) } dd { @for s in &z.schools { (s) " " } }
                    } @else { (missing(lang)) }
                }))
            }
        }
    }
}

/// Address texts that did not resolve to exactly one code, with the
/// candidates the zone registry gave (none for an unknown text).
fn unresolved(bundle: &EvidenceBundle) -> Vec<(String, Vec<AddressCode>)> {
    bundle
        .address_matches
        .iter()
        .filter_map(|(text, f)| {
            let codes = f.record.clone().unwrap_or_default();
            (codes.len() != 1 && !bundle.officer_facts.resolved_addresses.contains_key(text))
                .then(|| (text.clone(), codes))
        })
        .collect()
}

/// One application in review: reasons, evidence, the three forms.
pub async fn page(
    State(console): State<Console>,
    ctx: Ctx,
    Path((round, id)): Path<(String, String)>,
) -> Result<Markup, ConsoleError> {
    let lang = ctx.lang;
    let orchestrator = console.engine.orchestrator();
    let (application, view) = orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ConsoleError::NotFound(format!("application {id} in round {round}")));
    }
    let info = orchestrator.round(&round).await?;
    let decision = orchestrator.decision(&id).await?;
    let bundle = orchestrator.evidence(&id).await?.unwrap_or_default();
    let seat = orchestrator.seat(&id).await?;
    let why_not = orchestrator.explanations(&id).await?.unwrap_or_default();
    let above = orchestrator.above_seat(&id).await?.unwrap_or_default();
    let in_review = view.state == ApplicationState::Decided
        && decision
            .as_ref()
            .is_some_and(|d| d.status == enrol_domain::Status::Review);
    let can_resolve = in_review && info.state == RoundState::Closed && ctx.may(Role::Reviewer);
    let can_exclude = matches!(info.state, RoundState::Open | RoundState::Closed)
        && !matches!(view.state, ApplicationState::Withdrawn | ApplicationState::Excluded)
        && ctx.may(Role::Reviewer);
    let open_addresses = unresolved(&bundle);
    let base = round_path(&round, &format!("/reviews/{id}"));
    let body = html! {
        p { a href=(round_path(&round, "/reviews")) { "← " (lang.pick("返回审核列表", "Back to the queue")) } }
        h1.mono { (id) }
        p {
            (lang.pick("子女", "Child")) " " span.mono { (application.child_id) } " · "
            (lang.pick("状态", "State")) " " span #application-state data-state=(view.state.as_str()) { (i18n::application_state(lang, view.state.as_str())) }
        }
        @if let Some(d) = &decision {
            (answers::panel(lang, d, seat.as_ref(), &why_not, &above))
            section.panel {
                h2 { (lang.pick("审核原因", "Reasons")) }
                @for r in &d.reasons {
                    div.reason {
                        code { (r.code) }
                        p { (both(lang, &r.zh, &r.en)) }
                        @if !r.evidence.is_empty() {
                            p.cites { (lang.pick("依据：", "Cites: ")) @for e in &r.evidence { code { (e) } " " } }
                        }
                    }
                }
            }
        }
        section {
            h2 { (lang.pick("登记机关记录", "Registry records")) }
            (evidence_cards(lang, &bundle))
        }
        @if can_resolve {
            section.panel.decide {
                h2 { (lang.pick("通过（录入核实的事实）", "Accept with the facts established")) }
                form #accept method="post" action={ (base) "/accept" } {
                    (csrf(&ctx))
                    @for (i, (text, codes)) in open_addresses.iter().enumerate() {
                        fieldset.address {
                            legend { (lang.pick("地址", "Address")) ": " (text) }
                            input type="hidden" name={ "address_text_" (i) } value=(text);
                            @if codes.is_empty() {
                                label for={ "address_code_" (i) } { (lang.pick("标准地址编码（如 370811-001-00010-01-0801）", "Address code (e.g. 370811-001-00010-01-0801)")) }
                                input type="text" id={ "address_code_" (i) } name={ "address_code_" (i) } pattern="[0-9]{6}-[0-9]{3}-[0-9]{5}-[0-9]{2}-[0-9]{4}" spellcheck="false";
                            } @else {
                                p.hint { (lang.pick("学区划片系统给出的候选地址：", "Candidates from the zone registry:")) }
                                @for c in codes {
                                    label.check.candidate {
                                        input type="radio" name={ "address_code_" (i) } value=(c);
                                        code { (c) } " " span.secondary { (lang.pick("区县", "county")) " " (c.county()) }
                                    }
                                }
                            }
                        }
                    }
                    fieldset {
                        legend { (lang.pick("核实的事实", "Facts established")) }
                        label.check { input type="checkbox" name="birth_date_confirmed" value="1"; (lang.pick("出生日期已核实", "Birth date confirmed")) }
                        label.check { input type="checkbox" name="delayed_enrolment_approved" value="1"; (lang.pick("批准缓学", "Delayed enrolment approved")) }
                        label.check { input type="checkbox" name="current_place_cleared" value="1"; (lang.pick("现有学籍不影响本次申请", "Current school place cleared")) }
                        @for g in application.guardians() {
                            label.check { input type="checkbox" name="guardian" value=(g); (lang.pick("已核实监护关系：", "Guardianship established: ")) span.mono { (g) } }
                        }
                    }
                    label for="note" { (lang.pick("审核意见（记入日志）", "Note (kept in the audit log)")) }
                    textarea #note name="note" rows="2" required {}
                    button type="submit" { (lang.pick("通过", "Accept")) }
                }
            }
            section.panel.decide {
                h2 { (lang.pick("不通过", "Reject")) }
                form #reject method="post" action={ (base) "/reject" } {
                    (csrf(&ctx))
                    label for="reject-reason" { (lang.pick("理由（告知家庭）", "Reason (told to the family)")) }
                    textarea #reject-reason name="reason" rows="2" required {}
                    button.danger type="submit" { (lang.pick("不通过", "Reject")) }
                }
            }
        }
        @if can_exclude {
            section.panel.decide {
                h2 { (lang.pick("排除出本批次", "Exclude from the round")) }
                form #exclude method="post" action={ (base) "/exclude" } {
                    (csrf(&ctx))
                    label for="exclude-reason" { (lang.pick("理由（告知家庭）", "Reason (told to the family)")) }
                    textarea #exclude-reason name="reason" rows="2" required {}
                    button.danger type="submit" { (lang.pick("排除", "Exclude")) }
                }
            }
        }
        @if !can_resolve && in_review && !ctx.may(Role::Reviewer) {
            p.secondary { (lang.pick("您的角色只能查看。", "Your role may only look.")) }
        }
    };
    Ok(shell(
        &ctx,
        lang.pick("人工审核", "Review"),
        Some(&round),
        Head::default(),
        body,
    ))
}

async fn check_round(console: &Console, round: &str, id: &str) -> Result<(), ConsoleError> {
    let (_, view) = console.engine.orchestrator().application(id).await?;
    if view.round != round {
        return Err(ConsoleError::NotFound(format!("application {id} in round {round}")));
    }
    Ok(())
}

/// The officer's facts from the accept form.
fn facts_of(fields: &Fields) -> Result<OfficerFacts, ConsoleError> {
    let mut facts = OfficerFacts::default();
    for i in 0.. {
        let Some(text) = fields.get(&format!("address_text_{i}")) else {
            break;
        };
        let field = format!("address_code_{i}");
        let Some(code) = fields.get(&field) else {
            return Err(ConsoleError::invalid(
                &field,
                format!("choose or enter the code of {text:?}"),
            ));
        };
        let code = AddressCode::parse(code).map_err(|e| ConsoleError::invalid(&field, e.to_string()))?;
        facts.resolved_addresses.insert(text.to_owned(), code);
    }
    facts.birth_date_confirmed = fields.checked("birth_date_confirmed");
    facts.delayed_enrolment_approved = fields.checked("delayed_enrolment_approved");
    facts.current_place_cleared = fields.checked("current_place_cleared");
    for g in fields.all("guardian") {
        let id = NationalId::parse(g).map_err(|e| ConsoleError::invalid("guardian", e.to_string()))?;
        facts.guardianship_confirmed.insert(id);
    }
    Ok(facts)
}

/// Accepts with facts (reviewer): decided again by the rules.
pub async fn accept(
    State(console): State<Console>,
    ctx: Ctx,
    Path((round, id)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::Reviewer)?;
    check_round(&console, &round, &id).await?;
    let facts = facts_of(&fields)?;
    let note = fields
        .get("note")
        .ok_or_else(|| ConsoleError::invalid("note", "an acceptance needs a note"))?
        .to_owned();
    console
        .engine
        .resolve_review(&id, ReviewResolution::Accept { facts, note }, &ctx.officer.name)
        .await?;
    Ok(see_other(&round_path(&round, &format!("/reviews/{id}"))))
}

/// Rejects with a reason (reviewer).
pub async fn reject(
    State(console): State<Console>,
    ctx: Ctx,
    Path((round, id)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::Reviewer)?;
    check_round(&console, &round, &id).await?;
    let reason = fields
        .get("reason")
        .ok_or_else(|| ConsoleError::invalid("reason", "a rejection needs a reason"))?
        .to_owned();
    console
        .engine
        .resolve_review(&id, ReviewResolution::Reject { reason }, &ctx.officer.name)
        .await?;
    Ok(see_other(&round_path(&round, &format!("/reviews/{id}"))))
}

/// Excludes from the round (reviewer).
pub async fn exclude(
    State(console): State<Console>,
    ctx: Ctx,
    Path((round, id)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let fields = Fields(fields);
    fields.check(&ctx)?;
    ctx.require(Role::Reviewer)?;
    check_round(&console, &round, &id).await?;
    let reason = fields
        .get("reason")
        .ok_or_else(|| ConsoleError::invalid("reason", "an exclusion needs a reason"))?;
    console
        .engine
        .orchestrator()
        .exclude(&id, reason, &ctx.officer.name)
        .await?;
    Ok(see_other(&round_path(&round, &format!("/reviews/{id}"))))
}
