//! Guest authoring end to end: `kennel new` in every language, `kennel build`
//! (toolchains from the project's `.tools/`, installed by `just setup`), and
//! the result loaded and called through the host: a tool per language, agents
//! through `kennel chat --agent`, scanners through `kennel scan`. Also a
//! broken source, a missing toolchain, and deploy.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{cmd, run_with_input, stderr, stdout};

/// The project's toolchains (`just setup`); a test never skips without them.
fn tools() -> PathBuf {
    let t = common::root().join(".tools");
    for need in [
        "zig/bin/zig",
        "py/bin/componentize-py",
        "js/node_modules/.bin/componentize-js",
    ] {
        assert!(
            t.join(need).exists(),
            "{} is missing: run `just setup` (or `just test`, which runs it)",
            t.join(need).display()
        );
    }
    t
}

/// `kennel new KIND NAME --lang LANG --dir PARENT`, asserted to succeed.
fn new(parent: &Path, kind: &str, name: &str, lang: &str) -> PathBuf {
    let o = cmd()
        .args(["new", kind, name, "--lang", lang, "--dir"])
        .arg(parent)
        .output()
        .expect("run kennel new");
    assert!(o.status.success(), "kennel new: {}", stderr(&o));
    parent.join(name)
}

/// `kennel build [--deploy D]` in `dir`, with the project's toolchains and a
/// shared Cargo target directory (the Rust template's dependencies build once).
fn build(dir: &Path, deploy: Option<&Path>) -> Output {
    let mut c = cmd();
    c.arg("build")
        .arg(dir)
        .env("KENNEL_TOOLS", tools())
        .env("CARGO_TARGET_DIR", common::root().join("target/authoring"));
    if let Some(d) = deploy {
        c.arg("--deploy").arg(d);
    }
    run_with_input(c, "", Duration::from_secs(300))
}

fn built(dir: &Path) -> String {
    let o = build(dir, None);
    assert!(o.status.success(), "kennel build failed:\n{}", stderr(&o));
    stdout(&o)
}

fn call(guests: &Path, tool: &str, json: &str) -> Output {
    let data = tempfile::tempdir().expect("data");
    let mut c = cmd();
    c.args(["call", "--guests"])
        .arg(guests)
        .arg("--data")
        .arg(data.path())
        .args([tool, json]);
    run_with_input(c, "", Duration::from_secs(120))
}

/// The tool template of `lang`: builds, loads and counts through the host.
fn tool_template(lang: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "tool", "demo", lang);
    let report = built(&dir);
    assert!(
        report.contains("(tool, kennel:guest/tool@0.2.0)") && report.contains("compile"),
        "{report}"
    );
    let o = call(&dir, "demo", r#"{"text":"hello wide  w\u00f6rld"}"#);
    assert_eq!(
        stdout(&o).trim(),
        r#"{"words":3,"characters":17}"#,
        "{lang}: {}",
        stderr(&o)
    );
    let o = call(&dir, "demo", r#"{"text":"a"}"#);
    assert_eq!(stdout(&o).trim(), r#"{"words":1,"characters":1}"#, "{lang}");
    template_tests_pass(&dir, lang);
}

/// The test the template ships, run the way its README says.
fn template_tests_pass(dir: &Path, lang: &str) {
    let t = tools();
    let mut c = match lang {
        "rust" => {
            let mut c = std::process::Command::new("cargo");
            c.args(["test", "-q"])
                .env("CARGO_TARGET_DIR", common::root().join("target/authoring"));
            c
        }
        "python" => {
            let mut c = std::process::Command::new("python3");
            c.args(["-m", "unittest", "-q"]);
            c
        }
        "js" => {
            let mut c = std::process::Command::new("node");
            c.arg("--test");
            c
        }
        "zig" => {
            let mut c = std::process::Command::new(t.join("zig/bin/zig"));
            c.args(["test", "demo.zig", "-lc", "-Ibindings"]);
            c
        }
        _ => return, // C: the template has no test (see its README)
    };
    let o = c
        .current_dir(dir)
        .output()
        .expect("run the template's tests");
    assert!(
        o.status.success(),
        "{lang} template tests failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn the_rust_tool_template_builds_and_answers() {
    tool_template("rust");
}

#[test]
fn the_python_tool_template_builds_and_answers() {
    tool_template("python");
}

#[test]
fn the_js_tool_template_builds_and_answers() {
    tool_template("js");
}

#[test]
fn the_c_tool_template_builds_and_answers() {
    tool_template("c");
}

#[test]
fn the_zig_tool_template_builds_and_answers() {
    tool_template("zig");
}

/// The agent template of `lang` answers through `kennel chat --agent`, with
/// the session's history growing.
fn agent_template(lang: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "agent", "helper", lang);
    built(&dir);
    let data = tmp.path().join("data");
    let mut c = cmd();
    c.args(["chat", "--guests"])
        .arg(&dir)
        .arg("--data")
        .arg(&data)
        .args(["--agent", "helper"]);
    let o = run_with_input(c, "hello\nagain\n", Duration::from_secs(120));
    let out = stdout(&o);
    assert!(
        out.contains("You said: hello (0 earlier turns)")
            && out.contains("You said: again (2 earlier turns)"),
        "{lang}: {out}{}",
        stderr(&o)
    );
}

#[test]
fn the_zig_agent_template_answers_through_chat() {
    agent_template("zig");
}

#[test]
fn the_rust_agent_template_answers_through_chat() {
    agent_template("rust");
}

#[test]
fn the_c_agent_template_answers_through_chat() {
    agent_template("c");
}

/// The scanner template of `lang` blocks the marked line and allows the other.
fn scanner_template(lang: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "scanner", "secrets", lang);
    built(&dir);
    let mut c = cmd();
    c.args(["scan", "--json", "--guests"])
        .arg(&dir)
        .arg("--data")
        .arg(tmp.path().join("data"))
        .args(["--scanners", "secrets"]);
    let o = run_with_input(
        c,
        "the password is in the vault\nexport password=hunter2\n",
        Duration::from_secs(120),
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(lines.len(), 2, "{lang}: {}{}", stdout(&o), stderr(&o));
    assert_eq!(lines[0]["verdict"], "allow", "{lang}");
    assert_eq!(lines[1]["verdict"], "block", "{lang}");
    assert_eq!(lines[1]["findings"][0]["rule"], "password", "{lang}");
}

#[test]
fn the_c_scanner_template_blocks_a_marked_message() {
    scanner_template("c");
}

#[test]
fn the_js_scanner_template_blocks_a_marked_message() {
    scanner_template("js");
}

#[test]
fn a_broken_source_prints_the_compiler_error_and_fails() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "tool", "broken", "c");
    let src = dir.join("broken.c");
    let text = std::fs::read_to_string(&src).expect("read");
    std::fs::write(
        &src,
        text.replace("size_t words, characters;", "size_t words characters;"),
    )
    .expect("write");
    let o = build(&dir, None);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("broken.c:") && err.contains("error:"), "{err}");
    assert!(err.contains("the build command failed"), "{err}");
    assert!(!dir.join("broken.wasm").exists());
}

#[test]
fn a_missing_toolchain_names_the_setup_step() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "tool", "nozig", "zig");
    let o = cmd()
        .arg("build")
        .arg(&dir)
        .env("KENNEL_TOOLS", tmp.path().join("no-tools"))
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run kennel build");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("`zig` was not found") && err.contains("just setup"),
        "{err}"
    );
}

#[test]
fn deploy_replaces_by_rename_and_a_guest_of_the_wrong_kind_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "scanner", "guard", "zig");
    let guests = tmp.path().join("guests");
    std::fs::create_dir_all(&guests).expect("guests");
    std::fs::write(guests.join("guard.wasm"), b"old").expect("old");
    let o = build(&dir, Some(&guests));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("deployed"), "{}", stdout(&o));
    let mut names: Vec<String> = std::fs::read_dir(&guests)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["guard.toml", "guard.wasm"], "no temp files left");
    let check = common::check(&guests, &tmp.path().join("data"));
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("guard        scanner"),
        "{}",
        stdout(&check)
    );

    // A build that produces an agent where the manifest says scanner fails
    // the loader check, and nothing is deployed.
    let toml = dir.join("guard.toml");
    let text = std::fs::read_to_string(&toml).expect("read");
    let start = text.find("command = ").expect("command line");
    let echo = common::dist("echo");
    let text = format!(
        "{}command = 'cp {} guard.wasm'\n",
        &text[..start],
        echo.display()
    );
    std::fs::write(&toml, text).expect("write");
    let before = std::fs::read(guests.join("guard.wasm")).expect("deployed");
    let o = build(&dir, Some(&guests));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("exports the agent world, but guard.toml says kind = \"scanner\""),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(guests.join("guard.wasm")).expect("still"),
        before
    );
}

#[test]
fn the_bundled_c_and_zig_tools_are_listed_by_check() {
    let g = common::guest_dir(&[&common::dist("checksum"), &common::dist("units")]);
    let data = tempfile::tempdir().expect("data");
    let o = common::check(g.path(), data.path());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for name in ["checksum", "units"] {
        assert!(
            out.lines().any(|l| l.starts_with(name)
                && l.contains("tool")
                && l.contains("kennel:guest/tool@0.2.0")),
            "{out}"
        );
    }
}

/// `kennel build --deploy` into a directory a runtime watches: the next call
/// uses the new build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_deploy_hot_swaps_a_watched_guest_directory() {
    use kennel::runtime::{Runtime, RuntimeOptions};
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new(tmp.path(), "tool", "counter", "c");
    let guests = tmp.path().join("guests");
    let o = build(&dir, Some(&guests));
    assert!(o.status.success(), "{}", stderr(&o));
    let rt = Runtime::new(RuntimeOptions {
        guest_dir: guests.clone(),
        cache_dir: None,
    })
    .expect("runtime");
    for r in rt.load_dir() {
        r.expect("load");
    }
    let _watch = rt.watch().expect("watch");
    let args = r#"{"text":"one two"}"#;
    let before = rt.tool_invoke("counter", args).await.expect("call");
    assert_eq!(before.as_deref(), Ok(r#"{"words":2,"characters":7}"#));
    let src = dir.join("counter.c");
    let text = std::fs::read_to_string(&src).expect("read");
    std::fs::write(
        &src,
        text.replace("\"{\\\"words\\\":", "\"{\\\"v\\\":2,\\\"words\\\":"),
    )
    .expect("write");
    let o = tokio::task::spawn_blocking(move || build(&dir, Some(&guests)))
        .await
        .expect("join");
    assert!(o.status.success(), "{}", stderr(&o));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = rt.tool_invoke("counter", args).await.expect("call");
        if now.as_deref() == Ok(r#"{"v":2,"words":2,"characters":7}"#) {
            break;
        }
        assert_eq!(now, before, "only the old or the new build answers");
        assert!(std::time::Instant::now() < deadline, "never swapped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
