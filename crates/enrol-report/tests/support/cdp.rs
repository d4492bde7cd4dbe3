//! A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe`
//! (fd 3: commands in, fd 4: replies and events out, each message JSON ended
//! by a NUL byte). Enough to open a page, read console and network events,
//! evaluate an expression and take a screenshot, with no websocket stack.

use std::io::{BufRead, BufReader, PipeWriter, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use serde_json::{Value, json};

/// Where CI's chromium is (Debian's package `chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long to wait for any one answer before calling the browser stuck. A
/// safety net against a hung test, not a timing assertion: a healthy
/// browser answers in well under a second.
const PATIENCE: Duration = Duration::from_secs(90);

/// Chromium's path, or `None` (with a loud notice) when it is missing and
/// this is not CI. In CI (`CI` set) a missing browser fails the test.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let path = PathBuf::from(CHROMIUM);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {CHROMIUM} is missing and CI is set: .ci/run must `apt-get install -y chromium`");
    }
    // Straight to stderr: the test harness captures `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "\n==================== SKIPPED: {test} ====================\n\
         {CHROMIUM} is missing, so the headless-browser check of report.html did not run.\n\
         Install it with `apt-get install -y chromium`; in CI (CI set) this test fails instead.\n\
         ========================================================\n"
    );
    None
}

/// A running headless chromium driven over the DevTools pipe.
pub struct Browser {
    child: Child,
    commands: PipeWriter,
    replies: Receiver<Value>,
    next_id: u64,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
    stderr_path: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromium with a fresh empty profile and the flags a closed
    /// network and a root user need.
    pub fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let stderr_path = profile.path().join("chromium-stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("chromium's stderr log");
        let (child_reads, commands) = std::io::pipe().expect("a pipe for commands");
        let (replies_read, child_writes) = std::io::pipe().expect("a pipe for replies");
        let mut command = Command::new(binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .fd_mappings(vec![
                FdMapping {
                    parent_fd: OwnedFd::from(child_reads),
                    child_fd: 3,
                },
                FdMapping {
                    parent_fd: OwnedFd::from(child_writes),
                    child_fd: 4,
                },
            ])
            .expect("distinct child fds");
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // The command holds the parent's copies of the child's pipe ends:
        // drop it so that the reader sees the end when chromium exits.
        drop(command);
        let (send, replies) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(replies_read);
            let mut message = Vec::new();
            loop {
                message.clear();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if message.last() == Some(&0) {
                            message.pop();
                        }
                        let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                            break;
                        };
                        if send.send(value).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Browser {
            child,
            commands,
            replies,
            next_id: 0,
            events: Vec::new(),
            stderr_path,
            _profile: profile,
        }
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn receive(&mut self, until: Instant, waiting_for: &str) -> Value {
        let left = until.saturating_duration_since(Instant::now());
        match self.replies.recv_timeout(left) {
            Ok(value) => value,
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "chromium did not answer {waiting_for} in {PATIENCE:?}; its stderr:\n{}",
                    self.stderr_tail()
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "chromium closed the pipe while we waited for {waiting_for}; its stderr:\n{}",
                    self.stderr_tail()
                )
            }
        }
    }

    /// Sends a command and returns its result, keeping the events that
    /// arrive meanwhile.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("a command serializes");
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .unwrap_or_else(|e| panic!("cannot send {method}: {e}; chromium's stderr:\n{}", self.stderr_tail()));
        let until = Instant::now() + PATIENCE;
        loop {
            let value = self.receive(until, method);
            if value.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(error) = value.get("error") {
                    panic!("{method} failed: {error}");
                }
                return value.get("result").cloned().unwrap_or(Value::Null);
            }
            if value.get("method").is_some() {
                self.events.push(value);
            }
        }
    }

    /// Waits for an event of `method` on `session` among the events from
    /// index `from` on (earlier ones belong to an earlier page).
    pub fn wait_event(&mut self, session: &str, method: &str, from: usize) -> Value {
        let matches = |e: &Value| {
            e.get("method").and_then(Value::as_str) == Some(method)
                && e.get("sessionId").and_then(Value::as_str) == Some(session)
        };
        if let Some(found) = self.events[from.min(self.events.len())..].iter().find(|e| matches(e)) {
            return found.clone();
        }
        let until = Instant::now() + PATIENCE;
        loop {
            let value = self.receive(until, method);
            if value.get("method").is_some() {
                let hit = matches(&value);
                self.events.push(value.clone());
                if hit {
                    return value;
                }
            }
        }
    }

    /// Opens a new page and turns on the events the checks read; returns
    /// its session id.
    pub fn open_page(&mut self, width: u32, height: u32) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        let session = attached["sessionId"].as_str().expect("a session id").to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            self.call(Some(&session), domain, json!({}));
        }
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        session
    }

    /// Loads `url`, waits for its load event, then evaluates `expression`
    /// (which must return a JSON-able value).
    pub fn visit(&mut self, session: &str, url: &str, expression: &str) -> Visit {
        let start = self.events.len();
        let navigated = self.call(Some(session), "Page.navigate", json!({"url": url}));
        if let Some(error) = navigated.get("errorText") {
            panic!("navigating to {url} failed: {error}");
        }
        self.wait_event(session, "Page.loadEventFired", start);
        let evaluated = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = evaluated.get("exceptionDetails") {
            panic!("evaluating the check threw: {exception}");
        }
        // One more round trip, so every event the page caused so far is in.
        self.call(Some(session), "Runtime.evaluate", json!({"expression": "0"}));
        Visit {
            url: url.to_owned(),
            events: self.events[start..].to_vec(),
            value: evaluated["result"]["value"].clone(),
        }
    }

    /// A PNG of the page as laid out now, `height` CSS pixels from the top
    /// (the whole page when `None`).
    pub fn screenshot(&mut self, session: &str, width: u32, height: Option<u32>) -> Vec<u8> {
        let metrics = self.call(Some(session), "Page.getLayoutMetrics", json!({}));
        let full = metrics["cssContentSize"]["height"].as_f64().unwrap_or(1000.0);
        let height = height.map_or(full, |h| f64::from(h).min(full));
        let shot = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
        );
        let data = shot["data"].as_str().expect("screenshot data");
        decode_base64(data)
    }

    /// Closes the browser and waits for it to exit.
    pub fn close(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close", "params": {}});
        let mut bytes = serde_json::to_vec(&close).unwrap_or_default();
        bytes.push(0);
        let _ = self.commands.write_all(&bytes);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Only our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// What one page load showed.
pub struct Visit {
    pub url: String,
    pub events: Vec<Value>,
    pub value: Value,
}

impl Visit {
    /// Console errors, uncaught exceptions, error log entries, failed
    /// requests, and any request beyond the page itself and `data:` URLs.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for event in &self.events {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or("") {
                "Runtime.exceptionThrown" => out.push(format!("uncaught exception: {}", params["exceptionDetails"])),
                "Runtime.consoleAPICalled" if matches!(params["type"].as_str(), Some("error" | "assert")) => out.push(
                    format!("console.{}: {}", params["type"].as_str().unwrap_or(""), params["args"]),
                ),
                "Log.entryAdded" if params["entry"]["level"] == "error" => out.push(format!(
                    "console error: {} ({})",
                    params["entry"]["text"], params["entry"]["url"]
                )),
                "Network.loadingFailed" => out.push(format!(
                    "failed request {}: {}",
                    params["requestId"],
                    params["errorText"].as_str().unwrap_or("")
                )),
                "Network.requestWillBeSent" => {
                    let url = params["request"]["url"].as_str().unwrap_or("");
                    if url != self.url && !url.starts_with("data:") {
                        out.push(format!("request beyond the page: {url}"));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// Standard base64 (with padding), as CDP sends binary data.
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A `file://` URL for an absolute path (percent-encoding what a URL path may not hold).
pub fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}
