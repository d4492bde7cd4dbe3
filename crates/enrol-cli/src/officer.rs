//! The officer CLI: `enrol round …`, `enrol review …`, `enrol export …`,
//! over the HTTP API of a running `enrol serve`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Where the API is and who is asking.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The API of `enrol serve`.
    #[arg(long, env = "ENROL_SERVER", default_value = "http://127.0.0.1:8080", global = true)]
    pub server: String,
    /// The officer's bearer token.
    #[arg(
        long,
        env = "ENROL_TOKEN",
        default_value = "dev-officer-token",
        hide_default_value = true,
        global = true
    )]
    pub token: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum RoundCommand {
    /// Open a round under a policy file.
    Create {
        #[arg(long)]
        policy: PathBuf,
        /// SHA-256 (hex) of the sealed seed you keep until allocation (a live round).
        #[arg(long, conflicts_with = "round_seed", required_unless_present = "round_seed")]
        seed_commitment: Option<String>,
        /// The whole seed of a demo or audit round.
        #[arg(long)]
        round_seed: Option<String>,
    },
    /// Every round.
    List,
    /// A round's state and counts.
    Show { round: String },
    /// No more applications or withdrawals.
    Close { round: String },
    /// Gather evidence and decide every application, with progress.
    Verify {
        round: String,
        /// Move to verified with reviews unresolved, leaving them unplaced.
        #[arg(long)]
        leave_reviews_unplaced: bool,
    },
    /// Reveal the seed and assign seats.
    Allocate {
        round: String,
        #[arg(long, requires = "public_draw")]
        sealed_seed: Option<String>,
        #[arg(long, requires = "sealed_seed")]
        public_draw: Option<String>,
    },
    /// Make results visible to families.
    Publish { round: String },
    /// Correct a seat after publication (更正), recorded in the audit log.
    Correct {
        round: String,
        application: String,
        /// The school to place the child at; without it, the seat is taken away.
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// Appeal replay (复核重放): decide an application again from its stored
    /// evidence under the stored policy and show it is the same bytes; with
    /// `--facts`, the decision from corrected facts, its differences and, for
    /// a published round, the seat it would win. Changes nothing (audited).
    Replay {
        round: String,
        application: String,
        /// A JSON file `{"officer_facts": {…}, "records": {…}}` (docs/api.md, "Appeal replay").
        #[arg(long)]
        facts: Option<PathBuf>,
    },
    /// Replay every decision of a round from its stored evidence under the
    /// stored policy, and name any that does not give the stored bytes.
    /// Changes nothing (audited).
    ReplayAll { round: String },
    /// Per-school figures.
    Schools { round: String },
    /// The audit log, every entry.
    Audit {
        round: String,
        /// Only entries of this action, e.g. `review_rejected`.
        #[arg(long)]
        action: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ReviewCommand {
    /// Applications waiting for an officer, with reasons.
    List { round: String },
    /// Decide again with what you established.
    Accept {
        round: String,
        application: String,
        /// Kept in the audit log.
        #[arg(long)]
        note: String,
        /// An address text that did not resolve, and its code: `TEXT=CODE`.
        #[arg(long = "resolve-address", value_name = "TEXT=CODE")]
        resolved_addresses: Vec<String>,
        /// Delayed enrolment (缓学) approved.
        #[arg(long)]
        delayed_enrolment: bool,
        /// A guardian whose guardianship you established.
        #[arg(long = "guardian")]
        guardians: Vec<String>,
        /// The child's current place does not stand in the way.
        #[arg(long)]
        current_place_cleared: bool,
        /// The birth-date disagreement is settled.
        #[arg(long)]
        birth_date_confirmed: bool,
    },
    /// Leave the application unplaced, with a reason told to the family.
    Reject {
        round: String,
        application: String,
        #[arg(long)]
        reason: String,
    },
    /// Exclude an application from the round, with a reason.
    Exclude {
        round: String,
        application: String,
        #[arg(long)]
        reason: String,
    },
}

struct Api {
    client: reqwest::Client,
    conn: Connection,
}

impl Api {
    fn new(conn: Connection) -> Self {
        Api {
            client: reqwest::Client::new(),
            conn,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.conn.server.trim_end_matches('/'))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request.bearer_auth(&self.conn.token).send().await.with_context(|| {
            format!(
                "cannot reach the API at {} (is `enrol serve` running?)",
                self.conn.server
            )
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        // RFC 9457 problem: say its title and detail.
        let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let detail = problem.get("detail").and_then(Value::as_str).unwrap_or(&body);
        let title = problem.get("title").and_then(Value::as_str).unwrap_or("refused");
        bail!("{status} {title}: {detail}")
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.send(self.client.get(self.url(path))).await?.json().await?)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.send(self.client.post(self.url(path)).json(&body)).await?;
        let text = response.text().await?;
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }
}

fn print(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

pub async fn round(conn: Connection, command: RoundCommand) -> anyhow::Result<()> {
    let api = Api::new(conn);
    let value = match command {
        RoundCommand::Create {
            policy,
            seed_commitment,
            round_seed,
        } => {
            let policy_toml =
                std::fs::read_to_string(&policy).with_context(|| format!("reading {}", policy.display()))?;
            api.post(
                "/v1/rounds",
                json!({"policy_toml": policy_toml, "seed_commitment": seed_commitment, "round_seed": round_seed}),
            )
            .await?
        }
        RoundCommand::List => api.get("/v1/rounds").await?,
        RoundCommand::Show { round } => api.get(&format!("/v1/rounds/{round}")).await?,
        RoundCommand::Close { round } => api.post(&format!("/v1/rounds/{round}/close"), json!({})).await?,
        RoundCommand::Verify {
            round,
            leave_reviews_unplaced,
        } => {
            let path = format!("/v1/rounds/{round}/verify");
            api.post(&path, json!({"leave_reviews_unplaced": leave_reviews_unplaced}))
                .await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("   verifying [{bar:40}] {pos}/{len} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            loop {
                let status = api.get(&path).await?;
                // The round's progress as stored (every server's answer is the same).
                let progress = &status["progress"];
                bar.set_length(progress["total"].as_u64().unwrap_or(0));
                bar.set_position(progress["decided"].as_u64().unwrap_or(0));
                let run = &status["run"];
                if let Some(pass) = run["progress"]["pass"].as_u64() {
                    bar.set_message(format!("pass {pass}"));
                }
                if run["state"] == "failed" {
                    bar.abandon();
                    bail!("verification failed: {}", run["error"].as_str().unwrap_or("unknown"));
                }
                // Running here, or claims held by any server.
                if status["running"] == true {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                } else {
                    bar.finish_and_clear();
                    break status;
                }
            }
        }
        RoundCommand::Allocate {
            round,
            sealed_seed,
            public_draw,
        } => {
            api.post(
                &format!("/v1/rounds/{round}/allocate"),
                json!({"sealed_seed": sealed_seed, "public_draw": public_draw}),
            )
            .await?
        }
        RoundCommand::Publish { round } => api.post(&format!("/v1/rounds/{round}/publish"), json!({})).await?,
        RoundCommand::Correct {
            round,
            application,
            school,
            reason,
        } => {
            api.post(
                &format!("/v1/rounds/{round}/corrections"),
                json!({"application_id": application, "school_id": school, "reason": reason}),
            )
            .await?
        }
        RoundCommand::Replay {
            round,
            application,
            facts,
        } => {
            let body = match facts {
                None => json!({}),
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?
                }
            };
            api.post(&format!("/v1/rounds/{round}/applications/{application}/replay"), body)
                .await?
        }
        RoundCommand::ReplayAll { round } => api.post(&format!("/v1/rounds/{round}/replay"), json!({})).await?,
        RoundCommand::Schools { round } => api.get(&format!("/v1/rounds/{round}/reports/schools")).await?,
        RoundCommand::Audit { round, action } => {
            // Every page, oldest first.
            let mut entries = Vec::new();
            let mut after: Option<i64> = None;
            loop {
                let query = after.map(|a| format!("&after={a}")).unwrap_or_default();
                let page = api.get(&format!("/v1/rounds/{round}/audit?limit=1000{query}")).await?;
                entries.extend(page["entries"].as_array().cloned().unwrap_or_default());
                match page["next_after"].as_i64() {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            if let Some(action) = action {
                entries.retain(|e| e["action"] == action.as_str());
            }
            Value::Array(entries)
        }
    };
    print(&value);
    Ok(())
}

pub async fn review(conn: Connection, command: ReviewCommand) -> anyhow::Result<()> {
    let api = Api::new(conn);
    let value = match command {
        ReviewCommand::List { round } => api.get(&format!("/v1/rounds/{round}/reviews")).await?,
        ReviewCommand::Accept {
            round,
            application,
            note,
            resolved_addresses,
            delayed_enrolment,
            guardians,
            current_place_cleared,
            birth_date_confirmed,
        } => {
            let mut addresses = serde_json::Map::new();
            for pair in resolved_addresses {
                let Some((text, code)) = pair.rsplit_once('=') else {
                    bail!("--resolve-address takes TEXT=CODE, not {pair:?}");
                };
                addresses.insert(text.to_owned(), code.into());
            }
            let facts = json!({
                "resolved_addresses": addresses,
                "delayed_enrolment_approved": delayed_enrolment,
                "guardianship_confirmed": guardians,
                "current_place_cleared": current_place_cleared,
                "birth_date_confirmed": birth_date_confirmed,
            });
            api.post(
                &format!("/v1/rounds/{round}/reviews/{application}"),
                json!({"resolution": "accept", "facts": facts, "note": note}),
            )
            .await?
        }
        ReviewCommand::Reject {
            round,
            application,
            reason,
        } => {
            api.post(
                &format!("/v1/rounds/{round}/reviews/{application}"),
                json!({"resolution": "reject", "reason": reason}),
            )
            .await?
        }
        ReviewCommand::Exclude {
            round,
            application,
            reason,
        } => {
            api.post(
                &format!("/v1/rounds/{round}/exclusions"),
                json!({"application_id": application, "reason": reason}),
            )
            .await?
        }
    };
    print(&value);
    Ok(())
}

/// `enrol export ROUND FILE`: `assignments.csv` or `decisions.jsonl`, as published.
pub async fn export(conn: Connection, round: String, file: String, out: Option<PathBuf>) -> anyhow::Result<()> {
    let api = Api::new(conn);
    let response = api
        .send(api.client.get(api.url(&format!("/v1/rounds/{round}/exports/{file}"))))
        .await?;
    let bytes = response.bytes().await?;
    match out {
        Some(path) => std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

/// The files `enrol report` writes: the round output, the officers' report
/// and workbook, and (once published) the public notice with its cutoffs.
const REPORT_FILES: [&str; 7] = [
    "decisions.jsonl",
    "assignments.csv",
    "schools.csv",
    "instance.json",
    "cutoffs.csv",
    "report.html",
    "assignments.xlsx",
];

/// `enrol report ROUND --out DIR`: an allocated round's output with
/// `report.html` and `assignments.xlsx` (what `enrol demo` writes), and the
/// public notice `notice.csv` with `notice_cutoffs.csv` once the round is published.
pub async fn report(conn: Connection, round: String, out: PathBuf) -> anyhow::Result<()> {
    let api = Api::new(conn);
    let detail = api.get(&format!("/v1/rounds/{round}")).await?;
    let state = detail["state"].as_str().unwrap_or_default().to_owned();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut files: Vec<&str> = REPORT_FILES.to_vec();
    if state == "published" {
        files.extend(["notice.csv", "notice_cutoffs.csv"]);
    }
    for file in &files {
        let response = api
            .send(api.client.get(api.url(&format!("/v1/rounds/{round}/exports/{file}"))))
            .await
            .with_context(|| format!("downloading {file}"))?;
        let bytes = response.bytes().await?;
        let path = out.join(file);
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "round {round} ({state}): {} written to {}",
        files.join(" "),
        out.display()
    );
    Ok(())
}
