//! A small world for tests that drive `kennel run` as a process: the fake
//! Mattermost server with a bot, three users and a team channel, and a
//! running `kennel` whose log can be waited on.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::fake_mattermost::FakeMm;

pub const T: Duration = Duration::from_secs(30);

pub struct World {
    pub mm: FakeMm,
    pub bot: String,
    pub token: String,
    pub alice: String,
    pub bob: String,
    pub mallory: String,
    pub team: String,
    pub town: String,
}

impl World {
    pub fn new() -> World {
        let mm = FakeMm::start();
        let (bot, token) = mm.add_user("kennelbot", true);
        let (alice, _) = mm.add_user("alice", false);
        let (bob, _) = mm.add_user("bob", false);
        let (mallory, _) = mm.add_user("mallory", false);
        let team = mm.add_team("eng");
        let town = mm.add_channel(&team, "town", "O", &[&bot, &alice, &bob]);
        World {
            mm,
            bot,
            token,
            alice,
            bob,
            mallory,
            team,
            town,
        }
    }
}

/// A running `kennel run`, killed on drop unless it already exited.
pub struct Running {
    pub child: Child,
    pub log: PathBuf,
}

impl Running {
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    pub fn wait_log(&self, needle: &str) {
        common::wait_until(T, &format!("log line {needle:?}"), || {
            self.logs().contains(needle)
        });
    }
    /// Waits for the exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "kennel did not exit; log:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// SIGKILL: no graceful shutdown, no chance to finish work.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn guests() -> tempfile::TempDir {
    common::guest_dir(&[&common::dist("echo"), &common::dist("assistant")])
}

/// `kennel run` with the given config text, extra args and environment.
pub fn run(
    data: &Path,
    guests: &Path,
    config: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Running {
    let cfg = data.with_extension("toml");
    std::fs::write(&cfg, config).expect("config");
    let log = data.with_extension("log");
    let mut c = common::cmd();
    c.args(args)
        .arg("run")
        .arg("--guests")
        .arg(guests)
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "kennel=debug");
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn kennel run");
    Running { child, log }
}
