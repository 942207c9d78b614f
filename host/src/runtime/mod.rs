//! The WebAssembly runtime: the only module that touches wasmtime.
//!
//! Owns one `Engine` (pooling allocator, epoch interruption), the on-disk
//! compile cache, one linker per guest kind, the registry of loaded guests
//! (an `ArcSwap` map, so hot swaps never block calls) and the typed call API.
//! It knows nothing about Mattermost, sessions or storage: agents reach those
//! through [`AgentServices`].
//!
//! Sandbox rules, enforced per call (see [`limits`] for the numbers):
//!
//! | resource | rule |
//! |---|---|
//! | files, sockets, env, args, stdin | none (WASI p2 linked with nothing granted) |
//! | clocks | millisecond resolution |
//! | stdout/stderr | captured up to `output_kb`, forwarded to `tracing` tagged with the guest name |
//! | memory | `memory_mb` over all memories of the call |
//! | CPU | `cpu_ms` of guest execution (epoch ticks; host waits cost one tick) |
//! | wall clock | `timeout_ms` for the whole call |
//! | imports | tools and scanners may import only `log` (+ WASI); agents also `memory`, `tools`, `llm` |
//! | instances | a fresh instance per call: no state survives between calls |
//!
//! A trap, timeout or exhausted limit fails that call only, with a [`GuestError`].

pub mod bindings;
mod cache;
mod host;
pub mod limits;
pub mod net;
mod ticker;
mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

pub use bindings::{llm, memory, types};
pub use cache::Origin;
pub use host::{AgentServices, BoxFuture, MAX_MEMORY_KEY, MAX_MEMORY_VALUE};
pub use limits::{GuestFile, Limits};
pub use net::{HostRule, Inject, NetPolicy, RequestRecord, Secret, Secrets};
pub use watch::Watcher;

use host::CallState;

/// The version of the `kennel:guest` WIT package this host serves.
pub const WIT_VERSION: &str = "0.2.0";

/// Length of one epoch tick. CPU budgets are counted in ticks.
pub const TICK: Duration = Duration::from_millis(5);

/// What a guest is, decided by the world it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuestKind {
    Agent,
    Tool,
    Scanner,
}

impl GuestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GuestKind::Agent => "agent",
            GuestKind::Tool => "tool",
            GuestKind::Scanner => "scanner",
        }
    }
    /// The WIT world of the kind.
    pub fn world(self) -> &'static str {
        match self {
            GuestKind::Agent => "kennel:guest/agent@0.2.0",
            GuestKind::Tool => "kennel:guest/tool@0.2.0",
            GuestKind::Scanner => "kennel:guest/scanner@0.2.0",
        }
    }
}

impl std::fmt::Display for GuestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a guest could not be loaded. The old version (if any) keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{name}: cannot read {path}: {source}")]
    Read {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{name}: guest names must be 1-64 characters of a-z, 0-9, '-' or '_' (file {path})")]
    BadName { name: String, path: PathBuf },
    #[error("{name}: not a valid WebAssembly component: {reason}")]
    Invalid { name: String, reason: String },
    #[error("{name}: {reason}")]
    WrongWorld { name: String, reason: String },
    #[error("{name}: bad limits file {path}: {reason}")]
    Limits {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "{name}: the new build is a {now}, but a route uses `{name}` as a {was}; change the routes first"
    )]
    KindInUse {
        name: String,
        was: GuestKind,
        now: GuestKind,
    },
}

/// Why a guest call failed. Each fails that call only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestError {
    #[error("guest `{0}` used up its CPU budget")]
    Cpu(String),
    #[error("guest `{0}` exceeded its memory limit")]
    Memory(String),
    #[error("guest `{0}` timed out")]
    Timeout(String),
    #[error("guest `{0}` wrote more output than allowed")]
    Output(String),
    #[error("guest `{0}` returned {1} bytes, more than its `reply_kb` allows")]
    Reply(String, usize),
    #[error("guest `{0}` trapped: {1}")]
    Trap(String, String),
    #[error("no {1} named `{0}` is loaded")]
    NotLoaded(String, GuestKind),
    #[error("guest `{0}` is a {1}, not a {2}")]
    WrongKind(String, GuestKind, GuestKind),
    #[error("tool `{0}` describes its arguments with an invalid JSON Schema: {1}")]
    BadSchema(String, String),
}

/// Startup errors of the runtime itself.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot watch guest directory {path}: {reason}")]
    Watch { path: PathBuf, reason: String },
}

enum Pre {
    Agent(bindings::agent::AgentPre<CallState>),
    Tool(bindings::tool::ToolPre<CallState>),
    Scanner(bindings::scanner::ScannerPre<CallState>),
}

/// One loaded version of a guest. Calls hold an `Arc` to it, so a hot swap
/// never disturbs a call in flight; the old version is freed when its last call ends.
pub struct Guest {
    pub name: String,
    pub kind: GuestKind,
    /// First 12 hex digits of the `.wasm` file's SHA-256.
    pub version: String,
    pub size: u64,
    pub loaded_at: SystemTime,
    /// Time to compile or load from cache.
    pub load_time: Duration,
    pub origin: Origin,
    pub limits: Limits,
    /// The network grant of its `NAME.toml` (none by default).
    pub net: Arc<NetPolicy>,
    pub path: PathBuf,
    pre: Pre,
    /// A tool's spec and its compiled argument schema (first use, then cached).
    tool: tokio::sync::OnceCell<ToolInfo>,
}

/// What `describe` returned, checked: the spec and the validator of its `parameters`.
struct ToolInfo {
    spec: types::ToolSpec,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish()
    }
}

/// Options of [`Runtime::new`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub guest_dir: PathBuf,
    /// Compile cache directory; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
}

struct Inner {
    engine: Engine,
    agent_linker: Linker<CallState>,
    plain_linker: Linker<CallState>,
    cache: cache::CompileCache,
    /// The host's secrets, injected into granted guests' HTTP requests.
    secrets: ArcSwap<Secrets>,
    guests: ArcSwap<BTreeMap<String, Arc<Guest>>>,
    guest_dir: PathBuf,
    /// Serialises registry updates (loads from the watcher and from callers).
    update: std::sync::Mutex<()>,
    /// The role each guest plays in the current routes (set by the gateway):
    /// a swap to another kind is refused while a route relies on the old one.
    roles: ArcSwap<BTreeMap<String, GuestKind>>,
    /// Guests still compiling in the background (see [`Runtime::load_dir_serving`]).
    pending: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Woken whenever a pending guest finished (loaded or failed).
    settled: tokio::sync::Notify,
    /// The `kennel` binary to compile in (see [`Runtime::compile_in_child`]).
    compiler: std::sync::OnceLock<PathBuf>,
    /// Guest calls under way (the epoch ticker runs only while there are).
    activity: Arc<ticker::Activity>,
}

/// Cheap-to-clone handle to the runtime.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl Runtime {
    /// Creates the engine, linkers and cache, and starts the epoch ticker.
    /// Loads no guests (see [`Runtime::load_dir`]).
    pub fn new(opts: RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let engine = make_engine().map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let agent_linker =
            make_linker(&engine, true).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let plain_linker =
            make_linker(&engine, false).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let cache = cache::CompileCache::new(&engine, opts.cache_dir.clone());
        let activity = Arc::new(ticker::Activity::default());
        ticker::start(&engine, activity.clone());
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                agent_linker,
                plain_linker,
                cache,
                secrets: ArcSwap::from_pointee(Secrets::default()),
                guests: ArcSwap::from_pointee(BTreeMap::new()),
                guest_dir: opts.guest_dir,
                update: std::sync::Mutex::new(()),
                roles: ArcSwap::from_pointee(BTreeMap::new()),
                pending: std::sync::Mutex::new(Default::default()),
                settled: tokio::sync::Notify::new(),
                compiler: std::sync::OnceLock::new(),
                activity,
            }),
        })
    }

    /// Replaces the secrets injected into guests' HTTP requests (config load
    /// and reload). Calls in flight keep the set they started with.
    pub fn set_secrets(&self, secrets: Secrets) {
        self.inner.secrets.store(Arc::new(secrets));
    }

    /// The guest directory this runtime serves.
    pub fn guest_dir(&self) -> &Path {
        &self.inner.guest_dir
    }

    /// Loads every `*.wasm` in the guest directory, compiling in parallel on
    /// all cores, and returns when all are done. One result per file; a bad
    /// file never prevents the others.
    pub fn load_dir(&self) -> Vec<Result<Arc<Guest>, LoadError>> {
        self.load_parallel(&self.guest_files(), &|_, _| {})
    }

    /// Loads what is quick now (cached or small guests, in parallel) and
    /// compiles the rest on a background thread, so a host can serve at once.
    /// Returns the results of the quick ones; the others are
    /// [`Runtime::pending`] until done, and calls to them wait (bounded by
    /// [`PENDING_WAIT`]) instead of failing.
    pub fn load_dir_serving(&self) -> Vec<Result<Arc<Guest>, LoadError>> {
        let (now, later): (Vec<PathBuf>, Vec<PathBuf>) = self
            .guest_files()
            .into_iter()
            .partition(|p| self.is_quick(p));
        {
            let mut pending = lock(&self.inner.pending);
            for p in &later {
                if let Some(name) = p.file_stem().and_then(|s| s.to_str()) {
                    pending.insert(name.to_string());
                }
            }
        }
        // The quick ones first, with every core: they gate serving.
        let loaded = self.load_parallel(&now, &|_, _| {});
        if !later.is_empty() {
            let rt = self.clone();
            let spawned = std::thread::Builder::new()
                .name("kennel-compile".into())
                .spawn(move || {
                    rt.load_parallel(&later, &|path, result| {
                        if let Err(e) = result {
                            tracing::error!("guest not loaded: {e}");
                        }
                        if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                            lock(&rt.inner.pending).remove(name);
                        }
                        rt.inner.settled.notify_waiters();
                    });
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start the background compiler: {e}");
                lock(&self.inner.pending).clear();
            }
        }
        loaded
    }

    /// Compiles uncached guests in a short-lived child process
    /// (`EXE compile --cache-dir D FILE`) that writes the cache; this process
    /// then only maps the result. Cranelift's peak (hundreds of MB for a
    /// Python or JS guest) dies with the child instead of staying in this
    /// process's heap. Without a cache directory it has no effect.
    pub fn compile_in_child(&self, exe: PathBuf) {
        let _ = self.inner.compiler.set(exe);
    }

    /// Whether any guest is still compiling in the background (cheap: no allocation).
    pub fn has_pending(&self) -> bool {
        !lock(&self.inner.pending).is_empty()
    }

    /// Names of guests still compiling in the background.
    pub fn pending(&self) -> Vec<String> {
        lock(&self.inner.pending).iter().cloned().collect()
    }

    /// Resolves once no guest is compiling in the background any more.
    pub async fn all_ready(&self) {
        for name in self.pending() {
            self.ready(&name).await;
        }
    }

    /// Waits while `name` is still compiling (at most [`PENDING_WAIT`]).
    async fn ready(&self, name: &str) {
        let deadline = tokio::time::Instant::now() + PENDING_WAIT;
        loop {
            let notified = self.inner.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !lock(&self.inner.pending).contains(name) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(guest = name, "still compiling after the wait limit");
                return;
            }
        }
    }

    /// With a child compiler set and the component not cached: runs the
    /// child, which fills the cache. Any failure falls back to compiling here.
    fn compile_outside(&self, sha: &str, path: &Path) -> bool {
        let (Some(exe), Some(dir)) = (self.inner.compiler.get(), self.inner.cache.dir()) else {
            return false;
        };
        if self.inner.cache.is_cached(sha) {
            return false;
        }
        // Its output is captured: the child must not hold the parent's
        // stderr open (a pipe reader would wait for it).
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("compile")
            .arg("--cache-dir")
            .arg(dir)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        dies_with_parent(&mut cmd);
        let out = cmd.output();
        match out {
            Ok(o) if o.status.success() => true,
            Ok(o) => {
                let err = String::from_utf8_lossy(&o.stderr);
                let err = err.lines().last().unwrap_or("").to_string();
                tracing::warn!(file = %path.display(), status = %o.status, "child compiler failed: {err}; compiling in process");
                false
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), "cannot run the child compiler: {e}; compiling in process");
                false
            }
        }
    }

    /// Loaded before serving: small guests whose compiled code is cached (a
    /// few milliseconds). Everything else compiles in the background; calls
    /// wait for it. Big files go to the background without being hashed
    /// (hashing 20 MB would delay serving; cached, they land within ms).
    fn is_quick(&self, path: &Path) -> bool {
        let small = std::fs::metadata(path)
            .map(|m| m.len() < QUICK_COMPILE_BYTES as u64)
            .unwrap_or(true); // fails fast in `load_file`, with the reason
        small
            && match file_digest(path) {
                Ok(d) => self.inner.cache.is_cached(&d.sha256),
                Err(_) => true,
            }
    }

    fn guest_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.inner.guest_dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
                .collect(),
            Err(e) => {
                tracing::warn!(dir = %self.inner.guest_dir.display(), "cannot read guest directory: {e}");
                Vec::new()
            }
        };
        files.sort();
        files
    }

    /// Loads files on up to one thread per core; `done` sees each result as it lands.
    fn load_parallel(
        &self,
        files: &[PathBuf],
        done: &(dyn Fn(&Path, &Loaded) + Sync),
    ) -> Vec<Loaded> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(files.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Loaded>>> =
            files.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        let r = self.load_file(path);
                        done(path, &r);
                        *lock(&results[i]) = Some(r);
                    }
                });
            }
        });
        // Cranelift's peak for a Python or JS guest is hundreds of MB.
        crate::memory::give_back();
        results
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect()
    }

    /// Compiles (or loads from cache) and type-checks one file, then swaps it
    /// into the registry. On error the registry is unchanged.
    pub fn load_file(&self, path: &Path) -> Result<Arc<Guest>, LoadError> {
        let guest = Arc::new(self.prepare(path)?);
        if let Some(&was) = self.inner.roles.load().get(&guest.name)
            && was != guest.kind
        {
            return Err(LoadError::KindInUse {
                name: guest.name.clone(),
                was,
                now: guest.kind,
            });
        }
        let _g = self.inner.update.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = (**self.inner.guests.load()).clone();
        map.insert(guest.name.clone(), guest.clone());
        self.inner.guests.store(Arc::new(map));
        Ok(guest)
    }

    /// Declares the role routes rely on for each guest name (replaces the
    /// previous declaration). Loads of another kind under these names fail.
    pub fn set_roles(&self, roles: BTreeMap<String, GuestKind>) {
        self.inner.roles.store(Arc::new(roles));
    }

    /// Removes a guest from the registry (calls in flight finish). Returns whether it was loaded.
    pub fn unload(&self, name: &str) -> bool {
        let _g = self.inner.update.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = (**self.inner.guests.load()).clone();
        let had = map.remove(name).is_some();
        self.inner.guests.store(Arc::new(map));
        had
    }

    /// Every loaded guest, sorted by name.
    pub fn guests(&self) -> Vec<Arc<Guest>> {
        self.inner.guests.load().values().cloned().collect()
    }

    /// The current version of a guest.
    pub fn get(&self, name: &str) -> Option<Arc<Guest>> {
        self.inner.guests.load().get(name).cloned()
    }

    fn get_kind(&self, name: &str, kind: GuestKind) -> Result<Arc<Guest>, GuestError> {
        let g = self
            .get(name)
            .ok_or_else(|| GuestError::NotLoaded(name.to_string(), kind))?;
        if g.kind != kind {
            return Err(GuestError::WrongKind(name.to_string(), g.kind, kind));
        }
        Ok(g)
    }

    fn prepare(&self, path: &Path) -> Result<Guest, LoadError> {
        let started = Instant::now();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if !valid_name(&name) {
            return Err(LoadError::BadName {
                name,
                path: path.to_path_buf(),
            });
        }
        // Hashed as a stream: on a cache hit the file's bytes are never held
        // (a Python or JS guest is 10-20 MB; reading it whole only to hash it
        // would raise the peak for nothing).
        let digest = file_digest(path).map_err(|source| LoadError::Read {
            name: name.clone(),
            path: path.to_path_buf(),
            source,
        })?;
        let sha = digest.sha256.clone();
        let invalid = |reason: String| LoadError::Invalid {
            name: name.clone(),
            reason,
        };
        let head = &digest.head;
        if digest.len < 8 || &head[0..4] != b"\0asm" {
            return Err(invalid(
                "the file does not start with the WebAssembly magic bytes".into(),
            ));
        }
        if head[4..8] == [1, 0, 0, 0] {
            return Err(invalid(
                "this is a core WebAssembly module, not a component (build for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
                    .into(),
            ));
        }
        let compiled_outside = self.compile_outside(&sha, path);
        let (component, mut origin) = self
            .inner
            .cache
            .load(&self.inner.engine, &sha, path)
            .map_err(|e| invalid(format!("{e:#}")))?;
        if compiled_outside {
            origin = Origin::Compiled;
        }
        let kind = detect_kind(&self.inner.engine, &component).map_err(|reason| {
            LoadError::WrongWorld {
                name: name.clone(),
                reason,
            }
        })?;
        let limits_path = path.with_extension("toml");
        let file = if limits_path.is_file() {
            let text = std::fs::read_to_string(&limits_path).map_err(|e| LoadError::Limits {
                name: name.clone(),
                path: limits_path.clone(),
                reason: e.to_string(),
            })?;
            GuestFile::parse(kind, &text).map_err(|reason| LoadError::Limits {
                name: name.clone(),
                path: limits_path.clone(),
                reason,
            })?
        } else {
            GuestFile::defaults(kind)
        };
        let limits = file.limits;
        let world_err = |e: wasmtime::Error| LoadError::WrongWorld {
            name: name.clone(),
            reason: format!("does not match the {} world: {e:#}", kind.world()),
        };
        let linker = match kind {
            GuestKind::Agent => &self.inner.agent_linker,
            _ => &self.inner.plain_linker,
        };
        let ipre: InstancePre<CallState> = linker.instantiate_pre(&component).map_err(world_err)?;
        let pre = match kind {
            GuestKind::Agent => {
                Pre::Agent(bindings::agent::AgentPre::new(ipre).map_err(world_err)?)
            }
            GuestKind::Tool => Pre::Tool(bindings::tool::ToolPre::new(ipre).map_err(world_err)?),
            GuestKind::Scanner => {
                Pre::Scanner(bindings::scanner::ScannerPre::new(ipre).map_err(world_err)?)
            }
        };
        let guest = Guest {
            name,
            kind,
            version: sha[..12].to_string(),
            size: digest.len,
            loaded_at: SystemTime::now(),
            load_time: started.elapsed(),
            origin,
            limits,
            net: Arc::new(file.net),
            path: path.to_path_buf(),
            pre,
            tool: tokio::sync::OnceCell::new(),
        };
        tracing::info!(
            guest = %guest.name, kind = %guest.kind, version = %guest.version,
            ms = guest.load_time.as_secs_f64() * 1000.0, cached = (origin == Origin::Cached),
            "guest loaded"
        );
        Ok(guest)
    }

    fn store(
        &self,
        guest: &Guest,
        services: Option<Arc<dyn AgentServices>>,
        log: net::RequestLog,
    ) -> Store<CallState> {
        let l = guest.limits;
        let name: Arc<str> = Arc::from(guest.name.as_str());
        let net = net::NetHooks {
            guest: name.clone(),
            policy: guest.net.clone(),
            // An agent's grant applies only where its route allows it.
            route_denied: services.as_ref().is_some_and(|s| !s.network_allowed()),
            secrets: self.inner.secrets.load_full(),
            sent: 0,
            log,
        };
        let ticks = (l.cpu_ms * 1000 / TICK.as_micros() as u64).max(1);
        let state = CallState::new(
            name,
            (l.memory_mb as usize) << 20,
            ticks,
            (l.output_kb as usize) << 10,
            services,
            net,
        );
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        // Charge one tick each time the deadline passes while the guest runs.
        // A guest waiting in a host call (LLM, tool) is not running, so however
        // long the wait, it costs at most one tick when the guest resumes.
        store.epoch_deadline_callback(|mut ctx| {
            let s = ctx.data_mut();
            if s.output_full() {
                return Err(wasmtime::Error::msg("output limit reached"));
            }
            s.cpu_ticks += 1;
            if s.cpu_ticks > s.cpu_budget_ticks {
                s.cpu_exhausted = true;
                return Err(wasmtime::Error::msg("CPU budget exhausted"));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    /// Runs a call with the guest's wall-clock limit and maps failures to [`GuestError`].
    async fn run<T, F>(
        &self,
        guest: &Guest,
        mut store: Store<CallState>,
        f: F,
    ) -> Result<T, GuestError>
    where
        F: AsyncFnOnce(&mut Store<CallState>) -> wasmtime::Result<T>,
    {
        let limit = Duration::from_millis(guest.limits.timeout_ms);
        let busy = self.inner.activity.busy();
        let result = tokio::time::timeout(limit, f(&mut store)).await;
        drop(busy);
        let state = store.data();
        state.flush_output();
        let name = guest.name.clone();
        let out = match result {
            Err(_) => Err(GuestError::Timeout(name)),
            // A call that returned but flooded `log` still fails.
            Ok(Ok(_)) if state.output_full() => Err(GuestError::Output(name)),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if state.cpu_exhausted {
                    Err(GuestError::Cpu(name))
                } else if state.limiter.hit {
                    Err(GuestError::Memory(name))
                } else if state.output_full() {
                    Err(GuestError::Output(name))
                } else {
                    let msg = format!("{e:#}");
                    let first = msg
                        .lines()
                        .next()
                        .unwrap_or("trap")
                        .chars()
                        .take(300)
                        .collect();
                    Err(GuestError::Trap(name, first))
                }
            }
        };
        crate::metrics::guest_call(
            &guest.name,
            match &out {
                Ok(_) => "ok",
                Err(GuestError::Cpu(_)) => "cpu",
                Err(GuestError::Memory(_)) => "memory",
                Err(GuestError::Timeout(_)) => "timeout",
                Err(GuestError::Output(_)) => "output",
                Err(_) => "trap",
            },
        );
        out
    }

    /// Calls an agent's `handle`. Returns the guest's own result (its `Err` is a
    /// message from the agent) and the version that produced it.
    pub async fn run_agent(
        &self,
        name: &str,
        services: Arc<dyn AgentServices>,
        ctx: &types::Context,
        msg: &types::Message,
    ) -> Result<(Result<types::Reply, String>, String), GuestError> {
        self.ready(name).await;
        let guest = self.get_kind(name, GuestKind::Agent)?;
        let Pre::Agent(pre) = &guest.pre else {
            return Err(GuestError::WrongKind(
                name.into(),
                guest.kind,
                GuestKind::Agent,
            ));
        };
        let store = self.store(&guest, Some(services), Default::default());
        let out = self
            .run(&guest, store, async |store: &mut Store<CallState>| {
                let inst = pre.instantiate_async(&mut *store).await?;
                inst.call_handle(&mut *store, ctx, msg).await
            })
            .await?;
        let size = match &out {
            Ok(r) => {
                r.text.len()
                    + r.files
                        .iter()
                        .map(|f| f.bytes.len() + f.name.len() + f.mime_type.len())
                        .sum::<usize>()
            }
            Err(e) => e.len(),
        };
        check_reply(&guest, size)?;
        Ok((out, guest.version.clone()))
    }

    /// A tool's spec (cached per loaded version). Its `parameters` must be a
    /// valid JSON Schema for an object; otherwise [`GuestError::BadSchema`].
    pub async fn tool_spec(&self, name: &str) -> Result<types::ToolSpec, GuestError> {
        let guest = self.described_tool(name).await?;
        let Some(info) = guest.tool.get() else {
            return Err(GuestError::NotLoaded(name.into(), GuestKind::Tool));
        };
        let mut spec = info.spec.clone();
        // The registry name is authoritative: routes grant tools by file name.
        spec.name = guest.name.clone();
        Ok(spec)
    }

    /// Checks a model's arguments against the tool's schema. The error is
    /// text for the model: what is wrong and where.
    pub async fn check_arguments(&self, name: &str, arguments: &str) -> Result<(), String> {
        let guest = self.described_tool(name).await.map_err(|e| e.to_string())?;
        let Some(info) = guest.tool.get() else {
            return Err(format!("tool `{name}` is not loaded"));
        };
        let value: serde_json::Value = serde_json::from_str(arguments)
            .map_err(|e| format!("the arguments for `{name}` are not valid JSON: {e}"))?;
        let problems: Vec<String> = info
            .validator
            .iter_errors(&value)
            .take(5)
            .map(|e| schema_error(&e))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the arguments for `{name}` do not match its parameters schema: {}",
                problems.join("; ")
            ))
        }
    }

    /// The current version of a tool, with its spec and schema checked (once per version).
    async fn described_tool(&self, name: &str) -> Result<Arc<Guest>, GuestError> {
        self.ready(name).await;
        let guest = self.get_kind(name, GuestKind::Tool)?;
        let Pre::Tool(pre) = &guest.pre else {
            return Err(GuestError::WrongKind(
                name.into(),
                guest.kind,
                GuestKind::Tool,
            ));
        };
        guest
            .tool
            .get_or_try_init(|| async {
                let store = self.store(&guest, None, Default::default());
                let spec = self
                    .run(&guest, store, async |store: &mut Store<CallState>| {
                        let inst = pre.instantiate_async(&mut *store).await?;
                        inst.call_describe(&mut *store).await
                    })
                    .await?;
                let validator = compile_schema(&spec.parameters)
                    .map_err(|e| GuestError::BadSchema(guest.name.clone(), e))?;
                Ok::<_, GuestError>(ToolInfo { spec, validator })
            })
            .await?;
        Ok(guest)
    }

    /// Invokes a tool with JSON arguments.
    pub async fn tool_invoke(
        &self,
        name: &str,
        arguments: &str,
    ) -> Result<Result<String, String>, GuestError> {
        self.tool_invoke_traced(name, arguments, Default::default())
            .await
    }

    /// [`Runtime::tool_invoke`], recording the HTTP requests the tool made
    /// (allowed or refused) into `requests` (for `kennel call`).
    pub async fn tool_invoke_traced(
        &self,
        name: &str,
        arguments: &str,
        requests: net::RequestLog,
    ) -> Result<Result<String, String>, GuestError> {
        self.ready(name).await;
        let guest = self.get_kind(name, GuestKind::Tool)?;
        let Pre::Tool(pre) = &guest.pre else {
            return Err(GuestError::WrongKind(
                name.into(),
                guest.kind,
                GuestKind::Tool,
            ));
        };
        let store = self.store(&guest, None, requests);
        let out = self
            .run(&guest, store, async |store: &mut Store<CallState>| {
                let inst = pre.instantiate_async(&mut *store).await?;
                inst.call_invoke(&mut *store, arguments).await
            })
            .await?;
        check_reply(&guest, out.as_ref().map_or_else(String::len, String::len))?;
        Ok(out)
    }

    /// Runs a scanner over a text.
    pub async fn scan(
        &self,
        name: &str,
        text: &str,
        source: types::ScanSource,
    ) -> Result<types::Verdict, GuestError> {
        self.ready(name).await;
        let guest = self.get_kind(name, GuestKind::Scanner)?;
        let Pre::Scanner(pre) = &guest.pre else {
            return Err(GuestError::WrongKind(
                name.into(),
                guest.kind,
                GuestKind::Scanner,
            ));
        };
        let store = self.store(&guest, None, Default::default());
        let verdict = self
            .run(&guest, store, async |store: &mut Store<CallState>| {
                let inst = pre.instantiate_async(&mut *store).await?;
                inst.call_scan(&mut *store, text, source).await
            })
            .await?;
        let size = match &verdict {
            types::Verdict::Allow => 0,
            types::Verdict::Flag(f) | types::Verdict::Block(f) => {
                f.iter().map(|f| f.rule.len() + f.excerpt.len() + 8).sum()
            }
        };
        check_reply(&guest, size)?;
        Ok(verdict)
    }

    /// Starts watching the guest directory for hot swaps (see [`watch`]).
    pub fn watch(&self) -> Result<Watcher, RuntimeError> {
        watch::Watcher::start(self.clone())
    }
}

/// `kennel compile`: compiles one component into the cache directory with
/// the same engine configuration as the runtime (so the key matches).
pub fn compile_to_cache(cache_dir: &Path, wasm: &Path) -> Result<(), String> {
    let engine = make_engine().map_err(|e| e.to_string())?;
    let cache = cache::CompileCache::new(&engine, Some(cache_dir.to_path_buf()));
    let d = file_digest(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    cache
        .load(&engine, &d.sha256, wasm)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
}

/// A guest file's SHA-256 (the cache key), length and first bytes.
struct FileDigest {
    sha256: String,
    len: u64,
    head: [u8; 8],
}

/// Hashes a file in 64 KiB pieces.
fn file_digest(path: &Path) -> std::io::Result<FileDigest> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let (mut len, mut head) = (0u64, [0u8; 8]);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(gap) = head.get_mut(len as usize..) {
            let take = gap.len().min(n);
            gap[..take].copy_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        len,
        head,
    })
}

/// The outcome of loading one guest file.
pub type Loaded = Result<Arc<Guest>, LoadError>;

/// Longest a call waits for its guest to finish compiling in the background.
pub const PENDING_WAIT: Duration = Duration::from_secs(120);
/// Guests smaller than this are checked against the cache before serving
/// (Rust guests); larger ones (Python, JS: seconds to compile) always load
/// in the background.
const QUICK_COMPILE_BYTES: usize = 2 << 20;

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Per memory or table slot: dirty bytes reset in place rather than
/// released (see `make_engine`). Measured (`kennel-bench`, every bundled
/// guest): Rust guests are as fast with 64 KiB as with 1 MiB (echo 12 µs
/// against 29 µs with none), and the process keeps 3 MB more resident
/// after the runs instead of 10 MB.
const KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// A return value larger than the guest's `reply_kb` is refused (typed error).
fn check_reply(guest: &Guest, size: usize) -> Result<(), GuestError> {
    if size > (guest.limits.reply_kb as usize) << 10 {
        tracing::warn!(guest = %guest.name, size, "guest return value over its reply_kb cap");
        return Err(GuestError::Reply(guest.name.clone(), size));
    }
    Ok(())
}

/// Set (to anything) to shrink the instance pool to a few slots: only for
/// running the host under valgrind (`just startup-order`), which cannot
/// reserve the pool's address space (hundreds of GB, none of it RAM).
pub const SMALL_POOL_ENV: &str = "KENNEL_SMALL_POOL";

fn make_engine() -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    // Concurrency ceilings: calls in flight at once across all sessions.
    // Each slot reserves address space, not RAM.
    // (component instances, core instances, memories, tables, stacks)
    let (components, cores, memories, tables, stacks) = match std::env::var_os(SMALL_POOL_ENV) {
        Some(_) => (4, 60, 8, 40, 4),
        None => (200, 1000, 400, 1000, 200),
    };
    pool.total_component_instances(components);
    pool.total_core_instances(cores);
    pool.total_memories(memories);
    pool.total_tables(tables);
    pool.total_stacks(stacks);
    // Python (componentize-py) components need more than the default core
    // instances per component and big tables; 50/20/64k leave headroom.
    pool.max_core_instances_per_component(50);
    pool.max_memories_per_component(8);
    pool.max_tables_per_component(20);
    pool.table_elements(65_536);
    pool.max_core_instance_size(4 << 20);
    pool.max_component_instance_size(4 << 20);
    // The per-guest cap (`memory_mb`) is enforced by the limiter; the pool only
    // needs room for the largest cap allowed.
    pool.max_memory_size(Limits::max_memory_bytes());
    // Keep a few warm slots so back-to-back calls reuse committed pages.
    pool.max_unused_warm_slots(20);
    // Reset a used slot by rewriting only its dirty pages (found with the
    // PAGEMAP_SCAN ioctl, Linux ≥ 6.7) up to KEEP_RESIDENT_BYTES, instead of
    // `madvise`: that unmaps pages, and every unmap interrupts the other
    // cores to flush their TLBs (6 % of host CPU under load). Dirty pages
    // beyond this are still released with `madvise`.
    pool.pagemap_scan(wasmtime::Enabled::Auto);
    pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
    pool.table_keep_resident(KEEP_RESIDENT_BYTES);
    let mut cfg = Config::new();
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    cfg.parallel_compilation(true);
    cfg.cranelift_opt_level(wasmtime::OptLevel::Speed);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&cfg)
}

/// Decides the kind from the component's exports and checks its imports are
/// allowed for that kind.
fn detect_kind(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Result<GuestKind, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let has = |n: &str| exports.iter().any(|e| e == n);
    let kind = if has("handle") {
        GuestKind::Agent
    } else if has("scan") {
        GuestKind::Scanner
    } else if has("invoke") && has("describe") {
        GuestKind::Tool
    } else {
        return Err(format!(
            "implements none of the kennel worlds (agent exports `handle`, tool exports `describe` and `invoke`, scanner exports `scan`); it exports: [{}]",
            exports.join(", ")
        ));
    };
    for (import, _) in ty.imports(engine) {
        let (iface, version) = import.split_once('@').unwrap_or((import, ""));
        if iface.starts_with("kennel:guest/") && version != WIT_VERSION {
            return Err(format!(
                "was built for kennel:guest@{version}, but this host serves kennel:guest@{WIT_VERSION} \
                 (it imports `{import}`); rebuild it against wit/kennel.wit ({WIT_VERSION})"
            ));
        }
        let allowed = match iface {
            "kennel:guest/types" | "kennel:guest/log" => true,
            "kennel:guest/memory" | "kennel:guest/tools" | "kennel:guest/llm" => {
                kind == GuestKind::Agent
            }
            "kennel:guest/secrets" => kind != GuestKind::Scanner,
            other if other.starts_with("wasi:http/") => kind != GuestKind::Scanner,
            other => other.starts_with("wasi:"),
        };
        if !allowed {
            return Err(format!(
                "is a {kind} (by its exports) but imports `{import}`, which a {kind} may not use"
            ));
        }
    }
    Ok(kind)
}

/// Compiles a tool's `parameters`: JSON, an object schema, valid against
/// its meta-schema, with no remote references.
fn compile_schema(text: &str) -> Result<jsonschema::Validator, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if !value.is_object() {
        return Err("the schema must be a JSON object".into());
    }
    if let Some(t) = value.get("type")
        && t != "object"
    {
        return Err(format!(
            "the arguments must be an object, but the schema says type {t}"
        ));
    }
    jsonschema::meta::validate(&value).map_err(|e| schema_error(&e))?;
    jsonschema::validator_for(&value).map_err(|e| e.to_string())
}

/// A validation error with where it is (`/field: …`).
fn schema_error(e: &jsonschema::ValidationError<'_>) -> String {
    let at = e.instance_path().to_string();
    if at.is_empty() {
        e.to_string()
    } else {
        format!("{at}: {e}")
    }
}

/// A linker with WASI p2 (nothing granted), `wasi:http` (served by the
/// [`net`] policy hook) and the kennel interfaces; `agent` adds memory,
/// tools and llm.
fn make_linker(engine: &Engine, agent: bool) -> wasmtime::Result<Linker<CallState>> {
    use bindings::agent::kennel::guest as k;
    let mut l = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut l)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut l)?;
    k::types::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
    k::log::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
    k::secrets::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
    if agent {
        k::memory::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
        k::tools::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
        k::llm::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
    }
    Ok(l)
}

/// Guest names: what routes and logs can safely show.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The child is killed when this process dies (`PR_SET_PDEATHSIG`), so a
/// `kennel` stopped by `kill -9` leaves no compiler running on: it would
/// hold cores and hundreds of MB for seconds, racing the restarted
/// process's own compile of the same file. The signal follows the thread
/// that spawned the child; [`Runtime::compile_outside`] waits on that
/// thread until the child exits, so it cannot fire early.
fn dies_with_parent(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before exec and calls
        // only async-signal-safe functions (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died before the call: nobody would get the result.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
