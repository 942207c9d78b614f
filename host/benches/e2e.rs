//! `just bench`, end to end: the real `kennel run` (release build) over
//! loopback against the fake Mattermost server (Rust, axum), with the `echo`
//! agent. Prints one table and writes `target/bench/e2e.json`.
//!
//! | run | what |
//! |---|---|
//! | sequential | 200 DMs one after another: post → reply latency p50/p95/p99, and the host's share (`posted` event sent → reply received, timed in the fake server) |
//! | saturation | 50 users, no think time, 10 s: replies/s, p50/p99, host CPU per message, RSS |
//! | back-to-back | 20 messages, each sent the instant the previous reply arrives: all answered once, in order |
//! | growth | 200-turn sessions: p50 of turns 1–20 against 181–200, three pairs of sessions asked in turn so both windows share the same seconds |
//! | many sessions | 10,000 one-message sessions from fresh users: RSS |
//! | hot swap | 20 swaps of the agent under load: file written → serving, failed calls |
//! | saturation (assistant) | as above with the `assistant` agent and the fake OpenAI-compatible server |
//! | start | to WebSocket ready: warm cache, and every bundled guest on an empty cache (then the first reply) |
//!
//! `--layout DIR` runs `kennel run` under valgrind for `just startup-order`
//! (see [`layout`]). `--smoke` (run by `just test`) does a few of each and checks correctness,
//! never speed. `--profile SECS` runs only the echo saturation (with
//! `--assistant`: the assistant's) for SECS seconds and prints the host's
//! PID, to attach `perf` or `strace`. The fake server shares the 2 cores
//! with the host, so the numbers are a floor of what the host can do, not a
//! ceiling.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/fake_llm/mod.rs"]
mod fake_llm;
#[path = "../../tests/fake_mattermost/mod.rs"]
mod fake_mattermost;
mod procstat;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_mattermost::FakeMm;
use procstat::{cpu_secs, rss_mb, rss_parts_mb, thread_cpu_secs};

const T: Duration = Duration::from_secs(30);
/// A configured route (served at once while big guests compile; the built-in
/// default route would wait for them).
const ROUTE: &str = "[[route]]\nchannel = \"*\"\nagent = \"echo\"\nscanners = [\"injection\"]\ntools = [\"calc\", \"wordstats\", \"time\"]\n";

struct Host {
    child: Child,
    log: std::path::PathBuf,
    _guests: tempfile::TempDir,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(mm: &FakeMm, token: &str, dir: &std::path::Path) -> Host {
    let guests = common::guest_dir(&[&common::dist("echo")]);
    start_cached(mm, token, dir, guests, "").0
}

/// `kennel run` started directly, on the shared compile cache.
fn start_cached(
    mm: &FakeMm,
    token: &str,
    dir: &std::path::Path,
    guests: tempfile::TempDir,
    config: &str,
) -> (Host, Duration) {
    let launch = Launch::default();
    start_with(
        mm,
        token,
        dir,
        guests,
        &common::cache_dir(),
        config,
        &launch,
    )
}

/// How `kennel run` is started: directly, or under another program
/// (valgrind, for `--layout`) with extra environment.
#[derive(Default)]
struct Launch {
    under: Vec<String>,
    env: Vec<(String, String)>,
    /// How long to wait for "WebSocket connected" (default [`T`]).
    connect_within: Option<Duration>,
}

impl Launch {
    fn command(&self) -> Command {
        let mut c = match self.under.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(common::kennel());
                c
            }
            None => Command::new(common::kennel()),
        };
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
}

/// Starts `kennel run`; returns the host and the time from spawn to "WebSocket connected".
fn start_with(
    mm: &FakeMm,
    token: &str,
    dir: &std::path::Path,
    guests: tempfile::TempDir,
    cache: &std::path::Path,
    config: &str,
    launch: &Launch,
) -> (Host, Duration) {
    let cfg = dir.join("kennel.toml");
    std::fs::write(&cfg, config).expect("config");
    let t0 = Instant::now();
    let log = dir.join("kennel.log");
    let child = launch
        .command()
        .arg("run")
        .arg("--guests")
        .arg(guests.path())
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&cfg)
        .env("KENNEL_CACHE_DIR", cache)
        .env("MATTERMOST_URL", mm.url())
        .env("MATTERMOST_TOKEN", token)
        .env("MATTERMOST_DM_POLICY", "open")
        .env(
            "RUST_LOG",
            "warn,kennel::mattermost::ws=info,kennel::runtime=info",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn kennel run");
    let host = Host {
        child,
        log,
        _guests: guests,
    };
    let deadline = Instant::now() + launch.connect_within.unwrap_or(T);
    while !std::fs::read_to_string(&host.log)
        .unwrap_or_default()
        .contains("WebSocket connected")
    {
        assert!(Instant::now() < deadline, "kennel run did not connect");
        std::thread::sleep(Duration::from_millis(2));
    }
    let ready = t0.elapsed();
    (host, ready)
}

fn pct(v: &mut [Duration], p: usize) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)].as_secs_f64() * 1000.0
}

/// Posts and waits for the reply; returns post → reply latency.
fn ask(mm: &FakeMm, user: &str, channel: &str, text: &str) -> Duration {
    ask_post(mm, user, channel, text).0
}

/// As [`ask`], also returning the post's id.
fn ask_post(mm: &FakeMm, user: &str, channel: &str, text: &str) -> (Duration, String) {
    let sent = Instant::now();
    let p = mm.user_post(user, channel, text, None);
    let id = p["id"].as_str().expect("id").to_string();
    let at = mm.wait_reply(&id, T).expect("a reply within 30 s");
    (at.saturating_duration_since(sent), id)
}

/// Every user posts again the moment their reply arrives, for `secs` (the
/// fake server posts each next message itself: see `FakeMm::post_loops`).
fn saturate(
    mm: &FakeMm,
    people: &[(String, String)],
    secs: u64,
    pid: u32,
    label: &str,
) -> serde_json::Value {
    let (cpu0, store0) = (cpu_secs(pid), thread_cpu_secs(pid, STORE_THREAD));
    let (mut lat, elapsed) = mm
        .post_loops(people, secs, T)
        .expect("every post answered within 30 s of the end");
    let elapsed = elapsed.as_secs_f64();
    let cpu = cpu_secs(pid) - cpu0;
    let store = thread_cpu_secs(pid, STORE_THREAD) - store0;
    let rss = rss_mb(pid);
    let n = lat.len();
    let rate = n as f64 / elapsed;
    let cpu_ms = cpu * 1000.0 / n.max(1) as f64;
    let store_ms = store * 1000.0 / n.max(1) as f64;
    let (p50, p99) = (pct(&mut lat, 50), pct(&mut lat, 99));
    let users = people.len();
    println!(
        "{label:<34} {p50:>8.2} {:>8} {p99:>8.2}  {users} users: {rate:.0} replies/s, host CPU {cpu_ms:.3} ms/message ({store_ms:.3} on the store writer), RSS {rss:.1} MB",
        "-"
    );
    serde_json::json!({"users": users, "secs": elapsed, "replies": n, "replies_per_s": rate, "p50_ms": p50, "p99_ms": p99, "host_cpu_ms_per_message": cpu_ms, "store_writer_cpu_ms_per_message": store_ms, "rss_mb": rss})
}

/// The store writer's thread name (`host/src/store/writer.rs`): its share
/// of the host's CPU is the group commits and the write operations.
const STORE_THREAD: &str = "kennel-store";

/// `kennel run` with the `assistant` agent on every channel, talking to `llm`.
fn start_assistant(
    mm: &FakeMm,
    token: &str,
    dir: &std::path::Path,
    llm: &fake_llm::FakeLlm,
) -> (Host, Duration) {
    let cfg = format!(
        "[llm]\nbase_url = \"{}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\n",
        llm.base_url()
    );
    let guests = common::guest_dir(&[&common::dist("assistant")]);
    start_cached(mm, token, dir, guests, &cfg)
}

/// The SECS of `--profile SECS`, if given.
fn profile_secs() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--profile")?;
    args.get(at + 1)?.parse().ok()
}

/// The `--profile` run: one saturation, echo or (`--assistant`) assistant.
fn profile(
    mm: &FakeMm,
    token: &str,
    dir: &std::path::Path,
    people: &[(String, String)],
    secs: u64,
) {
    let llm = fake_llm::FakeLlm::start();
    llm.set_default(fake_llm::Step::Text("ok".into()));
    let (host, label) = match std::env::args().any(|a| a == "--assistant") {
        true => (
            start_assistant(mm, token, dir, &llm).0,
            "saturation (assistant + LLM)",
        ),
        false => (start(mm, token, dir), "saturation (echo)"),
    };
    let pid = host.child.id();
    eprintln!("kennel pid {pid}: saturating for {secs} s");
    saturate(mm, people, secs, pid, label);
}

/// The DIR of `--layout DIR`, if given.
fn layout_dir() -> Option<std::path::PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--layout")?;
    args.get(at + 1).map(std::path::PathBuf::from)
}

/// The `--layout DIR` run, for `just startup-order` (host/layout/order.py):
/// `kennel run` under valgrind's callgrind with the assistant, a scanner
/// and the fake LLM, twice: a start (`DIR/run-start.callgrind`) and a start
/// with a few turns (`DIR/run-turns.callgrind`). `DIR/cache` must hold
/// compiles made under valgrind, whose CPU differs (order.py fills it).
fn layout(
    mm: &FakeMm,
    token: &str,
    dir: &std::path::Path,
    people: &[(String, String)],
    out: &std::path::Path,
) {
    let llm = fake_llm::FakeLlm::start();
    llm.set_default(fake_llm::Step::Text("ok".into()));
    let cfg = format!(
        "[llm]\nbase_url = \"{}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\nscanners = [\"injection\"]\n",
        llm.base_url()
    );
    for (name, turns) in [("start", 0), ("turns", 3)] {
        let profile = out.join(format!("run-{name}.callgrind"));
        let launch = Launch {
            under: ["valgrind", "--tool=callgrind", "--quiet", "--demangle=no"]
                .map(String::from)
                .into_iter()
                .chain([format!("--callgrind-out-file={}", profile.display())])
                .collect(),
            env: vec![("KENNEL_SMALL_POOL".into(), "1".into())],
            // valgrind reads the binary's symbols first: seconds to a minute.
            connect_within: Some(Duration::from_secs(300)),
        };
        let run_dir = dir.join(name);
        std::fs::create_dir_all(&run_dir).expect("run dir");
        let guests = common::guest_dir(&[&common::dist("assistant"), &common::dist("injection")]);
        let (mut host, _) = start_with(
            mm,
            token,
            &run_dir,
            guests,
            &out.join("cache"),
            &cfg,
            &launch,
        );
        for (u, dm) in people.iter().take(turns) {
            ask(mm, u, dm, "hello");
        }
        std::thread::sleep(Duration::from_secs(1));
        // SIGTERM: kennel drains and exits, then callgrind writes its file.
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(host.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = host.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "kennel run under valgrind did not stop"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let log = std::fs::read_to_string(&host.log).unwrap_or_default();
        assert!(status.success(), "kennel run under valgrind failed: {log}");
        assert!(
            !log.contains("cached=false"),
            "a guest was compiled during the profile: {log}"
        );
        println!("{}", profile.display());
    }
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (seq_n, users, sat_secs, b2b, growth) = if smoke {
        (5usize, 4usize, 1u64, 5usize, 10usize)
    } else {
        (200, 50, 10, 20, 200)
    };
    let mm = FakeMm::start();
    let (bot, token) = mm.add_user("kennelbot", true);
    let people: Vec<(String, String)> = (0..users.max(2))
        .map(|i| {
            let u = mm.add_user(&format!("user{i}"), false).0;
            let dm = mm.dm(&bot, &u);
            (u, dm)
        })
        .collect();
    let dir = tempfile::tempdir().expect("dir");
    if let Some(secs) = profile_secs() {
        return profile(&mm, &token, dir.path(), &people[..users], secs);
    }
    if let Some(out) = layout_dir() {
        return layout(&mm, &token, dir.path(), &people, &out);
    }
    let host = start(&mm, &token, dir.path());
    let pid = host.child.id();
    let mut json = serde_json::Map::new();

    // Sequential: one message at a time, each in a fresh DM's session order.
    let mut lat = Vec::with_capacity(seq_n);
    let mut host_lat = Vec::with_capacity(seq_n);
    for i in 0..seq_n {
        let (u, dm) = &people[i % people.len()];
        let (took, id) = ask_post(&mm, u, dm, &format!("seq {i}"));
        lat.push(took);
        host_lat.push(mm.host_time(&id).expect("event and reply times"));
    }
    let (p50, p95, p99) = (pct(&mut lat, 50), pct(&mut lat, 95), pct(&mut lat, 99));
    let (h50, h95, h99) = (
        pct(&mut host_lat, 50),
        pct(&mut host_lat, 95),
        pct(&mut host_lat, 99),
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8}  notes",
        "end to end (kennel run + fake MM)", "p50 ms", "p95 ms", "p99 ms"
    );
    println!(
        "{:<34} {p50:>8.2} {p95:>8.2} {p99:>8.2}  {seq_n} DMs one after another",
        "sequential post → reply"
    );
    println!(
        "{:<34} {h50:>8.2} {h95:>8.2} {h99:>8.2}  event sent → reply received (the host's share)",
        "sequential host overhead"
    );
    json.insert(
        "sequential".into(),
        serde_json::json!({"n": seq_n, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "host_p50_ms": h50, "host_p95_ms": h95, "host_p99_ms": h99}),
    );

    // Saturation: every user posts again the moment their reply arrives.
    let v = saturate(&mm, &people[..users], sat_secs, pid, "saturation (echo)");
    json.insert("saturation".into(), v);

    // Back-to-back in one session: all answered, once, in order.
    let (u, dm) = &people[0];
    let before = mm.posts_by(&bot, dm).len();
    for i in 0..b2b {
        ask(&mm, u, dm, &format!("b2b {i}"));
    }
    let replies: Vec<String> = mm.posts_by(&bot, dm)[before..]
        .iter()
        .map(|p| p["message"].as_str().unwrap_or("").to_string())
        .collect();
    let in_order = replies.len() == b2b
        && replies
            .iter()
            .enumerate()
            .all(|(i, r)| r.starts_with(&format!("echo: b2b {i} ")));
    assert!(
        in_order,
        "back-to-back replies out of order or missing: {replies:?}"
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8}  {b2b} messages: all answered once, in order",
        "back-to-back", "-", "-", "-"
    );
    json.insert(
        "back_to_back".into(),
        serde_json::json!({"n": b2b, "in_order": in_order}),
    );

    // Growth: turns 1–w of fresh sessions against turns (growth-w+1)–growth
    // of sessions grown first, asked in turn (old, young, old, …) so that
    // both windows are timed in the same seconds: this machine's slow and
    // fast periods (±40 %) otherwise land in one window and not the other.
    let pairs = if smoke { 1 } else { 3 };
    let session = |tag: &str, k: usize| {
        let u = mm.add_user(&format!("{tag}{k}"), false).0;
        let dm = mm.dm(&bot, &u);
        (u, dm)
    };
    let old: Vec<(String, String)> = (0..pairs).map(|k| session("grown", k)).collect();
    let young: Vec<(String, String)> = (0..pairs).map(|k| session("young", k)).collect();
    let w = (growth / 10).max(1);
    for (u, dm) in &old {
        for i in 0..growth - w {
            ask(&mm, u, dm, &format!("grow {i}"));
        }
    }
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for i in 0..w {
        for ((ou, odm), (yu, ydm)) in old.iter().zip(&young) {
            last.push(ask(&mm, ou, odm, &format!("grow {}", growth - w + i)));
            first.push(ask(&mm, yu, ydm, &format!("grow {i}")));
        }
    }
    let (a, b) = (pct(&mut first, 50), pct(&mut last, 50));
    println!(
        "{:<34} {a:>8.2} {b:>8.2} {:>8}  p50 of turns 1–{w} vs {}–{growth}, {pairs} session pair(s) asked in turn ({:+.0} %)",
        "growth (session length)",
        "-",
        growth - w + 1,
        (b / a - 1.0) * 100.0
    );
    json.insert(
        "growth".into(),
        serde_json::json!({"turns": growth, "sessions": pairs, "first_p50_ms": a, "last_p50_ms": b}),
    );

    // Many short sessions: one message each from fresh users.
    let many: usize = if smoke { 20 } else { 10_000 };
    let fresh: Vec<(String, String)> = (0..many)
        .map(|i| {
            let u = mm.add_user(&format!("once{i}"), false).0;
            let dm = mm.dm(&bot, &u);
            (u, dm)
        })
        .collect();
    let t = Instant::now();
    std::thread::scope(|s| {
        for chunk in fresh.chunks(many.div_ceil(users.max(1))) {
            let mm = &mm;
            s.spawn(move || {
                for (u, dm) in chunk {
                    ask(mm, u, dm, "hello once");
                }
            });
        }
    });
    let took = t.elapsed().as_secs_f64();
    let sessions_rss = rss_mb(pid);
    let (anon, file) = rss_parts_mb(pid);
    // Once every session worker has retired (idle for 2 s).
    if !smoke {
        std::thread::sleep(Duration::from_secs(4));
    }
    let retired_rss = rss_mb(pid);
    println!(
        "{:<34} {:>8} {:>8} {:>8}  {many} one-message sessions in {took:.1} s: RSS {sessions_rss:.1} MB \
         ({anon:.1} anonymous, {file:.1} file); {retired_rss:.1} MB once their workers retired",
        "many sessions", "-", "-", "-",
    );
    json.insert(
        "many_sessions".into(),
        serde_json::json!({"sessions": many, "rss_mb": sessions_rss, "anon_mb": anon,
            "file_mb": file, "retired_rss_mb": retired_rss}),
    );

    // Hot swap under load: echo ↔ a copy with other bytes, 20 times.
    let swaps = if smoke { 2 } else { 20 };
    let guest_dir = host._guests.path().to_path_buf();
    let echo = std::fs::read(common::dist("echo")).expect("echo");
    let mut other = echo.clone();
    // A custom section changes the bytes (and so the version), not the behaviour.
    other.extend_from_slice(&[0, 7, 5, b'b', b'e', b'n', b'c', b'h', 1]);
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut to_serving = Vec::new();
    let mut missed_swap: Option<usize> = None;
    std::thread::scope(|s| {
        for (u, dm) in people.iter().take(4) {
            let (mm, failed, done) = (&mm, &failed, &done);
            s.spawn(move || {
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let p = mm.user_post(u, dm, &format!("swap {n}"), None);
                    n += 1;
                    let id = p["id"].as_str().unwrap_or("").to_string();
                    if mm.wait_reply(&id, T).is_none() {
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        for i in 0..swaps {
            let bytes = if i % 2 == 0 { &other } else { &echo };
            let written = Instant::now();
            let tmp = guest_dir.join(".echo.tmp");
            std::fs::write(&tmp, bytes).expect("write");
            std::fs::rename(&tmp, guest_dir.join("echo.wasm")).expect("rename");
            let deadline = Instant::now() + T;
            let swapped = loop {
                let log = std::fs::read_to_string(&host.log).unwrap_or_default();
                if log.matches("guest hot-swapped").count() > i {
                    break true;
                }
                if Instant::now() > deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            if !swapped {
                // Stop the load before failing, or the scope never ends.
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                missed_swap = Some(i);
                break;
            }
            to_serving.push(written.elapsed());
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(missed_swap, None, "a hot swap was never logged");
    let bad_replies = people
        .iter()
        .take(4)
        .flat_map(|(_, dm)| mm.posts_by(&bot, dm))
        .filter(|p| {
            let m = p["message"].as_str().unwrap_or("");
            m.contains("unavailable") || m.contains("went wrong")
        })
        .count();
    let failed = failed.load(std::sync::atomic::Ordering::Relaxed) + bad_replies;
    let swap_p50 = pct(&mut to_serving, 50);
    println!(
        "{:<34} {swap_p50:>8.1} {:>8} {:>8}  file written → serving; {swaps} swaps under load, {failed} failed calls",
        "hot swap", "-", "-"
    );
    assert_eq!(failed, 0, "calls failed during hot swaps");
    json.insert(
        "hot_swap".into(),
        serde_json::json!({"swaps": swaps, "p50_ms_to_serving": swap_p50, "failed_calls": failed}),
    );

    let idle = rss_mb(pid);
    println!(
        "host RSS after the runs: {idle:.1} MB; cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    json.insert("rss_after_mb".into(), serde_json::json!(idle));
    drop(host);

    // The assistant agent with the fake LLM (answers at once, streamed).
    let llm = fake_llm::FakeLlm::start();
    llm.set_default(fake_llm::Step::Text("ok".into()));
    let llm_dir = tempfile::tempdir().expect("dir");
    let (h, _) = start_assistant(&mm, &token, llm_dir.path(), &llm);
    let v = saturate(
        &mm,
        &people[..users],
        sat_secs,
        h.child.id(),
        "saturation (assistant + LLM)",
    );
    json.insert("saturation_assistant".into(), v);
    drop(h);

    // Start-up: warm cache (echo), and every bundled guest on an empty cache.
    let warm_dir = tempfile::tempdir().expect("dir");
    let (h, warm) = start_with(
        &mm,
        &token,
        warm_dir.path(),
        common::guest_dir(&[&common::dist("echo")]),
        &common::cache_dir(),
        "",
        &Launch::default(),
    );
    drop(h);
    let cold_dir = tempfile::tempdir().expect("dir");
    let cold_cache = tempfile::tempdir().expect("cache");
    let all: Vec<std::path::PathBuf> = [
        "echo",
        "calc",
        "injection",
        "assistant",
        "wordstats",
        "time",
    ]
    .iter()
    .map(|g| common::dist(g))
    .collect();
    let refs: Vec<&std::path::Path> = all.iter().map(|p| p.as_path()).collect();
    let (h, cold) = start_with(
        &mm,
        &token,
        cold_dir.path(),
        common::guest_dir(&refs),
        cold_cache.path(),
        ROUTE,
        &Launch::default(),
    );
    let first = ask(&mm, &people[2].0, &people[2].1, "first");
    drop(h);
    println!(
        "start → WebSocket ready: warm cache {:.0} ms; every bundled guest, empty cache {:.0} ms (first reply {:.0} ms after that)",
        warm.as_secs_f64() * 1000.0,
        cold.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0
    );
    json.insert("start".into(), serde_json::json!({"warm_ws_ready_ms": warm.as_secs_f64() * 1000.0, "cold_all_guests_ws_ready_ms": cold.as_secs_f64() * 1000.0, "cold_first_reply_ms": first.as_secs_f64() * 1000.0}));
    let out = common::root().join("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let name = if smoke { "e2e-smoke.json" } else { "e2e.json" };
    if let Err(e) = std::fs::write(
        out.join(name),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    ) {
        eprintln!("cannot write {name}: {e}");
    }
}
