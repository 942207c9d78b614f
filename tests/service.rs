//! Set-up and service life: `kennel init` (flags and a real pseudo-terminal),
//! Hermes `.env` files, the systemd unit, sd_notify, a draining SIGTERM, the
//! reports that work while the bot runs, completions, the man page and JSON
//! logs — each against the fake Mattermost (and LLM) server.

mod common;
mod fake_llm;
mod fake_mattermost;
mod world;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_llm::{FakeLlm, Step};
use world::{T, World, guests, run};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

#[test]
fn init_non_interactive_writes_ids_the_doctor_passes_and_never_overwrites() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("dir");
    let (cfg, envf) = (
        dir.path().join("kennel.toml"),
        dir.path().join("secrets/kennel.env"),
    );
    let init = |extra: &[&str]| {
        let mut c = common::cmd();
        c.current_dir(dir.path())
            .arg("init")
            .arg("--non-interactive")
            .arg("--config")
            .arg(&cfg)
            .arg("--env-file")
            .arg(&envf)
            .args(["--url", &w.mm.url(), "--reply-mode", "thread"])
            .args(extra)
            .env("MATTERMOST_TOKEN", &w.token);
        common::run_with_input(c, "", T)
    };
    // An unknown user stops it before anything is written.
    let out = init(&["--allowed-users", "carol", "--dm-policy", "pairing"]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("carol"),
        "{}",
        common::stderr(&out)
    );
    assert!(
        !cfg.exists() && !envf.exists(),
        "nothing written on failure"
    );

    let users = ["--allowed-users", "alice,@bob"];
    let out = init(&[&users[..], &["--dm-policy", "pairing"]].concat());
    assert!(
        out.status.success(),
        "{}\n{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    let text = std::fs::read_to_string(&cfg).expect("config");
    assert!(
        text.contains(&w.alice) && text.contains(&w.bob),
        "ids, not names:\n{text}"
    );
    assert!(
        !text.contains(&w.token),
        "the token never goes into the config"
    );
    assert!(
        std::fs::read_to_string(&envf)
            .expect("env")
            .contains(&w.token)
    );
    assert_eq!((mode(&cfg), mode(&envf)), (0o600, 0o600));
    assert!(
        common::stdout(&out).contains("ok    token"),
        "{}",
        common::stdout(&out)
    );

    // The doctor passes with just the config (it names its env file) and
    // says where the token came from.
    assert!(text.contains("env_file = \""), "{text}");
    let mut c = common::cmd();
    c.arg("doctor").arg("--config").arg(&cfg);
    let out = common::run_with_input(c, "", T);
    let stdout = common::stdout(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(
        !stdout.contains(&w.token),
        "the doctor never shows the token"
    );
    let token_row = stdout
        .lines()
        .find(|l| l.contains("mattermost.token"))
        .expect("token row");
    assert!(
        token_row.contains("env file") && token_row.contains("(set, hidden)"),
        "{token_row}"
    );
    let policy_row = stdout
        .lines()
        .find(|l| l.contains("access.dm_policy"))
        .expect("policy row");
    assert!(
        policy_row.contains("pairing") && policy_row.contains("config file"),
        "{policy_row}"
    );

    // A second run refuses to overwrite; --force replaces.
    let before = std::fs::read_to_string(&cfg).expect("config");
    let out = init(&[&users[..], &["--dm-policy", "open"]].concat());
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("--force"),
        "{}",
        common::stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&cfg).expect("config"), before);
    let out = init(&[&users[..], &["--dm-policy", "open", "--force"]].concat());
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        std::fs::read_to_string(&cfg)
            .expect("config")
            .contains("\"open\"")
    );
}

#[test]
fn init_on_a_terminal_asks_hides_the_token_and_retries_a_wrong_one() {
    use expectrl::Expect;
    let w = World::new();
    let dir = tempfile::tempdir().expect("dir");
    let mut c = Command::new(common::kennel());
    c.current_dir(dir.path())
        .arg("init")
        .env("KENNEL_CACHE_DIR", common::cache_dir())
        .env_remove("MATTERMOST_TOKEN")
        .env("RUST_LOG", "warn");
    let mut p = expectrl::Session::spawn(c).expect("spawn in a pty");
    p.set_expect_timeout(Some(T));
    // A terminal echoes what is typed, except where the program turns it off.
    expectrl::process::Termios::set_echo(&mut p, true).expect("echo on");
    // Everything the terminal showed, to prove the token was never echoed.
    let mut screen = String::new();
    let mut see = |p: &mut expectrl::session::OsSession, needle: &str, what: &str| {
        let c = p
            .expect(needle)
            .unwrap_or_else(|e| panic!("{what}: {e}\nscreen so far:\n{screen}"));
        screen.push_str(&String::from_utf8_lossy(c.before()));
        screen.push_str(needle);
    };
    see(&mut p, "server URL", "url question");
    p.send_line("mm.invalid").expect("send");
    see(
        &mut p,
        "no scheme",
        "a URL without scheme is refused at once",
    );
    see(&mut p, "server URL", "asked again");
    p.send_line(w.mm.url()).expect("send");
    see(&mut p, "a Mattermost server answers", "reachable");
    see(&mut p, "input hidden", "token question");
    p.send_line("wrongtoken").expect("send");
    see(&mut p, "rejected", "a wrong token is refused");
    see(&mut p, "input hidden", "asked again");
    p.send_line(&w.token).expect("send");
    see(&mut p, "@kennelbot", "the bot's name is shown");
    see(&mut p, "Who may talk", "users question");
    p.send_line("alice, nobody").expect("send");
    see(&mut p, "nobody", "an unknown user is named");
    see(&mut p, "Who may talk", "asked again");
    p.send_line("alice").expect("send");
    see(&mut p, &w.alice, "the id is shown");
    see(&mut p, "DM policy", "policy question");
    p.send_line("").expect("default");
    see(&mut p, "Reply mode", "mode question");
    p.send_line("thread").expect("send");
    see(&mut p, "LLM base URL", "llm question");
    p.send_line("none").expect("send");
    see(&mut p, "File to keep the token in", "env file question");
    p.send_line("secret/bot.env").expect("send");
    let rest = p.expect(expectrl::Eof).expect("runs to the end");
    screen.push_str(&String::from_utf8_lossy(rest.before()));
    for m in rest.matches() {
        screen.push_str(&String::from_utf8_lossy(m));
    }
    assert!(screen.contains("wrote"), "{screen}");
    assert!(
        screen.contains("mm.invalid") && screen.contains("alice, nobody"),
        "answers are echoed:\n{screen}"
    );
    // The token was typed with echo off: it never appeared on the terminal.
    assert!(!screen.contains(&w.token), "{screen}");
    assert!(!screen.contains("wrongtoken"), "{screen}");
    let cfg = std::fs::read_to_string(dir.path().join("kennel.toml")).expect("config");
    assert!(
        cfg.contains(&w.alice) && cfg.contains("\"thread\""),
        "{cfg}"
    );
    assert!(!cfg.contains("[llm]"), "{cfg}");
    let env = std::fs::read_to_string(dir.path().join("secret/bot.env")).expect("env file");
    assert!(
        cfg.contains("env_file = \"secret/bot.env\"") || cfg.contains("bot.env"),
        "{cfg}"
    );
    assert!(
        env.contains(&format!("MATTERMOST_TOKEN={}", w.token)),
        "{env}"
    );
}

#[test]
fn a_hermes_env_file_with_allow_all_users_lets_a_stranger_in_with_a_loud_warning() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let envf = data.path().with_extension("env");
    std::fs::write(
        &envf,
        format!(
            "# ~/.hermes/.env\nMATTERMOST_URL={}\nexport MATTERMOST_TOKEN='{}'\nMATTERMOST_ALLOW_ALL_USERS=true\nMATTERMOST_REPLY_MODE=thread\nOPENAI_API_KEY=sk-unused\n",
            w.mm.url(),
            w.token
        ),
    )
    .expect("env file");
    std::fs::set_permissions(&envf, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let env_arg = envf.display().to_string();
    let k = run(
        data.path(),
        g.path(),
        "",
        &["--log-format", "json", "--env-file", &env_arg],
        &[],
    );
    k.wait_log("WebSocket connected");
    let dm = w.mm.dm(&w.bot, &w.mallory);
    let p = w.mm.user_post(&w.mallory, &dm, "hello", None);
    let replies = w.mm.wait_posts(&w.bot, &dm, 1, T);
    assert_eq!(replies[0]["message"], "echo: hello (turn 1)");
    assert_eq!(
        replies[0]["root_id"], p["id"],
        "MATTERMOST_REPLY_MODE from the file"
    );
    // JSON logs: one object per line with level, target and message; no token.
    let logs = k.logs();
    let mut warned = false;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
        assert!(v["fields"]["message"].is_string(), "{line}");
        warned |= v["level"] == "WARN" && line.contains("dm_policy is OPEN");
    }
    assert!(warned, "a loud warning names the open policy:\n{logs}");
    assert!(!logs.contains(&w.token), "the token is never logged");
}

#[test]
fn the_unit_file_verifies_and_matches_the_packaged_one() {
    let print = |args: &[&str]| {
        let mut c = common::cmd();
        c.args(["service", "install", "--print"]).args(args);
        let out = common::run_with_input(c, "", T);
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::stdout(&out)
    };
    let packaged =
        std::fs::read_to_string(common::root().join("packaging/kennel.service")).expect("packaged");
    assert_eq!(
        print(&["--exe", "/usr/local/bin/kennel"]),
        packaged,
        "packaging/kennel.service is what `kennel service install --print --exe /usr/local/bin/kennel` prints"
    );
    for unit in [
        print(&[]),
        print(&["--user", "--config", "/home/a b/k.toml"]),
    ] {
        for line in [
            "Type=notify",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "NoNewPrivileges=yes",
        ] {
            assert!(unit.lines().any(|l| l == line), "{line} missing:\n{unit}");
        }
        match which("systemd-analyze") {
            None => eprintln!(
                "SKIPPED: systemd-analyze is not installed here, so the unit was not verified"
            ),
            Some(tool) => {
                let dir = tempfile::tempdir().expect("dir");
                let path = dir.path().join("kennel.service");
                std::fs::write(&path, &unit).expect("unit");
                let out = Command::new(tool)
                    .arg("verify")
                    .arg(&path)
                    .output()
                    .expect("systemd-analyze");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() && !err.contains("kennel.service:"),
                    "systemd-analyze verify: {err}\n{unit}"
                );
            }
        }
    }
    // install writes the file and never replaces it without --force.
    let home = tempfile::tempdir().expect("home");
    let install = |force: bool| {
        let mut c = common::cmd();
        c.args(["service", "install", "--user"])
            .env("XDG_CONFIG_HOME", home.path());
        if force {
            c.arg("--force");
        }
        common::run_with_input(c, "", T)
    };
    assert!(install(false).status.success());
    let unit = home.path().join("systemd/user/kennel.service");
    assert!(
        std::fs::read_to_string(&unit)
            .expect("unit")
            .contains("Type=notify")
    );
    let again = install(false);
    assert!(!again.status.success() && common::stderr(&again).contains("--force"));
    assert!(install(true).status.success());
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    })
}

#[test]
fn notify_ready_then_sigterm_finishes_the_slow_turn_and_exits_zero() {
    let w = World::new();
    let llm = FakeLlm::start();
    llm.set_default(Step::Delay(
        Duration::from_secs(2),
        Box::new(Step::Text("the slow answer".into())),
    ));
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let sock_dir = tempfile::tempdir().expect("sock dir");
    let sock_path = sock_dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let config = format!(
        "[llm]\nbase_url = \"{}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\n",
        llm.base_url()
    );
    let sock_env = sock_path.display().to_string();
    let mut k = run(
        data.path(),
        g.path(),
        &config,
        &[],
        &[
            ("MATTERMOST_URL", &w.mm.url()),
            ("MATTERMOST_TOKEN", &w.token),
            ("MATTERMOST_ALLOWED_USERS", "alice,bob"),
            ("NOTIFY_SOCKET", &sock_env),
            ("WATCHDOG_USEC", "300000"),
        ],
    );
    let mut got: Vec<String> = Vec::new();
    let recv_until = |want: &str, got: &mut Vec<String>| {
        let deadline = Instant::now() + T;
        let mut buf = [0u8; 4096];
        while !got.iter().any(|m| m.lines().any(|l| l == want)) {
            assert!(
                Instant::now() < deadline,
                "no {want} on NOTIFY_SOCKET: {got:?}"
            );
            if let Ok(n) = sock.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).to_string());
            }
        }
    };
    recv_until("READY=1", &mut got);
    recv_until("WATCHDOG=1", &mut got);
    // `systemctl reload` sends SIGHUP: RELOADING=1, then READY=1 again.
    got.clear();
    k.signal("HUP");
    recv_until("RELOADING=1", &mut got);
    recv_until("READY=1", &mut got);
    k.wait_log("reloading configuration");
    // A slow turn is under way when SIGTERM arrives…
    let dm = w.mm.dm(&w.bot, &w.alice);
    let p = w.mm.user_post(&w.alice, &dm, "take your time", None);
    common::wait_until(T, "the LLM request", || !llm.requests().is_empty());
    k.signal("TERM");
    recv_until("STOPPING=1", &mut got);
    // …and it finishes, is posted, and the process exits 0.
    let status = k.wait_exit(T);
    assert!(status.success(), "exit {status:?}; log:\n{}", k.logs());
    assert!(
        w.mm.wait_reply(p["id"].as_str().expect("id"), Duration::ZERO)
            .is_some()
    );
    let replies = w.mm.posts_by(&w.bot, &dm);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["message"], "the slow answer");
    assert_nothing_waiting(data.path());
}

/// The inbox is consistent after a shutdown: no post is left waiting.
fn assert_nothing_waiting(data: &Path) {
    let mut c = common::cmd();
    c.args(["data", "stats", "--data"]).arg(data);
    let out = common::run_with_input(c, "", T);
    assert!(
        common::stdout(&out).contains("waiting  0 post(s)"),
        "{}",
        common::stdout(&out)
    );
}

/// The turn is over but its answer is still being posted (the server is
/// slow to accept it) when SIGTERM arrives: shutdown waits for the post and
/// its record, then exits 0.
#[test]
fn sigterm_while_an_answer_is_being_posted_waits_for_it() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = "[[route]]\nchannel = \"*\"\nagent = \"echo\"\n";
    let mut k = run(
        data.path(),
        g.path(),
        config,
        &[],
        &[
            ("MATTERMOST_URL", &w.mm.url()),
            ("MATTERMOST_TOKEN", &w.token),
            ("MATTERMOST_ALLOWED_USERS", "alice"),
        ],
    );
    k.wait_log("WebSocket connected");
    w.mm.delay_creates(1, Duration::from_secs(2));
    let dm = w.mm.dm(&w.bot, &w.alice);
    w.mm.user_post(&w.alice, &dm, "hello", None);
    common::wait_until(T, "the answer held by the server", || {
        w.mm.creates_held() == 1
    });
    k.signal("TERM");
    let status = k.wait_exit(T);
    assert!(status.success(), "exit {status:?}; log:\n{}", k.logs());
    let replies = w.mm.posts_by(&w.bot, &dm);
    assert_eq!(replies.len(), 1, "{replies:?}; log:\n{}", k.logs());
    assert_nothing_waiting(data.path());
}

#[test]
fn usage_pairing_and_data_stats_work_while_the_bot_runs() {
    let w = World::new();
    let llm = FakeLlm::start();
    llm.set_default(Step::Text("hi alice".into()));
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = format!(
        "[llm]\nbase_url = \"{}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\n",
        llm.base_url()
    );
    let k = run(
        data.path(),
        g.path(),
        &config,
        &[],
        &[
            ("MATTERMOST_URL", &w.mm.url()),
            ("MATTERMOST_TOKEN", &w.token),
            ("MATTERMOST_ALLOWED_USERS", "alice"),
        ],
    );
    k.wait_log("WebSocket connected");
    let dm = w.mm.dm(&w.bot, &w.alice);
    w.mm.user_post(&w.alice, &dm, "hello", None);
    w.mm.wait_posts(&w.bot, &dm, 1, T);
    let cli = |args: &[&str]| {
        let mut c = common::cmd();
        c.args(args).arg("--data").arg(data.path());
        let out = common::run_with_input(c, "", T);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            common::stdout(&out),
            common::stderr(&out)
        );
        common::stdout(&out)
    };
    // The store is locked by the bot: these go through the control socket.
    common::wait_until(T, "usage recorded", || cli(&["usage"]).contains(&w.alice));
    let usage = cli(&["usage"]);
    let row = usage.lines().find(|l| l.contains(&w.alice)).expect("row");
    assert_eq!(
        row.split_whitespace().nth(2),
        Some("1"),
        "one call:\n{usage}"
    );
    let stats = cli(&["data", "stats"]);
    let inbox = stats
        .lines()
        .find(|l| l.starts_with("inbox"))
        .expect("inbox row");
    assert_eq!(inbox.split_whitespace().nth(1), Some("1"), "{stats}");
    assert!(stats.contains("kennel.redb"), "{stats}");
    assert!(cli(&["pair", "list"]).contains("no pending"));
    drop(k);
    // With no bot running, the same commands open the store directly.
    assert!(cli(&["usage"]).contains(&w.alice));
}

#[test]
fn completions_print_for_each_shell_and_the_man_page_renders() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let mut c = common::cmd();
        c.args(["completions", shell]);
        let out = common::run_with_input(c, "", T);
        assert!(out.status.success(), "{shell}");
        let text = common::stdout(&out);
        assert!(
            text.contains("kennel") && text.contains("service"),
            "{shell}:\n{text}"
        );
    }
    let mut c = common::cmd();
    c.arg("man");
    let out = common::run_with_input(c, "", T);
    let man = common::stdout(&out);
    assert!(
        out.status.success() && man.contains(".TH kennel 1"),
        "{man}"
    );
    assert!(man.contains("init") && man.contains("completions"), "{man}");
}
