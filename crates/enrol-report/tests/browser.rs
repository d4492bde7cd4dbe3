//! report.html in a real headless browser (Debian's chromium): a chart of
//! non-zero rendered size for every school, no console error, no request
//! beyond the file itself. Skips only outside CI when chromium is missing.
//!
//! `ENROL_REPORT_SCREENSHOT=$PWD/docs/report.png` also writes a screenshot of
//! the fixture report down to its review queue (the one in the README).

mod support;

use std::path::Path;

use enrol_report::render_html;
use serde_json::{Value, json};
use support::cdp::{Browser, chromium_or_skip, file_url};

const WIDTH: u32 = 1100;

/// Every chart element with its school and rendered size.
const CHARTS: &str = r#"[...document.querySelectorAll('.chart')].map(e => {
  const r = e.getBoundingClientRect();
  return {school: e.getAttribute('data-school'), width: r.width, height: r.height};
})"#;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn every_school_has_a_rendered_chart_and_the_page_is_quiet() {
    let Some(chromium) = chromium_or_skip("every_school_has_a_rendered_chart_and_the_page_is_quiet") else {
        return;
    };
    let input = support::fixture();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.html");
    write(&report, &render_html(&input));

    let mut browser = Browser::launch(&chromium);
    let page = browser.open_page(WIDTH, 900);
    let visit = browser.visit(&page, &file_url(&report), CHARTS);
    assert_eq!(
        visit.problems(),
        Vec::<String>::new(),
        "report.html must load without errors or requests"
    );

    let charts = visit.value.as_array().expect("a list of charts");
    assert_eq!(charts.len(), input.schools().len(), "one chart per school: {charts:?}");
    for school in input.schools() {
        let id = school.school_id.as_str();
        let chart = charts
            .iter()
            .find(|c| c["school"] == id)
            .unwrap_or_else(|| panic!("no chart for school {id}: {charts:?}"));
        let size = |key: &str| chart[key].as_f64().unwrap_or(0.0);
        assert!(
            size("width") > 0.0 && size("height") > 0.0,
            "the chart of {id} is not rendered: {chart}"
        );
    }

    if let Some(target) = std::env::var_os("ENROL_REPORT_SCREENSHOT") {
        // Down to the review queue: the charts and tables, small enough for a README.
        let top = browser.call(
            Some(&page),
            "Runtime.evaluate",
            json!({"expression": "document.getElementById('review').offsetTop", "returnByValue": true}),
        );
        let height = top["result"]["value"].as_f64().map(|h| h as u32);
        let png = browser.screenshot(&page, WIDTH, height);
        std::fs::write(&target, png).unwrap_or_else(|e| panic!("{target:?}: {e}"));
    }
    browser.close();
}

/// The checks above would see a fault: a page with a console error and a
/// request that fails is reported with both.
#[test]
fn the_harness_sees_console_errors_and_requests() {
    let Some(chromium) = chromium_or_skip("the_harness_sees_console_errors_and_requests") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let noisy = dir.path().join("noisy.html");
    // Port 9 (discard) on loopback: nothing listens, so the request fails at once.
    write(
        &noisy,
        "<!DOCTYPE html><html><body><script>console.error('boom')</script>\
         <img src=\"http://127.0.0.1:9/chart.png\"></body></html>",
    );
    let mut browser = Browser::launch(&chromium);
    let page = browser.open_page(WIDTH, 600);
    let visit = browser.visit(&page, &file_url(&noisy), "document.images.length");
    assert_eq!(visit.value, Value::from(1));
    let problems = visit.problems();
    assert!(problems.iter().any(|p| p.contains("boom")), "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.contains("127.0.0.1:9/chart.png")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("failed request")),
        "{problems:#?}"
    );
    browser.close();
}
