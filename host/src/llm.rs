//! OpenAI-compatible chat completions client (`POST {base_url}/chat/completions`),
//! used by the host side of the `llm` import.
//!
//! Works with any such server (Ollama, llama.cpp server, vLLM, OpenAI,
//! OpenRouter). Owns the wire format, timeouts, retries and streaming (SSE).
//!
//! | secret rule | how |
//! |---|---|
//! | the API key comes only from the env var named by `api_key_env` | read once at start |
//! | it is sent only in the `Authorization` header | never in a body or URL |
//! | it never reaches a guest or a log line | every error text passes [`LlmClient::redact`]; `Debug` hides it |
//!
//! Retries: 429 (honouring `Retry-After`, capped at 30 s), 5xx and connection
//! errors are retried `max_retries` times with exponential backoff from 500 ms.
//! Other 4xx are reported at once with the server's message.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::LlmConfig;

/// Errors returned to the agent as text (never traps).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("no LLM configured: {0}")]
    NotConfigured(String),
    #[error("LLM server unreachable: {0}")]
    Unreachable(String),
    #[error("LLM server rejected the request: {0}")]
    Rejected(String),
    #[error("LLM server is rate limiting: {0}")]
    RateLimited(String),
    #[error("LLM server error: {0}")]
    Server(String),
    #[error("LLM request timed out")]
    Timeout,
    #[error("LLM answer not understood: {0}")]
    BadResponse(String),
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub role: String,
    pub content: String,
    /// When not empty, sent instead of `content` as OpenAI content parts.
    pub parts: Vec<Part>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: Option<String>,
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// An image as a URL the server can read (the host builds `data:` URLs).
    ImageUrl(String),
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    /// JSON Schema object.
    pub parameters: Value,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// Empty = the configured model.
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

/// Token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatResponse {
    pub message: Message,
    pub finish_reason: String,
    pub usage: Usage,
    pub model: String,
}

/// Receives the accumulated answer text while a streamed response arrives.
pub type StreamSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// The client. Cheap to share.
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    max_retries: u32,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl LlmClient {
    /// Builds a client; the key is read from the env var named in the config.
    pub fn new(
        cfg: &LlmConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<LlmClient, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LlmError::NotConfigured(e.to_string()))?;
        // No variable named: no key is sent.
        let api_key = Some(cfg.api_key_env.trim())
            .filter(|name| !name.is_empty())
            .and_then(env)
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        Ok(LlmClient {
            http,
            url: format!("{}/chat/completions", cfg.base_url.trim_end_matches('/')),
            model: cfg.model.clone(),
            api_key,
            max_retries: cfg.max_retries,
        })
    }

    /// The configured model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Removes the API key from a text.
    pub fn redact(&self, text: &str) -> String {
        match &self.api_key {
            Some(k) if k.len() >= 4 => text.replace(k.as_str(), "[redacted]"),
            _ => text.to_string(),
        }
    }

    /// One chat completion; with `stream`, the answer text is streamed into it.
    pub async fn chat(
        &self,
        req: &ChatRequest,
        stream: Option<StreamSink<'_>>,
    ) -> Result<ChatResponse, LlmError> {
        let body = self.body(req, stream.is_some());
        let mut attempt = 0;
        loop {
            let result = self.attempt(&body, stream).await;
            let retry_after = match &result {
                Err((e, after)) if attempt < self.max_retries && retryable(e) => *after,
                _ => return result.map_err(|(e, _)| e),
            };
            let backoff = Duration::from_millis(500 * (1 << attempt.min(6)));
            let wait = retry_after
                .map(|s| Duration::from_secs(s.min(30)))
                .unwrap_or(backoff);
            tracing::warn!(
                attempt = attempt + 1,
                wait_ms = wait.as_millis() as u64,
                "LLM request failed, retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn body(&self, req: &ChatRequest, stream: bool) -> Value {
        let model = if req.model.is_empty() {
            self.model.clone()
        } else {
            req.model.clone()
        };
        let messages: Vec<Value> = req.messages.iter().map(wire_message).collect();
        let mut body = json!({ "model": model, "messages": messages });
        if !req.tools.is_empty() {
            body["tools"] = Value::Array(
                req.tools
                    .iter()
                    .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                    .collect(),
            );
        }
        if let Some(t) = req.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = req.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    /// One HTTP attempt. The error carries a `Retry-After` in seconds, if any.
    async fn attempt(
        &self,
        body: &Value,
        stream: Option<StreamSink<'_>>,
    ) -> Result<ChatResponse, (LlmError, Option<u64>)> {
        let mut rb = self.http.post(&self.url).json(body);
        if let Some(k) = &self.api_key {
            rb = rb.bearer_auth(k);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| (self.transport_error(&e), None))?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = resp.text().await.unwrap_or_default();
            let msg = self.redact(&error_message(&text, status.as_u16()));
            let e = match status.as_u16() {
                429 => LlmError::RateLimited(msg),
                500..=599 => LlmError::Server(msg),
                _ => LlmError::Rejected(msg),
            };
            return Err((e, retry_after));
        }
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        match stream.filter(|_| is_sse) {
            // Not asked to stream, or the server ignored `stream: true`.
            None => {
                let text = resp
                    .text()
                    .await
                    .map_err(|e| (self.transport_error(&e), None))?;
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| (LlmError::BadResponse(format!("not JSON: {e}")), None))?;
                parse_response(&v).map_err(|e| (e, None))
            }
            Some(sink) => self.read_stream(resp, sink).await.map_err(|e| (e, None)),
        }
    }

    async fn read_stream(
        &self,
        resp: reqwest::Response,
        sink: StreamSink<'_>,
    ) -> Result<ChatResponse, LlmError> {
        let mut acc = StreamAccumulator::default();
        let mut sse = SseDecoder::default();
        let mut events = Vec::new();
        let mut body = resp.bytes_stream();
        loop {
            match body.next().await {
                Some(c) => sse.feed(&c.map_err(|e| self.transport_error(&e))?, &mut events)?,
                // A last event without its blank line still counts (the usage chunk often is one).
                None => sse.finish(&mut events),
            }
            for data in events.drain(..) {
                let data = data.trim();
                if data == "[DONE]" {
                    return acc.finish();
                }
                if data.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(data)
                    .map_err(|e| LlmError::BadResponse(format!("bad stream chunk: {e}")))?;
                if acc.push(&v)? {
                    sink(&acc.content);
                }
            }
            if sse.finished {
                return acc.finish();
            }
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout
        } else {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            LlmError::Unreachable(self.redact(&msg))
        }
    }
}

/// Largest SSE line buffered, and the caps on what a response may hold: a
/// server over any of them gets `bad-response`, the host stays unharmed.
const MAX_SSE_LINE: usize = 8 << 20;
const MAX_TOOL_CALLS: usize = 64;
const MAX_ARGUMENTS: usize = 1 << 20;
const MAX_CONTENT: usize = 4 << 20;

/// Decodes a `text/event-stream` body into the `data` of each event, per the
/// WHATWG format: lines end in LF, CR or CRLF; `data:` lines of one event are
/// joined with LF; `event:`, `id:`, `retry:` and `:` comments are read and
/// ignored; a blank line dispatches. Unlike a browser it also dispatches an
/// unterminated last event at the end of the body (servers send the usage
/// chunk that way).
#[derive(Default)]
struct SseDecoder {
    buf: Vec<u8>,
    data: String,
    has_data: bool,
    /// The previous chunk ended in CR: a leading LF belongs to it.
    pending_cr: bool,
    finished: bool,
}

impl SseDecoder {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<String>) -> Result<(), LlmError> {
        let mut chunk = chunk;
        if self.pending_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.pending_cr = false;
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        let mut i = 0;
        while i < self.buf.len() {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                let line = String::from_utf8_lossy(&self.buf[start..i]).into_owned();
                let mut next = i + 1;
                if b == b'\r' {
                    match self.buf.get(next) {
                        Some(b'\n') => next += 1,
                        None => self.pending_cr = true,
                        _ => {}
                    }
                }
                self.line(&line, out);
                start = next;
                i = next;
            } else {
                i += 1;
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_SSE_LINE {
            return Err(LlmError::BadResponse(format!(
                "a stream line is longer than {MAX_SSE_LINE} bytes"
            )));
        }
        Ok(())
    }

    fn line(&mut self, line: &str, out: &mut Vec<String>) {
        if line.is_empty() {
            if self.has_data {
                out.push(std::mem::take(&mut self.data));
            }
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            if self.has_data {
                self.data.push('\n');
            }
            self.data.push_str(value);
            self.has_data = true;
        }
    }

    /// The body ended: a pending line and event are dispatched.
    fn finish(&mut self, out: &mut Vec<String>) {
        if !self.buf.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned();
            self.line(&line, out);
        }
        self.line("", out);
        self.finished = true;
    }
}

fn retryable(e: &LlmError) -> bool {
    matches!(
        e,
        LlmError::RateLimited(_)
            | LlmError::Server(_)
            | LlmError::Unreachable(_)
            | LlmError::Timeout
    )
}

fn wire_message(m: &Message) -> Value {
    let mut v = json!({ "role": m.role, "content": m.content });
    if !m.parts.is_empty() {
        v["content"] = Value::Array(
            m.parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => json!({"type": "text", "text": t}),
                    Part::ImageUrl(u) => json!({"type": "image_url", "image_url": {"url": u}}),
                })
                .collect(),
        );
    }
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = Value::Array(
            m.tool_calls
                .iter()
                .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                .collect(),
        );
        if m.content.is_empty() {
            v["content"] = Value::Null;
        }
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

/// `{"error": {"message": …}}` (OpenAI), `{"error": "…"}` (Ollama) or the raw text.
fn error_message(body: &str, status: u16) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("error")
            .and_then(|e| {
                e.get("message")
                    .and_then(|m| m.as_str())
                    .or_else(|| e.as_str())
            })
            .map(String::from)
    });
    let msg = from_json.unwrap_or_else(|| body.trim().chars().take(300).collect());
    if msg.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {msg}")
    }
}

#[derive(Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: Value,
}

fn parse_response(v: &Value) -> Result<ChatResponse, LlmError> {
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| LlmError::BadResponse("no choices in the answer".into()))?;
    let msg = choice
        .get("message")
        .ok_or_else(|| LlmError::BadResponse("choice has no message".into()))?;
    let mut tool_calls = Vec::new();
    if let Some(calls) = msg.get("tool_calls").filter(|c| !c.is_null()) {
        let calls: Vec<WireToolCall> = serde_json::from_value(calls.clone())
            .map_err(|e| LlmError::BadResponse(format!("bad tool_calls: {e}")))?;
        if calls.len() > MAX_TOOL_CALLS {
            return Err(LlmError::BadResponse(format!(
                "{} tool calls, more than the limit of {MAX_TOOL_CALLS}",
                calls.len()
            )));
        }
        for (i, c) in calls.into_iter().enumerate() {
            tool_calls.push(ToolCall {
                id: if c.id.is_empty() {
                    format!("call_{i}")
                } else {
                    c.id
                },
                name: c.function.name,
                arguments: match c.function.arguments {
                    Value::String(s) => s,
                    Value::Null => "{}".into(),
                    other => other.to_string(),
                },
            });
        }
    }
    Ok(ChatResponse {
        message: Message {
            parts: Vec::new(),
            role: "assistant".into(),
            content: msg
                .get("content")
                .and_then(|c| c.as_str())
                .unwrap_or("")
                .to_string(),
            tool_calls,
            tool_call_id: None,
        },
        finish_reason: choice
            .get("finish_reason")
            .and_then(|f| f.as_str())
            .unwrap_or("")
            .to_string(),
        usage: parse_usage(v.get("usage")),
        model: v
            .get("model")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string(),
    })
}

fn parse_usage(u: Option<&Value>) -> Usage {
    let n = |k: &str| {
        u.and_then(|u| u.get(k))
            .and_then(|x| x.as_u64())
            .unwrap_or(0) as u32
    };
    Usage {
        prompt_tokens: n("prompt_tokens"),
        completion_tokens: n("completion_tokens"),
    }
}

/// Builds a response from SSE chunks (`choices[0].delta`).
#[derive(Default)]
struct StreamAccumulator {
    content: String,
    calls: Vec<ToolCall>,
    finish_reason: String,
    usage: Usage,
    model: String,
    chunks: usize,
}

#[derive(Serialize, Deserialize, Default)]
struct DeltaCall {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<DeltaFunction>,
}

#[derive(Serialize, Deserialize, Default)]
struct DeltaFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

impl StreamAccumulator {
    /// Adds a chunk; returns whether the visible content grew. A chunk over
    /// a cap (tool-call index or count, argument or content size) is a
    /// `bad-response`.
    fn push(&mut self, v: &Value) -> Result<bool, LlmError> {
        self.chunks += 1;
        if let Some(m) = v.get("model").and_then(|m| m.as_str()) {
            self.model = m.to_string();
        }
        if v.get("usage").is_some_and(|u| !u.is_null()) {
            self.usage = parse_usage(v.get("usage"));
        }
        let Some(choice) = v.get("choices").and_then(|c| c.get(0)) else {
            return Ok(false);
        };
        if let Some(f) = choice.get("finish_reason").and_then(|f| f.as_str()) {
            self.finish_reason = f.to_string();
        }
        let Some(delta) = choice.get("delta") else {
            return Ok(false);
        };
        if let Some(calls) = delta
            .get("tool_calls")
            .and_then(|c| serde_json::from_value::<Vec<DeltaCall>>(c.clone()).ok())
        {
            for c in calls {
                let i = c.index.unwrap_or(self.calls.len().saturating_sub(1));
                if i >= MAX_TOOL_CALLS {
                    return Err(LlmError::BadResponse(format!(
                        "tool call index {i} is over the limit of {MAX_TOOL_CALLS} calls"
                    )));
                }
                while self.calls.len() <= i {
                    self.calls.push(ToolCall::default());
                }
                let slot = &mut self.calls[i];
                if let Some(id) = c.id {
                    slot.id = id;
                }
                if let Some(f) = c.function {
                    if let Some(n) = f.name {
                        slot.name.push_str(&n);
                    }
                    if let Some(a) = f.arguments {
                        slot.arguments.push_str(&a);
                    }
                    if slot.arguments.len() > MAX_ARGUMENTS || slot.name.len() > 256 {
                        return Err(LlmError::BadResponse(
                            "a streamed tool call is too large".into(),
                        ));
                    }
                }
            }
        }
        match delta.get("content").and_then(|c| c.as_str()) {
            Some(s) if !s.is_empty() => {
                if self.content.len() + s.len() > MAX_CONTENT {
                    return Err(LlmError::BadResponse(format!(
                        "the answer is longer than {MAX_CONTENT} bytes"
                    )));
                }
                self.content.push_str(s);
                // Only stream text answers; a tool-calling turn is not shown.
                Ok(self.calls.is_empty())
            }
            _ => Ok(false),
        }
    }

    fn finish(self) -> Result<ChatResponse, LlmError> {
        if self.chunks == 0 {
            return Err(LlmError::BadResponse("empty stream".into()));
        }
        let calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                if c.id.is_empty() {
                    c.id = format!("call_{i}");
                }
                if c.arguments.is_empty() {
                    c.arguments = "{}".into();
                }
                c
            })
            .collect();
        Ok(ChatResponse {
            message: Message {
                parts: Vec::new(),
                role: "assistant".into(),
                content: self.content,
                tool_calls: calls,
                tool_call_id: None,
            },
            finish_reason: self.finish_reason,
            usage: self.usage,
            model: self.model,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tool_calls_and_usage() {
        let v = json!({"model":"m","choices":[{"message":{"role":"assistant","content":null,
            "tool_calls":[{"id":"c1","type":"function","function":{"name":"calc","arguments":"{\"expression\":\"1+1\"}"}}]},
            "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":3}});
        let r = parse_response(&v).expect("parse");
        assert_eq!(r.message.tool_calls[0].name, "calc");
        assert_eq!(
            r.message.tool_calls[0].arguments,
            "{\"expression\":\"1+1\"}"
        );
        assert_eq!(
            r.usage,
            Usage {
                prompt_tokens: 12,
                completion_tokens: 3
            }
        );
        assert!(parse_response(&json!({"choices": []})).is_err());
    }

    #[test]
    fn accumulates_stream_deltas() {
        let mut a = StreamAccumulator::default();
        assert!(
            a.push(&json!({"choices":[{"delta":{"role":"assistant","content":"Hel"}}]}))
                .expect("push")
        );
        assert!(
            a.push(&json!({"choices":[{"delta":{"content":"lo"}}]}))
                .expect("push")
        );
        assert!(
            !a.push(&json!({"choices":[{"delta":{},"finish_reason":"stop"}]}))
                .expect("push")
        );
        a.push(&json!({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}))
            .expect("push");
        let r = a.finish().expect("finish");
        assert_eq!(r.message.content, "Hello");
        assert_eq!(r.usage.completion_tokens, 2);
        let mut b = StreamAccumulator::default();
        b.push(&json!({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"ca","arguments":"{\"a\""}}]}}]})).expect("push");
        b.push(&json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"lc","arguments":":1}"}}]}}]})).expect("push");
        let r = b.finish().expect("finish");
        assert_eq!(
            (
                r.message.tool_calls[0].name.as_str(),
                r.message.tool_calls[0].arguments.as_str()
            ),
            ("calc", "{\"a\":1}")
        );
    }

    #[test]
    fn error_bodies_and_redaction() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key"}}"#, 401),
            "HTTP 401: bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#, 404),
            "HTTP 404: model not found"
        );
        assert_eq!(error_message("", 502), "HTTP 502");
        let cfg = LlmConfig {
            api_key_env: "TEST_KEY".into(),
            ..LlmConfig::default()
        };
        let c = LlmClient::new(&cfg, &|_| Some("sk-secret-123".into())).expect("client");
        assert_eq!(
            c.redact("key sk-secret-123 leaked"),
            "key [redacted] leaked"
        );
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn a_huge_tool_call_index_is_a_bad_response() {
        let mut a = StreamAccumulator::default();
        let r = a.push(&json!({"choices":[{"delta":{"tool_calls":[{"index":1_099_511_627_776u64,"function":{"name":"x"}}]}}]}));
        assert!(matches!(r, Err(LlmError::BadResponse(_))), "{:?}", r.err());
        assert!(a.calls.len() <= MAX_TOOL_CALLS);
        let mut b = StreamAccumulator::default();
        let big = "x".repeat(MAX_ARGUMENTS + 1);
        let r = b.push(&json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"x","arguments":big}}]}}]}));
        assert!(matches!(r, Err(LlmError::BadResponse(_))));
    }

    fn decode_all(chunks: &[&[u8]]) -> Vec<String> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out).expect("feed");
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn sse_follows_the_event_stream_format() {
        // Multi-line data, event/id fields, comments, CRLF split across chunks,
        // and a last event without its blank line.
        let out = decode_all(&[
            b": keep-alive\r\nevent: message\r\nid: 1\r\ndata: {\"a\":\r",
            b"\ndata: 1}\r\n\r\ndata:x\n\ndata: [DONE]",
        ]);
        assert_eq!(out, vec!["{\"a\":\n1}", "x", "[DONE]"]);
        // A bare CR ends a line too; an event with no data dispatches nothing.
        assert_eq!(decode_all(&[b"data: a\r\revent: x\n\n"]), vec!["a"]);
        // An endless line is refused instead of buffered without bound.
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        let chunk = vec![b'x'; 1 << 20];
        let mut failed = false;
        for _ in 0..10 {
            if d.feed(&chunk, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }

    proptest::proptest! {
        #[test]
        fn sse_decoder_never_panics_and_survives_any_chunking(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
            cut in 0usize..2000,
        ) {
            let cut = cut.min(body.len());
            let whole = decode_all(&[&body]);
            let split = decode_all(&[&body[..cut], &body[cut..]]);
            proptest::prop_assert_eq!(whole, split);
        }

        #[test]
        fn stream_chunks_never_panic(json in "\\PC{0,300}") {
            if let Ok(v) = serde_json::from_str::<Value>(&json) {
                let mut a = StreamAccumulator::default();
                let _ = a.push(&v);
                let _ = a.finish();
            }
        }
    }
}
