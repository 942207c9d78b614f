//! Start-up shared by every command that serves messages: config, runtime,
//! guests, store, LLM client and gateway, plus live config reload.
//!
//! Owns assembly only; each piece keeps its own rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigError};
use crate::gateway::{Gateway, known_guests};
use crate::llm::LlmClient;
use crate::mcp::McpHub;
use crate::runtime::{
    HostRule, Inject, LoadError, Runtime, RuntimeError, RuntimeOptions, Secret, Secrets,
};
use crate::store::{Store, StoreError};

/// Where things live.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `--config`; `None` = `./kennel.toml` if present.
    pub config: Option<PathBuf>,
    pub guests: PathBuf,
    pub data: PathBuf,
}

impl Paths {
    /// The compile cache: `KENNEL_CACHE_DIR`, else `DATA/cache`.
    pub fn cache_dir(&self, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        env("KENNEL_CACHE_DIR")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data.join("cache"))
    }
}

/// Start-up failures, each with its fix in the message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("invalid configuration:\n{0}")]
    Invalid(String),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the LLM client: {0}")]
    Llm(String),
}

/// The assembled host.
pub struct App {
    pub paths: Paths,
    pub runtime: Runtime,
    pub gateway: Arc<Gateway>,
    pub load_errors: Vec<LoadError>,
}

/// Loads the config with env overrides.
pub fn load_config(
    paths: &Paths,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    Config::load(paths.config.as_deref(), env)
}

/// Creates the runtime and loads the guests: quick ones now, big uncached
/// ones in the background (calls to them wait until they are ready).
pub fn load_runtime(
    paths: &Paths,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Runtime, Vec<LoadError>), RuntimeError> {
    let runtime = Runtime::new(RuntimeOptions {
        guest_dir: paths.guests.clone(),
        cache_dir: Some(paths.cache_dir(env)),
    })?;
    if let Ok(exe) = std::env::current_exe()
        && exe.file_stem().is_some_and(|s| s == "kennel")
    {
        runtime.compile_in_child(exe);
    }
    let errors: Vec<LoadError> = runtime
        .load_dir_serving()
        .into_iter()
        .filter_map(Result::err)
        .collect();
    for e in &errors {
        tracing::error!("guest not loaded: {e}");
    }
    Ok((runtime, errors))
}

/// Validates a config against the loaded guests.
pub fn validate(config: &Config, runtime: &Runtime) -> Result<(), AppError> {
    let errs = config.validate(&known_guests(runtime));
    if errs.is_empty() {
        Ok(())
    } else {
        Err(invalid(&errs))
    }
}

/// The host's secrets (`[secrets.NAME]`), checked: each names where it goes
/// (a header or a query parameter, not both) and the hosts it may reach.
pub fn secrets(config: &Config) -> Result<Secrets, AppError> {
    let mut list = Vec::new();
    let mut errs = Vec::new();
    for (name, s) in &config.secrets {
        let inject = match (&s.header, &s.query) {
            (Some(h), None) => match http::HeaderName::from_bytes(h.trim().as_bytes()) {
                Ok(name) => Inject::Header {
                    name,
                    prefix: s.prefix.clone(),
                },
                Err(_) => {
                    errs.push(format!("[secrets.{name}]: `{h}` is not a header name"));
                    continue;
                }
            },
            (None, Some(q)) if !q.trim().is_empty() => Inject::Query(q.trim().to_string()),
            _ => {
                errs.push(format!(
                    "[secrets.{name}]: set exactly one of `header` or `query`"
                ));
                continue;
            }
        };
        let hosts: Result<Vec<HostRule>, String> =
            s.hosts.iter().map(|h| HostRule::parse(h)).collect();
        match hosts.and_then(|h| Secret::new(name.clone(), s.value.clone(), inject, h)) {
            Ok(secret) => {
                if !secret.has_value() {
                    tracing::warn!(secret = %name, env = %s.env, "secret has no value: its variable is not set");
                }
                list.push(secret);
            }
            Err(e) => errs.push(format!("[secrets.{name}]: {e}")),
        }
    }
    if errs.is_empty() {
        Ok(Secrets::new(list))
    } else {
        Err(invalid(&errs))
    }
}

/// Every problem, one indented line each.
fn invalid(errs: &[impl std::fmt::Display]) -> AppError {
    AppError::Invalid(
        errs.iter()
            .map(|e| format!("  {e}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Starts the config's MCP servers (commands run in the config file's directory).
pub fn mcp_hub(config: &Config) -> Arc<McpHub> {
    if config.mcp.is_empty() {
        return Arc::new(McpHub::empty());
    }
    let base = config
        .source
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    Arc::new(McpHub::start(&config.mcp, &config.secrets, &base))
}

/// The LLM client for a config (`None` without `[llm]`).
pub fn llm_client(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Arc<LlmClient>>, AppError> {
    match &config.llm {
        None => Ok(None),
        Some(c) => LlmClient::new(c, env)
            .map(|c| Some(Arc::new(c)))
            .map_err(|e| AppError::Llm(e.to_string())),
    }
}

impl App {
    /// Builds everything; fails on a bad config, store or engine, not on a bad guest.
    pub fn build(paths: Paths, env: &dyn Fn(&str) -> Option<String>) -> Result<App, AppError> {
        App::build_with_agent(paths, env, None)
    }

    /// [`App::build`], with every route answered by `agent` when given
    /// (`kennel chat --agent NAME`).
    pub fn build_with_agent(
        paths: Paths,
        env: &dyn Fn(&str) -> Option<String>,
        agent: Option<String>,
    ) -> Result<App, AppError> {
        let mut config = load_config(&paths, env)?;
        config.agent_override = agent;
        let (runtime, load_errors) = load_runtime(&paths, env)?;
        validate(&config, &runtime)?;
        runtime.set_secrets(secrets(&config)?);
        let store = Arc::new(Store::open(&paths.data)?);
        let llm = llm_client(&config, env)?;
        let mcp = mcp_hub(&config);
        let gateway = Arc::new(Gateway::new(runtime.clone(), store, config, llm));
        gateway.set_mcp(mcp);
        // Once the background compiles land, the default route sees them.
        // Always, not only while some are pending: one that landed after the
        // gateway read the guests but before a check here would be missed.
        let (rt, gw) = (runtime.clone(), gateway.clone());
        tokio::spawn(async move {
            rt.all_ready().await;
            gw.refresh_routes();
            tracing::info!("every guest compiled; routes refreshed");
        });
        Ok(App {
            paths,
            runtime,
            gateway,
            load_errors,
        })
    }

    /// Re-reads the config file; a broken one keeps the old config (logged).
    pub fn reload_config(&self, env: &dyn Fn(&str) -> Option<String>) -> bool {
        let result = load_config(&self.paths, env)
            .map_err(AppError::from)
            .and_then(|c| validate(&c, &self.runtime).map(|_| c))
            .and_then(|c| secrets(&c).map(|s| (c, s)))
            .and_then(|(c, s)| llm_client(&c, env).map(|l| (c, l, s)));
        match result {
            Ok((config, llm, secrets)) => {
                self.runtime.set_secrets(secrets);
                if config.mcp != self.gateway.settings().config.mcp {
                    tracing::info!(
                        servers = config.mcp.len(),
                        "MCP servers changed; restarting them"
                    );
                    self.gateway.set_mcp(mcp_hub(&config));
                }
                let routes = config.routes.len();
                self.gateway.replace_config(config, llm);
                tracing::info!(routes, "configuration reloaded");
                true
            }
            Err(e) => {
                tracing::error!(
                    "configuration reload failed; keeping the previous configuration: {e}"
                );
                false
            }
        }
    }

    /// Reloads on SIGHUP and whenever the config file changes, until the app ends.
    /// Also starts the guest hot-swap watcher. Keep the returned guards alive.
    pub fn start_reloaders(
        self: &Arc<Self>,
        env: Arc<crate::config::env::EnvSource>,
    ) -> Vec<Box<dyn std::any::Any + Send>> {
        let mut guards: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
        match self.runtime.watch() {
            Ok(w) => guards.push(Box::new(w)),
            Err(e) => tracing::warn!("hot swap disabled: {e}"),
        }
        let app = self.clone();
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            let (app, env) = (app.clone(), env.clone());
            guards.push(Box::new(AbortOnDrop(tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading configuration");
                    crate::service::notify_reloading();
                    app.reload_config(&|k| env.get(k));
                    crate::service::notify_ready();
                }
            }))));
        }
        if let Some(file) = self
            .paths
            .config
            .clone()
            .or_else(|| Some(PathBuf::from("kennel.toml")).filter(|p| p.exists()))
        {
            match watch_file(&file) {
                Ok((watcher, mut rx)) => {
                    guards.push(Box::new(watcher));
                    guards.push(Box::new(AbortOnDrop(tokio::spawn(async move {
                        while rx.recv().await.is_some() {
                            // Debounce editors' multi-step saves.
                            while let Ok(Some(())) = tokio::time::timeout(std::time::Duration::from_millis(200), rx.recv()).await {}
                            tracing::info!(file = %file.display(), "config file changed: reloading");
                            app.reload_config(&|k| env.get(k));
                        }
                    }))));
                }
                Err(e) => tracing::warn!("config file watch disabled: {e}"),
            }
        }
        guards
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn watch_file(
    file: &Path,
) -> Result<
    (
        notify::RecommendedWatcher,
        tokio::sync::mpsc::UnboundedReceiver<()>,
    ),
    String,
> {
    use notify::Watcher as _;
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = file
        .file_name()
        .map(|n| n.to_os_string())
        .ok_or("config path has no file name")?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        // Opening or reading the file (our own reload does) is not a change:
        // reacting to it would reload forever.
        if let Ok(ev) = ev
            && !matches!(ev.kind, notify::EventKind::Access(_))
            && ev
                .paths
                .iter()
                .any(|p| p.file_name() == Some(name.as_os_str()))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| e.to_string())?;
    w.watch(&dir, notify::RecursiveMode::NonRecursive)
        .map_err(|e| e.to_string())?;
    Ok((w, rx))
}
