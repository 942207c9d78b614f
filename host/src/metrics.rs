//! Process-wide metrics in the Prometheus text format (`/metrics`), through
//! the official `prometheus-client` crate.
//!
//! Owns the metric names and their registry; every layer increments through
//! [`get`]. It never labels by user, channel or text (cardinality and
//! privacy): labels are outcomes, guest names and kinds.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GuestLabel {
    pub guest: String,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabel {
    pub kind: &'static str,
}

/// Every metric.
pub struct Metrics {
    registry: Registry,
    /// `received`, `answered`, `denied`, `blocked`, `flagged`, `failed`.
    pub posts: Family<OutcomeLabel, Counter>,
    pub turn_seconds: Histogram,
    pub llm_seconds: Histogram,
    /// `prompt`, `completion`.
    pub llm_tokens: Family<TokenLabel, Counter>,
    /// Per guest; result `ok`, `error`, `trap`, `cpu`, `memory`, `timeout`, `output`.
    pub guest_calls: Family<GuestLabel, Counter>,
    pub hot_swaps: Counter,
    pub ws_reconnects: Counter,
    /// Posts recorded and not answered yet.
    pub queue_depth: Gauge,
    pub store_bytes: Gauge,
    /// Scheduled job runs: `posted`, `failed`, `skipped`.
    pub job_runs: Family<OutcomeLabel, Counter>,
    /// Guest HTTP requests by guest; result `sent` or `refused`.
    pub guest_http: Family<GuestLabel, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("kennel");
    let m = Metrics {
        posts: Family::default(),
        turn_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
        llm_seconds: Histogram::new(exponential_buckets(0.05, 2.0, 12)),
        llm_tokens: Family::default(),
        guest_calls: Family::default(),
        hot_swaps: Counter::default(),
        ws_reconnects: Counter::default(),
        queue_depth: Gauge::default(),
        store_bytes: Gauge::default(),
        job_runs: Family::default(),
        guest_http: Family::default(),
        registry: Registry::default(),
    };
    registry.register("posts", "Mattermost posts by outcome", m.posts.clone());
    registry.register(
        "turn_seconds",
        "Time from admission to the agent's answer",
        m.turn_seconds.clone(),
    );
    registry.register(
        "llm_request_seconds",
        "LLM request latency",
        m.llm_seconds.clone(),
    );
    registry.register("llm_tokens", "LLM tokens used", m.llm_tokens.clone());
    registry.register(
        "guest_calls",
        "Guest calls by guest and result",
        m.guest_calls.clone(),
    );
    registry.register(
        "hot_swaps",
        "Guests replaced while running",
        m.hot_swaps.clone(),
    );
    registry.register(
        "websocket_reconnects",
        "WebSocket connections after the first",
        m.ws_reconnects.clone(),
    );
    registry.register(
        "queue_depth",
        "Posts recorded and not answered yet",
        m.queue_depth.clone(),
    );
    registry.register("store_bytes", "Size of kennel.redb", m.store_bytes.clone());
    registry.register(
        "job_runs",
        "Scheduled job runs by outcome",
        m.job_runs.clone(),
    );
    registry.register(
        "guest_http_requests",
        "Outbound HTTP requests of guests by guest and result",
        m.guest_http.clone(),
    );
    Metrics { registry, ..m }
});

/// The metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

/// Counts a post outcome.
pub fn post(outcome: &'static str) {
    get().posts.get_or_create(&OutcomeLabel { outcome }).inc();
}

/// Counts a guest call.
pub fn guest_call(guest: &str, result: &'static str) {
    get()
        .guest_calls
        .get_or_create(&GuestLabel {
            guest: guest.to_string(),
            result,
        })
        .inc();
}

/// Counts a guest's outbound HTTP request (sent, or refused/failed).
pub fn guest_http(guest: &str, sent: bool) {
    get()
        .guest_http
        .get_or_create(&GuestLabel {
            guest: guest.to_string(),
            result: if sent { "sent" } else { "refused" },
        })
        .inc();
}

/// Counts a job run outcome.
pub fn job_run(outcome: &'static str) {
    get()
        .job_runs
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
}

/// The text exposition (`text/plain; version=0.0.4` compatible OpenMetrics text).
pub fn render() -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &get().registry) {
        tracing::error!("cannot encode metrics: {e}");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_render_with_the_prefix_and_labels() {
        super::post("answered");
        super::guest_call("echo", "ok");
        let text = super::render();
        assert!(
            text.contains("kennel_posts_total{outcome=\"answered\"}"),
            "{text}"
        );
        assert!(
            text.contains("kennel_guest_calls_total{guest=\"echo\",result=\"ok\"}"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE kennel_turn_seconds histogram"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }
}
