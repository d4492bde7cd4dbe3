//! A whole city's round at scale: `cargo bench -p enrol-cli --bench city`.
//!
//! For each number of families and each backend it generates a city
//! (`enrol city generate`), starts the simulated registries in a process of
//! their own (`enrol registries serve`, every registry answering after the
//! latency), runs `enrol demo` against them in another process, and records
//! per phase the wall time, the engine's CPU time and its peak resident
//! memory (the demo's `--phase-report`), the simulator's peak and CPU apart, the registry calls per
//! application (from the simulator's access logs), and verification's
//! applications per second against the bound (for each registry: concurrency
//! ÷ latency ÷ its calls per application; the smallest), and the machine's
//! load average as the demo started and ended.
//!
//! Knobs (environment):
//! - `CITY_FAMILIES`: comma-separated sizes, `20000` by default (`none`: no
//!   run, the plot only redrawn);
//! - `CITY_LATENCY_MS`: every registry's latency, `20`;
//! - `CITY_CONCURRENCY`: requests in flight per registry, `16`;
//! - `CITY_BACKENDS`: `sqlite`, `postgres` or both comma-separated, `sqlite`;
//! - `CITY_PG_URL`: the PostgreSQL server, `postgres://postgres@127.0.0.1:5432`
//!   (the bench drops and creates the database `enrol_city_bench` there);
//! - `CITY_LABEL`: the series the runs belong to (`after`; `before` for the
//!   code before a change);
//! - `CITY_ENROL_BIN`: the `enrol` binary to run (the one cargo built);
//! - `CITY_RESULTS`: the JSON-lines file runs are appended to,
//!   `docs/bench/city.jsonl`; `CITY_PLOT`: the SVG drawn from the runs in it
//!   labelled `before…` or `after…`,
//!   `docs/bench/city.svg` (both relative to the workspace root).
//!
//! It is a `harness = false` bench: `cargo test` never runs it, and clippy
//! only compiles it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const REGISTRIES: [&str; 7] = [
    "hukou",
    "birth",
    "property",
    "residence",
    "social-insurance",
    "zones",
    "enrolment-history",
];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Knobs {
    latency_ms: u64,
    concurrency: usize,
    label: String,
    pg_url: String,
    enrol: PathBuf,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    // `none`: no run, only the plot redrawn from the results file.
    let families: Vec<usize> = env_or("CITY_FAMILIES", "20000")
        .split(',')
        .filter(|n| n.trim() != "none")
        .map(|n| {
            n.trim()
                .parse()
                .expect("CITY_FAMILIES: comma-separated numbers, or none")
        })
        .collect();
    let backends: Vec<String> = env_or("CITY_BACKENDS", "sqlite")
        .split(',')
        .map(|b| b.trim().to_owned())
        .collect();
    let knobs = Knobs {
        latency_ms: env_or("CITY_LATENCY_MS", "20").parse().expect("CITY_LATENCY_MS"),
        concurrency: env_or("CITY_CONCURRENCY", "16").parse().expect("CITY_CONCURRENCY"),
        label: env_or("CITY_LABEL", "after"),
        pg_url: env_or("CITY_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        enrol: std::env::var_os("CITY_ENROL_BIN")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_enrol")), PathBuf::from),
    };
    let root = workspace_root();
    let results = root.join(env_or("CITY_RESULTS", "docs/bench/city.jsonl"));
    let plot = root.join(env_or("CITY_PLOT", "docs/bench/city.svg"));
    if let Some(dir) = results.parent() {
        std::fs::create_dir_all(dir).expect("creating the results folder");
    }
    for &n in &families {
        for backend in &backends {
            let record = run(n, backend, &knobs);
            println!("{record}");
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&results)
                .expect("opening the results file");
            writeln!(file, "{record}").expect("appending to the results file");
        }
    }
    let text = std::fs::read_to_string(&results).unwrap_or_default();
    let records: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    std::fs::write(&plot, svg(&records)).expect("writing the plot");
    eprintln!("results in {}, plot in {}", results.display(), plot.display());
}

/// A child process killed when dropped (the simulator, however the run ends).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(families: usize, backend: &str, knobs: &Knobs) -> Value {
    let work = std::env::temp_dir().join(format!("enrol-city-bench-{}-{families}-{backend}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("creating the work folder");
    let city = work.join("city");
    let started = Instant::now();
    let status = Command::new(&knobs.enrol)
        .args([
            "city",
            "generate",
            "--families",
            &families.to_string(),
            "--seed",
            "2027",
            "--out",
        ])
        .arg(&city)
        .status()
        .expect("running enrol city generate");
    assert!(status.success(), "enrol city generate failed");
    let generate_s = started.elapsed().as_secs_f64();

    let faults = work.join("latency.toml");
    std::fs::write(&faults, format!("[all]\nlatency_ms = {}\n", knobs.latency_ms)).expect("writing the fault file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let sim = Guard(
        Command::new(&knobs.enrol)
            .args(["registries", "serve", "--addr", &addr, "--dataset"])
            .arg(&city)
            .arg("--faults")
            .arg(&faults)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting the simulator"),
    );
    let ready = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(600),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let database_url = match backend {
        "sqlite" => format!("sqlite://{}?mode=rwc", work.join("enrol.db").display()),
        "postgres" => {
            for sql in [
                "DROP DATABASE IF EXISTS enrol_city_bench WITH (FORCE)",
                "CREATE DATABASE enrol_city_bench",
            ] {
                let status = Command::new("psql")
                    .args([&format!("{}/postgres", knobs.pg_url), "-q", "-c", sql])
                    .status()
                    .expect("running psql");
                assert!(status.success(), "psql {sql} failed");
            }
            format!("{}/enrol_city_bench", knobs.pg_url)
        }
        other => panic!("CITY_BACKENDS: unknown backend {other}"),
    };
    let phases_file = work.join("phases.jsonl");
    let load_before = load_average();
    let started = Instant::now();
    let output = Command::new(&knobs.enrol)
        .args(["demo", "--seed", "city-bench-2027", "--registries-url"])
        .arg(format!("http://{addr}"))
        .args(["--registry-concurrency", &knobs.concurrency.to_string()])
        .arg("--dataset")
        .arg(&city)
        .arg("--out")
        .arg(work.join("out"))
        .arg("--database-url")
        .arg(&database_url)
        .arg("--phase-report")
        .arg(&phases_file)
        .stderr(Stdio::null())
        .output()
        .expect("running enrol demo");
    let demo_s = started.elapsed().as_secs_f64();
    let load_after = load_average();
    assert!(
        output.status.success(),
        "enrol demo failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );

    let sim_peak_mb = peak_rss_mb(sim.0.id());
    let sim_cpu_s = cpu_s(sim.0.id());
    let calls: Vec<(&str, usize)> = REGISTRIES.iter().map(|r| (*r, access_log_len(&addr, r))).collect();
    drop(sim);

    let phases: Vec<Value> = std::fs::read_to_string(&phases_file)
        .expect("the phase report")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a phase line"))
        .collect();
    let phase = |name: &str| phases.iter().find(|p| p["phase"] == name);
    let verify_s = phase("verify").and_then(|p| p["wall_s"].as_f64()).unwrap_or(f64::NAN);
    let engine_peak_mb = phases
        .iter()
        .filter_map(|p| p["peak_rss_mb"].as_u64())
        .max()
        .unwrap_or(0);
    let engine_cpu_s: f64 = phases.iter().filter_map(|p| p["cpu_s"].as_f64()).sum();
    let verify_cpu_s = phase("verify").and_then(|p| p["cpu_s"].as_f64());
    let per_app = |n: usize| n as f64 / families as f64;
    let (binding, most) = calls
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|&(r, n)| (r, per_app(n)))
        .expect("seven registries");
    let bound = knobs.concurrency as f64 / (knobs.latency_ms as f64 / 1000.0) / most;
    let apps_per_s = families as f64 / verify_s;
    let _ = std::fs::remove_dir_all(&work);
    json!({
        "label": knobs.label,
        "families": families,
        "backend": backend,
        "latency_ms": knobs.latency_ms,
        "concurrency": knobs.concurrency,
        "generate_s": round3(generate_s),
        "demo_s": round3(demo_s),
        "phases": phases,
        "engine_peak_mb": engine_peak_mb,
        "simulator_peak_mb": sim_peak_mb,
        "engine_cpu_s": round3(engine_cpu_s),
        "verify_cpu_s": verify_cpu_s,
        "simulator_cpu_s": sim_cpu_s.map(round3),
        "calls_per_app": calls.iter().map(|&(r, n)| (r.to_owned(), json!(round3(per_app(n))))).collect::<serde_json::Map<_, _>>(),
        "bound_registry": binding,
        "bound_apps_per_s": round3(bound),
        "verify_apps_per_s": round3(apps_per_s),
        "of_bound": round3(apps_per_s / bound),
        "date": chrono_free_date(),
        // The machine's 1-minute load average when the demo started and
        // ended: how much else was running (the figures are upper bounds
        // when it exceeds the cores).
        "load_average": [load_before, load_after],
    })
}

/// The 1-minute load average (`/proc/loadavg`), `None` where there is none.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Today's date from `date -u`, without a date crate.
fn chrono_free_date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%MZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

/// A process's CPU time so far (user and system), from `/proc/PID/stat` in
/// clock ticks of 1/100 s.
fn cpu_s(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// How many requests a registry's access log holds (registries.md, "Access log").
fn access_log_len(addr: &str, registry: &str) -> usize {
    #[derive(serde::Deserialize)]
    struct Log {
        entries: Vec<serde::de::IgnoredAny>,
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let body = reqwest::Client::new()
            .get(format!("http://{addr}/{registry}/v1/_access-log"))
            .header("X-Api-Key", "dev-key")
            .send()
            .await
            .expect("reading the access log")
            .text()
            .await
            .expect("the access log's body");
        serde_json::from_str::<Log>(&body).expect("an access log").entries.len()
    })
}

/// Two panels, wall time and the engine's peak memory against families, one
/// line per (label, backend), for the series labelled `before…` or `after…`
/// (runs of intermediate commits stay in the results file, out of the plot).
fn svg(records: &[Value]) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut series: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for r in records {
        let (Some(n), Some(t), Some(m)) = (
            r["families"].as_f64(),
            r["demo_s"].as_f64(),
            r["engine_peak_mb"].as_f64(),
        ) else {
            continue;
        };
        let label = r["label"].as_str().unwrap_or("?");
        if !(label.starts_with("before") || label.starts_with("after")) {
            continue;
        }
        let name = format!(
            "{} {} ({} ms, {})",
            r["label"].as_str().unwrap_or("?"),
            r["backend"].as_str().unwrap_or("?"),
            r["latency_ms"],
            r["concurrency"]
        );
        series.entry(name).or_default().push((n, t / 60.0, m / 1024.0));
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let max_n = series.values().flatten().map(|p| p.0).fold(1.0, f64::max);
    let max_t = series.values().flatten().map(|p| p.1).fold(1.0, f64::max);
    let max_m = series.values().flatten().map(|p| p.2).fold(0.5, f64::max);
    let colours = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    ];
    let (w, h, pad) = (420.0, 260.0, 50.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="11">"#,
        2.0 * w + 20.0,
        h + 40.0 + 16.0 * series.len() as f64
    );
    for (panel, (title, max_y, pick)) in [
        ("round wall time (min)", max_t, 1usize),
        ("engine peak RSS (GB)", max_m, 2usize),
    ]
    .into_iter()
    .enumerate()
    {
        let x0 = panel as f64 * (w + 20.0);
        let px = |n: f64| x0 + pad + (n / max_n) * (w - pad - 10.0);
        let py = |y: f64| h - pad + 20.0 - (y / max_y) * (h - pad - 10.0);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="14" font-weight="bold">{title}</text>"#,
            x0 + pad
        );
        let _ = writeln!(
            out,
            r##"<line x1="{a}" y1="{b}" x2="{c}" y2="{b}" stroke="#444"/><line x1="{a}" y1="{b}" x2="{a}" y2="20" stroke="#444"/>"##,
            a = px(0.0),
            b = py(0.0),
            c = px(max_n)
        );
        for i in 0..=4 {
            let y = max_y * f64::from(i) / 4.0;
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="end">{y:.1}</text>"#,
                px(0.0) - 4.0,
                py(y) + 4.0
            );
            let n = max_n * f64::from(i) / 4.0;
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle">{}k</text>"#,
                px(n),
                py(0.0) + 14.0,
                (n / 1000.0).round()
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">families</text>"#,
            px(max_n / 2.0),
            py(0.0) + 28.0
        );
        for (k, points) in series.values().enumerate() {
            let colour = colours[k % colours.len()];
            let path: Vec<String> = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", px(p.0), py(if pick == 1 { p.1 } else { p.2 })))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                path.join(" ")
            );
            for xy in &path {
                let (x, y) = xy.split_once(',').expect("x,y");
                let _ = writeln!(out, r#"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"#);
            }
        }
    }
    for (k, name) in series.keys().enumerate() {
        let y = h + 30.0 + 16.0 * k as f64;
        let colour = colours[k % colours.len()];
        let _ = writeln!(
            out,
            r#"<rect x="{pad}" y="{}" width="12" height="4" fill="{colour}"/>"#,
            y - 4.0
        );
        let _ = writeln!(out, r#"<text x="{}" y="{y}">{name}</text>"#, pad + 18.0);
    }
    out.push_str("</svg>\n");
    out
}
