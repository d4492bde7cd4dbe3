//! Chinese first, English one click away. The rules' own texts (reasons,
//! tier labels) come in both languages with the data; the console's own
//! words are here.

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh` or `en`, whichever this page speaks.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The `lang` attribute of the page.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> (Lang, &'static str, &'static str) {
        match self {
            Lang::Zh => (Lang::En, "en", "English"),
            Lang::En => (Lang::Zh, "zh", "中文"),
        }
    }
}

/// A round's state.
pub fn round_state(lang: Lang, state: &str) -> &str {
    let (zh, en) = match state {
        "open" => ("受理中", "open"),
        "closed" => ("已截止", "closed"),
        "verified" => ("已核验", "verified"),
        "allocated" => ("已派位", "allocated"),
        "published" => ("已公布", "published"),
        other => (other, other),
    };
    lang.pick(zh, en)
}

/// An application's lifecycle state.
pub fn application_state(lang: Lang, state: &str) -> &str {
    let (zh, en) = match state {
        "submitted" => ("已提交", "submitted"),
        "pending" => ("待核验", "pending"),
        "decided" => ("已审核", "decided"),
        "placed" => ("已录取", "placed"),
        "unplaced" => ("未录取", "unplaced"),
        "withdrawn" => ("已撤回", "withdrawn"),
        "excluded" => ("已排除", "excluded"),
        "accepted" => ("人工审核通过", "accepted"),
        "rejected" => ("人工审核不通过", "rejected"),
        other => (other, other),
    };
    lang.pick(zh, en)
}

/// A decision's status.
pub fn status(lang: Lang, status: &str) -> &str {
    let (zh, en) = match status {
        "eligible" => ("符合条件", "eligible"),
        "review" => ("人工审核", "review"),
        "ineligible" => ("不符合条件", "ineligible"),
        "pending" => ("待核验", "pending"),
        other => (other, other),
    };
    lang.pick(zh, en)
}

/// A registry, by its citation name (formats.md).
pub fn registry(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "hukou" => ("户籍", "household registration"),
        "birth" => ("出生医学证明", "birth certificates"),
        "property" => ("不动产登记", "property"),
        "residence" => ("居住证", "residence permits"),
        "insurance" | "social-insurance" => ("社会保险", "social insurance"),
        "zones" => ("学区划片", "school zones"),
        "history" | "enrolment-history" => ("学籍", "enrolment history"),
        "engine" => ("引擎内部", "the engine itself"),
        other => return other.to_owned(),
    };
    format!("{} ({name})", lang.pick(zh, en))
}

/// How a registry read ended, as the access log stores it (`unknown`: the
/// request was sent, or about to be, and what came of it was never stored).
pub fn access_outcome(lang: Lang, outcome: &str, status: Option<i32>) -> String {
    let (zh, en) = match outcome {
        "answered" => ("已答复", "answered"),
        "timed_out" => ("超时", "timed out"),
        "connection_failed" => ("连接失败", "connection failed"),
        "abandoned" => ("已发出，未等答复", "sent, answer not awaited"),
        "unknown" => ("已发出，结果未知", "sent, outcome unknown"),
        other => return other.to_owned(),
    };
    match status {
        Some(status) => format!("{} {status}", lang.pick(zh, en)),
        None => lang.pick(zh, en).to_owned(),
    }
}

/// An officer's role.
pub fn role(lang: Lang, role: enrol_api::Role) -> &'static str {
    match role {
        enrol_api::Role::Viewer => lang.pick("查看员", "viewer"),
        enrol_api::Role::Reviewer => lang.pick("审核员", "reviewer"),
        enrol_api::Role::RoundManager => lang.pick("批次管理员", "round manager"),
    }
}
