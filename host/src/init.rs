//! `kennel init`: the guided set-up. It asks for (or takes as flags) the
//! server, the token, who may talk to the bot, the DM policy, the reply mode
//! and the LLM; checks each answer against the live server as it goes
//! (usernames become ids); then writes `kennel.toml` and the env file that
//! holds the token, both 0600.
//!
//! It must never write the token into the config file, never overwrite a
//! file without `force`, and never echo the token back.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{DmPolicy, LlmConfig, ReplyMode};
use crate::mattermost::api::{self, Api, ApiError};

/// Everything `init` writes.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub url: String,
    pub token: String,
    /// Usernames (with or without `@`) or ids, as given.
    pub allowed: Vec<String>,
    pub dm_policy: DmPolicy,
    pub reply_mode: ReplyMode,
    /// `[llm]`; `None` writes no LLM section.
    pub llm: Option<LlmConfig>,
    /// Send one test completion before writing.
    pub test_llm: bool,
    /// Where the token goes (asked on a terminal); `None`: the default.
    pub env_file: Option<PathBuf>,
}

/// The two files.
#[derive(Debug, Clone)]
pub struct Targets {
    pub config: PathBuf,
    pub env_file: PathBuf,
    pub force: bool,
}

/// Why `init` stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("{0}")]
    Server(#[from] ApiError),
    #[error("allowed user `{0}`: {1}")]
    User(String, String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// A user resolved on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub id: String,
    pub username: String,
}

/// Questions on a terminal (or a test's script).
pub trait Prompt {
    /// One line; an empty answer means `default`.
    fn ask(&mut self, question: &str, default: &str) -> std::io::Result<String>;
    /// One line, not echoed.
    fn ask_secret(&mut self, question: &str) -> std::io::Result<String>;
    fn say(&mut self, text: &str);
}

/// The real terminal: stdin/stdout, the token read without echo.
pub struct Terminal;

impl Prompt for Terminal {
    fn ask(&mut self, question: &str, default: &str) -> std::io::Result<String> {
        let mut out = std::io::stdout();
        if default.is_empty() {
            write!(out, "{question}: ")?;
        } else {
            write!(out, "{question} [{default}]: ")?;
        }
        out.flush()?;
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "input ended before the set-up was complete",
            ));
        }
        let line = line.trim();
        Ok(if line.is_empty() { default } else { line }.to_string())
    }
    fn ask_secret(&mut self, question: &str) -> std::io::Result<String> {
        // Echo goes off before the prompt appears, so nothing typed after
        // the prompt can ever be echoed.
        let _quiet = EchoOff::stdin()?;
        self.ask(question, "")
    }
    fn say(&mut self, text: &str) {
        println!("{text}");
    }
}

/// Turns the terminal's echo off (keeping the newline) until dropped.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn stdin() -> std::io::Result<EchoOff> {
        let mut t = std::mem::MaybeUninit::<libc::termios>::zeroed();
        // SAFETY: fd 0 is valid for the process's life; tcgetattr fills `t`
        // entirely when it returns 0, and `t` is only read after that.
        let saved = unsafe {
            if libc::tcgetattr(0, t.as_mut_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            t.assume_init()
        };
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: `quiet` is a valid termios copied from the terminal's own.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `stdin()`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

/// Refuses early (before any question) when a target exists without `force`.
pub fn check_targets(t: &Targets) -> Result<(), InitError> {
    for p in [&t.config, &t.env_file] {
        if p.exists() && !t.force {
            return Err(InitError::Exists(p.clone()));
        }
    }
    if t.config == t.env_file {
        return Err(InitError::Invalid(
            "the config file and the env file must be different files".into(),
        ));
    }
    Ok(())
}

/// Checks the token; returns the account's name for the user to see.
pub async fn check_token(url: &str, token: &str) -> Result<api::User, InitError> {
    let api = Api::new(url, token)?;
    Ok(api.me().await?)
}

/// Resolves usernames and ids to accounts on the server.
pub async fn resolve_users(
    url: &str,
    token: &str,
    entries: &[String],
) -> Result<Vec<Resolved>, InitError> {
    let api = Api::new(url, token)?;
    let mut out = Vec::new();
    for e in entries {
        let name = e.trim().trim_start_matches('@');
        if name.is_empty() {
            continue;
        }
        let found = if crate::policy::is_mattermost_id(name) {
            match api.user(name).await {
                Err(ApiError::NotFound { .. }) => api.user_by_username(name).await,
                other => other,
            }
        } else {
            api.user_by_username(name).await
        };
        match found {
            Ok(u) => out.push(Resolved {
                id: u.id,
                username: u.username,
            }),
            Err(ApiError::NotFound { .. }) => {
                return Err(InitError::User(
                    name.into(),
                    "no such user on the server".into(),
                ));
            }
            Err(e) => return Err(InitError::User(name.into(), e.to_string())),
        }
    }
    Ok(out)
}

/// Sends one short completion; returns the model's answer (shortened).
pub async fn test_llm(
    llm: &LlmConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InitError> {
    let client =
        crate::llm::LlmClient::new(llm, env).map_err(|e| InitError::Invalid(e.to_string()))?;
    let req = crate::llm::ChatRequest {
        messages: vec![crate::llm::Message {
            role: "user".into(),
            content: "Reply with the single word: ready".into(),
            ..Default::default()
        }],
        max_tokens: Some(16),
        ..Default::default()
    };
    let resp = client
        .chat(&req, None)
        .await
        .map_err(|e| InitError::Invalid(format!("the test completion failed: {e}")))?;
    Ok(resp.message.content.chars().take(80).collect())
}

/// Asks every question, re-asking after a failed check.
pub async fn interactive(
    p: &mut dyn Prompt,
    defaults: Answers,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Answers, Vec<Resolved>), InitError> {
    let mut a = defaults;
    a.url = loop {
        let url = p.ask(
            "Mattermost server URL (e.g. https://mm.example.com)",
            &a.url,
        )?;
        match api::ping(&url).await {
            Ok(site) => {
                p.say(&format!("  ok: a Mattermost server answers at {site}"));
                break site;
            }
            Err(e) => p.say(&format!("  {e}")),
        }
    };
    a.token = loop {
        let token = p.ask_secret("Bot token or personal access token (input hidden)")?;
        match check_token(&a.url, &token).await {
            Ok(me) => {
                p.say(&format!(
                    "  ok: the token belongs to @{} ({})",
                    me.username, me.id
                ));
                break token;
            }
            Err(e) => p.say(&format!("  {e}")),
        }
    };
    let users = loop {
        let line = p.ask(
            "Who may talk to the bot? Usernames or ids, comma-separated",
            &a.allowed.join(","),
        )?;
        let entries = split_list(&line);
        match resolve_users(&a.url, &a.token, &entries).await {
            Ok(r) => {
                for u in &r {
                    p.say(&format!("  ok: @{} is {}", u.username, u.id));
                }
                a.allowed = entries;
                break r;
            }
            Err(e) => p.say(&format!("  {e}")),
        }
    };
    a.dm_policy = loop {
        let v = p.ask(
            "DM policy: allowlist (only them), pairing (others ask for a code), open (anyone)",
            policy_name(a.dm_policy),
        )?;
        match parse_policy(&v) {
            Some(d) => break d,
            None => p.say("  answer allowlist, pairing or open"),
        }
    };
    a.reply_mode = loop {
        let v = p.ask("Reply mode: off (flat) or thread", mode_name(a.reply_mode))?;
        match parse_mode(&v) {
            Some(m) => break m,
            None => p.say("  answer off or thread"),
        }
    };
    let base = p.ask(
        "LLM base URL, OpenAI-compatible (\"none\" for no LLM)",
        a.llm
            .as_ref()
            .map(|l| l.base_url.as_str())
            .unwrap_or("http://127.0.0.1:11434/v1"),
    )?;
    a.llm = if base.eq_ignore_ascii_case("none") {
        None
    } else {
        let mut llm = a.llm.clone().unwrap_or_default();
        llm.base_url = base;
        llm.model = p.ask("Model", &llm.model)?;
        llm.api_key_env = p.ask(
            "Name of the environment variable holding the API key (empty: none)",
            &llm.api_key_env,
        )?;
        let test = p.ask("Send one test completion now? (y/n)", "n")?;
        if test.to_ascii_lowercase().starts_with('y') {
            match test_llm(&llm, env).await {
                Ok(answer) => p.say(&format!("  ok: the model answered {answer:?}")),
                Err(e) => p.say(&format!("  {e} (written anyway; fix it later)")),
            }
        }
        Some(llm)
    };
    let default_env = a
        .env_file
        .clone()
        .unwrap_or_else(|| PathBuf::from("kennel.env"));
    let env_file = p.ask(
        "File to keep the token in (0600; never the config)",
        &default_env.display().to_string(),
    )?;
    a.env_file = Some(PathBuf::from(env_file));
    Ok((a, users))
}

/// Checks the flags of `--non-interactive` the same way the questions are checked.
pub async fn non_interactive(
    a: &Answers,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Resolved>, InitError> {
    if a.token.trim().is_empty() {
        return Err(InitError::Invalid(
            "no token: pass --token or set MATTERMOST_TOKEN".into(),
        ));
    }
    api::ping(&a.url).await?;
    check_token(&a.url, &a.token).await?;
    let users = resolve_users(&a.url, &a.token, &a.allowed).await?;
    if let (Some(llm), true) = (&a.llm, a.test_llm) {
        test_llm(llm, env).await?;
    }
    Ok(users)
}

/// Writes both files (0600, temp file + rename). The token goes to the env
/// file only.
pub fn write(t: &Targets, a: &Answers, users: &[Resolved]) -> Result<(), InitError> {
    check_targets(t)?;
    write_private(&t.env_file, &env_text(a))?;
    write_private(&t.config, &config_text(a, users, &env_ref(t)))?;
    Ok(())
}

/// How the config names the env file: its bare name when both sit in one
/// directory (the pair can move together), else its absolute path.
fn env_ref(t: &Targets) -> PathBuf {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (config, env) = (abs(&t.config), abs(&t.env_file));
    match (config.parent(), env.parent(), env.file_name()) {
        (Some(a), Some(b), Some(name)) if a == b => PathBuf::from(name),
        _ => env,
    }
}

/// The config file's text.
pub fn config_text(a: &Answers, users: &[Resolved], env_file: &Path) -> String {
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut out = String::from(
        "# Written by `kennel init`. Every key has a default: see kennel.example.toml.\n\
         # The token is not in this file: it is in the env file below (0600).\n\n",
    );
    let _ = writeln!(out, "env_file = {}\n", s(&env_file.display().to_string()));
    let _ = writeln!(out, "[mattermost]\nurl = {}", s(&a.url));
    let _ = writeln!(out, "reply_mode = {}\n", s(mode_name(a.reply_mode)));
    let _ = writeln!(out, "[access]\ndm_policy = {}", s(policy_name(a.dm_policy)));
    out.push_str("allowed_users = [");
    for u in users {
        let _ = write!(out, "\n  {}, # @{}", s(&u.id), u.username);
    }
    out.push_str(if users.is_empty() { "]\n" } else { "\n]\n" });
    if let Some(llm) = &a.llm {
        let _ = writeln!(
            out,
            "\n[llm]\nbase_url = {}\nmodel = {}\napi_key_env = {}",
            s(&llm.base_url),
            s(&llm.model),
            s(&llm.api_key_env)
        );
    }
    out
}

fn env_text(a: &Answers) -> String {
    let mut out = String::from(
        "# Written by `kennel init`: secrets for `kennel run --env-file`. Keep it private (0600).\n",
    );
    let _ = writeln!(out, "MATTERMOST_TOKEN={}", dotenv_quote(&a.token));
    if let Some(llm) = &a.llm
        && !llm.api_key_env.is_empty()
    {
        let _ = writeln!(
            out,
            "# {}=put the LLM API key here (or set it in the environment)",
            llm.api_key_env
        );
    }
    out
}

fn dotenv_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), InitError> {
    let err = |source| InitError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    crate::replace::replace_file(path, text.as_bytes(), 0o600).map_err(err)
}

/// Splits `a, @b ,c` into entries.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().trim_start_matches('@').to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

pub fn parse_policy(s: &str) -> Option<DmPolicy> {
    match s.trim().to_ascii_lowercase().as_str() {
        "allowlist" => Some(DmPolicy::Allowlist),
        "pairing" => Some(DmPolicy::Pairing),
        "open" => Some(DmPolicy::Open),
        _ => None,
    }
}

pub fn parse_mode(s: &str) -> Option<ReplyMode> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" => Some(ReplyMode::Off),
        "thread" => Some(ReplyMode::Thread),
        _ => None,
    }
}

fn policy_name(d: DmPolicy) -> &'static str {
    match d {
        DmPolicy::Allowlist => "allowlist",
        DmPolicy::Pairing => "pairing",
        DmPolicy::Open => "open",
    }
}

fn mode_name(m: ReplyMode) -> &'static str {
    match m {
        ReplyMode::Off => "off",
        ReplyMode::Thread => "thread",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            url: "https://mm.example.com".into(),
            token: "s3cr3t\"x".into(),
            dm_policy: DmPolicy::Pairing,
            reply_mode: ReplyMode::Thread,
            llm: Some(LlmConfig {
                model: "m\"x".into(),
                api_key_env: "OPENAI_API_KEY".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_config_parses_holds_ids_and_never_the_token() {
        let users = vec![
            Resolved {
                id: "a".repeat(26),
                username: "alice".into(),
            },
            Resolved {
                id: "b".repeat(26),
                username: "bob".into(),
            },
        ];
        let text = config_text(&answers(), &users, Path::new("/x/kennel.env"));
        assert!(!text.contains("s3cr3t"), "{text}");
        let cfg = crate::config::Config::parse(&text).expect("parses");
        assert_eq!(
            cfg.access.allowed_users,
            vec!["a".repeat(26), "b".repeat(26)]
        );
        assert_eq!(cfg.access.dm_policy, DmPolicy::Pairing);
        assert_eq!(cfg.mattermost.reply_mode, ReplyMode::Thread);
        assert_eq!(cfg.llm.expect("llm").model, "m\"x");
        let empty = config_text(&answers(), &[], Path::new("e"));
        assert!(
            crate::config::Config::parse(&empty)
                .expect("parses")
                .access
                .allowed_users
                .is_empty()
        );
    }

    #[test]
    fn files_are_private_and_never_replaced_without_force() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("dir");
        let t = Targets {
            config: d.path().join("kennel.toml"),
            env_file: d.path().join("sub/kennel.env"),
            force: false,
        };
        write(&t, &answers(), &[]).expect("write");
        for p in [&t.config, &t.env_file] {
            let mode = std::fs::metadata(p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
        let env = crate::config::env::EnvSource::fixed(&[])
            .with_file(&t.env_file)
            .expect("the env file parses");
        assert_eq!(env.get("MATTERMOST_TOKEN").as_deref(), Some("s3cr3t\"x"));
        assert!(matches!(
            write(&t, &answers(), &[]),
            Err(InitError::Exists(_))
        ));
        write(&Targets { force: true, ..t }, &answers(), &[]).expect("forced");
    }
}
