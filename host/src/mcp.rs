//! MCP servers as tools, through the official Rust MCP SDK (`rmcp`).
//!
//! Owns one supervisor task per `[[mcp]]` entry: it starts the server (a
//! stdio child with an empty environment plus the secrets configured for
//! it, working directory = the config file's directory) or connects to it
//! (streamable HTTP, `url`), lists its tools,
//! and when the server dies restarts it with exponential backoff (1 s to
//! 60 s); meanwhile its tools answer "unavailable". Tools are named
//! `SERVER.TOOL`; routes grant them like guest tools (`"SERVER.TOOL"` or
//! `"SERVER.*"`). Every call has the entry's timeout.
//!
//! It must not: pass the host's environment to a server, call a tool a route
//! did not grant (the gateway checks), or hand results to a model unscanned
//! (the gateway scans them as tool output and bounds their size).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::service::{Peer, RoleClient, ServiceExt};
use rmcp::transport::TokioChildProcess;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Notify, RwLock};

use crate::config::{McpConfig, SecretConfig};
use crate::runtime::types::ToolSpec;

/// Longest wait for a server's first start before its tools count as unavailable.
const FIRST_START_WAIT: Duration = Duration::from_secs(15);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

enum State {
    Starting,
    Up {
        peer: Peer<RoleClient>,
        tools: Vec<Tool>,
    },
    Down(String),
}

struct Server {
    cfg: McpConfig,
    state: RwLock<State>,
    changed: Notify,
}

/// The MCP servers of the current config.
pub struct McpHub {
    servers: BTreeMap<String, Arc<Server>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for McpHub {
    fn drop(&mut self) {
        // Aborting drops each running service, which kills its child process.
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl McpHub {
    /// A hub with no servers.
    pub fn empty() -> McpHub {
        McpHub {
            servers: BTreeMap::new(),
            tasks: Vec::new(),
        }
    }

    /// Starts a supervisor per entry (must run inside a tokio runtime).
    /// `base` is the directory relative commands and working directories use.
    pub fn start(
        entries: &[McpConfig],
        secrets: &BTreeMap<String, SecretConfig>,
        base: &Path,
    ) -> McpHub {
        let mut hub = McpHub::empty();
        for cfg in entries {
            let env: Vec<(String, String)> = cfg
                .secrets
                .iter()
                .filter_map(|name| secrets.get(name))
                .filter(|s| !s.value.is_empty())
                .map(|s| (s.env.trim().to_string(), s.value.clone()))
                .collect();
            let server = Arc::new(Server {
                cfg: cfg.clone(),
                state: RwLock::new(State::Starting),
                changed: Notify::new(),
            });
            hub.servers.insert(cfg.name.clone(), server.clone());
            hub.tasks
                .push(tokio::spawn(supervise(server, env, base.to_path_buf())));
        }
        hub
    }

    /// Names of the configured servers.
    pub fn server_names(&self) -> Vec<String> {
        self.servers.keys().cloned().collect()
    }

    /// Specs of every tool of a server (named `SERVER.TOOL`).
    pub async fn tools(&self, server: &str) -> Result<Vec<ToolSpec>, String> {
        let s = self.server(server)?;
        s.wait_started().await;
        match &*s.state.read().await {
            State::Up { tools, .. } => Ok(tools.iter().map(|t| spec(server, t)).collect()),
            State::Down(why) => Err(unavailable(server, why)),
            State::Starting => Err(unavailable(server, "still starting")),
        }
    }

    /// The spec of one `SERVER.TOOL`.
    pub async fn tool_spec(&self, full: &str) -> Result<ToolSpec, String> {
        let (server, tool) = split(full)?;
        self.tools(server)
            .await?
            .into_iter()
            .find(|t| t.name == full)
            .ok_or_else(|| format!("MCP server `{server}` has no tool `{tool}`"))
    }

    /// Calls `SERVER.TOOL` with JSON arguments, within the entry's timeout.
    /// Errors are text for the model.
    pub async fn call(&self, full: &str, arguments: &str) -> Result<String, String> {
        let (server, tool) = split(full)?;
        let s = self.server(server)?;
        s.wait_started().await;
        let peer = match &*s.state.read().await {
            State::Up { peer, .. } => peer.clone(),
            State::Down(why) => return Err(unavailable(server, why)),
            State::Starting => return Err(unavailable(server, "still starting")),
        };
        let args: serde_json::Value = serde_json::from_str(arguments)
            .map_err(|e| format!("the arguments for `{full}` are not valid JSON: {e}"))?;
        let serde_json::Value::Object(args) = args else {
            return Err(format!("the arguments for `{full}` must be a JSON object"));
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        let started = Instant::now();
        let timeout = Duration::from_secs(s.cfg.timeout_secs.max(1));
        let result = tokio::time::timeout(timeout, peer.call_tool(params))
            .await
            .map_err(|_| format!("MCP tool `{full}` timed out after {} s", timeout.as_secs()))?
            .map_err(|e| format!("MCP tool `{full}` failed: {e}"))?;
        let mut text = String::new();
        for block in &result.content {
            if let Some(t) = block.as_text() {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&t.text);
            } else {
                text.push_str("\n[non-text content omitted]");
            }
        }
        if text.is_empty()
            && let Some(v) = &result.structured_content
        {
            text = v.to_string();
        }
        tracing::info!(
            tool = full,
            ms = started.elapsed().as_millis() as u64,
            is_error = result.is_error.unwrap_or(false),
            "MCP tool called"
        );
        if result.is_error.unwrap_or(false) {
            Err(format!("MCP tool `{full}` reported an error: {text}"))
        } else {
            Ok(text)
        }
    }

    fn server(&self, name: &str) -> Result<&Arc<Server>, String> {
        self.servers
            .get(name)
            .ok_or_else(|| format!("no MCP server named `{name}` is configured"))
    }
}

impl Server {
    async fn wait_started(&self) {
        let deadline = tokio::time::Instant::now() + FIRST_START_WAIT;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !matches!(*self.state.read().await, State::Starting) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    async fn set(&self, state: State) {
        *self.state.write().await = state;
        self.changed.notify_waiters();
    }
}

fn unavailable(server: &str, why: &str) -> String {
    format!("MCP server `{server}` is unavailable ({why}); try again later")
}

/// `SERVER.TOOL` → (server, tool).
pub fn split(full: &str) -> Result<(&str, &str), String> {
    full.split_once('.')
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
        .ok_or_else(|| format!("`{full}` is not SERVER.TOOL"))
}

fn spec(server: &str, t: &Tool) -> ToolSpec {
    ToolSpec {
        name: format!("{server}.{}", t.name),
        description: t.description.as_deref().unwrap_or("").to_string(),
        parameters: serde_json::Value::Object((*t.input_schema).clone()).to_string(),
    }
}

/// Runs a server, restarting it with backoff whenever it stops.
async fn supervise(server: Arc<Server>, env: Vec<(String, String)>, base: PathBuf) {
    let name = server.cfg.name.clone();
    let mut backoff = BACKOFF_MIN;
    loop {
        let started = Instant::now();
        match connect(&server.cfg, &env, &base).await {
            Ok((running, tools)) => {
                tracing::info!(mcp = %name, tools = tools.len(), "MCP server ready");
                let peer = running.peer().clone();
                server.set(State::Up { peer, tools }).await;
                let reason = running.waiting().await;
                let why = format!("server stopped: {reason:?}");
                tracing::warn!(mcp = %name, "{why}; restarting in {} s", backoff.as_secs());
                server.set(State::Down(why)).await;
            }
            Err(e) => {
                tracing::warn!(mcp = %name, "MCP server failed to start: {e}; retrying in {} s", backoff.as_secs());
                server.set(State::Down(e)).await;
            }
        }
        if started.elapsed() > BACKOFF_MAX {
            backoff = BACKOFF_MIN;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

type Running = rmcp::service::RunningService<RoleClient, ()>;

async fn connect(
    cfg: &McpConfig,
    env: &[(String, String)],
    base: &Path,
) -> Result<(Running, Vec<Tool>), String> {
    let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
    if let Some(url) = &cfg.url {
        install_tls_provider();
        let config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
        let transport = StreamableHttpClientTransport::from_config(config);
        return handshake(().serve(transport), timeout).await;
    }
    let Some((program, args)) = cfg.command.split_first() else {
        return Err("no `command`".into());
    };
    let program = resolve_program(program, base)?;
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(args)
        .current_dir(base)
        .env_clear()
        .envs(env.iter().cloned());
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    if let Some(stderr) = stderr {
        let name = cfg.name.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(mcp = %name, "stderr: {}", line.chars().take(500).collect::<String>());
            }
        });
    }
    handshake(().serve(transport), timeout).await
}

/// Finishes the MCP handshake and lists the tools, each within `timeout`.
async fn handshake<F, E>(serve: F, timeout: Duration) -> Result<(Running, Vec<Tool>), String>
where
    F: std::future::Future<Output = Result<Running, E>>,
    E: std::fmt::Display,
{
    let running = tokio::time::timeout(timeout, serve)
        .await
        .map_err(|_| "no MCP handshake within the timeout".to_string())?
        .map_err(|e| format!("MCP handshake failed: {e}"))?;
    let tools = tokio::time::timeout(timeout, running.peer().list_all_tools())
        .await
        .map_err(|_| "tools/list timed out".to_string())?
        .map_err(|e| format!("tools/list failed: {e}"))?;
    Ok((running, tools))
}

/// rmcp's HTTP client is built without a TLS crypto provider of its own:
/// the process uses ring (as the rest of the host does).
fn install_tls_provider() {
    // Fails only when one is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A program with a `/` is relative to `base`; a bare name is looked up in
/// the host's PATH (the child itself gets no PATH).
fn resolve_program(program: &str, base: &Path) -> Result<PathBuf, String> {
    if program.contains('/') {
        let p = base.join(program);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{} does not exist", p.display()))
        };
    }
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(program))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{program}` is not on the PATH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_split_at_the_first_dot() {
        assert_eq!(split("files.read").expect("split"), ("files", "read"));
        assert_eq!(split("a.b.c").expect("split"), ("a", "b.c"));
        assert!(split("calc").is_err());
        assert!(split(".x").is_err());
    }

    #[test]
    fn programs_resolve_against_the_base_or_the_path() {
        let d = tempfile::tempdir().expect("dir");
        std::fs::write(d.path().join("srv"), "").expect("write");
        assert_eq!(
            resolve_program("./srv", d.path()).expect("rel"),
            d.path().join("./srv")
        );
        assert!(resolve_program("./missing", d.path()).is_err());
        assert!(resolve_program("sh", d.path()).is_ok());
        assert!(resolve_program("no-such-program-kennel", d.path()).is_err());
    }
}
