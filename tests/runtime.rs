//! Runtime sandbox tests through the library: limits fail only their own call
//! with a typed error, host waits are not charged as CPU, bad files fail
//! alone, the compile cache is used.

mod common;

use std::time::{Duration, Instant};

use common::agent::{Services, ctx, msg};
use kennel::runtime::{GuestError, GuestKind, LoadError, Origin, Runtime, RuntimeOptions};

fn runtime(dir: &std::path::Path) -> Runtime {
    let rt = Runtime::new(RuntimeOptions {
        guest_dir: dir.to_path_buf(),
        cache_dir: Some(common::cache_dir()),
    })
    .expect("runtime");
    for r in rt.load_dir() {
        r.expect("guest loads");
    }
    rt
}

/// Runs a misbehaving call and a normal calc call at the same time.
async fn misbehave_with_neighbour(
    rt: &Runtime,
    mode: &str,
) -> Result<Result<String, String>, GuestError> {
    let args = format!("{{\"mode\":\"{mode}\"}}");
    let bad = rt.tool_invoke("misbehave", &args);
    let good = async {
        // Start slightly later so it overlaps the misbehaving call.
        tokio::time::sleep(Duration::from_millis(20)).await;
        rt.tool_invoke("calc", r#"{"expression":"6*7"}"#).await
    };
    let (bad, good) = tokio::join!(bad, good);
    assert_eq!(
        good,
        Ok(Ok("42".to_string())),
        "the neighbouring call must succeed while {mode} misbehaves"
    );
    bad
}

fn misbehave_dir(limits: &str) -> tempfile::TempDir {
    let d = common::guest_dir(&[&common::test_guest("misbehave"), &common::dist("calc")]);
    std::fs::write(d.path().join("misbehave.toml"), limits).expect("limits");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_memory_survives_between_calls() {
    // Pooled memory slots are reused; whatever a call wrote (a static
    // counter, a 2 MiB buffer) must be gone for the next one, every time.
    let d = misbehave_dir("");
    let rt = runtime(d.path());
    for _ in 0..25 {
        let s = rt.tool_invoke("misbehave", r#"{"mode":"scribble"}"#).await;
        assert_eq!(s, Ok(Ok("scribbled".into())));
        let p = rt.tool_invoke("misbehave", r#"{"mode":"peek"}"#).await;
        assert_eq!(p, Ok(Ok(r#"{"calls":1,"dirty":0}"#.into())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_fails_with_cpu_error() {
    let d = misbehave_dir("cpu_ms = 200\n");
    let rt = runtime(d.path());
    let t = Instant::now();
    let r = misbehave_with_neighbour(&rt, "loop").await;
    assert_eq!(r, Err(GuestError::Cpu("misbehave".into())));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "CPU limit took {:?}",
        t.elapsed()
    );
    // The guest still works afterwards: a fresh instance per call.
    assert_eq!(
        rt.tool_invoke("misbehave", r#"{"mode":"ok"}"#).await,
        Ok(Ok("ok".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_allocation_fails_with_memory_error() {
    let d = misbehave_dir("");
    let rt = runtime(d.path());
    assert_eq!(
        misbehave_with_neighbour(&rt, "alloc").await,
        Err(GuestError::Memory("misbehave".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_fails_with_trap_error() {
    let d = misbehave_dir("");
    let rt = runtime(d.path());
    match misbehave_with_neighbour(&rt, "trap").await {
        Err(GuestError::Trap(name, _)) => assert_eq!(name, "misbehave"),
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_stdout_fails_with_output_error() {
    let d = misbehave_dir("output_kb = 64\ncpu_ms = 5000\n");
    let rt = runtime(d.path());
    assert_eq!(
        misbehave_with_neighbour(&rt, "print").await,
        Err(GuestError::Output("misbehave".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_in_a_host_call_is_not_charged_as_cpu() {
    let d = common::guest_dir(&[&common::test_guest("slowagent")]);
    // 50 ms of CPU, but a 1.5 s wait on the LLM: must succeed.
    std::fs::write(
        d.path().join("slowagent.toml"),
        "cpu_ms = 50\ntimeout_ms = 10000\n",
    )
    .expect("limits");
    let rt = runtime(d.path());
    let (reply, _) = rt
        .run_agent(
            "slowagent",
            Services::llm_after(Duration::from_millis(1500)),
            &ctx(),
            &msg("wait"),
        )
        .await
        .expect("call");
    assert_eq!(reply.expect("reply").text, "waited: slept");
    // Real CPU work beyond the budget still fails.
    let r = rt
        .run_agent(
            "slowagent",
            Services::llm_after(Duration::ZERO),
            &ctx(),
            &msg("spin 100000"),
        )
        .await;
    assert_eq!(r.err(), Some(GuestError::Cpu("slowagent".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_clock_timeout_fails_with_timeout_error() {
    let d = common::guest_dir(&[&common::test_guest("slowagent")]);
    std::fs::write(d.path().join("slowagent.toml"), "timeout_ms = 300\n").expect("limits");
    let rt = runtime(d.path());
    let t = Instant::now();
    let r = rt
        .run_agent(
            "slowagent",
            Services::llm_after(Duration::from_secs(30)),
            &ctx(),
            &msg("wait"),
        )
        .await;
    assert_eq!(r.err(), Some(GuestError::Timeout("slowagent".into())));
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "timeout took {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_fail_alone_with_clear_errors() {
    let d = common::guest_dir(&[
        &common::dist("echo"),
        &common::dist("calc"),
        &common::dist("injection"),
    ]);
    std::fs::write(
        d.path().join("corrupt.wasm"),
        b"\0asm\x0d\x00\x01\x00garbage garbage",
    )
    .expect("write");
    std::fs::write(d.path().join("notwasm.wasm"), b"hello world").expect("write");
    std::fs::write(d.path().join("core.wasm"), b"\0asm\x01\x00\x00\x00").expect("write");
    // An empty but valid component: implements no kennel world.
    std::fs::write(d.path().join("empty.wasm"), b"\0asm\x0d\x00\x01\x00").expect("write");
    std::fs::write(d.path().join("Bad Name.wasm"), b"\0asm\x0d\x00\x01\x00").expect("write");
    let rt = Runtime::new(RuntimeOptions {
        guest_dir: d.path().to_path_buf(),
        cache_dir: Some(common::cache_dir()),
    })
    .expect("runtime");
    let results = rt.load_dir();
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(LoadError::Invalid { name, .. }) if name == "corrupt"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("notwasm:") && e.contains("magic")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("core:") && e.contains("core WebAssembly module")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("empty:") && e.contains("none of the kennel worlds")),
        "{errors:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(LoadError::BadName { .. })))
    );
    let kinds: Vec<(String, GuestKind)> = rt
        .guests()
        .iter()
        .map(|g| (g.name.clone(), g.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("calc".into(), GuestKind::Tool),
            ("echo".into(), GuestKind::Agent),
            ("injection".into(), GuestKind::Scanner)
        ]
    );
    // Calling a guest as the wrong kind is a typed error too.
    assert!(matches!(
        rt.tool_invoke("echo", "{}").await,
        Err(GuestError::WrongKind(..))
    ));
    assert!(matches!(
        rt.tool_invoke("nope", "{}").await,
        Err(GuestError::NotLoaded(..))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_load_comes_from_the_cache() {
    let cache = tempfile::tempdir().expect("cache");
    let d = common::guest_dir(&[&common::dist("calc")]);
    let opts = RuntimeOptions {
        guest_dir: d.path().to_path_buf(),
        cache_dir: Some(cache.path().join("c")),
    };
    let a = Runtime::new(opts.clone()).expect("runtime");
    assert_eq!(
        a.load_dir()[0].as_ref().expect("load").origin,
        Origin::Compiled
    );
    let b = Runtime::new(opts).expect("runtime");
    let g = b.load_dir().remove(0).expect("load");
    assert_eq!(g.origin, Origin::Cached);
    assert_eq!(
        b.tool_invoke("calc", r#"{"expression":"1+1"}"#).await,
        Ok(Ok("2".into()))
    );
    // The cache directory is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(cache.path().join("c"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_flood_fails_with_output_and_a_huge_return_with_reply() {
    let d = misbehave_dir("output_kb = 64\ncpu_ms = 5000\n");
    let rt = runtime(d.path());
    assert_eq!(
        misbehave_with_neighbour(&rt, "log").await,
        Err(GuestError::Output("misbehave".into()))
    );
    match misbehave_with_neighbour(&rt, "big").await {
        Err(GuestError::Reply(name, size)) => {
            assert_eq!(name, "misbehave");
            assert!(size >= 1 << 20);
        }
        other => panic!("expected a reply error, got {other:?}"),
    }
    // `reply_kb` raises the cap.
    let d = misbehave_dir("reply_kb = 2048\n");
    let rt = runtime(d.path());
    let out = rt.tool_invoke("misbehave", r#"{"mode":"big"}"#).await;
    assert_eq!(out.map(|r| r.map(|s| s.len())), Ok(Ok(1 << 20)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_reaches_no_file_env_argument_or_socket() {
    let d = misbehave_dir("");
    let rt = runtime(d.path());
    // Run from a directory holding a file, so an open cwd would show.
    let out = rt
        .tool_invoke("misbehave", r#"{"mode":"ambient"}"#)
        .await
        .expect("call")
        .expect("ok");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"file": false, "dir": 0, "cwd": 0, "env": 0, "args": 0, "socket": false, "create": false}),
        "the guest reached something: {out}"
    );
    assert!(!std::path::Path::new("planted.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_have_no_ambient_authority() {
    // Python's runtime probes files, env and sockets on start; with nothing
    // granted it still works and sees nothing.
    let d = common::guest_dir(&[&common::dist("wordstats"), &common::dist("time")]);
    let rt = runtime(d.path());
    let out = rt
        .tool_invoke(
            "wordstats",
            r#"{"text":"The cat sat. The cat ran!","top":1}"#,
        )
        .await
        .expect("call")
        .expect("ok");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["words"], 6);
    assert_eq!(v["sentences"], 2);
    assert_eq!(v["top_words"][0]["word"], "cat");
    let out = rt
        .tool_invoke("time", r#"{"timestamp":0,"timezone":"Asia/Tokyo"}"#)
        .await
        .expect("call")
        .expect("ok");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["date"], "1970-01-01");
    assert_eq!(v["time"], "09:00:00");
    assert_eq!(
        rt.tool_invoke("time", r#"{"timestamp":"x"}"#)
            .await
            .expect("call")
            .map_err(|e| e.contains("timestamp")),
        Err(true)
    );
}
