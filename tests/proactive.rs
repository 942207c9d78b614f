//! Proactive work against the fake Mattermost (and LLM) server: config
//! schedules, runs across downtime and crashes, reminders the model creates
//! with the `schedule` tool, `!jobs` and `kennel jobs`, the health and
//! metrics listener, and the native `/kennel` slash command.

mod common;
mod fake_llm;
mod fake_mattermost;
mod world;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use fake_llm::{FakeLlm, Step};
use serde_json::Value;
use world::{Running, T, World, guests, run};

fn env(w: &World) -> Vec<(&'static str, String)> {
    vec![
        ("MATTERMOST_URL", w.mm.url()),
        ("MATTERMOST_TOKEN", w.token.clone()),
        ("MATTERMOST_ALLOWED_USERS", "alice,bob".into()),
    ]
}

fn start(w: &World, data: &Path, guests: &Path, config: &str) -> Running {
    let env = env(w);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let k = run(data, guests, config, &[], &env);
    k.wait_log("WebSocket connected");
    k
}

/// The bot's posts for a job (by `props.kennel_job`), in any channel.
fn job_posts(w: &World, job: &str) -> Vec<Value> {
    w.mm.all_posts_by(&w.bot)
        .into_iter()
        .filter(|p| p["props"]["kennel_job"] == job)
        .collect()
}

fn wait_job_posts(w: &World, job: &str, n: usize) -> Vec<Value> {
    common::wait_until(T, &format!("{n} post(s) of job {job}"), || {
        job_posts(w, job).len() >= n
    });
    job_posts(w, job)
}

/// A local time `secs` from now, as `at = "…"` takes it (UTC).
fn at_in(secs: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs);
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn cli(data: &Path, args: &[&str]) -> String {
    let mut c = common::cmd();
    c.args(args).arg("--data").arg(data);
    let out = common::run_with_input(c, "", T);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    common::stdout(&out)
}

fn msg(p: &Value) -> String {
    p["message"].as_str().unwrap_or("").to_string()
}

#[test]
fn config_schedules_fire_on_time_through_the_agent_and_admins_manage_them() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = "[[route]]\nchannel = \"*\"\nagent = \"echo\"\n\n\
        [[schedule]]\nname = \"tick\"\nevery = \"2s\"\nprompt = \"tick\"\nchannel = \"town\"\n\n\
        [[schedule]]\nname = \"cron\"\ncron = \"*/3 * * * * *\"\nprompt = \"cron says hi\"\ndm = \"alice\"\n\n\
        [[schedule]]\nname = \"hourly\"\nevery = \"1h\"\nprompt = \"hourly\"\nchannel = \"home\"\n";
    let started = Instant::now();
    let k = start(&w, data.path(), g.path(), config);
    // `every`: on time, through the agent (its session remembers the runs), marked.
    let ticks = wait_job_posts(&w, "cfg:tick", 2);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(msg(&ticks[0]), "echo: tick (turn 1)");
    assert_eq!(msg(&ticks[1]), "echo: tick (turn 2)");
    assert_eq!(ticks[0]["channel_id"], w.town.as_str());
    let gap =
        ticks[1]["create_at"].as_i64().expect("t") - ticks[0]["create_at"].as_i64().expect("t");
    assert!((1500..=3500).contains(&gap), "runs 2 s apart, got {gap} ms");
    assert_eq!(ticks[0]["props"]["kennel_proactive"], true);
    // `cron`: in alice's DM.
    let cron = wait_job_posts(&w, "cfg:cron", 1);
    assert_eq!(cron[0]["channel_id"], w.mm.dm(&w.bot, &w.alice).as_str());
    assert_eq!(msg(&cron[0]), "echo: cron says hi (turn 1)");
    // Admins, while the bot runs: list, run now, remove.
    let list = cli(data.path(), &["jobs", "list"]);
    for id in ["cfg:tick", "cfg:cron", "cfg:hourly"] {
        assert!(list.contains(id), "{list}");
    }
    // The home channel is not set: the job is disabled with a reason, not retried forever.
    cli(data.path(), &["jobs", "run", "cfg:hourly"]);
    common::wait_until(T, "the hourly job disabled", || {
        cli(data.path(), &["jobs", "list"]).contains("disabled: no home channel")
    });
    assert!(job_posts(&w, "cfg:hourly").is_empty());
    cli(data.path(), &["jobs", "rm", "cfg:tick"]);
    let n = job_posts(&w, "cfg:tick").len();
    std::thread::sleep(Duration::from_millis(4500));
    assert_eq!(
        job_posts(&w, "cfg:tick").len(),
        n,
        "a removed job never runs again"
    );
    drop(k);
}

#[test]
fn a_job_due_while_down_runs_once_after_the_restart() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = format!(
        "[[route]]\nchannel = \"*\"\nagent = \"echo\"\n\n[[schedule]]\nname = \"once\"\nat = \"{}\"\nprompt = \"while you were out\"\nchannel = \"town\"\n\n[[schedule]]\nname = \"skip\"\nevery = \"3s\"\ncatch_up = \"none\"\nprompt = \"skip me\"\nchannel = \"town\"\n",
        at_in(4)
    );
    let mut k = start(&w, data.path(), g.path(), &config);
    k.kill9();
    std::thread::sleep(Duration::from_secs(7));
    assert!(job_posts(&w, "cfg:once").is_empty());
    let before_restart = job_posts(&w, "cfg:skip").len();
    let _k = start(&w, data.path(), g.path(), &config);
    let posts = wait_job_posts(&w, "cfg:once", 1);
    assert_eq!(msg(&posts[0]), "echo: while you were out (turn 1)");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(job_posts(&w, "cfg:once").len(), 1, "run once, never again");
    // catch_up = "none": the runs missed while down are skipped, later ones run.
    let skip = job_posts(&w, "cfg:skip");
    assert!(
        skip.len() > before_restart,
        "the every-3s job runs after the restart"
    );
    let first_after = skip[before_restart]["create_at"].as_i64().expect("t");
    let restarted = fake_mattermost::now_ms() - 4000 - 1000;
    assert!(
        first_after >= restarted,
        "no catch-up run for the missed slots"
    );
}

#[test]
fn a_run_interrupted_by_a_crash_is_finished_once_and_a_stored_answer_is_not_asked_again() {
    let w = World::new();
    let llm = FakeLlm::start();
    llm.set_default(Step::Delay(
        Duration::from_secs(3),
        Box::new(Step::Text("the weekly report".into())),
    ));
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = |at: &str| {
        format!(
            "[llm]\nbase_url = \"{}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\n\n[[schedule]]\nname = \"report\"\nat = \"{at}\"\nprompt = \"write the weekly report\"\nchannel = \"town\"\n",
            llm.base_url()
        )
    };
    // 1. Killed while the agent works: the run is answered after the restart.
    let cfg = config(&at_in(2));
    let mut k = start(&w, data.path(), g.path(), &cfg);
    common::wait_until(T, "the LLM request", || !llm.requests().is_empty());
    k.kill9();
    let _k = start(&w, data.path(), g.path(), &cfg);
    let posts = wait_job_posts(&w, "cfg:report", 1);
    assert_eq!(msg(&posts[0]), "the weekly report");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(job_posts(&w, "cfg:report").len(), 1, "posted once");
    drop(_k);

    // 2. Killed after the answer was stored but before it could be posted:
    //    the restart posts the stored answer without asking the model again.
    let w = World::new();
    let data = tempfile::tempdir().expect("data");
    let cfg = config(&at_in(2));
    llm.set_default(Step::Text("the monthly report".into()));
    w.mm.reject_creates(1000);
    let asked = llm.requests().len();
    let mut k = start(&w, data.path(), g.path(), &cfg);
    k.wait_log("cannot post the job's answer; retrying");
    assert_eq!(llm.requests().len(), asked + 1);
    k.kill9();
    w.mm.reject_creates(0);
    let _k = start(&w, data.path(), g.path(), &cfg);
    let posts = wait_job_posts(&w, "cfg:report", 1);
    assert_eq!(msg(&posts[0]), "the monthly report");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(job_posts(&w, "cfg:report").len(), 1);
    assert_eq!(
        llm.requests().len(),
        asked + 1,
        "the stored answer is posted, not asked for again"
    );
}

#[test]
fn the_model_schedules_a_reminder_that_fires_in_the_users_dm_and_users_manage_their_jobs() {
    let w = World::new();
    let llm = FakeLlm::start();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = format!(
        "[llm]\nbase_url = \"{}\"\n\n[jobs]\nmax_per_user = 1\n\n[[route]]\nchannel = \"*\"\nagent = \"assistant\"\ntools = [\"schedule\"]\n",
        llm.base_url()
    );
    let create = |args: Value| {
        llm.push(Step::Calls(vec![("schedule".into(), args.to_string())]));
        llm.push(Step::Text("{tools}".into()));
    };
    create(
        serde_json::json!({"action": "create", "prompt": "Remind alice to renew the certificate", "at": at_in(5)}),
    );
    llm.set_default(Step::Text("Time to renew the certificate!".into()));
    let _k = start(&w, data.path(), g.path(), &config);
    let dm = w.mm.dm(&w.bot, &w.alice);
    // Asked in a channel; delivered by DM.
    w.mm.user_post(
        &w.alice,
        &w.town,
        "@kennelbot remind me in 5 seconds to renew the certificate",
        None,
    );
    let reply = msg(&w.mm.wait_posts(&w.bot, &w.town, 1, T)[0]);
    assert!(reply.contains("scheduled job"), "{reply}");
    let id = reply
        .split("scheduled job ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("job id")
        .to_string();
    // `!jobs` (no LLM involved) lists it.
    w.mm.user_post(&w.alice, &dm, "!jobs", None);
    let list = msg(&w.mm.wait_posts(&w.bot, &dm, 1, T)[0]);
    assert!(list.contains(&id), "{list}");
    let fired = wait_job_posts(&w, &id, 1);
    assert_eq!(fired[0]["channel_id"], dm.as_str());
    assert_eq!(msg(&fired[0]), "Time to renew the certificate!");
    // Limits: too frequent, then too many.
    create(serde_json::json!({"action": "create", "prompt": "ping", "every": "1m"}));
    w.mm.user_post(&w.alice, &dm, "ping me every minute", None);
    let r = msg(&w.mm.wait_posts(&w.bot, &dm, 3, T)[2]);
    assert!(r.contains("at most every 300 seconds"), "{r}");
    create(serde_json::json!({"action": "create", "prompt": "stand up", "every": "1h"}));
    w.mm.user_post(&w.alice, &dm, "hourly standup reminder please", None);
    let r = msg(&w.mm.wait_posts(&w.bot, &dm, 4, T)[3]);
    let hourly = r
        .split("scheduled job ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    create(serde_json::json!({"action": "create", "prompt": "more", "every": "2h"}));
    w.mm.user_post(&w.alice, &dm, "and another", None);
    let r = msg(&w.mm.wait_posts(&w.bot, &dm, 5, T)[4]);
    assert!(r.contains("(the limit)"), "{r}");
    // Bob cannot cancel alice's job; alice can.
    let bob_dm = w.mm.dm(&w.bot, &w.bob);
    w.mm.user_post(&w.bob, &bob_dm, &format!("!jobs rm {hourly}"), None);
    assert!(msg(&w.mm.wait_posts(&w.bot, &bob_dm, 1, T)[0]).contains("no job"));
    w.mm.user_post(&w.alice, &dm, &format!("!jobs rm {hourly}"), None);
    assert!(msg(&w.mm.wait_posts(&w.bot, &dm, 6, T)[5]).contains("Cancelled"));
    assert!(!cli(data.path(), &["jobs", "list"]).contains(&hourly));
}

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// One HTTP/1.1 request; returns status and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(T)).expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn health_readiness_and_metrics_over_loopback() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let port = free_port();
    let config = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"echo\"\n"
    );
    let _k = start(&w, data.path(), g.path(), &config);
    assert_eq!(http(port, "GET", "/healthz", &[], "").0, 200);
    common::wait_until(T, "ready", || {
        http(port, "GET", "/readyz", &[], "").0 == 200
    });
    let before = http(port, "GET", "/metrics", &[], "").1;
    let dm = w.mm.dm(&w.bot, &w.alice);
    w.mm.user_post(&w.alice, &dm, "hello", None);
    w.mm.wait_posts(&w.bot, &dm, 1, T);
    let mallory_dm = w.mm.dm(&w.bot, &w.mallory);
    w.mm.user_post(&w.mallory, &mallory_dm, "let me in", None);
    common::wait_until(T, "metrics move", || {
        let after = http(port, "GET", "/metrics", &[], "").1;
        metric(&after, "kennel_posts_total{outcome=\"answered\"}")
            > metric(&before, "kennel_posts_total{outcome=\"answered\"}")
            && metric(&after, "kennel_posts_total{outcome=\"denied\"}")
                > metric(&before, "kennel_posts_total{outcome=\"denied\"}")
    });
    let text = http(port, "GET", "/metrics", &[], "").1;
    for name in [
        "kennel_posts_total{outcome=\"received\"}",
        "kennel_guest_calls_total{guest=\"echo\",result=\"ok\"}",
        "kennel_turn_seconds_count",
        "kennel_store_bytes",
        "kennel_queue_depth",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    // Disconnected: 503 with the reason; back when the socket is.
    w.mm.refuse_websockets(true);
    w.mm.drop_sockets(true);
    common::wait_until(T, "not ready", || {
        let (code, body) = http(port, "GET", "/readyz", &[], "");
        code == 503 && body.contains("WebSocket")
    });
    assert_eq!(
        http(port, "GET", "/healthz", &[], "").0,
        200,
        "alive while not ready"
    );
    w.mm.refuse_websockets(false);
    common::wait_until(Duration::from_secs(90), "ready again", || {
        http(port, "GET", "/readyz", &[], "").0 == 200
    });
    let text = http(port, "GET", "/metrics", &[], "").1;
    assert!(
        metric(&text, "kennel_websocket_reconnects_total") >= 1.0,
        "{text}"
    );
}

fn slash(port: u16, token: &str, w: &World, user: &str, text: &str) -> (u16, String) {
    let body = format!(
        "channel_id={}&team_id={}&user_id={user}&user_name=x&command=%2Fkennel&text={}&token={token}",
        w.town,
        w.team,
        text.replace(' ', "+")
    );
    http(
        port,
        "POST",
        "/mattermost/command",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &format!("Token {token}")),
        ],
        &body,
    )
}

#[test]
fn the_slash_command_is_registered_once_checks_its_token_and_resets_the_session() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let port = free_port();
    let config = |public: &str| {
        format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[commands]\npublic_url = \"{public}\"\n\n[[route]]\nchannel = \"*\"\nagent = \"echo\"\n"
        )
    };
    let public = format!("http://127.0.0.1:{port}");
    let mut k = start(&w, data.path(), g.path(), &config(&public));
    common::wait_until(T, "the command registered", || w.mm.commands().len() == 1);
    let c = w.mm.commands()[0].clone();
    assert_eq!(c["trigger"], "kennel");
    assert_eq!(c["url"], format!("{public}/mattermost/command").as_str());
    assert_eq!(c["team_id"], w.team.as_str());
    let token = c["token"].as_str().expect("token").to_string();
    // A restart neither duplicates it nor changes its token.
    k.kill9();
    let k = start(&w, data.path(), g.path(), &config(&public));
    k.wait_log("slash command already registered");
    assert_eq!(w.mm.commands().len(), 1);
    // A new public URL (a config reload, no restart) updates the same command.
    std::fs::write(
        data.path().with_extension("toml"),
        config("http://kennel.example.com:8443/"),
    )
    .expect("edit the config");
    k.wait_log("slash command updated");
    let cmds = w.mm.commands();
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert_eq!(
        cmds[0]["url"],
        "http://kennel.example.com:8443/mattermost/command"
    );
    assert_eq!(cmds[0]["token"], token.as_str());
    common::wait_until(T, "listener up", || {
        http(port, "GET", "/healthz", &[], "").0 == 200
    });
    // Wrong token: refused.
    assert_eq!(slash(port, "not-the-token", &w, &w.alice, "whoami").0, 401);
    // Right token: the same access gate as messages, an ephemeral answer.
    let (code, body) = slash(port, &token, &w, &w.alice, "whoami");
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["response_type"], "ephemeral");
    assert!(
        v["text"].as_str().expect("text").contains("You are @alice"),
        "{v}"
    );
    // Older servers send the token only in the form.
    let form = format!(
        "channel_id={}&team_id={}&user_id={}&command=%2Fkennel&text=help&token={token}",
        w.town, w.team, w.alice
    );
    let (code, body) = http(
        port,
        "POST",
        "/mattermost/command",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(code, 200, "{body}");
    let (_, denied) = slash(port, &token, &w, &w.mallory, "whoami");
    assert!(denied.contains("not allowed"), "{denied}");
    // reset through the slash command resets alice's session in the channel.
    w.mm.user_post(&w.alice, &w.town, "@kennelbot one", None);
    w.mm.user_post(&w.alice, &w.town, "@kennelbot two", None);
    let r = w.mm.wait_posts(&w.bot, &w.town, 2, T);
    assert!(msg(&r[1]).contains("(turn 2)"), "{}", msg(&r[1]));
    let (_, reset) = slash(port, &token, &w, &w.alice, "reset");
    assert!(reset.contains("new session"), "{reset}");
    w.mm.user_post(&w.alice, &w.town, "@kennelbot three", None);
    let r = w.mm.wait_posts(&w.bot, &w.town, 3, T);
    assert_eq!(msg(&r[2]), "echo: three (turn 1)");
    drop(k);
}

#[test]
fn a_hand_made_slash_command_works_with_its_token_from_the_environment() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let port = free_port();
    let config = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[commands]\ntoken_env = \"KENNEL_SLASH_TOKEN\"\n\n[[route]]\nchannel = \"*\"\nagent = \"echo\"\n"
    );
    let mut vars = env(&w);
    vars.push(("KENNEL_SLASH_TOKEN", "handmadetoken123".into()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let k = run(data.path(), g.path(), &config, &[], &vars);
    k.wait_log("WebSocket connected");
    assert!(
        w.mm.commands().is_empty(),
        "no public_url: nothing registered"
    );
    common::wait_until(T, "listener up", || {
        http(port, "GET", "/healthz", &[], "").0 == 200
    });
    assert_eq!(slash(port, "wrong", &w, &w.alice, "help").0, 401);
    let (code, body) = slash(port, "handmadetoken123", &w, &w.alice, "help");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("Commands"), "{body}");
    assert!(
        !k.logs().contains("handmadetoken123"),
        "the token is never logged"
    );
}

#[test]
fn proactive_posts_are_rate_limited_per_channel() {
    let w = World::new();
    let (g, data) = (guests(), tempfile::tempdir().expect("data"));
    let config = "[jobs]\nmax_posts_per_channel_per_hour = 2\n\n[[route]]\nchannel = \"*\"\nagent = \"echo\"\n\n\
        [[schedule]]\nname = \"chatty\"\nevery = \"1s\"\nprompt = \"again\"\nchannel = \"town\"\n";
    let k = start(&w, data.path(), g.path(), config);
    wait_job_posts(&w, "cfg:chatty", 2);
    k.wait_log("proactive posts rate-limited in this channel");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        job_posts(&w, "cfg:chatty").len(),
        2,
        "at most 2 per hour here"
    );
    // A person is still answered at once: the limit is for proactive output.
    let dm = w.mm.dm(&w.bot, &w.alice);
    w.mm.user_post(&w.alice, &dm, "hi", None);
    w.mm.wait_posts(&w.bot, &dm, 1, T);
}
