//! The page shell: header with the officer and the language switch, the
//! round's navigation, and the one stylesheet.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::{self, Lang};
use crate::session::{CSRF_FIELD, Ctx, percent_encode};

/// A page with nobody signed in (sign-in, errors).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/console/assets/console.css";
                link rel="icon" href="data:,";
            }
            body { (body) }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(ctx.csrf); }
}

/// Extra `<head>` content of a page (a refresh while verification runs).
#[derive(Debug, Default)]
pub struct Head {
    pub refresh_seconds: Option<u32>,
}

/// A signed-in page; `round` adds the round's navigation.
pub fn page(ctx: &Ctx, title: &str, round: Option<&str>, head: Head, body: Markup) -> Markup {
    let lang = ctx.lang;
    let (_, code, label) = lang.other();
    let switch = format!("/console/lang?set={code}&next={}", percent_encode(&ctx.here));
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = head.refresh_seconds {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · " (lang.pick("招生管理", "Enrolment console")) }
                link rel="stylesheet" href="/console/assets/console.css";
                link rel="icon" href="data:,";
            }
            body {
                header.top {
                    a.brand href="/console/rounds" { (lang.pick("义务教育招生管理", "School enrolment console")) }
                    @if let Some(round) = round {
                        span.round-id { (round) }
                    }
                    span.spacer {}
                    span.who {
                        (ctx.officer.name) " · " (i18n::role(lang, ctx.officer.role))
                    }
                    a.lang href=(switch) hreflang=(code) { (label) }
                    form.inline method="post" action="/console/logout" {
                        (csrf(ctx))
                        button.link type="submit" { (lang.pick("退出", "Sign out")) }
                    }
                }
                @if let Some(round) = round {
                    (round_nav(lang, round, &ctx.here))
                }
                main { (body) }
            }
        }
    }
}

fn round_nav(lang: Lang, round: &str, here: &str) -> Markup {
    let base = format!("/console/rounds/{}", percent_encode(round));
    let items = [
        ("", "概览", "Dashboard"),
        ("/applications", "申请", "Applications"),
        ("/reviews", "人工审核", "Reviews"),
        ("/allocation", "派位", "Allocation"),
        ("/schools", "学校报表", "Schools"),
        ("/notice", "公示", "Notice"),
        ("/corrections", "更正", "Corrections"),
        ("/audit", "日志", "Audit log"),
        ("/access", "查询留痕", "Access log"),
    ];
    let path = here.split('?').next().unwrap_or(here);
    html! {
        nav.round {
            @for (suffix, zh, en) in items {
                @let href = format!("{base}{suffix}");
                @let current = if suffix.is_empty() { path == href } else { path.starts_with(&href) };
                a href=(href) aria-current=[current.then_some("page")] { (lang.pick(zh, en)) }
            }
        }
    }
}

/// A two-language message block (the rules' texts come in both).
pub fn both(lang: Lang, zh: &str, en: &str) -> Markup {
    html! {
        @match lang {
            Lang::Zh => { span lang="zh-CN" { (zh) } br; span.secondary lang="en" { (en) } }
            Lang::En => { span lang="en" { (en) } br; span.secondary lang="zh-CN" { (zh) } }
        }
    }
}
