//! Configuration: the TOML file (`kennel.toml`) plus `MATTERMOST_*` environment
//! overrides, and validation with errors that point at the offending line.
//!
//! Owns parsing and defaults only; it must not touch the network or the guest
//! directory (validation against loaded guests takes their names as input).
//!
//! Every key has a default, so an empty file (or none) is a valid config.
//! Environment variables win over the file:
//!
//! | variable | key |
//! |---|---|
//! | `MATTERMOST_URL` | `mattermost.url` |
//! | `MATTERMOST_TOKEN` | `mattermost.token` |
//! | `MATTERMOST_ALLOWED_USERS` | `access.allowed_users` (comma-separated ids or usernames) |
//! | `MATTERMOST_REPLY_MODE` | `mattermost.reply_mode` (`off` or `thread`) |
//! | `MATTERMOST_HOME_CHANNEL` | `mattermost.home_channel` |
//! | `MATTERMOST_REQUIRE_MENTION` | `mattermost.require_mention` (`true`/`false`) |
//! | `MATTERMOST_DM_POLICY` | `access.dm_policy` |
//! | `MATTERMOST_ALLOW_ALL_USERS=true` | `access.dm_policy = "open"` (Hermes' name; a loud warning at start) |
//!
//! [`env::EnvSource`] adds a dotenv file (`--env-file`) under the environment.

pub mod env;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Configuration errors; each message says where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
    #[error("env file {path}: {message}")]
    EnvFile { path: PathBuf, message: String },
}

/// How replies are placed (`MATTERMOST_REPLY_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyMode {
    /// Flat replies; a post already inside a thread is still answered in that thread.
    #[default]
    Off,
    /// Always reply in the post's thread (starting one under a root post).
    Thread,
}

/// What to do when a post the bot already answered is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditMode {
    /// Keep the answer (default). An edit before the answer is still used.
    #[default]
    Ignore,
    /// Answer the edited text again, as a new reply.
    Reanswer,
}

/// What an agent gets of a message's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentAccess {
    /// Extracted text, names, sizes and notes (default).
    #[default]
    Text,
    /// Also each file's bytes.
    Full,
}

/// Who may DM the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Everyone may talk to the bot.
    Open,
    /// Only `allowed_users` (and users approved by pairing). Empty list = nobody.
    #[default]
    Allowlist,
    /// Unknown users get a one-time pairing code an operator approves with `kennel pair approve`.
    Pairing,
}

/// How much session history an agent sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextStrategy {
    /// A few recent turns within a small budget: fast and cheap (6 turns, 4000 chars).
    #[default]
    Lean,
    /// Longer history (40 turns, 32000 chars).
    Full,
}

impl ContextStrategy {
    /// Default (turns, characters) budget of the strategy.
    pub fn budget(self) -> (usize, usize) {
        match self {
            ContextStrategy::Lean => (6, 4_000),
            ContextStrategy::Full => (40, 32_000),
        }
    }
}

/// What to do when a scanner itself fails (trap, timeout, missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Fail closed: treat the message as blocked (default).
    #[default]
    Block,
    /// Fail open: treat the scanner as having allowed the message.
    Allow,
}

/// A scan source, as named in a route's `scan_thresholds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanSourceName {
    UserMessage,
    ToolOutput,
    Attachment,
    ThreadContext,
}

/// Scores (0–100) from which a scanner's findings flag or block a text of
/// one source on one route, replacing the scanner's own judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanThreshold {
    pub flag: u32,
    pub block: u32,
}

/// Per scanner, per source: a route's `scan_thresholds`.
pub type ScanThresholds = BTreeMap<String, BTreeMap<ScanSourceName, ScanThreshold>>;

/// `[mattermost]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostConfig {
    /// Server URL with scheme, e.g. `https://mm.example.com`. Default: empty (required by `kennel run`).
    pub url: String,
    /// Bot token or personal access token. Prefer `MATTERMOST_TOKEN`. Never logged.
    pub token: String,
    /// Default reply mode for routes that do not set one. Default `off`.
    pub reply_mode: ReplyMode,
    /// Channel id for proactive messages until `/sethome` sets one. Default: none.
    pub home_channel: String,
    /// Channels and groups: answer only when mentioned. Default `true`. DMs are always answered.
    pub require_mention: bool,
    /// Whether `@channel`, `@all` and `@here` count as mentioning the bot. Default `false`.
    pub channel_wide_mentions: bool,
    /// Posts older than this many seconds found during catch-up are skipped (logged), not
    /// answered late. Default 3600.
    pub catch_up_window_secs: u64,
    /// A WebSocket that delivers nothing (not even a ping) for this many seconds
    /// is treated as dead and reconnected. Default 100 (the server pings every 60 s).
    pub ws_idle_timeout_secs: u64,
    /// Most posts one reply is split into. Default 8; the rest of a longer
    /// answer is cut with a note (so a runaway answer cannot flood a channel).
    pub max_reply_parts: usize,
    /// Agent turns running at once across all sessions; more wait their turn
    /// (never fail). Default 16. Higher: more memory and LLM load at once.
    /// Posting a finished turn's answer does not hold a slot.
    pub max_concurrent_turns: usize,
    /// Posts waiting per session. Default 32; a post beyond that gets a short
    /// "busy" reply instead of waiting (never a silent drop).
    pub session_queue: usize,
    /// Wait before retrying a post whose answer failed (doubling per attempt,
    /// at most ×32; after 4 attempts the user gets an apology). Default 2000 ms.
    pub retry_backoff_ms: u64,
    /// On SIGTERM/Ctrl-C: no new turns start, and turns in flight get this
    /// many seconds to finish and post (the rest are answered after the
    /// restart). Default 30; the systemd unit allows 15 s more.
    pub drain_timeout_secs: u64,
    /// Emoji (name without colons) put on a post while it is being answered,
    /// swapped for `white_check_mark` on success or `x` on an error. Default
    /// empty: no acknowledgement. `eyes` is the usual choice.
    pub ack_reaction: String,
    /// An edit of a post already answered: `ignore` (default) or `reanswer`.
    /// An edit that arrives before the answer is always the text answered.
    pub edit_mode: EditMode,
    /// Addressed inside a thread, the agent also sees the other
    /// participants' posts since its last reply there. Default `true`.
    pub thread_context: bool,
}

impl Default for MattermostConfig {
    fn default() -> Self {
        MattermostConfig {
            url: String::new(),
            token: String::new(),
            reply_mode: ReplyMode::Off,
            home_channel: String::new(),
            require_mention: true,
            channel_wide_mentions: false,
            catch_up_window_secs: 3600,
            ws_idle_timeout_secs: 100,
            max_reply_parts: 8,
            max_concurrent_turns: 16,
            session_queue: 32,
            retry_backoff_ms: 2000,
            drain_timeout_secs: 30,
            ack_reaction: String::new(),
            edit_mode: EditMode::Ignore,
            thread_context: true,
        }
    }
}

impl std::fmt::Debug for MattermostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MattermostConfig")
            .field("url", &self.url)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("reply_mode", &self.reply_mode)
            .field("home_channel", &self.home_channel)
            .field("require_mention", &self.require_mention)
            .finish()
    }
}

/// `[access]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Default `allowlist`.
    pub dm_policy: DmPolicy,
    /// User ids or usernames allowed to talk to the bot (everywhere, not just DMs). Empty = nobody
    /// (deny by default) unless `dm_policy = "open"`. A username binds to the
    /// id it first resolves to; whoever holds that name later is denied.
    pub allowed_users: Vec<String>,
    /// User ids or usernames who may use admin commands (`/sethome`). Default
    /// empty: nobody (the console operator always may).
    pub admins: Vec<String>,
}

/// `[storage]` — retention and memory quotas.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Transcripts and usage rows older than this many days are deleted. Default 90; 0 keeps them.
    pub retention_days: u64,
    /// Keys per memory scope (one user's, session's or channel's memory of one agent). Default 1000.
    pub memory_keys_per_scope: u64,
    /// Bytes (keys + values) per memory scope. Default 1 MiB.
    pub memory_bytes_per_scope: u64,
    /// Bytes of memory per agent over all scopes. Default 256 MiB.
    pub memory_bytes_per_agent: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        let q = crate::store::Quota::default();
        StorageConfig {
            retention_days: 90,
            memory_keys_per_scope: q.keys_per_scope,
            memory_bytes_per_scope: q.bytes_per_scope,
            memory_bytes_per_agent: q.bytes_per_agent,
        }
    }
}

impl StorageConfig {
    /// The memory quota these keys describe.
    pub fn quota(&self) -> crate::store::Quota {
        crate::store::Quota {
            keys_per_scope: self.memory_keys_per_scope,
            bytes_per_scope: self.memory_bytes_per_scope,
            bytes_per_agent: self.memory_bytes_per_agent,
        }
    }
}

/// `[sessions]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// In channels and threads, give each user their own session. Default `true`.
    pub group_sessions_per_user: bool,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            group_sessions_per_user: true,
        }
    }
}

/// `[llm]` — any OpenAI-compatible chat completions server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Base URL including `/v1`. Default `http://127.0.0.1:11434/v1` (Ollama).
    pub base_url: String,
    /// Model name sent with each request. Default empty (the server's default).
    pub model: String,
    /// Name of the environment variable holding the API key. No default: with
    /// none named, no key is sent (so a key meant for one server never goes to
    /// another). The key itself never appears in the config file, logs or guests.
    pub api_key_env: String,
    /// Per-request timeout in seconds. Default 120.
    pub timeout_secs: u64,
    /// Retries on 429/5xx/connection errors. Default 3.
    pub max_retries: u32,
    /// The model reads images: image attachments are sent as image parts.
    /// Default `false` (the agent gets a note instead). A route may override.
    pub vision: bool,
    /// Images over this many pixels (width × height) are downscaled before
    /// they are sent. Default 1,048,576 (1024 × 1024).
    pub max_image_pixels: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: String::new(),
            api_key_env: String::new(),
            timeout_secs: 120,
            max_retries: 3,
            vision: false,
            max_image_pixels: 1 << 20,
        }
    }
}

/// One `[[route]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Channel name, channel id, `dm`, `group` or `*`.
    pub channel: Spanned<String>,
    /// Optional team name the channel must belong to.
    #[serde(default)]
    pub team: Option<String>,
    /// Agent guest name (file stem in the guest directory).
    pub agent: Spanned<String>,
    /// Tool guests (and host tools such as `remember`) the agent may call.
    #[serde(default)]
    pub tools: Vec<Spanned<String>>,
    /// Scanner guests, run in this order.
    #[serde(default)]
    pub scanners: Vec<Spanned<String>>,
    /// Per scanner and source, the scores that flag and block here, e.g.
    /// `[route.scan_thresholds.classifier]` `tool-output = { flag = 30, block = 50 }`.
    #[serde(default)]
    pub scan_thresholds: ScanThresholds,
    #[serde(default)]
    pub context: ContextStrategy,
    /// Overrides the strategy's turn budget.
    #[serde(default)]
    pub max_turns: Option<usize>,
    /// Overrides the strategy's character budget.
    #[serde(default)]
    pub max_chars: Option<usize>,
    #[serde(default)]
    pub reply_mode: Option<ReplyMode>,
    #[serde(default)]
    pub require_mention: Option<bool>,
    #[serde(default)]
    pub system_prompt: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub on_error: OnError,
    /// Answer posts by bots and webhooks here. Default `false` (two bots
    /// answering each other would loop).
    #[serde(default)]
    pub allow_bots: bool,
    /// Let the route's agent use `wasi:http` within its `NAME.toml` grant
    /// (tools need only their grant). Default false.
    #[serde(default)]
    pub agent_network: bool,
    /// What the agent gets of files: `text` (default) or `full` (bytes too).
    #[serde(default)]
    pub attachments: AttachmentAccess,
    /// Overrides `[llm] vision` for this route's model.
    #[serde(default)]
    pub vision: Option<bool>,
    /// Display name; defaults to the channel matcher.
    #[serde(default)]
    pub name: Option<String>,
}

/// One `[[schedule]]`: a prompt run on a timetable by an agent, its answer
/// posted to a target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Stable id (keeps the job's state across edits of its other keys).
    /// Default: derived from the timing, prompt and target.
    #[serde(default)]
    pub name: Option<String>,
    /// 5-field cron pattern (minute hour day month weekday).
    #[serde(default)]
    pub cron: Option<String>,
    /// Repeat interval, e.g. "30m", "1h", "1day".
    #[serde(default)]
    pub every: Option<String>,
    /// One run at this local time, e.g. "2026-12-24T09:00".
    #[serde(default)]
    pub at: Option<String>,
    /// IANA time zone of `cron` and `at`. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    pub prompt: Spanned<String>,
    /// The route (by name) that answers; default: the route of the target channel.
    #[serde(default)]
    pub route: Option<String>,
    /// The agent that answers (overrides the route's agent).
    #[serde(default)]
    pub agent: Option<String>,
    /// Target channel: a name, an id, or "home". Default "home" unless `dm` is set.
    #[serde(default)]
    pub channel: Option<String>,
    /// Target: a DM with this user (username or id).
    #[serde(default)]
    pub dm: Option<String>,
    /// Runs missed while the host was down: "one" (default) or "none".
    #[serde(default)]
    pub catch_up: crate::schedule::CatchUp,
}

/// `[jobs]`: limits on scheduled jobs and proactive output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Jobs one user may own (created with the `schedule` tool). Default 10.
    pub max_per_user: usize,
    /// Shortest repeat interval of a user's job, seconds. Default 300.
    pub min_interval_secs: u64,
    /// Proactive posts per channel per hour; more are delayed. Default 30.
    pub max_posts_per_channel_per_hour: u32,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            max_per_user: 10,
            min_interval_secs: 300,
            max_posts_per_channel_per_hour: 30,
        }
    }
}

/// `[http]`: the health, metrics and slash-command listener.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on, e.g. "127.0.0.1:8787". Default: empty = off.
    pub listen: String,
}

/// `[commands]`: the native `/kennel` slash command.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandsConfig {
    /// Public base URL of the `[http]` listener as Mattermost reaches it. When
    /// set, `/TRIGGER` is registered in every team of the bot, pointing at
    /// `PUBLIC_URL/mattermost/command`. Default: empty = off.
    pub public_url: String,
    /// The slash command's trigger word. Default "kennel".
    pub trigger: String,
    /// For a command created by hand (System Console → Integrations → Slash
    /// Commands, when the bot may not create one): the name of the variable
    /// holding its token. Default: none.
    pub token_env: String,
    /// The token read from `token_env` (not a key; never printed).
    #[serde(skip)]
    pub manual_token: String,
}

impl std::fmt::Debug for CommandsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandsConfig")
            .field("public_url", &self.public_url)
            .field("trigger", &self.trigger)
            .field("token_env", &self.token_env)
            .field(
                "manual_token",
                &if self.manual_token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

impl Default for CommandsConfig {
    fn default() -> Self {
        CommandsConfig {
            public_url: String::new(),
            trigger: "kennel".into(),
            token_env: String::new(),
            manual_token: String::new(),
        }
    }
}

/// `[secrets.NAME]`: a value the host injects into granted guests' HTTP
/// requests. The value comes from the environment; guests never read it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    /// Name of the environment variable holding the value.
    pub env: String,
    /// Header to set, e.g. "Authorization" (or use `query`).
    #[serde(default)]
    pub header: Option<String>,
    /// Text before the value in the header, e.g. "Bearer ".
    #[serde(default)]
    pub prefix: String,
    /// Query parameter to add instead of a header.
    #[serde(default)]
    pub query: Option<String>,
    /// Where the secret may be sent: `scheme://host[:port][/path-prefix]` entries.
    pub hosts: Vec<String>,
    /// The value read from `env` (never printed).
    #[serde(skip)]
    pub value: String,
}

impl std::fmt::Debug for SecretConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretConfig")
            .field("env", &self.env)
            .field("header", &self.header)
            .field("query", &self.query)
            .field("hosts", &self.hosts)
            .field(
                "value",
                &if self.value.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// `[[mcp]]`: an MCP server whose tools agents may call as `NAME.TOOL`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Prefix of its tools in routes (`NAME.TOOL`, `NAME.*`).
    pub name: String,
    /// Program and arguments of a stdio server, run with an empty environment
    /// (plus `secrets`) in the config file's directory.
    #[serde(default)]
    pub command: Vec<String>,
    /// A streamable-HTTP server's URL, e.g. "http://127.0.0.1:8000/mcp"
    /// (instead of `command`).
    #[serde(default)]
    pub url: Option<String>,
    /// `[secrets.NAME]` entries passed to the server as environment variables
    /// (named by each secret's `env`).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Per call and for the start-up handshake. Default 30.
    #[serde(default = "default_mcp_timeout")]
    pub timeout_secs: u64,
}

fn default_mcp_timeout() -> u64 {
    30
}

/// `[files]` — files attached to posts, in and out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Largest file downloaded, in MiB. Default 10; a larger one reaches
    /// the agent as a note.
    pub max_file_mb: u64,
    /// Most MiB downloaded for one post. Default 25.
    pub max_post_mb: u64,
    /// Files read per post. Default 10 (Mattermost's own limit).
    pub max_files: usize,
    /// Characters of extracted text an agent gets per file. Default 100,000.
    pub max_text_chars: usize,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_file_mb: 10,
            max_post_mb: 25,
            max_files: 10,
            max_text_chars: 100_000,
        }
    }
}

impl FilesConfig {
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb << 20
    }
    pub fn max_post_bytes(&self) -> u64 {
        self.max_post_mb << 20
    }
}

/// The whole file.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Env file (dotenv) read under the environment when no `--env-file` is
    /// given; relative to this file. `kennel init` writes it. Default: none.
    pub env_file: Option<String>,
    pub mattermost: MattermostConfig,
    pub access: AccessConfig,
    pub sessions: SessionsConfig,
    pub storage: StorageConfig,
    /// Absent = no LLM configured (agents get a `not-configured` error).
    pub llm: Option<LlmConfig>,
    #[serde(rename = "route")]
    pub routes: Vec<RouteConfig>,
    #[serde(rename = "schedule")]
    pub schedules: Vec<ScheduleConfig>,
    pub jobs: JobsConfig,
    pub http: HttpConfig,
    pub commands: CommandsConfig,
    pub files: FilesConfig,
    /// `[secrets.NAME]` entries, by name.
    pub secrets: BTreeMap<String, SecretConfig>,
    /// `[[mcp]]` servers.
    pub mcp: Vec<McpConfig>,
    /// Where the config came from (not a key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The file's text, for line numbers in validation errors (not a key).
    #[serde(skip)]
    pub text: String,
    /// Every route answers with this agent, keeping its tools and scanners
    /// (`kennel chat --agent NAME`; not a key).
    #[serde(skip)]
    pub agent_override: Option<String>,
}

impl std::fmt::Debug for Config {
    // Not derived: `text` is the raw file, which may hold the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mattermost", &self.mattermost)
            .field("access", &self.access)
            .field("sessions", &self.sessions)
            .field("storage", &self.storage)
            .field("llm", &self.llm)
            .field("routes", &self.routes)
            .field("schedules", &self.schedules)
            .field("jobs", &self.jobs)
            .field("http", &self.http)
            .field("commands", &self.commands)
            .field("secrets", &self.secrets)
            .field("mcp", &self.mcp)
            .field("source", &self.source)
            .finish()
    }
}

/// A parse error as "line L, column C: message", with quoted values removed
/// from the message (serde quotes the value it rejected).
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let mut msg = e.message().trim().to_string();
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let before = text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        let line_text = text.lines().nth(line - 1).unwrap_or("");
        if is_secret_line(line_text) {
            msg = redact_quoted(&msg);
        }
        msg = format!("line {line}, column {col}: {msg}");
    } else {
        msg = redact_quoted(&msg);
    }
    msg
}

/// Whether a config line sets something secret (its value must never be echoed).
fn is_secret_line(line: &str) -> bool {
    let key = line.split('=').next().unwrap_or(line).to_ascii_lowercase();
    ["token", "secret", "password", "key"]
        .iter()
        .any(|w| key.contains(w))
        || !line.contains('=')
}

fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
            }
        }
    }
    out
}

/// Guest names by kind, for validation.
#[derive(Debug, Default, Clone)]
pub struct KnownGuests {
    pub agents: BTreeSet<String>,
    pub tools: BTreeSet<String>,
    pub scanners: BTreeSet<String>,
    /// Still compiling: the kind is not known yet, so any role is accepted
    /// (the runtime refuses the build later if it is of another kind).
    pub pending: BTreeSet<String>,
}

/// Tools the host itself provides to agents (no guest file needed).
pub const HOST_TOOLS: &[&str] = &["remember", "schedule"];

impl Config {
    /// Loads `path`, or `./kennel.toml` when `path` is `None` and that file exists,
    /// else the defaults; then applies environment overrides from `env`.
    pub fn load(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut cfg = match path {
            Some(p) => Self::from_file(p)?,
            None => {
                let p = Path::new("kennel.toml");
                if p.exists() {
                    Self::from_file(p)?
                } else {
                    Config::default()
                }
            }
        };
        cfg.apply_env(env)?;
        Ok(cfg)
    }

    /// Parses a file (no environment overrides).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses TOML text. Errors give the line, column and what is wrong, but
    /// never echo the file's text: the offending line may hold the token.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        cfg.text = text.to_string();
        Ok(cfg)
    }

    /// Applies `MATTERMOST_*` overrides.
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("MATTERMOST_URL") {
            self.mattermost.url = v.trim().to_string();
        }
        if let Some(v) = get("MATTERMOST_TOKEN") {
            self.mattermost.token = v.trim().to_string();
        }
        if let Some(v) = get("MATTERMOST_ALLOWED_USERS") {
            self.access.allowed_users = v
                .split(',')
                .map(|s| s.trim().trim_start_matches('@').to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("MATTERMOST_REPLY_MODE") {
            self.mattermost.reply_mode = match v.trim().to_ascii_lowercase().as_str() {
                "off" | "flat" | "" => ReplyMode::Off,
                "thread" => ReplyMode::Thread,
                other => {
                    return Err(ConfigError::Env {
                        name: "MATTERMOST_REPLY_MODE",
                        message: format!("`{other}` is not `off` or `thread`"),
                    });
                }
            };
        }
        if let Some(v) = get("MATTERMOST_HOME_CHANNEL") {
            self.mattermost.home_channel = v.trim().to_string();
        }
        if let Some(v) = get("MATTERMOST_REQUIRE_MENTION") {
            self.mattermost.require_mention = parse_bool(&v).ok_or_else(|| ConfigError::Env {
                name: "MATTERMOST_REQUIRE_MENTION",
                message: format!("`{v}` is not true or false"),
            })?;
        }
        if !self.commands.token_env.is_empty() {
            self.commands.manual_token = get(&self.commands.token_env)
                .map(|t| t.trim().to_string())
                .unwrap_or_default();
        }
        for secret in self.secrets.values_mut() {
            secret.value = get(secret.env.trim())
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
        }
        if let Some(v) = get("MATTERMOST_ALLOW_ALL_USERS") {
            let all = parse_bool(&v).ok_or_else(|| ConfigError::Env {
                name: "MATTERMOST_ALLOW_ALL_USERS",
                message: format!("`{v}` is not true or false"),
            })?;
            if all {
                self.access.dm_policy = DmPolicy::Open;
            }
        }
        if let Some(v) = get("MATTERMOST_DM_POLICY") {
            self.access.dm_policy = match v.trim().to_ascii_lowercase().as_str() {
                "open" => DmPolicy::Open,
                "allowlist" => DmPolicy::Allowlist,
                "pairing" => DmPolicy::Pairing,
                other => {
                    return Err(ConfigError::Env {
                        name: "MATTERMOST_DM_POLICY",
                        message: format!("`{other}` is not open, allowlist or pairing"),
                    });
                }
            };
        }
        Ok(())
    }

    fn path_for_errors(&self) -> PathBuf {
        self.source
            .clone()
            .unwrap_or_else(|| PathBuf::from("kennel.toml"))
    }

    /// 1-based line of a byte offset in the source text.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset.min(self.text.len()))
            .map(|s| s.matches('\n').count() + 1)
            .unwrap_or(1)
    }

    /// Checks routes against the loaded guests and for rules that can never match.
    /// Returns every problem found (empty = valid).
    pub fn validate(&self, guests: &KnownGuests) -> Vec<ConfigError> {
        let mut errs = Vec::new();
        let path = self.path_for_errors();
        if let Some(agent) = &self.agent_override
            && !guests.agents.contains(agent)
            && !guests.pending.contains(agent)
        {
            errs.push(ConfigError::Invalid {
                path: path.clone(),
                line: 1,
                message: format!(
                    "--agent {agent}: no agent of that name in the guest directory (agents: {})",
                    list(&guests.agents)
                ),
            });
        }
        let err = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            path: path.clone(),
            line: self.line_of(span.start),
            message,
        };
        if let Some(llm) = &self.llm
            && !(llm.base_url.starts_with("http://") || llm.base_url.starts_with("https://"))
        {
            errs.push(ConfigError::Invalid {
                path: path.clone(),
                line: self
                    .text
                    .find("base_url")
                    .map(|o| self.line_of(o))
                    .unwrap_or(1),
                message: format!(
                    "[llm] base_url `{}` must start with http:// or https://",
                    llm.base_url
                ),
            });
        }
        let mut seen: Vec<(String, Option<String>, usize)> = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let ch = r.channel.get_ref().trim();
            let line = self.line_of(r.channel.span().start);
            if ch.is_empty() {
                errs.push(err(r.channel.span(), format!("route #{} has an empty `channel` (use a name, an id, \"dm\", \"group\" or \"*\")", i + 1)));
            }
            if r.team.is_some() && (ch == "dm" || ch == "group") {
                errs.push(err(
                    r.channel.span(),
                    format!("route #{} can never match: direct and group messages have no team, but `team` is set", i + 1),
                ));
            }
            if let Some((_, _, l)) = seen.iter().find(|(c, t, _)| {
                (c == "*" && (t.is_none() || *t == r.team)) || (c == ch && *t == r.team)
            }) {
                errs.push(err(
                    r.channel.span(),
                    format!("route #{} (channel \"{ch}\") can never match: the route on line {l} already matches everything it would", i + 1),
                ));
            }
            seen.push((ch.to_string(), r.team.clone(), line));
            let agent = r.agent.get_ref();
            // Under `--agent`, the route's own agent is never called.
            if self.agent_override.is_none()
                && !guests.agents.contains(agent)
                && !guests.pending.contains(agent)
            {
                errs.push(err(r.agent.span(), format!("route #{} names agent \"{agent}\", but the guest directory has no such agent (agents: {})", i + 1, list(&guests.agents))));
            }
            for t in &r.tools {
                let name = t.get_ref();
                if let Some((server, _)) = name.split_once('.') {
                    if !self.mcp.iter().any(|m| m.name == server) {
                        errs.push(err(t.span(), format!("route #{} names tool \"{name}\", but no [[mcp]] server is named \"{server}\"", i + 1)));
                    }
                    continue;
                }
                if !guests.tools.contains(name)
                    && !guests.pending.contains(name)
                    && !HOST_TOOLS.contains(&name.as_str())
                {
                    errs.push(err(t.span(), format!("route #{} names tool \"{name}\", but there is no such tool (tools: {})", i + 1, list(&guests.tools))));
                }
            }
            for s in &r.scanners {
                let name = s.get_ref();
                if !guests.scanners.contains(name) && !guests.pending.contains(name) {
                    errs.push(err(s.span(), format!("route #{} names scanner \"{name}\", but there is no such scanner (scanners: {})", i + 1, list(&guests.scanners))));
                }
            }
            for (scanner, by_source) in &r.scan_thresholds {
                if !r.scanners.iter().any(|s| s.get_ref() == scanner) {
                    errs.push(err(r.channel.span(), format!("route #{} sets scan_thresholds for \"{scanner}\", which is not one of its scanners", i + 1)));
                }
                for (source, t) in by_source {
                    if t.flag > t.block || t.block > 100 {
                        errs.push(err(r.channel.span(), format!("route #{} scan_thresholds.{scanner}.{source:?}: need flag <= block <= 100 (got flag = {}, block = {})", i + 1, t.flag, t.block)));
                    }
                }
            }
        }
        for (i, m) in self.mcp.iter().enumerate() {
            let line = self
                .text
                .find(&format!("\"{}\"", m.name))
                .map(|o| self.line_of(o))
                .unwrap_or(1);
            let e = |message: String| ConfigError::Invalid {
                path: path.clone(),
                line,
                message: format!("[[mcp]] #{} ({}): {message}", i + 1, m.name),
            };
            let valid = !m.name.is_empty()
                && m.name.len() <= 64
                && m.name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                errs.push(e(
                    "`name` must be 1-64 characters of a-z, 0-9, '-' or '_'".into()
                ));
            }
            match (&m.url, m.command.is_empty()) {
                (Some(_), false) => errs.push(e(
                    "set `command` (stdio) or `url` (streamable HTTP), not both".into(),
                )),
                (None, true) => errs.push(e(
                    "set `command` (program and arguments of a stdio server) or `url`".into(),
                )),
                (Some(u), true) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                    errs.push(e(format!(
                        "`url` must start with http:// or https:// (got `{u}`)"
                    )))
                }
                (Some(_), true) if !m.secrets.is_empty() => errs.push(e(
                    "`secrets` are passed to stdio servers as environment variables; an HTTP server gets none".into(),
                )),
                _ => {}
            }
            for s in &m.secrets {
                if !self.secrets.contains_key(s) {
                    errs.push(e(format!("secret `{s}` is not defined ([secrets.{s}])")));
                }
            }
        }
        for (i, s) in self.schedules.iter().enumerate() {
            let e = |m: String| err(s.prompt.span(), format!("schedule #{}: {m}", i + 1));
            if let Err(t) = crate::schedule::parse(
                s.cron.as_deref(),
                s.every.as_deref(),
                s.at.as_deref(),
                s.timezone.as_deref(),
            ) {
                errs.push(e(t.0));
            }
            if s.channel.is_some() && s.dm.is_some() {
                errs.push(e("give `channel` or `dm`, not both".into()));
            }
            if let Some(route) = &s.route
                && !self
                    .routes
                    .iter()
                    .any(|r| r.name.as_deref().unwrap_or(r.channel.get_ref()) == route)
            {
                errs.push(e(format!(
                    "names route \"{route}\", but no [[route]] has that name"
                )));
            }
            if let Some(agent) = &s.agent
                && !guests.agents.contains(agent)
                && !guests.pending.contains(agent)
            {
                errs.push(e(format!(
                    "names agent \"{agent}\", but there is no such agent (agents: {})",
                    list(&guests.agents)
                )));
            }
            if s.prompt.get_ref().trim().is_empty() {
                errs.push(e("has an empty prompt".into()));
            }
        }
        errs
    }
}

fn list(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Parses `true/false/1/0/yes/no/on/off`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn scan_thresholds_name_a_scanner_of_the_route_and_keep_flag_below_block() {
        let g = KnownGuests {
            agents: ["echo"].iter().map(|s| s.to_string()).collect(),
            scanners: ["injection", "classifier"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ..Default::default()
        };
        let route = |extra: &str| {
            format!(
                "[[route]]\nchannel = \"*\"\nagent = \"echo\"\nscanners = [\"classifier\"]\n{extra}"
            )
        };
        let ok = Config::parse(&route(
            "[route.scan_thresholds.classifier]\nattachment = { flag = 30, block = 50 }\n",
        ))
        .expect("parse");
        assert!(ok.validate(&g).is_empty());
        let errs = |extra: &str| {
            Config::parse(&route(extra))
                .expect("parse")
                .validate(&g)
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let e = errs("[route.scan_thresholds.injection]\nattachment = { flag = 30, block = 50 }\n");
        assert!(
            e.contains("\"injection\", which is not one of its scanners"),
            "{e}"
        );
        let e =
            errs("[route.scan_thresholds.classifier]\nattachment = { flag = 60, block = 50 }\n");
        assert!(e.contains("need flag <= block <= 100"), "{e}");
        let e =
            errs("[route.scan_thresholds.classifier]\nattachment = { flag = 60, block = 101 }\n");
        assert!(e.contains("need flag <= block <= 100"), "{e}");
        // an unknown source or a missing field is a parse error naming it
        let bad = Config::parse(&route(
            "[route.scan_thresholds.classifier]\nemail = { flag = 1, block = 2 }\n",
        ));
        assert!(bad.is_err_and(|e| e.to_string().contains("email")));
        let bad = Config::parse(&route(
            "[route.scan_thresholds.classifier]\nattachment = { block = 2 }\n",
        ));
        assert!(bad.is_err_and(|e| e.to_string().contains("flag")));
    }

    #[test]
    fn no_api_key_variable_by_default() {
        // A key meant for one server must never go to another by default.
        assert_eq!(LlmConfig::default().api_key_env, "");
        let cfg = Config::parse("[llm]\nbase_url = \"http://127.0.0.1:1/v1\"\n").expect("parse");
        assert_eq!(cfg.llm.expect("llm").api_key_env, "");
    }

    use super::*;

    fn guests() -> KnownGuests {
        KnownGuests {
            agents: ["echo", "assistant"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            tools: ["calc"].iter().map(|s| s.to_string()).collect(),
            scanners: ["injection"].iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn an_agent_override_replaces_every_route_agent_and_must_exist() {
        let text = "[[route]]\nchannel = \"*\"\nagent = \"gone\"\ntools = [\"calc\"]\n";
        let mut c = Config::parse(text).expect("parse");
        assert_eq!(c.validate(&guests()).len(), 1, "the route's missing agent");
        c.agent_override = Some("echo".into());
        assert!(c.validate(&guests()).is_empty());
        let table = crate::routing::RouteTable::from_config(&c, &guests());
        assert_eq!(table.routes[0].agent, "echo");
        assert_eq!(table.routes[0].tools, ["calc"]);
        c.agent_override = Some("nosuch".into());
        let errs: Vec<String> = c
            .validate(&guests())
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(
            errs.len() == 1 && errs[0].contains("--agent nosuch"),
            "{errs:?}"
        );
    }

    #[test]
    fn defaults_are_safe() {
        let c = Config::parse("").expect("parse");
        assert_eq!(c.access.dm_policy, DmPolicy::Allowlist);
        assert!(c.access.allowed_users.is_empty());
        assert!(c.mattermost.require_mention);
        assert_eq!(c.mattermost.reply_mode, ReplyMode::Off);
        assert!(c.sessions.group_sessions_per_user);
        assert!(c.llm.is_none());
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let e = Config::parse("[mattermost]\nurl = \"http://x\"\nrply_mode = \"thread\"\n")
            .expect_err("must fail");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("rply_mode"), "{e}");
    }

    #[test]
    fn env_overrides_file() {
        let mut c = Config::parse("[mattermost]\nurl = \"http://file\"\nreply_mode = \"off\"\n")
            .expect("parse");
        let env = |k: &str| match k {
            "MATTERMOST_URL" => Some("https://env.example".to_string()),
            "MATTERMOST_ALLOWED_USERS" => Some("alice, @bob,,".to_string()),
            "MATTERMOST_REPLY_MODE" => Some("thread".to_string()),
            "MATTERMOST_REQUIRE_MENTION" => Some("false".to_string()),
            "MATTERMOST_HOME_CHANNEL" => Some("abc".to_string()),
            _ => None,
        };
        c.apply_env(&env).expect("env");
        assert_eq!(c.mattermost.url, "https://env.example");
        assert_eq!(c.access.allowed_users, vec!["alice", "bob"]);
        assert_eq!(c.mattermost.reply_mode, ReplyMode::Thread);
        assert!(!c.mattermost.require_mention);
        assert_eq!(c.mattermost.home_channel, "abc");
        let bad = |k: &str| (k == "MATTERMOST_REPLY_MODE").then(|| "sideways".to_string());
        assert!(c.apply_env(&bad).is_err());
    }

    #[test]
    fn token_is_redacted_in_debug() {
        let c = Config::parse("[mattermost]\ntoken = \"sekrit-token\"\n").expect("parse");
        assert!(!format!("{c:?}").contains("sekrit-token"));
    }

    #[test]
    fn mcp_entries_need_one_transport_and_known_secrets() {
        let guests = KnownGuests {
            agents: ["echo".to_string()].into(),
            ..Default::default()
        };
        let errs = |text: &str| -> Vec<String> {
            Config::parse(text)
                .expect("parse")
                .validate(&guests)
                .iter()
                .map(|e| e.to_string())
                .collect()
        };
        let ok = "[[mcp]]\nname = \"a\"\ncommand = [\"srv\"]\n[[mcp]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[route]]\nchannel = \"*\"\nagent = \"echo\"\ntools = [\"a.*\", \"b.x\"]\n";
        assert!(errs(ok).is_empty(), "{:?}", errs(ok));
        let both = errs("[[mcp]]\nname = \"a\"\ncommand = [\"srv\"]\nurl = \"http://x/mcp\"\n");
        assert!(both[0].contains("not both"), "{both:?}");
        let none = errs("[[mcp]]\nname = \"a\"\n");
        assert!(none[0].contains("set `command`"), "{none:?}");
        let scheme = errs("[[mcp]]\nname = \"a\"\nurl = \"ftp://x\"\n");
        assert!(scheme[0].contains("http://"), "{scheme:?}");
        let secret = errs("[[mcp]]\nname = \"a\"\ncommand = [\"srv\"]\nsecrets = [\"gh\"]\n");
        assert!(secret[0].contains("[secrets.gh]"), "{secret:?}");
        let route = errs("[[route]]\nchannel = \"*\"\nagent = \"echo\"\ntools = [\"zz.x\"]\n");
        assert!(route[0].contains("no [[mcp]] server is named"), "{route:?}");
    }

    #[test]
    fn validation_points_at_lines() {
        let text = "\
[[route]]
channel = \"dev\"
agent = \"coder\"
tools = [\"calc\", \"nope\"]

[[route]]
channel = \"*\"
agent = \"echo\"

[[route]]
channel = \"random\"
agent = \"echo\"

[[route]]
channel = \"dm\"
team = \"eng\"
agent = \"echo\"
";
        let c = Config::parse(text).expect("parse");
        let errs: Vec<String> = c
            .validate(&guests())
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(
            errs.iter()
                .any(|e| e.contains(":3:") && e.contains("\"coder\"")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains(":4:") && e.contains("\"nope\"")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains(":11:") && e.contains("never match") && e.contains("line 7")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains(":15:") && e.contains("no team")),
            "{errs:?}"
        );
        assert_eq!(errs.len(), 5, "{errs:?}");
    }

    proptest::proptest! {
        #[test]
        fn config_parsing_never_panics_nor_echoes_a_token(
            junk in "[\\[\\]a-z_=\"' .0-9\n]{0,200}",
        ) {
            let text = format!("[mattermost]\ntoken = \"tok-SECRET-1\n{junk}");
            if let Err(e) = Config::parse(&text) {
                proptest::prop_assert!(!e.contains("SECRET"), "{e}");
            }
        }
    }
}
