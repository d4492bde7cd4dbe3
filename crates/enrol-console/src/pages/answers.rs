//! What a family is owed beside its decision, shown to the officer who
//! answers its questions: the priorities held at each school, the seat, why
//! the child holds no better tier (the rules' own zh/en texts), and for each
//! school ranked above the seat, the child's standing beside the school's
//! cutoff (录取线).

use enrol_allocation::{AboveSeat, Cutoff, Standing};
use enrol_domain::{Decision, TierShortfall};
use enrol_orchestrator::inquiry::Seat;
use maud::{Markup, html};

use crate::i18n::{self, Lang};
use crate::layout::both;

/// `[1, 1, 20210310]` · `c7564fcaf38b1e48`.
pub fn standing(s: &Standing) -> Markup {
    html! { code { (format!("{:?}", s.key)) } " · " code { (s.lottery) } }
}

/// A school's cutoff in a table cell: the last child admitted by choice, or
/// "not full".
pub fn cutoff(lang: Lang, c: &Cutoff) -> Markup {
    html! {
        @match (&c.last, c.full) {
            (Some(last), true) => { (standing(last)) }
            (None, true) => { span.secondary { (lang.pick("无学位", "no seats")) } }
            _ => { span.secondary { (lang.pick("未录满", "not full")) } }
        }
    }
}

/// The decision, the seat and the answers, as one panel.
pub fn panel(
    lang: Lang,
    decision: &Decision,
    seat: Option<&Seat>,
    why_not: &[TierShortfall],
    above: &[AboveSeat],
) -> Markup {
    html! {
        section.panel #decision {
            h2 { (lang.pick("审核结果", "Decision")) " " span.state data-status=(decision.status.as_str()) { (i18n::status(lang, decision.status.as_str())) } }
            @if !decision.schools.is_empty() {
                table.data.compact #priorities {
                    thead { tr {
                        th { (lang.pick("学校", "School")) } th { (lang.pick("类别", "Priority")) }
                        th { (lang.pick("同校兄姐", "Sibling")) } th { (lang.pick("排序键", "Order key")) }
                    } }
                    tbody {
                        @for p in &decision.schools {
                            tr {
                                td.mono { (p.school_id) }
                                td { (p.priority) }
                                td { (if p.sibling { lang.pick("是", "yes") } else { "—" }) }
                                td.mono { (format!("{:?}", p.key)) }
                            }
                        }
                    }
                }
            }
            dl.facts {
                @if !decision.preferences.is_empty() {
                    dt { (lang.pick("志愿顺序", "Preferences")) }
                    dd.mono { @for (i, s) in decision.preferences.iter().enumerate() { @if i > 0 { " → " } (s) } }
                }
                @if let Some(lottery) = &decision.lottery {
                    dt { (lang.pick("派位号", "Lottery number")) } dd.mono { (lottery) }
                }
                @if let Some(seat) = seat {
                    dt { (lang.pick("录取结果", "Seat")) }
                    dd #seat data-school=(seat.school_id.as_deref().unwrap_or("")) {
                        @match &seat.school_id {
                            Some(school) => {
                                span.mono { (school) } " · " (route(lang, &seat.route))
                                @if let Some(rank) = seat.choice_rank { " · " (lang.pick("第", "choice ")) (rank) (lang.pick("志愿", "")) }
                                @if let Some(unit) = &seat.unit_no { " · " span.mono { (unit) } }
                            }
                            None => { (lang.pick("未录取", "no seat")) }
                        }
                    }
                }
            }
            @if !why_not.is_empty() {
                h3 { (lang.pick("为何不是更优类别", "Why not a better tier")) }
                ul #why-not {
                    @for w in why_not {
                        li {
                            span.mono { (w.school_id) } " · " code { (w.tier) } ": " (both(lang, &w.zh, &w.en))
                            @if !w.evidence.is_empty() {
                                br; span.secondary.small { (lang.pick("依据：", "Cites: ")) @for e in &w.evidence { code { (e) } " " } }
                            }
                        }
                    }
                }
            }
            @if !above.is_empty() {
                h3 { (lang.pick("排在录取学校之前的志愿与录取线", "Schools ranked above the seat, and their cutoffs")) }
                table.data.compact #above-seat {
                    thead { tr {
                        th { (lang.pick("志愿", "Choice")) } th { (lang.pick("学校", "School")) }
                        th { (lang.pick("本人排序", "Own standing")) } th { (lang.pick("录取线", "Cutoff")) }
                    } }
                    tbody {
                        @for a in above {
                            tr {
                                td.num { (a.rank) }
                                td.mono { (a.school) }
                                td { (standing(&a.own)) }
                                td { (cutoff(lang, &a.cutoff)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A seat's route.
fn route(lang: Lang, route: &str) -> &'static str {
    match route {
        "choice" => lang.pick("志愿录取", "by choice"),
        "overflow" => lang.pick("统筹安排", "overflow"),
        _ => lang.pick("未录取", "no seat"),
    }
}
