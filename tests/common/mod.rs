//! Shared helpers of the integration tests: paths of the built guests, a
//! shared compile cache, temp guest directories, running the real binary.
//!
//! Guests are built by `just guests` / `just test-guests` (which `just test`
//! runs first). A missing guest is a test failure with the fix in the message,
//! never a silent skip.

#![allow(dead_code)]

pub mod agent;
pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn kennel() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kennel"))
}

/// A bundled guest from guests/dist (built by `just guests`).
pub fn dist(name: &str) -> PathBuf {
    let p = root().join("guests/dist").join(format!("{name}.wasm"));
    assert!(
        p.is_file(),
        "{} is missing: run `just guests` (or `just test`, which builds it)",
        p.display()
    );
    p
}

/// A test-only guest (built by `just test-guests`).
pub fn test_guest(name: &str) -> PathBuf {
    let p = root()
        .join("target/wasm32-wasip2/guest")
        .join(format!("{name}.wasm"));
    assert!(
        p.is_file(),
        "{} is missing: run `just test-guests` (or `just test`)",
        p.display()
    );
    p
}

/// Compile cache shared by all tests (Python/JS guests take seconds to compile).
pub fn cache_dir() -> PathBuf {
    root().join("target/kennel-test-cache")
}

/// A temp guest directory holding copies of the given files (with their stems as names).
pub fn guest_dir(files: &[&Path]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for f in files {
        std::fs::copy(f, d.path().join(f.file_name().expect("name"))).expect("copy guest");
        let toml = f.with_extension("toml");
        if toml.is_file() {
            std::fs::copy(&toml, d.path().join(toml.file_name().expect("name")))
                .expect("copy limits");
        }
    }
    d
}

/// A `kennel` command with the shared cache and a quiet log.
pub fn cmd() -> Command {
    let mut c = Command::new(kennel());
    c.env("KENNEL_CACHE_DIR", cache_dir())
        .env_remove("MATTERMOST_URL")
        .env_remove("MATTERMOST_TOKEN")
        .env_remove("MATTERMOST_ALLOWED_USERS")
        .env_remove("MATTERMOST_REPLY_MODE")
        .env_remove("MATTERMOST_HOME_CHANNEL")
        .env_remove("MATTERMOST_REQUIRE_MENTION")
        .env_remove("MATTERMOST_DM_POLICY")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    c
}

/// Runs a command with `input` on stdin, killing it after `timeout`.
/// Output is drained while it runs (a child writing more than a pipe holds
/// would otherwise block forever).
pub fn run_with_input(mut c: Command, input: &str, timeout: Duration) -> Output {
    use std::io::Read;
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kennel");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    {
        let mut stdin = child.stdin.take().expect("stdin");
        // A child that exits without reading all of it is not an error here.
        let _ = stdin.write_all(input.as_bytes());
    }
    let deadline = std::time::Instant::now() + timeout;
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break (s, false);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break (child.wait().expect("wait"), true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    assert!(
        !timed_out,
        "kennel did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `kennel chat` with the given guest dir, data dir, optional config text and input lines.
pub fn chat(
    guests: &Path,
    data: &Path,
    config: Option<&str>,
    input: &str,
    extra_env: &[(&str, &str)],
) -> Output {
    let mut c = cmd();
    c.arg("chat")
        .arg("--guests")
        .arg(guests)
        .arg("--data")
        .arg(data);
    if let Some(text) = config {
        let p = data.with_extension("toml");
        std::fs::write(&p, text).expect("write config");
        c.arg("--config").arg(&p);
    }
    for (k, v) in extra_env {
        c.env(k, v);
    }
    run_with_input(c, input, Duration::from_secs(120))
}

/// `kennel check --guests G --data D` (with the shared cache).
pub fn check(guests: &Path, data: &Path) -> Output {
    cmd()
        .arg("check")
        .arg("--guests")
        .arg(guests)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run kennel check")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Waits until `f` returns true, polling every 20 ms; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
