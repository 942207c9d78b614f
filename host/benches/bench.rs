//! `just bench`: latency and throughput of the runtime, printed as a table.
//!
//! Measures, on the bundled guests (release build):
//! - instantiate + call for each guest kind (fresh instance per call, as in production);
//! - agent → host → tool round trip (echo calling calc);
//! - scanner chain throughput (short messages and a large document);
//! - `kennel chat` start to first reply, cold (empty compile cache) and warm.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kennel::runtime::{AgentServices, Runtime, RuntimeOptions, types};

#[path = "../../tests/common/agent.rs"]
#[allow(dead_code)]
mod agent;
use agent::{Services, ctx, msg};

mod procstat;
use procstat::rss_mb;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .to_path_buf()
}

struct Stats {
    p50: Duration,
    p99: Duration,
    n: usize,
}

async fn measure<F: AsyncFnMut()>(n: usize, mut f: F) -> Stats {
    for _ in 0..n.min(20) {
        f().await; // warm up
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed());
    }
    v.sort();
    Stats {
        p50: v[n / 2],
        p99: v[(n * 99 / 100).min(n - 1)],
        n,
    }
}

/// Durable writes per second: 64 tasks each recording 100 posts (the
/// per-message receive write), all through the store's one writer thread.
async fn store_throughput(tmp: &Path) {
    let store = Arc::new(kennel::store::Store::open(&tmp.join("store")).expect("store"));
    for (writers, each) in [(1usize, 500usize), (64, 100)] {
        let t = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..each {
                    store
                        .inbox_record(&format!("w{writers}-{w}-{i}"), "c", i as u64)
                        .await
                        .expect("record")
                        .expect("a new post");
                }
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
        let n = writers * each;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{:<44} {:>10.1} {:>10} {:>7}  {:.0} durable records/s",
            format!("store: inbox record, {writers} writer(s)"),
            secs * 1e6 / n as f64,
            "-",
            n,
            n as f64 / secs
        );
    }
}

fn row(name: &str, s: &Stats, extra: &str) {
    println!(
        "{:<44} {:>10.1} {:>10.1} {:>7}  {}",
        name,
        s.p50.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.n,
        extra
    );
}

fn first_reply_ms(bin: &Path, guests: &Path, data: &Path, cache: &Path) -> f64 {
    first_reply_with(bin, guests, data, cache, None)
}

fn first_reply_with(
    bin: &Path,
    guests: &Path,
    data: &Path,
    cache: &Path,
    config: Option<&Path>,
) -> f64 {
    use std::io::Write;
    let t = Instant::now();
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["chat", "--guests"]).arg(guests);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let mut child = cmd
        .arg("--data")
        .arg(data)
        .env("KENNEL_CACHE_DIR", cache)
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn kennel");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("echo: hello"),
        "unexpected reply"
    );
    t.elapsed().as_secs_f64() * 1000.0
}

/// `kennel chat` over every bundled guest: RSS once the background compiles
/// of an empty cache are done, and RSS of a warm start once every guest is
/// loaded (idle).
fn memory(bin: &Path, dist: &Path, tmp: &Path) {
    let run = |data: &str, settle: &dyn Fn(&Path) -> bool| {
        let log = tmp.join(format!("{data}.log"));
        let mut child = std::process::Command::new(bin)
            .args(["chat", "--guests"])
            .arg(dist)
            .arg("--data")
            .arg(tmp.join(data))
            .env("KENNEL_CACHE_DIR", tmp.join("mem-cache"))
            .env("RUST_LOG", "kennel=info")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("spawn kennel");
        let deadline = Instant::now() + Duration::from_secs(180);
        while !settle(&log) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_millis(500));
        let mb = rss_mb(child.id());
        let _ = child.kill();
        let _ = child.wait();
        mb
    };
    let compiled =
        |log: &Path| std::fs::read_to_string(log).is_ok_and(|l| l.contains("every guest compiled"));
    let cold = run("mem-cold", &compiled);
    // Idle: once the big (Python, JS) guests have been mapped from the cache
    // in the background too.
    let warm = run("mem-warm", &compiled);
    println!(
        "RSS, every bundled guest: after a cold compile {cold:.1} MB, idle warm start {warm:.1} MB"
    );
}

#[tokio::main]
async fn main() {
    let dist = root().join("guests/dist");
    let tmp = std::env::temp_dir().join(format!("kennel-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("tmp");
    let rt = Runtime::new(RuntimeOptions {
        guest_dir: dist.clone(),
        cache_dir: Some(root().join("target/kennel-test-cache")),
    })
    .expect("runtime");
    for r in rt.load_dir() {
        r.expect("bundled guests load (run `just guests`)");
    }
    println!(
        "{:<44} {:>10} {:>10} {:>7}  notes",
        "benchmark (fresh instance per call)", "p50 µs", "p99 µs", "n"
    );
    let services: Arc<dyn AgentServices> = Arc::new(Services {
        delay: Duration::ZERO,
        rt: Some(rt.clone()),
    });
    let s = measure(2000, async || {
        let r = rt
            .run_agent("echo", services.clone(), &ctx(), &msg("hello"))
            .await;
        assert!(r.is_ok());
    })
    .await;
    row("echo agent: instantiate + handle", &s, "");
    let s = measure(2000, async || {
        let r = rt.tool_invoke("calc", r#"{"expression":"2*(3+4)"}"#).await;
        assert_eq!(r, Ok(Ok("14".into())));
    })
    .await;
    row("calc tool: instantiate + invoke", &s, "");
    let s = measure(2000, async || {
        let r = rt
            .run_agent("echo", services.clone(), &ctx(), &msg("calc 2*(3+4)"))
            .await;
        assert!(r.is_ok());
    })
    .await;
    row("echo → host → calc (two instances)", &s, "");
    let s = measure(200, async || {
        let r = rt
            .tool_invoke(
                "wordstats",
                r#"{"text":"the quick brown fox jumps over the lazy dog"}"#,
            )
            .await;
        assert!(matches!(r, Ok(Ok(_))));
    })
    .await;
    row("wordstats tool (Python): instantiate + invoke", &s, "");
    let s = measure(500, async || {
        let r = rt
            .tool_invoke("time", r#"{"timestamp":0,"timezone":"Europe/Berlin"}"#)
            .await;
        assert!(matches!(r, Ok(Ok(_))));
    })
    .await;
    row("time tool (JavaScript): instantiate + invoke", &s, "");

    // Scanner latency and throughput: the rules and the learned classifier,
    // on a chat message, 1 KiB and 100 KiB of text.
    let short = "Could you summarise yesterday's deploy notes and list the open incidents for the payments team?";
    let line = |i: usize| {
        format!("Line {i}: the build on staging passed; see the runbook for the rollback steps.\n")
    };
    let text = |bytes: usize| {
        // ASCII lines of about 80 bytes, cut to exactly `bytes`.
        let mut t: String = (0..bytes / 70 + 1).map(line).collect();
        t.truncate(bytes);
        t
    };
    let (kib, doc) = (text(1024), text(100 * 1024));
    // Accented Latin text: every accented letter is folded to its base letter.
    let mut accented: String = (0..16)
        .map(|i| format!("Línea {i}: la compilación en preproducción pasó; consulta el guión.\n"))
        .collect();
    accented.truncate(accented.floor_char_boundary(1024));
    for scanner in ["injection", "classifier"] {
        for (what, input, n, source) in [
            (
                "chat message (96 B)",
                short,
                2000,
                types::ScanSource::UserMessage,
            ),
            ("1 KiB", kib.as_str(), 1000, types::ScanSource::Attachment),
            (
                "1 KiB, accented Spanish",
                accented.as_str(),
                1000,
                types::ScanSource::Attachment,
            ),
            ("100 KiB", doc.as_str(), 50, types::ScanSource::Attachment),
        ] {
            let s = measure(n, async || {
                let r = rt.scan(scanner, input, source).await;
                assert!(r.is_ok(), "{scanner}: {r:?}");
            })
            .await;
            let mbs = input.len() as f64 / s.p50.as_secs_f64() / 1e6;
            row(
                &format!("{scanner} scanner: {what}"),
                &s,
                &format!("{mbs:.2} MB/s"),
            );
        }
    }

    // What the warm pooled slots keep resident after all of the above
    // (every bundled guest loaded, in this process).
    println!(
        "RSS of this process after the runtime runs: {:.1} MB",
        rss_mb(std::process::id())
    );

    // Group commit: durable inbox records from many concurrent writers.
    store_throughput(&tmp).await;

    // Start to first reply of the real binary.
    let bin = root().join("target/release/kennel");
    if bin.is_file() {
        let guests = tmp.join("guests");
        std::fs::create_dir_all(&guests).expect("dir");
        for g in ["echo", "calc", "injection"] {
            std::fs::copy(
                dist.join(format!("{g}.wasm")),
                guests.join(format!("{g}.wasm")),
            )
            .expect("copy");
        }
        let cache = tmp.join("cache");
        let cold = first_reply_ms(&bin, &guests, &tmp.join("d1"), &cache);
        let mut warm: Vec<f64> = (0..5)
            .map(|i| first_reply_ms(&bin, &guests, &tmp.join(format!("w{i}")), &cache))
            .collect();
        warm.sort_by(|a, b| a.total_cmp(b));
        println!();
        println!(
            "kennel chat, start to first reply: cold (empty compile cache) {cold:.1} ms, warm (cache) {:.1} ms (median of 5)",
            warm[2]
        );
        // With the Python and JS tools present too: the Rust agent answers
        // while they compile in the background.
        // A configured route is served at once; the built-in default route
        // would wait for every guest (it cannot tell compiling scanners apart).
        let cfg = tmp.join("route.toml");
        std::fs::write(
            &cfg,
            "[[route]]\nchannel = \"*\"\nagent = \"echo\"\nscanners = [\"injection\"]\ntools = [\"calc\", \"wordstats\", \"time\"]\n",
        )
        .expect("config");
        let all = first_reply_with(
            &bin,
            &dist,
            &tmp.join("d2"),
            &tmp.join("cache-all"),
            Some(&cfg),
        );
        println!(
            "kennel chat with every bundled guest, empty cache, start to first reply: {all:.1} ms (route: echo + injection)"
        );
        memory(&bin, &dist, &tmp);
    } else {
        println!("(build target/release/kennel for the start-up numbers)");
    }
    println!();
    println!("{:<14} {:>10}", "guest", "size");
    for g in rt.guests() {
        println!("{:<14} {:>10}", g.name, g.size);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
