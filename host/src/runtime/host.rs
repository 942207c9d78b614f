//! Per-call store data and the host side of the WIT imports.
//!
//! One [`CallState`] lives in one `Store` for exactly one guest call. It holds
//! the WASI context (nothing granted), the memory limiter, CPU accounting, the
//! captured stdout/stderr, and — for agents — the [`AgentServices`] through
//! which `memory`, `tools` and `llm` reach the rest of the host. The runtime
//! never touches storage, the network or the LLM itself: those are behind the
//! trait, implemented by the gateway (and by plain test doubles).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{llm, log, memory, secrets, tools, types};
use super::net::NetHooks;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A boxed, sendable future (host services are called from async guest calls).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an agent's imports can reach. Implemented by the gateway per turn, so
/// every call is already bound to one session, user, channel, route and agent.
pub trait AgentServices: Send + Sync {
    fn memory_get(&self, scope: memory::Scope, key: &str) -> Option<String>;
    fn memory_set<'a>(
        &'a self,
        scope: memory::Scope,
        key: &'a str,
        value: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
    fn memory_delete<'a>(&'a self, scope: memory::Scope, key: &'a str) -> BoxFuture<'a, bool>;
    fn memory_keys(&self, scope: memory::Scope, prefix: &str) -> Vec<String>;
    /// Tool specs granted to this turn's route.
    fn tools_available(&self) -> BoxFuture<'_, Vec<types::ToolSpec>>;
    /// Calls a granted tool; errors are text for the model.
    fn tool_call<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;
    /// Whether the route lets this agent use its `NAME.toml` network grant
    /// (`agent_network = true`). Default: no.
    fn network_allowed(&self) -> bool {
        false
    }
    /// One chat completion.
    fn llm_chat(
        &self,
        request: llm::Request,
    ) -> BoxFuture<'_, Result<llm::Response, llm::LlmError>>;
}

/// Memory limiter: caps the *sum* of every linear memory of the call (a
/// component may have several), and each table; remembers whether a cap was
/// hit so the error can be typed.
pub(crate) struct Limiter {
    pub max_memory: usize,
    /// Bytes of linear memory the call's instances hold now.
    pub total: usize,
    pub hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total.saturating_sub(current).saturating_add(desired);
        if total > self.max_memory {
            self.hit = true;
            return Ok(false);
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A table element is a pointer; 1M elements = 8 MiB, far beyond what any guest here needs.
        Ok(desired <= 1_000_000)
    }
}

/// Wall clock with millisecond resolution: guests get the time of day but
/// nothing fine-grained enough for timing side channels.
struct CoarseWallClock;

impl wasmtime_wasi::HostWallClock for CoarseWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Duration::from_millis(d.as_millis() as u64)
    }
}

/// Monotonic clock with millisecond resolution.
struct CoarseMonotonicClock(std::time::Instant);

impl wasmtime_wasi::HostMonotonicClock for CoarseMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        (self.0.elapsed().as_millis() as u64).saturating_mul(1_000_000)
    }
}

/// Store data of one call.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    /// The `wasi:http` policy hook of this call (grant, secrets, request log).
    pub(crate) net: NetHooks,
    pub(crate) limiter: Limiter,
    pub(crate) guest: Arc<str>,
    pub(crate) services: Option<Arc<dyn AgentServices>>,
    /// Epoch ticks charged to guest execution.
    pub(crate) cpu_ticks: u64,
    pub(crate) cpu_budget_ticks: u64,
    pub(crate) cpu_exhausted: bool,
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
    /// Bytes the guest sent through the `log` import (counted in `output_cap`).
    pub(crate) logged: usize,
    pub(crate) output_cap: usize,
}

impl CallState {
    /// A sandbox with nothing granted: no args, env, dirs, sockets or stdin;
    /// stdout/stderr captured up to `output_cap` bytes each.
    pub(crate) fn new(
        guest: Arc<str>,
        max_memory: usize,
        cpu_budget_ticks: u64,
        output_cap: usize,
        services: Option<Arc<dyn AgentServices>>,
        net: NetHooks,
    ) -> CallState {
        let stdout = MemoryOutputPipe::new(output_cap);
        let stderr = MemoryOutputPipe::new(output_cap);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(CoarseWallClock)
            .monotonic_clock(CoarseMonotonicClock(std::time::Instant::now()))
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            net,
            limiter: Limiter {
                max_memory,
                total: 0,
                hit: false,
            },
            guest,
            services,
            cpu_ticks: 0,
            cpu_budget_ticks,
            cpu_exhausted: false,
            stdout,
            stderr,
            logged: 0,
            output_cap,
        }
    }

    /// Whether stdout, stderr and `log` together reached the cap.
    pub(crate) fn output_full(&self) -> bool {
        self.stdout.contents().len() + self.stderr.contents().len() + self.logged >= self.output_cap
    }

    /// Forwards captured output to `tracing`, one event per line (at most 200 lines each).
    pub(crate) fn flush_output(&self) {
        for (stream, pipe) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let bytes = pipe.contents();
            if bytes.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let total = text.lines().count();
            for line in text.lines().take(200) {
                tracing::info!(guest = %self.guest, stream, "{line}");
            }
            if total > 200 {
                tracing::info!(guest = %self.guest, stream, "… {} more lines ({} bytes in all)", total - 200, bytes.len());
            }
        }
    }

    fn services(&self) -> Option<&Arc<dyn AgentServices>> {
        self.services.as_ref()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.net,
        }
    }
}

impl types::Host for CallState {}

impl secrets::Host for CallState {
    async fn is_configured(&mut self, name: String) -> bool {
        self.net.policy.secrets.contains(&name)
            && self.net.secrets.get(&name).is_some_and(|s| s.has_value())
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) {
        // Counted against `output_kb` like stdout/stderr; once over, further
        // lines are dropped and the call fails with `output` at the next epoch tick.
        self.logged = self.logged.saturating_add(message.len());
        if self.output_full() {
            return;
        }
        let message: String = message.chars().take(4096).collect();
        let guest = &*self.guest;
        match level {
            log::Level::Trace => tracing::trace!(guest, "{message}"),
            log::Level::Debug => tracing::debug!(guest, "{message}"),
            log::Level::Info => tracing::info!(guest, "{message}"),
            log::Level::Warn => tracing::warn!(guest, "{message}"),
            log::Level::Error => tracing::error!(guest, "{message}"),
        }
    }
}

/// Size limits for memory keys and values (bytes).
pub const MAX_MEMORY_KEY: usize = 256;
pub const MAX_MEMORY_VALUE: usize = 64 * 1024;

impl memory::Host for CallState {
    async fn get(&mut self, scope: memory::Scope, key: String) -> Option<String> {
        self.services()?.memory_get(scope, &key)
    }
    async fn set(
        &mut self,
        scope: memory::Scope,
        key: String,
        value: String,
    ) -> Result<(), String> {
        if key.is_empty() || key.len() > MAX_MEMORY_KEY {
            return Err(format!("memory key must be 1..={MAX_MEMORY_KEY} bytes"));
        }
        if value.len() > MAX_MEMORY_VALUE {
            return Err(format!(
                "memory value must be at most {MAX_MEMORY_VALUE} bytes"
            ));
        }
        match self.services().cloned() {
            Some(s) => s.memory_set(scope, &key, &value).await,
            None => Err("memory is not available to this guest".into()),
        }
    }
    async fn delete(&mut self, scope: memory::Scope, key: String) -> bool {
        match self.services().cloned() {
            Some(s) => s.memory_delete(scope, &key).await,
            None => false,
        }
    }
    async fn keys(&mut self, scope: memory::Scope, prefix: String) -> Vec<String> {
        self.services()
            .map(|s| s.memory_keys(scope, &prefix))
            .unwrap_or_default()
    }
}

impl tools::Host for CallState {
    async fn available(&mut self) -> Vec<types::ToolSpec> {
        match self.services().cloned() {
            Some(s) => s.tools_available().await,
            None => Vec::new(),
        }
    }
    async fn call(&mut self, name: String, arguments: String) -> Result<String, String> {
        match self.services().cloned() {
            Some(s) => s.tool_call(&name, &arguments).await,
            None => Err("tools are not available to this guest".into()),
        }
    }
}

impl llm::Host for CallState {
    async fn chat(&mut self, request: llm::Request) -> Result<llm::Response, llm::LlmError> {
        match self.services().cloned() {
            Some(s) => s.llm_chat(request).await,
            None => Err(llm::LlmError::NotConfigured("no LLM for this guest".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_counts_every_memory_of_the_call() {
        let mut l = Limiter {
            max_memory: 64 << 20,
            total: 0,
            hit: false,
        };
        // Two linear memories of one component: 40 MiB each do not fit in 64.
        assert!(l.memory_growing(0, 40 << 20, None).expect("grow"));
        assert!(!l.memory_growing(0, 40 << 20, None).expect("grow"));
        assert!(l.hit);
        // Growing the first one within the cap is still fine.
        assert!(l.memory_growing(40 << 20, 60 << 20, None).expect("grow"));
        assert_eq!(l.total, 60 << 20);
    }

    #[tokio::test]
    async fn log_lines_count_against_the_output_cap() {
        let mut s = CallState::new(
            Arc::from("g"),
            1 << 20,
            10,
            1024,
            None,
            NetHooks::none(Arc::from("g")),
        );
        assert!(!s.output_full());
        for _ in 0..20 {
            log::Host::log(&mut s, log::Level::Debug, "x".repeat(100)).await;
        }
        assert!(s.output_full(), "2000 bytes of log over a 1024-byte cap");
    }
}
