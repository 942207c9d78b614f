//! Outbound HTTP for guests: the one choke point behind `wasi:http`.
//!
//! Owns the per-guest network grant ([`NetPolicy`], from `NAME.toml`), the
//! host's secrets ([`Secrets`], from `[secrets.NAME]` in kennel.toml) and the
//! `send_request` hook that every request of a guest passes. A request goes
//! out only when all of these hold:
//!
//! 1. the guest was granted hosts at all ("network not granted" otherwise);
//! 2. it is within the call's request count and the method is allowed;
//! 3. scheme, host, port and path prefix match an `allowed_hosts` entry;
//! 4. every address the name resolves to is public — loopback, private,
//!    link-local (cloud metadata), CGNAT and unique-local addresses are
//!    refused unless the entry names that IP literally. The connection goes
//!    to exactly the checked addresses, so DNS rebinding cannot slip past;
//! 5. the request body fits `max_request_kb`.
//!
//! The host then adds the secrets the guest asked for whose `hosts` match,
//! sends the request without following redirects (the guest's client follows
//! them, and each hop passes this check again), reads at most
//! `max_response_kb` within `timeout_ms`, replaces every configured secret
//! value in the response with `[REDACTED]`, and logs method, host, path,
//! status, bytes and milliseconds — never headers, query strings or bodies.
//!
//! It must not: hand a secret to a guest, log one, or connect anywhere it did
//! not check.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// One `allowed_hosts` entry: `scheme://host[:port][/path-prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    pub scheme: String,
    /// Lowercase host name or IP literal (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Requests must start with this path (default "/").
    pub path_prefix: String,
}

impl HostRule {
    /// Parses `https://api.github.com/repos/`, `http://127.0.0.1:8080`, …
    pub fn parse(text: &str) -> Result<HostRule, String> {
        let uri: http::Uri = text
            .parse()
            .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => return Err(format!("`{text}`: the scheme must be http:// or https://")),
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("`{text}` names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.contains('*') {
            return Err(format!(
                "`{text}`: wildcards are not supported; list each host"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("`{text}`: an entry may not carry a query string"));
        }
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let path_prefix = match uri.path() {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        Ok(HostRule {
            scheme,
            host,
            port,
            path_prefix,
        })
    }

    /// Whether the entry names an IP address literally (which may then be private).
    fn is_ip_literal(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    fn matches(&self, url: &Target) -> bool {
        self.scheme == url.scheme
            && self.host == url.host
            && self.port == url.port
            && path_within(&url.path, &self.path_prefix)
    }

    fn matches_origin(&self, url: &Target) -> bool {
        self.scheme == url.scheme && self.host == url.host && self.port == url.port
    }
}

impl std::fmt::Display for HostRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "{}://{}:{}{}",
            self.scheme, host, self.port, self.path_prefix
        )
    }
}

/// Whether `path` lies under `prefix` (a prefix ending without `/` matches
/// whole segments only, so `/repos` does not admit `/repos-evil`), after
/// refusing dot segments that could climb out of it.
fn path_within(path: &str, prefix: &str) -> bool {
    let lowered = path.to_ascii_lowercase();
    let climbs = path.split('/').any(|seg| seg == ".." || seg == ".")
        || lowered.contains("%2e%2e")
        || lowered.contains("%2f");
    if climbs && prefix != "/" {
        return false;
    }
    if prefix.ends_with('/') {
        path.starts_with(prefix)
    } else {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
    }
}

/// A guest's network grant, from its `NAME.toml`. Empty `allowed_hosts`
/// means no network at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPolicy {
    pub allowed_hosts: Vec<HostRule>,
    /// Upper-case method names.
    pub allowed_methods: Vec<String>,
    pub max_request_bytes: usize,
    pub max_response_bytes: usize,
    pub timeout: Duration,
    /// Requests per guest call.
    pub max_requests: u32,
    /// Names of `[secrets.NAME]` entries the guest asks for.
    pub secrets: Vec<String>,
}

impl Default for NetPolicy {
    fn default() -> Self {
        NetPolicy {
            allowed_hosts: Vec::new(),
            allowed_methods: vec!["GET".into(), "HEAD".into()],
            max_request_bytes: 64 << 10,
            max_response_bytes: 1 << 20,
            timeout: Duration::from_secs(10),
            max_requests: 10,
            secrets: Vec::new(),
        }
    }
}

/// The network keys of `NAME.toml` (the limits keys are read by [`super::limits`]).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NetKeys {
    allowed_hosts: Option<Vec<String>>,
    allowed_methods: Option<Vec<String>>,
    max_request_kb: Option<u64>,
    max_response_kb: Option<u64>,
    http_timeout_ms: Option<u64>,
    max_requests: Option<u32>,
    secrets: Option<Vec<String>>,
}

/// Keys of `NAME.toml` that belong to the network grant.
pub(crate) const NET_KEYS: &[&str] = &[
    "allowed_hosts",
    "allowed_methods",
    "max_request_kb",
    "max_response_kb",
    "http_timeout_ms",
    "max_requests",
    "secrets",
];

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl NetPolicy {
    pub(crate) fn from_keys(k: NetKeys) -> Result<NetPolicy, String> {
        let mut p = NetPolicy::default();
        if let Some(hosts) = k.allowed_hosts {
            p.allowed_hosts = hosts
                .iter()
                .map(|h| HostRule::parse(h))
                .collect::<Result<_, _>>()?;
        }
        if let Some(methods) = k.allowed_methods {
            p.allowed_methods = methods
                .iter()
                .map(|m| {
                    let up = m.to_ascii_uppercase();
                    if METHODS.contains(&up.as_str()) {
                        Ok(up)
                    } else {
                        Err(format!(
                            "`allowed_methods`: `{m}` is not one of {}",
                            METHODS.join(", ")
                        ))
                    }
                })
                .collect::<Result<_, _>>()?;
        }
        let range = |name: &str, v: u64, max: u64| {
            if v == 0 || v > max {
                Err(format!("`{name} = {v}` is out of range (1..={max})"))
            } else {
                Ok(v)
            }
        };
        if let Some(v) = k.max_request_kb {
            p.max_request_bytes = (range("max_request_kb", v, 64 << 10)? as usize) << 10;
        }
        if let Some(v) = k.max_response_kb {
            p.max_response_bytes = (range("max_response_kb", v, 64 << 10)? as usize) << 10;
        }
        if let Some(v) = k.http_timeout_ms {
            p.timeout = Duration::from_millis(range("http_timeout_ms", v, 600_000)?);
        }
        if let Some(v) = k.max_requests {
            p.max_requests = range("max_requests", v.into(), 1000)? as u32;
        }
        p.secrets = k.secrets.unwrap_or_default();
        Ok(p)
    }

    /// Whether the guest may use the network at all.
    pub fn granted(&self) -> bool {
        !self.allowed_hosts.is_empty()
    }
}

/// Where a `[secrets.NAME]` value goes in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inject {
    /// A header, value = prefix + secret (e.g. `Authorization: Bearer …`).
    Header {
        name: http::HeaderName,
        prefix: String,
    },
    /// A query parameter.
    Query(String),
}

/// One host-held secret.
#[derive(Clone)]
pub struct Secret {
    pub name: String,
    value: String,
    pub inject: Inject,
    /// Origins (and path prefixes) the secret may be sent to.
    pub hosts: Vec<HostRule>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .field("inject", &self.inject)
            .field("hosts", &self.hosts)
            .finish()
    }
}

impl Secret {
    pub fn new(
        name: String,
        value: String,
        inject: Inject,
        hosts: Vec<HostRule>,
    ) -> Result<Secret, String> {
        if hosts.is_empty() {
            return Err(format!(
                "secret `{name}`: `hosts` must list where it may be sent"
            ));
        }
        Ok(Secret {
            name,
            value,
            inject,
            hosts,
        })
    }

    /// Whether a value is present (the environment variable was set).
    pub fn has_value(&self) -> bool {
        !self.value.is_empty()
    }
}

/// Every secret of the host, by name.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    by_name: BTreeMap<String, Secret>,
}

impl Secrets {
    pub fn new(list: Vec<Secret>) -> Secrets {
        Secrets {
            by_name: list.into_iter().map(|s| (s.name.clone(), s)).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.by_name.get(name)
    }

    /// Replaces every secret value (of any guest) in `text` with `[REDACTED]`.
    /// Values shorter than 4 bytes are not scrubbed (they would mangle text).
    pub fn scrub(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for s in self.by_name.values() {
            let v = s.value.as_bytes();
            if v.len() < 4 {
                continue;
            }
            out = replace_all(&out, v, b"[REDACTED]");
        }
        out
    }

    pub fn scrub_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.scrub(text.as_bytes())).into_owned()
    }
}

fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// One request a guest made, as logged (no headers, no query, no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    /// HTTP status, or `None` when the host refused or the request failed.
    pub status: Option<u16>,
    /// Response bytes handed to the guest.
    pub bytes: usize,
    pub ms: u64,
    /// Why the host refused or the request failed.
    pub error: Option<String>,
}

impl std::fmt::Display for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.status, &self.error) {
            (Some(s), _) => write!(
                f,
                "{} {} -> {} ({} bytes, {} ms)",
                self.method, self.url, s, self.bytes, self.ms
            ),
            (None, Some(e)) => write!(f, "{} {} -> refused: {e}", self.method, self.url),
            (None, None) => write!(f, "{} {}", self.method, self.url),
        }
    }
}

/// The request log of one call, shared with whoever started it (`kennel call`).
pub type RequestLog = Arc<Mutex<Vec<RequestRecord>>>;

/// The per-call `wasi:http` hooks: the policy check and the sender.
pub(crate) struct NetHooks {
    pub guest: Arc<str>,
    pub policy: Arc<NetPolicy>,
    pub secrets: Arc<Secrets>,
    pub sent: u32,
    pub log: RequestLog,
    /// An agent whose route does not set `agent_network = true`.
    pub route_denied: bool,
}

impl NetHooks {
    /// Hooks with no grant: every request fails with "network not granted".
    #[cfg(test)]
    pub fn none(guest: Arc<str>) -> NetHooks {
        NetHooks {
            guest,
            policy: Arc::new(NetPolicy::default()),
            secrets: Arc::new(Secrets::default()),
            sent: 0,
            log: RequestLog::default(),
            route_denied: false,
        }
    }
}

/// The request as the policy sees it.
#[derive(Debug, Clone)]
struct Target {
    scheme: String,
    host: String,
    port: u16,
    /// Path without the query.
    path: String,
    query: Option<String>,
}

impl Target {
    fn of(uri: &http::Uri) -> Result<Target, String> {
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let host = uri
            .host()
            .ok_or("the request names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(Target {
            scheme,
            host,
            port,
            path: match uri.path() {
                "" => "/".into(),
                p => p.into(),
            },
            query: uri.query().map(str::to_string),
        })
    }

    /// `scheme://host[:port]/path` — what logs show (never the query).
    fn display(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            format!("{}://{}{}", self.scheme, host, self.path)
        } else {
            format!("{}://{}:{}{}", self.scheme, host, self.port, self.path)
        }
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl NetHooks {
    /// The synchronous checks: grant, count, method, allowlist. Returns the
    /// matching rule.
    fn admit(&mut self, method: &str, target: &Target) -> Result<HostRule, String> {
        if self.route_denied {
            return Err(format!(
                "network not granted to agent `{}` on this route (the operator sets `agent_network = true` on the route)",
                self.guest
            ));
        }
        if !self.policy.granted() {
            return Err(format!(
                "network not granted to guest `{}` (the operator lists hosts in `allowed_hosts` of {}.toml)",
                self.guest, self.guest
            ));
        }
        if self.sent >= self.policy.max_requests {
            return Err(format!(
                "request limit reached: at most {} requests per call",
                self.policy.max_requests
            ));
        }
        self.sent += 1;
        if !self.policy.allowed_methods.iter().any(|m| m == method) {
            return Err(format!(
                "method {method} not allowed (allowed: {})",
                self.policy.allowed_methods.join(", ")
            ));
        }
        if target.scheme != "http" && target.scheme != "https" {
            return Err(format!("scheme `{}` not allowed", target.scheme));
        }
        self.policy
            .allowed_hosts
            .iter()
            .find(|r| r.matches(target))
            .cloned()
            .ok_or_else(|| {
                if self
                    .policy
                    .allowed_hosts
                    .iter()
                    .any(|r| r.matches_origin(target))
                {
                    format!("{} is outside the allowed path prefixes", target.display())
                } else {
                    format!("{} is not in allowed_hosts", target.display())
                }
            })
    }
}

impl WasiHttpHooks for NetHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let method = request.method().as_str().to_string();
        let started = Instant::now();
        let log = self.log.clone();
        let guest = self.guest.clone();
        let target = Target::of(request.uri());
        let admitted = target
            .clone()
            .and_then(|t| self.admit(&method, &t).map(|rule| (t, rule)));
        let (target, rule) = match admitted {
            Ok(ok) => ok,
            Err(reason) => {
                let url = target.map(|t| t.display()).unwrap_or_default();
                record(&log, &guest, &method, &url, started, Err(reason.clone()));
                return Box::new(async move { Err(denied(reason)) });
            }
        };
        let policy = self.policy.clone();
        let secrets = self.secrets.clone();
        Box::new(async move {
            let url = target.display();
            let out = tokio::time::timeout(
                policy.timeout,
                send(request, &target, &rule, &policy, &secrets, &guest),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Refusal::new(
                    HttpError::HttpResponseTimeout,
                    format!(
                        "no complete answer within {} ms",
                        policy.timeout.as_millis()
                    ),
                ))
            });
            match out {
                Ok((resp, n)) => {
                    record(
                        &log,
                        &guest,
                        &method,
                        &url,
                        started,
                        Ok((resp.status().as_u16(), n)),
                    );
                    Ok((
                        resp,
                        Box::new(async { Ok(()) })
                            as Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
                    ))
                }
                Err(r) => {
                    record(&log, &guest, &method, &url, started, Err(r.reason));
                    Err(r.code)
                }
            }
        })
    }
}

/// A refused or failed request: the typed code for the guest, a reason for the log.
struct Refusal {
    code: HttpError,
    reason: String,
}

impl Refusal {
    fn new(code: HttpError, reason: String) -> Refusal {
        Refusal { code, reason }
    }
}

/// The error a guest sees for a policy refusal: `internal-error` with the
/// reason, so every language's client can show why.
fn denied(reason: String) -> HttpError {
    HttpError::InternalError(Some(format!("kennel: request denied: {reason}")))
}

fn record(
    log: &RequestLog,
    guest: &str,
    method: &str,
    url: &str,
    started: Instant,
    outcome: Result<(u16, usize), String>,
) {
    let ms = started.elapsed().as_millis() as u64;
    let rec = match outcome {
        Ok((status, bytes)) => {
            tracing::info!(guest, method, url, status, bytes, ms, "guest http request");
            RequestRecord {
                method: method.into(),
                url: url.into(),
                status: Some(status),
                bytes,
                ms,
                error: None,
            }
        }
        Err(reason) => {
            tracing::warn!(
                guest,
                method,
                url,
                ms,
                "guest http request refused: {reason}"
            );
            RequestRecord {
                method: method.into(),
                url: url.into(),
                status: None,
                bytes: 0,
                ms,
                error: Some(reason),
            }
        }
    };
    crate::metrics::guest_http(guest, rec.status.is_some());
    if let Ok(mut l) = log.lock() {
        l.push(rec);
    }
}

/// Resolves, checks the addresses, injects secrets, sends, reads the capped
/// response and scrubs it.
async fn send(
    request: http::Request<WasiBody>,
    target: &Target,
    rule: &HostRule,
    policy: &NetPolicy,
    secrets: &Secrets,
    guest: &str,
) -> Result<(http::Response<WasiBody>, usize), Refusal> {
    let addrs = resolve_checked(target, rule).await?;
    let (parts, body) = request.into_parts();
    let body = read_capped(body, policy.max_request_bytes)
        .await
        .map_err(|n| {
            Refusal::new(
                HttpError::HttpRequestBodySize(n),
                format!("request body over {} bytes", policy.max_request_bytes),
            )
        })?;
    let mut url = reqwest::Url::parse(&target.display())
        .map_err(|e| Refusal::new(HttpError::HttpRequestUriInvalid, e.to_string()))?;
    url.set_query(target.query.as_deref());
    let mut headers = parts.headers;
    headers.remove(http::header::HOST);
    for name in &policy.secrets {
        let Some(s) = secrets.get(name) else { continue };
        if !s.has_value() || !s.hosts.iter().any(|h| h.matches(target)) {
            continue;
        }
        match &s.inject {
            Inject::Header { name, prefix } => {
                let value = format!("{prefix}{}", s.value);
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    headers.insert(name.clone(), v);
                }
            }
            Inject::Query(param) => {
                url.query_pairs_mut().append_pair(param, &s.value);
            }
        }
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve_to_addrs(&target.host, &addrs)
        .timeout(policy.timeout)
        .build()
        .map_err(|e| Refusal::new(HttpError::InternalError(None), e.to_string()))?;
    let resp = client
        .request(parts.method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let code = if e.is_timeout() {
                HttpError::HttpResponseTimeout
            } else if e.is_connect() {
                HttpError::ConnectionRefused
            } else {
                HttpError::HttpProtocolError
            };
            // reqwest errors name the URL, which may carry a query secret.
            Refusal::new(code, secrets.scrub_str(&without_url(&e)))
        })?;
    let status = resp.status();
    let mut resp_headers = resp.headers().clone();
    let body = read_response(resp, policy.max_response_bytes).await?;
    let body = secrets.scrub(&body);
    for v in resp_headers.values_mut() {
        let scrubbed = secrets.scrub(v.as_bytes());
        if scrubbed != v.as_bytes()
            && let Ok(nv) = http::HeaderValue::from_bytes(&scrubbed)
        {
            *v = nv;
        }
    }
    // The body is delivered whole: drop framing headers that described the original.
    resp_headers.remove(http::header::CONTENT_LENGTH);
    resp_headers.remove(http::header::TRANSFER_ENCODING);
    let n = body.len();
    tracing::debug!(guest, bytes = n, "response handed to guest");
    let mut out = http::Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *out.status_mut() = status;
    *out.headers_mut() = resp_headers;
    Ok((out, n))
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<url>");
    }
    s
}

async fn read_capped(mut body: WasiBody, cap: usize) -> Result<Bytes, Option<u64>> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(None) };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() > cap {
                return Err(Some(buf.len() as u64));
            }
        }
    }
    Ok(Bytes::from(buf))
}

async fn read_response(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, Refusal> {
    let mut buf = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                buf.extend_from_slice(&c);
                if buf.len() > cap {
                    return Err(Refusal::new(
                        HttpError::HttpResponseBodySize(Some(buf.len() as u64)),
                        format!("response over max_response_kb ({cap} bytes); cut"),
                    ));
                }
            }
            Ok(None) => return Ok(buf),
            Err(e) if e.is_timeout() => {
                return Err(Refusal::new(
                    HttpError::HttpResponseTimeout,
                    "response body too slow".into(),
                ));
            }
            Err(_) => {
                return Err(Refusal::new(
                    HttpError::HttpResponseIncomplete,
                    "response body ended early".into(),
                ));
            }
        }
    }
}

/// Resolves the host and keeps only addresses the rule may reach.
async fn resolve_checked(target: &Target, rule: &HostRule) -> Result<Vec<SocketAddr>, Refusal> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        if is_private(ip) && !rule.is_ip_literal() {
            return Err(prohibited(&target.host, ip));
        }
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    let found: Vec<SocketAddr> = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| Refusal::new(HttpError::DnsTimeout, format!("resolving {}", target.host)))?
    .map_err(|_| {
        Refusal::new(
            HttpError::DestinationNotFound,
            format!("{} does not resolve", target.host),
        )
    })?
    .collect();
    let public: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| !is_private(a.ip()))
        .collect();
    match (public.is_empty(), found.first()) {
        (false, _) => Ok(public),
        (true, Some(a)) => Err(prohibited(&target.host, a.ip())),
        (true, None) => Err(Refusal::new(
            HttpError::DestinationNotFound,
            format!("{} does not resolve", target.host),
        )),
    }
}

fn prohibited(host: &str, ip: IpAddr) -> Refusal {
    Refusal::new(
        HttpError::InternalError(Some(format!(
            "kennel: request denied: {host} resolves to the private address {ip} (only an allowed_hosts entry naming that IP reaches it)"
        ))),
        format!("{host} resolves to private address {ip}"),
    )
}

/// Loopback, private, link-local (cloud metadata), CGNAT, unspecified,
/// broadcast, multicast, documentation and unique-local addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x64 && s[1] == 0xff9b)
                || (s[0] == 0x2001 && s[1] == 0xdb8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::of(&url.parse().expect("uri")).expect("target")
    }

    #[test]
    fn rules_match_scheme_host_port_and_whole_path_segments() {
        let r = HostRule::parse("https://api.github.com/repos/").expect("rule");
        assert!(r.matches(&target("https://api.github.com/repos/a/b/issues?q=1")));
        assert!(r.matches(&target("https://API.GitHub.com:443/repos/x")));
        assert!(!r.matches(&target("http://api.github.com/repos/x")));
        assert!(!r.matches(&target("https://api.github.com:8443/repos/x")));
        assert!(!r.matches(&target("https://api.github.com/user")));
        assert!(!r.matches(&target("https://api.github.com.evil.io/repos/x")));
        assert!(!r.matches(&target("https://api.github.com/repos/../user")));
        assert!(!r.matches(&target("https://api.github.com/repos/%2e%2e/user")));
        let bare = HostRule::parse("https://x.io/repos").expect("rule");
        assert!(bare.matches(&target("https://x.io/repos/1")));
        assert!(bare.matches(&target("https://x.io/repos")));
        assert!(!bare.matches(&target("https://x.io/repos-evil")));
        let all = HostRule::parse("http://127.0.0.1:8080").expect("rule");
        assert!(all.matches(&target("http://127.0.0.1:8080/anything")));
        assert!(!all.matches(&target("http://127.0.0.1:8081/anything")));
    }

    #[test]
    fn bad_entries_are_refused_with_the_reason() {
        for bad in ["ftp://x.io", "x.io", "https://*.x.io", "https://x.io/?a=1"] {
            assert!(HostRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["140.82.112.3", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn secrets_are_scrubbed_everywhere_they_appear() {
        let s = Secrets::new(vec![
            Secret::new(
                "gh".into(),
                "ghp_SECRET123".into(),
                Inject::Query("t".into()),
                vec![HostRule::parse("https://a.io").expect("rule")],
            )
            .expect("secret"),
        ]);
        assert_eq!(
            s.scrub_str("token ghp_SECRET123 and ghp_SECRET123!"),
            "token [REDACTED] and [REDACTED]!"
        );
        assert!(!format!("{s:?}").contains("ghp_SECRET123"));
    }

    #[test]
    fn the_policy_refuses_before_anything_is_sent() {
        let policy = NetPolicy {
            allowed_hosts: vec![HostRule::parse("https://a.io/ok/").expect("rule")],
            max_requests: 2,
            ..NetPolicy::default()
        };
        let mut h = NetHooks {
            guest: Arc::from("t"),
            policy: Arc::new(policy),
            secrets: Arc::new(Secrets::default()),
            sent: 0,
            log: RequestLog::default(),
            route_denied: false,
        };
        assert!(h.admit("GET", &target("https://a.io/ok/1")).is_ok());
        let e = h
            .admit("POST", &target("https://a.io/ok/1"))
            .expect_err("method");
        assert!(e.contains("method POST"), "{e}");
        let e = h
            .admit("GET", &target("https://a.io/ok/2"))
            .expect_err("count");
        assert!(e.contains("request limit"), "{e}");
        let mut none = NetHooks {
            policy: Arc::new(NetPolicy::default()),
            ..h
        };
        none.sent = 0;
        let e = none
            .admit("GET", &target("https://a.io/ok/1"))
            .expect_err("grant");
        assert!(e.contains("network not granted"), "{e}");
    }
}
