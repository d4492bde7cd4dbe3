//! Wall time, CPU time and peak resident memory of each phase of a demo round, for the
//! city bench (`enrol demo --phase-report FILE`, `benches/city.rs`).
//!
//! Each phase's peak is the process's high-water mark (`VmHWM` of
//! `/proc/self/status`) since the previous phase ended: Linux resets it when
//! `5` is written to `/proc/self/clear_refs`. Where `/proc` is missing the
//! memory columns are simply absent.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;

/// Records one JSON line per phase into a file, or nothing.
#[derive(Debug)]
pub struct Phases {
    file: Option<std::fs::File>,
    since: Instant,
    cpu_since: Option<f64>,
}

impl Phases {
    pub fn new(path: Option<&Path>) -> anyhow::Result<Phases> {
        let file = match path {
            Some(path) => Some(
                std::fs::File::create(path).with_context(|| format!("creating the phase report {}", path.display()))?,
            ),
            None => None,
        };
        if file.is_some() {
            reset_peak();
        }
        Ok(Phases {
            file,
            since: Instant::now(),
            cpu_since: cpu_s(),
        })
    }

    /// Ends the phase that began at the previous mark (or at the start), and
    /// begins the next.
    pub fn mark(&mut self, phase: &str) -> anyhow::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let wall_s = self.since.elapsed().as_secs_f64();
        let cpu_now = cpu_s();
        let cpu = cpu_now
            .zip(self.cpu_since)
            .map(|(now, since)| ((now - since) * 100.0).round() / 100.0);
        let line = serde_json::json!({
            "phase": phase,
            "wall_s": (wall_s * 1000.0).round() / 1000.0,
            "cpu_s": cpu,
            "peak_rss_mb": status_kb("VmHWM:").map(|kb| kb / 1024),
            "rss_mb": status_kb("VmRSS:").map(|kb| kb / 1024),
        });
        writeln!(file, "{line}").context("writing the phase report")?;
        reset_peak();
        self.since = Instant::now();
        self.cpu_since = cpu_now;
        Ok(())
    }
}

/// The process's CPU time so far (user and system, all threads), from
/// `/proc/self/stat` in clock ticks of 1/100 s (Linux's `USER_HZ`).
fn cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}
