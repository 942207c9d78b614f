//! MCP servers as tools, end to end: `kennel chat` with the assistant and
//! the fake LLM, and a real MCP server built on the official Python SDK
//! (`tests/mcp/server.py`, SDK installed into .tools/mcp by `just setup`).

mod common;
mod fake_llm;

use std::path::PathBuf;
use std::time::Duration;

use common::{stderr, stdout};
use fake_llm::{FakeLlm, Step};

fn python() -> PathBuf {
    let p = common::root().join(".tools/mcp/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run `just setup` (or `just test`), which installs the MCP SDK",
        p.display()
    );
    p
}

fn config(llm: &FakeLlm, tools: &str) -> String {
    config_with_timeout(llm, tools, 20)
}

fn config_with_timeout(llm: &FakeLlm, tools: &str, timeout: u64) -> String {
    format!(
        r#"
[llm]
base_url = "{}"

[secrets.mcp_token]
env = "KENNEL_TEST_MCP_TOKEN"
header = "Authorization"
hosts = ["https://example.com/"]

[[mcp]]
name = "demo"
command = ["{}", "{}"]
secrets = ["mcp_token"]
timeout_secs = {timeout}

[[route]]
channel = "*"
agent = "assistant"
tools = [{tools}]
scanners = ["injection"]
"#,
        llm.base_url(),
        python().display(),
        common::root().join("tests/mcp/server.py").display()
    )
}

fn guests() -> tempfile::TempDir {
    common::guest_dir(&[
        &common::dist("assistant"),
        &common::dist("calc"),
        &common::dist("injection"),
    ])
}

fn run(llm: &FakeLlm, tools: &str, input: &str) -> std::process::Output {
    let g = guests();
    let data = tempfile::tempdir().expect("data");
    common::chat(
        g.path(),
        data.path(),
        Some(&config(llm, tools)),
        input,
        &[("KENNEL_TEST_MCP_TOKEN", "mcp-secret-value-42")],
    )
}

#[test]
fn a_granted_mcp_tool_is_offered_and_called_with_only_its_secrets_in_the_environment() {
    let llm = FakeLlm::start();
    llm.push(Step::Calls(vec![
        ("demo.add".into(), r#"{"a": 2, "b": 40}"#.into()),
        ("demo.env_names".into(), "{}".into()),
    ]));
    llm.push(Step::Text("Seen: {tools}".into()));
    let o = run(&llm, r#""demo.*", "calc""#, "add 2 and 40\n");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    // The model was offered the server's tools under SERVER.TOOL names.
    let offered: Vec<String> = llm.requests()[0]["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    for name in [
        "demo.add",
        "demo.env_names",
        "demo.page",
        "demo.crash",
        "calc",
    ] {
        assert!(
            offered.iter().any(|n| n == name),
            "{name} not in {offered:?}"
        );
    }
    let msgs = llm.tool_messages();
    assert_eq!(msgs[0], "42", "{msgs:?}");
    // An empty environment plus the configured secret: nothing else of the host's.
    assert_eq!(
        msgs[1], "names=KENNEL_TEST_MCP_TOKEN token_set=True token_len=19",
        "{msgs:?}"
    );
    assert!(out.contains("Seen: 42"), "{out}");
}

#[test]
fn a_route_without_the_grant_cannot_call_the_server() {
    let llm = FakeLlm::start();
    llm.push(Step::Calls(vec![(
        "demo.add".into(),
        r#"{"a": 1, "b": 1}"#.into(),
    )]));
    llm.push(Step::Text("Seen: {tools}".into()));
    let o = run(&llm, r#""calc""#, "add\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let offered = llm.requests()[0]["tools"].to_string();
    assert!(!offered.contains("demo."), "{offered}");
    assert_eq!(
        llm.tool_messages(),
        vec!["error: tool `demo.add` is not available here".to_string()]
    );
}

#[test]
fn mcp_results_are_scanned_and_a_dead_server_comes_back() {
    let llm = FakeLlm::start();
    // Turn 1: an injected result is withheld; the server dies; at once its
    // tools are unavailable.
    llm.push(Step::Calls(vec![("demo.page".into(), "{}".into())]));
    llm.push(Step::Calls(vec![("demo.crash".into(), "{}".into())]));
    llm.push(Step::Calls(vec![(
        "demo.add".into(),
        r#"{"a": 1, "b": 2}"#.into(),
    )]));
    llm.push(Step::Text("done".into()));
    // Turn 2, a few seconds later: restarted (backoff starts at 1 s).
    llm.push(Step::Delay(
        Duration::from_secs(5),
        Box::new(Step::Calls(vec![(
            "demo.add".into(),
            r#"{"a": 1, "b": 2}"#.into(),
        )])),
    ));
    llm.push(Step::Text("Seen: {tools}".into()));
    let o = run(&llm, r#""demo.*""#, "read the page\nadd again\n");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    let msgs = llm.tool_messages();
    assert!(msgs[0].contains("tool output withheld"), "{msgs:?}");
    assert!(!msgs.iter().any(|m| m.contains("evil.example")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("demo.crash")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("MCP server `demo` is unavailable")),
        "{msgs:?}"
    );
    assert!(
        out.contains("Seen: 3"),
        "restarted server answers: {out}\n{msgs:?}"
    );
}

#[test]
fn check_lists_mcp_tools() {
    let llm = FakeLlm::start();
    let g = guests();
    let data = tempfile::tempdir().expect("data");
    let cfg = data.path().join("kennel.toml");
    std::fs::write(&cfg, config(&llm, r#""demo.*""#)).expect("config");
    let o = common::cmd()
        .arg("check")
        .arg("--guests")
        .arg(g.path())
        .arg("--config")
        .arg(&cfg)
        .arg("--data")
        .arg(data.path())
        .output()
        .expect("check");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("MCP          demo.add: Add two integers."),
        "{out}"
    );
    assert!(out.contains("MCP          demo.crash:"), "{out}");
}

/// The same server over streamable HTTP (`url`), started by the test.
#[test]
fn a_streamable_http_server_works_like_a_stdio_one() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut server = std::process::Command::new(python())
        .arg(common::root().join("tests/mcp/server.py"))
        .arg("--http")
        .arg(port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the MCP server");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut server);
    common::wait_until(Duration::from_secs(30), "the MCP HTTP server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let llm = FakeLlm::start();
    llm.push(Step::Calls(vec![(
        "web.add".into(),
        r#"{"a": 20, "b": 22}"#.into(),
    )]));
    llm.push(Step::Text("Seen: {tools}".into()));
    let cfg = format!(
        "[llm]\nbase_url = \"{}\"\n\n[[mcp]]\nname = \"web\"\nurl = \"http://127.0.0.1:{port}/mcp\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\ntools = [\"web.*\"]\nscanners = [\"injection\"]\n",
        llm.base_url()
    );
    let g = guests();
    let data = tempfile::tempdir().expect("data");
    let o = common::chat(g.path(), data.path(), Some(&cfg), "add\n", &[]);
    assert!(
        stdout(&o).contains("Seen: 42"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn a_slow_mcp_call_is_cut_at_the_timeout() {
    let llm = FakeLlm::start();
    llm.push(Step::Calls(vec![(
        "demo.slow".into(),
        r#"{"seconds": 30}"#.into(),
    )]));
    llm.push(Step::Text("Seen: {tools}".into()));
    let g = guests();
    let data = tempfile::tempdir().expect("data");
    let started = std::time::Instant::now();
    let o = common::chat(
        g.path(),
        data.path(),
        Some(&config_with_timeout(&llm, r#""demo.*""#, 4)),
        "wait\n",
        &[],
    );
    let out = stdout(&o);
    assert!(
        out.contains("MCP tool `demo.slow` timed out after 4 s"),
        "{out}{}",
        stderr(&o)
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}
