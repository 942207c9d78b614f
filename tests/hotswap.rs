//! Hot swap through the runtime's directory watcher: swaps under load, calls
//! in flight finish on the old version, half-written or broken files never
//! replace a working guest, deletion unloads, limits reload, old versions are
//! freed.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::agent::{Services, ctx, msg};
use kennel::runtime::{AgentServices, GuestError, Runtime, RuntimeOptions};

/// Atomic deploy: write a temp file, rename it into place.
fn deploy(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, dir.join(format!("{name}.wasm"))).expect("rename");
}

async fn wait_version(rt: &Runtime, name: &str, want: Option<&str>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let v = rt.get(name).map(|g| g.version.clone());
        if v.as_deref() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {name} at {want:?}; have {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Deploys `bytes` as `agent` and waits until that version serves.
async fn swap_to(s: &Setup, bytes: &[u8]) {
    deploy(s.dir.path(), "agent", bytes);
    wait_version(
        &s.rt,
        "agent",
        Some(&version_of(bytes)),
        Duration::from_secs(10),
    )
    .await;
}

fn version_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Setup {
    dir: tempfile::TempDir,
    rt: Runtime,
    _watch: kennel::runtime::Watcher,
    slow: Vec<u8>,
    echo: Vec<u8>,
}

async fn setup() -> Setup {
    let slow = std::fs::read(common::test_guest("slowagent")).expect("slowagent");
    let echo = std::fs::read(common::dist("echo")).expect("echo");
    let dir = tempfile::tempdir().expect("dir");
    deploy(dir.path(), "agent", &slow);
    let rt = Runtime::new(RuntimeOptions {
        guest_dir: dir.path().to_path_buf(),
        cache_dir: Some(common::cache_dir()),
    })
    .expect("runtime");
    for r in rt.load_dir() {
        r.expect("load");
    }
    let watch = rt.watch().expect("watch");
    Setup {
        dir,
        rt,
        _watch: watch,
        slow,
        echo,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_swaps_under_load_fail_nothing_and_each_reply_has_one_version() {
    let s = setup().await;
    let (v_slow, v_echo) = (version_of(&s.slow), version_of(&s.echo));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut loaders = Vec::new();
    for _ in 0..2 {
        let (rt, stop, calls) = (s.rt.clone(), stop.clone(), calls.clone());
        let (v_slow, v_echo) = (v_slow.clone(), v_echo.clone());
        loaders.push(tokio::spawn(async move {
            let services: Arc<dyn AgentServices> = Services::llm_after(Duration::ZERO);
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let (reply, version) = rt
                    .run_agent("agent", services.clone(), &ctx(), &msg("which"))
                    .await
                    .expect("no call may fail during swaps");
                let text = reply.expect("agent ok").text;
                // The reply's content must come from the version that claims it.
                if text == "version v0" {
                    assert_eq!(version, v_slow, "slowagent reply from {version}");
                } else {
                    assert!(text.starts_with("echo: which"), "unexpected reply {text}");
                    assert_eq!(version, v_echo, "echo reply from {version}");
                }
                seen.insert(version);
                calls.fetch_add(1, Ordering::Relaxed);
            }
            seen
        }));
    }
    for i in 0..20 {
        let (bytes, v) = if i % 2 == 0 {
            (&s.echo, &v_echo)
        } else {
            (&s.slow, &v_slow)
        };
        deploy(s.dir.path(), "agent", bytes);
        wait_version(&s.rt, "agent", Some(v), Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        let seen = l.await.expect("loader");
        assert_eq!(seen.len(), 2, "each loader saw both versions");
    }
    assert!(
        calls.load(Ordering::Relaxed) > 100,
        "calls kept flowing: {}",
        calls.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_finishes_on_the_old_version_which_is_then_freed() {
    let s = setup().await;
    let old = Arc::downgrade(&s.rt.get("agent").expect("loaded"));
    let rt = s.rt.clone();
    let call = tokio::spawn(async move {
        rt.run_agent(
            "agent",
            Services::llm_after(Duration::from_millis(800)),
            &ctx(),
            &msg("wait"),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    swap_to(&s, &s.echo).await;
    assert!(
        old.upgrade().is_some(),
        "the old version is alive while its call runs"
    );
    let (reply, version) = call.await.expect("join").expect("call");
    assert_eq!(reply.expect("ok").text, "waited: slept");
    assert_eq!(version, version_of(&s.slow));
    assert!(
        old.upgrade().is_none(),
        "the old version is dropped after its last call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_written_and_broken_files_never_replace_a_working_guest() {
    let s = setup().await;
    let v_slow = version_of(&s.slow);
    // A broken build: rejected, the old version keeps serving.
    deploy(
        s.dir.path(),
        "agent",
        b"\0asm\x0d\x00\x01\x00this is not a component",
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        s.rt.get("agent").map(|g| g.version.clone()),
        Some(v_slow.clone())
    );
    // A slow in-place copy: chunks with pauses; only the complete file loads.
    let path = s.dir.path().join("agent.wasm");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).expect("create");
        for chunk in s.echo.chunks(s.echo.len() / 8 + 1) {
            f.write_all(chunk).expect("write");
            f.flush().expect("flush");
            tokio::time::sleep(Duration::from_millis(60)).await;
            // Never a half-written version.
            let v = s.rt.get("agent").map(|g| g.version.clone());
            assert!(
                v == Some(v_slow.clone()) || v == Some(version_of(&s.echo)),
                "unexpected version {v:?}"
            );
        }
    }
    wait_version(
        &s.rt,
        "agent",
        Some(&version_of(&s.echo)),
        Duration::from_secs(10),
    )
    .await;
    let r =
        s.rt.run_agent(
            "agent",
            Services::llm_after(Duration::ZERO),
            &ctx(),
            &msg("hi"),
        )
        .await
        .expect("call");
    assert!(r.0.expect("ok").text.starts_with("echo: hi"));
    // Half a file that then stays half: never loaded, the working version stays.
    std::fs::write(&path, &s.slow[..s.slow.len() / 2]).expect("write half");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        s.rt.get("agent").map(|g| g.version.clone()),
        Some(version_of(&s.echo))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_unloads_and_returning_reloads() {
    let s = setup().await;
    std::fs::remove_file(s.dir.path().join("agent.wasm")).expect("rm");
    wait_version(&s.rt, "agent", None, Duration::from_secs(10)).await;
    let r =
        s.rt.run_agent(
            "agent",
            Services::llm_after(Duration::ZERO),
            &ctx(),
            &msg("hi"),
        )
        .await;
    assert!(matches!(r, Err(GuestError::NotLoaded(..))));
    swap_to(&s, &s.slow).await;
    let (reply, _) =
        s.rt.run_agent(
            "agent",
            Services::llm_after(Duration::ZERO),
            &ctx(),
            &msg("hi"),
        )
        .await
        .expect("call");
    assert_eq!(reply.expect("ok").text, "version v0");
}

/// A swapped-in guest is loaded once: reading its files (as every load and
/// any backup or `sha256sum` does) is not a change. Before this was
/// checked, each reload's own read of the file triggered the next reload,
/// every ~0.3 s for the life of the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_guest_file_does_not_reload_it() {
    let s = setup().await;
    swap_to(&s, &s.echo).await;
    let loaded = s.rt.get("agent").expect("loaded");
    for _ in 0..3 {
        std::fs::read(s.dir.path().join("agent.wasm")).expect("read");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let now = s.rt.get("agent").expect("still loaded");
    assert!(
        Arc::ptr_eq(&loaded, &now),
        "the guest was reloaded without a change (loaded at {:?}, then at {:?})",
        loaded.loaded_at,
        now.loaded_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_limits_file_reloads_the_guest() {
    let s = setup().await;
    let before = s.rt.get("agent").expect("loaded").loaded_at;
    std::fs::write(s.dir.path().join("agent.toml"), "timeout_ms = 200\n").expect("limits");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.rt.get("agent").map(|g| g.limits.timeout_ms) != Some(200) {
        assert!(Instant::now() < deadline, "limits not reloaded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(s.rt.get("agent").expect("loaded").loaded_at > before);
    let r =
        s.rt.run_agent(
            "agent",
            Services::llm_after(Duration::from_secs(5)),
            &ctx(),
            &msg("wait"),
        )
        .await;
    assert_eq!(r.err(), Some(GuestError::Timeout("agent".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_to_another_kind_is_refused_while_a_route_uses_the_guest() {
    let s = setup().await;
    let v_slow = version_of(&s.slow);
    let calc = std::fs::read(common::dist("calc")).expect("calc");
    // Routes rely on `agent` being an agent: a tool build under that name is refused.
    s.rt.set_roles([("agent".to_string(), kennel::runtime::GuestKind::Agent)].into());
    let err = s.rt.load_file(&{
        let p = s.dir.path().join("probe").join("agent.wasm");
        std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
        std::fs::write(&p, &calc).expect("write");
        p
    });
    match err {
        Err(kennel::runtime::LoadError::KindInUse { name, .. }) => assert_eq!(name, "agent"),
        other => panic!("expected KindInUse, got {:?}", other.map(|g| g.kind)),
    }
    deploy(s.dir.path(), "agent", &calc);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(s.rt.get("agent").map(|g| g.version.clone()), Some(v_slow));
    // With no route relying on it, the same swap goes through.
    s.rt.set_roles(Default::default());
    deploy(s.dir.path(), "agent", &s.echo);
    deploy(s.dir.path(), "agent", &calc);
    wait_version(
        &s.rt,
        "agent",
        Some(&version_of(&calc)),
        Duration::from_secs(10),
    )
    .await;
}
