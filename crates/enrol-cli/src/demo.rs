//! `enrol demo`: a whole admission round in one command, as an education
//! bureau would run it, against the simulated registries.
//!
//! The round lives in a database of its own (a fresh SQLite file unless
//! `--database-url` names one). Run again on the same database, the demo
//! resumes the round where it stood: a killed demo loses nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{
    Orchestrator, OutputSummary, RegistryEvidence, RoundError, RoundSeed, RoundState, VerifyOptions,
};
use enrol_registry_sim::{Dataset, FaultPlan, SimConfig, Simulator};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::phases::Phases;

/// The sample city's round seed (fixtures/cities/sample/README.md).
pub const SAMPLE_SEED: &str = "sample-2027";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Dataset folder (registries.md fixture format); the sample city by default.
    #[arg(long, conflicts_with = "families")]
    pub dataset: Option<PathBuf>,
    /// Generate a city of this many families instead.
    #[arg(long)]
    pub families: Option<usize>,
    /// With `--families`: the share (0 to 1) of each kind of record written
    /// self-contradictory but well-formed (docs/city-generator.md). Off by default.
    #[arg(long, requires = "families", value_parser = parse_rate)]
    pub dirty: Option<f64>,
    /// The round seed, taken whole (a demo round; a live round commits a sealed seed).
    #[arg(long, default_value = SAMPLE_SEED)]
    pub seed: String,
    /// Registry faults: `flaky`, `none`, or a TOML fault file. The output is the same either way.
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// Where the round output goes.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// The policy file; the sample city's 2027 policy by default
    /// (`fixtures/policies/2027-junior.toml` runs the junior round).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The applications to submit; by default the dataset's file for the
    /// policy's stage: `applications.jsonl` (first grade) or
    /// `applications-junior.jsonl` (junior middle).
    #[arg(long)]
    pub applications: Option<PathBuf>,
    /// Keep the round in this database (resumable); a fresh SQLite file by default.
    #[arg(long, env = "ENROL_DEMO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Use the registries at this base URL (all seven under it, key `dev-key`,
    /// e.g. `enrol registries serve` in a process of its own) instead of
    /// starting the simulator in this process.
    #[arg(long, conflicts_with = "faults")]
    pub registries_url: Option<String>,
    /// Requests in flight to each registry at most (the client's default otherwise).
    #[arg(long)]
    pub registry_concurrency: Option<usize>,
    /// Applications gathered at once during verification (16 for each
    /// request a registry may have in flight by default: each application
    /// waits on several registries in turn, so fewer leave them idle).
    #[arg(long)]
    pub applications_in_flight: Option<usize>,
    /// Write the wall time and peak resident memory of each phase to this
    /// file, one JSON line per phase (the city bench reads it).
    #[arg(long)]
    pub phase_report: Option<PathBuf>,
    /// Pause after each round transition (for crash tests and for watching).
    #[arg(long, default_value_t = 0, hide = true)]
    pub step_pause_ms: u64,
}

fn default_sample_dir() -> PathBuf {
    let here = PathBuf::from("fixtures/cities/sample");
    if here.is_dir() {
        return here;
    }
    // From anywhere inside a checkout.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample")
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar
}

/// `--dirty RATE`: a share from 0 to 1.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        Ok(rate) => Err(format!("{rate} is not a share from 0 to 1")),
        Err(e) => Err(format!("{text:?} is not a number: {e}")),
    }
}

/// A value as a POSIX shell reads it back: bare when plain, else single-quoted.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=,@%".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The command that resumes this demo's round where it stood.
fn resume_command(args: &DemoArgs, dataset_dir: &Path, database_url: &str) -> String {
    let mut words = vec![
        "enrol".to_owned(),
        "demo".to_owned(),
        "--dataset".to_owned(),
        shell_word(&dataset_dir.display().to_string()),
        "--seed".to_owned(),
        shell_word(&args.seed),
        "--faults".to_owned(),
        shell_word(&args.faults),
        "--out".to_owned(),
        shell_word(&args.out.display().to_string()),
    ];
    if let Some(policy) = &args.policy {
        words.push("--policy".to_owned());
        words.push(shell_word(&policy.display().to_string()));
    }
    words.push("--database-url".to_owned());
    words.push(shell_word(database_url));
    words.join(" ")
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut scratch = WorkDir::new()?;
    let mut resume = None;
    let result = run_in(&args, &scratch, &mut resume).await;
    match (result, resume) {
        (Ok(()), _) => Ok(()),
        (Err(e), None) => Err(e),
        (Err(e), Some(command)) => {
            // The round (and a generated city) stay where the command finds them.
            scratch.keep();
            Err(e.context(format!(
                "the round did not finish; it is kept, and this resumes it where it stood:\n  {command}"
            )))
        }
    }
}

async fn run_in(args: &DemoArgs, scratch: &WorkDir, resume: &mut Option<String>) -> anyhow::Result<()> {
    let mut phases = Phases::new(args.phase_report.as_deref())?;
    let work = scratch.path();
    let dataset_dir = match (args.families, &args.dataset) {
        (Some(families), _) => {
            let dir = work.join("city");
            let spinner = ProgressBar::new_spinner().with_message(format!("generating a city of {families} families"));
            spinner.enable_steady_tick(Duration::from_millis(120));
            let config = enrol_city::CityConfig::new(families, 2027).with_dirt(args.dirty.unwrap_or(0.0));
            let city = enrol_city::generate(&config);
            city.write_to(&dir)
                .with_context(|| format!("writing the generated city to {}", dir.display()))?;
            spinner.finish_and_clear();
            drop(city);
            phases.mark("generate")?;
            dir
        }
        (None, Some(dir)) => dir.clone(),
        (None, None) => default_sample_dir(),
    };
    let policy_toml = match &args.policy {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        None => enrol_rules::SAMPLE_POLICY_TOML.to_owned(),
    };
    let policy = enrol_rules::Policy::from_toml_str(&policy_toml).context("reading the policy")?;
    let round_id = policy.round_id().to_string();

    // The registries: in-process on loopback, unless they run elsewhere.
    let (sim, base_url) = match &args.registries_url {
        Some(url) => (None, url.trim_end_matches('/').to_owned()),
        None => {
            let faults =
                FaultPlan::from_arg(&args.faults).with_context(|| format!("reading the faults {:?}", args.faults))?;
            let dataset = Dataset::load(&dataset_dir)
                .with_context(|| format!("loading the dataset {}", dataset_dir.display()))?;
            let sim = Simulator::start(
                dataset,
                SimConfig::default().with_faults(faults),
                "127.0.0.1:0".parse()?,
            )
            .await
            .context("starting the simulated registries")?;
            let url = sim.base_url();
            (Some(sim), url)
        }
    };
    let mut registry = RegistryConfig::new(base_url, "dev-key");
    if let Some(limit) = args.registry_concurrency {
        registry.concurrency = limit;
    }
    let applications_in_flight = args
        .applications_in_flight
        .unwrap_or(registry.concurrency.saturating_mul(16))
        .max(1);
    let config = RegistriesConfig::uniform(registry);
    let evidence =
        RegistryEvidence::connect(&config, GatherOptions::default()).context("configuring the registries")?;
    phases.mark("registries")?;

    // The engine: store, orchestrator, and its HTTP API on loopback.
    let database_url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}?mode=rwc", work.join("enrol.db").display()),
    };
    let store = enrol_store::Store::open(&database_url)
        .await
        .context("opening the database")?;
    *resume = Some(resume_command(args, &dataset_dir, &database_url));
    let orchestrator = Orchestrator::new(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the API")?;
    let api_url = format!("http://{}", listener.local_addr()?);
    let router = enrol_api::router(
        orchestrator.clone(),
        Arc::new(evidence.clone()),
        enrol_api::ApiConfig::dev(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(enrol_api::serve(listener, router, async {
        let _ = stopped.await;
    }));

    let pause = || tokio::time::sleep(Duration::from_millis(args.step_pause_ms));
    let actor = "demo";
    let mut state = match orchestrator.round(&round_id).await {
        Ok(round) => round.state,
        Err(RoundError::UnknownRound(_)) => {
            orchestrator
                .create_round(&policy_toml, RoundSeed::Whole(args.seed.clone()), actor)
                .await?;
            pause().await;
            RoundState::Open
        }
        Err(err) => return Err(err.into()),
    };
    let mut refused = Vec::new();
    if state == RoundState::Open {
        let applications = match &args.applications {
            Some(file) => file.clone(),
            None => dataset_dir.join(applications_file(policy.stage())),
        };
        refused = submit_all(&api_url, &applications).await?;
        orchestrator.close(&round_id, actor).await?;
        phases.mark("submit")?;
        pause().await;
        state = RoundState::Closed;
    }
    if state == RoundState::Closed {
        let progress = bar(0, "verifying");
        let options = VerifyOptions {
            leave_reviews_unplaced: true,
            passes: 30,
            retry_delay: Duration::from_millis(500),
            concurrency: applications_in_flight,
            ..VerifyOptions::default()
        };
        let report = orchestrator
            .verify(&round_id, &evidence, options, actor, &|p| {
                progress.set_length(p.total as u64);
                progress.set_position(p.done as u64);
                progress.set_message(if p.pass > 1 {
                    format!("retry pass {}", p.pass)
                } else {
                    String::new()
                });
            })
            .await?;
        progress.finish_and_clear();
        phases.mark("verify")?;
        if !report.verified {
            bail!(
                "{} applications are still pending: a registry did not answer in {} passes",
                report.pending,
                options.passes
            );
        }
        pause().await;
        state = RoundState::Verified;
    }
    if state == RoundState::Verified {
        orchestrator.allocate(&round_id, None, actor).await?;
        phases.mark("allocate")?;
        pause().await;
        state = RoundState::Allocated;
    }
    if state == RoundState::Allocated {
        orchestrator.publish(&round_id, actor).await?;
        phases.mark("publish")?;
        pause().await;
    }

    let summary = orchestrator
        .write_output(&round_id, &args.out)
        .await
        .with_context(|| format!("writing the round output to {}", args.out.display()))?;
    phases.mark("output")?;
    let round = orchestrator.round(&round_id).await?;
    let schools = orchestrator.schools(&round_id).await?.unwrap_or_default();
    let facts = enrol_report::RoundFacts {
        round_id: round.id.clone(),
        policy_version: round.policy_version.clone(),
        tiers: policy
            .tiers()
            .iter()
            .map(|t| enrol_report::TierLabel {
                name: t.name.clone(),
                label_zh: Some(t.label_zh.clone()),
                label_en: Some(t.label_en.clone()),
            })
            .collect(),
        seed_commitment: round.seed_commitment.clone(),
        round_seed: round.round_seed.clone().unwrap_or_default(),
        school_names: schools.values().map(|s| (s.id.clone(), s.name.clone())).collect(),
    };
    let report = enrol_report::ReportInput::from_output_dir(&args.out, facts)
        .context("reading the round output for the report")?;
    std::fs::write(args.out.join("report.html"), enrol_report::render_html(&report)).context("writing report.html")?;
    phases.mark("report")?;
    enrol_report::write_xlsx(&report, args.out.join("assignments.xlsx")).context("writing assignments.xlsx")?;
    phases.mark("xlsx")?;

    let _ = stop.send(());
    server.await.context("the API task")?.context("the API server")?;
    if let Some(sim) = sim {
        sim.shutdown().await.context("stopping the registries")?;
    }
    print_summary(&round.id, &summary, &refused, &args.out);
    Ok(())
}

/// The dataset's applications file for a round of `stage` (docs/city-generator.md:
/// the junior round's applications are kept apart from the first-grade ones).
pub fn applications_file(stage: enrol_domain::Stage) -> &'static str {
    match stage {
        enrol_domain::Stage::Primary => "applications.jsonl",
        enrol_domain::Stage::Junior => "applications-junior.jsonl",
    }
}

/// Posts every line of `applications.jsonl` to the API as the upstream app
/// would: its key, the signed-in applicant's ID, the body as written.
/// Returns the lines the API refused, with why.
async fn submit_all(api_url: &str, file: &Path) -> anyhow::Result<Vec<(usize, String)>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect();
    let client = reqwest::Client::new();
    let progress = bar(lines.len() as u64, "submitting");
    let url = format!("{api_url}/v1/applications");
    let mut results = futures::stream::iter(lines.into_iter().map(|(line_no, body)| {
        let (client, url) = (&client, &url);
        async move {
            let citizen = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("applicant_id").and_then(|a| a.as_str()).map(str::to_owned))
                .unwrap_or_default();
            let answer = client
                .post(url.as_str())
                .header("X-Api-Key", enrol_api::DEV_APP_KEY)
                .header("X-Citizen-Id", citizen)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await;
            (line_no, answer)
        }
    }))
    .buffer_unordered(16);
    let mut refused = Vec::new();
    while let Some((line_no, answer)) = results.next().await {
        let answer = answer.with_context(|| format!("submitting line {line_no}"))?;
        let status = answer.status();
        if !status.is_success() {
            let body = answer.text().await.unwrap_or_default();
            let detail = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
                .unwrap_or(body);
            refused.push((line_no, format!("{status}: {detail}")));
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    refused.sort();
    Ok(refused)
}

fn print_summary(round_id: &str, summary: &OutputSummary, refused: &[(usize, String)], out: &Path) {
    let (by_status, by_route) = (&summary.by_status, &summary.by_route);
    println!("round {round_id}: published");
    println!(
        "  {:<28}{:>8}",
        "applications decided",
        by_status.values().sum::<usize>()
    );
    for (status, n) in by_status {
        println!("    {status:<26}{n:>8}");
    }
    println!("  {:<28}{:>8}", "seats", "");
    for (route, label) in [
        ("choice", "placed at a preference"),
        ("overflow", "placed by overflow"),
        ("none", "without a seat"),
    ] {
        println!("    {label:<26}{:>8}", by_route.get(route).copied().unwrap_or(0));
    }
    if !refused.is_empty() {
        println!("  {:<28}{:>8}", "refused at submission", refused.len());
        for (line, why) in refused.iter().take(5) {
            println!("    line {line}: {why}");
        }
    }
    println!(
        "output in {}: decisions.jsonl assignments.csv schools.csv instance.json report.html assignments.xlsx",
        out.display()
    );
}

/// The demo's scratch folder (a generated city, the default database),
/// removed when the demo ends, unless kept for resuming an unfinished round.
struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn new() -> anyhow::Result<WorkDir> {
        let path = std::env::temp_dir().join(format!("enrol-demo-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path, keep: false })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the folder in place when the demo ends.
    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
