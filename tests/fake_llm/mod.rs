//! A fake OpenAI-compatible chat completions server for tests.
//!
//! Speaks the real wire format on 127.0.0.1 (ephemeral port): JSON responses
//! with `choices[0].message` (content and `tool_calls`), `usage`, SSE streams
//! of `choices[0].delta` chunks ending in `data: [DONE]`, OpenAI-style error
//! bodies and 429 with `Retry-After`. Answers follow a script (a queue of
//! [`Step`]s, then a default step); every request body and `Authorization`
//! header is recorded for assertions. Runs on its own thread and stops when
//! dropped.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// A final text answer. `{tools}` is replaced by the contents of the request's
    /// `tool` messages joined by " | ", `{system}` by its system message.
    Text(String),
    /// Tool calls: (name, JSON arguments).
    Calls(Vec<(String, String)>),
    /// An HTTP error with an OpenAI-style body; optional `Retry-After` seconds.
    Error(u16, String, Option<u64>),
    /// A streamed text answer, sent as these content chunks with `gap` between them.
    Stream(Vec<String>, Duration),
    /// Wait, then answer.
    Delay(Duration, Box<Step>),
    /// Tool calls as a stream of deltas (used when the request asks to stream).
    StreamCalls(Vec<(String, String)>),
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Step>,
    default: Option<Step>,
    requests: Vec<Value>,
    auth: Vec<String>,
}

/// The running server.
pub struct FakeLlm {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _server: crate::common::server::Server,
}

impl FakeLlm {
    pub fn start() -> FakeLlm {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(inner.clone());
        let server = crate::common::server::Server::start(app);
        FakeLlm {
            addr: server.addr,
            inner,
            _server: server,
        }
    }

    /// `base_url` for kennel's `[llm]`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn push(&self, step: Step) -> &Self {
        self.inner.lock().expect("lock").script.push_back(step);
        self
    }

    /// The answer once the script is used up (default: `Text("ok")`).
    pub fn set_default(&self, step: Step) {
        self.inner.lock().expect("lock").default = Some(step);
    }

    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().expect("lock").requests.clone()
    }

    /// The contents of every `tool` message the model was sent, in order.
    pub fn tool_messages(&self) -> Vec<String> {
        self.requests()
            .iter()
            .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
            .filter(|m| m["role"] == "tool")
            .map(|m| m["content"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub fn auth_headers(&self) -> Vec<String> {
        self.inner.lock().expect("lock").auth.clone()
    }
}

async fn handle(
    State(state): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let req: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"message": format!("bad json: {e}")}})),
            )
                .into_response();
        }
    };
    let step = {
        let mut s = state.lock().expect("lock");
        s.requests.push(req.clone());
        s.auth.push(
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        );
        let default = s.default.clone().unwrap_or(Step::Text("ok".into()));
        s.script.pop_front().unwrap_or(default)
    };
    // Like real servers, honour `stream: true` for every scripted answer.
    let step = match (req["stream"].as_bool().unwrap_or(false), step) {
        (true, Step::Text(t)) => Step::Stream(vec![fill(&t, &req)], Duration::ZERO),
        (true, Step::Calls(c)) => Step::StreamCalls(c),
        (true, Step::Delay(d, inner)) => match *inner {
            Step::Text(t) => Step::Delay(
                d,
                Box::new(Step::Stream(vec![fill(&t, &req)], Duration::ZERO)),
            ),
            other => Step::Delay(d, Box::new(other)),
        },
        (_, s) => s,
    };
    answer(step, &req).await
}

fn fill(template: &str, req: &Value) -> String {
    let msgs = req["messages"].as_array().cloned().unwrap_or_default();
    let tools: Vec<String> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_string())
        .collect();
    let system = msgs
        .iter()
        .find(|m| m["role"] == "system")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    template
        .replace("{tools}", &tools.join(" | "))
        .replace("{system}", &system)
}

fn completion(message: Value, finish: &str, req: &Value) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": req["model"].as_str().unwrap_or("fake-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    })
}

fn answer(
    step: Step,
    req: &Value,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        match step {
            Step::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                answer(*inner, req).await
            }
            Step::Text(t) => axum::Json(completion(
                json!({"role": "assistant", "content": fill(&t, req)}),
                "stop",
                req,
            ))
            .into_response(),
            Step::Calls(calls) => {
                let tool_calls: Vec<Value> = calls
                    .iter()
                    .enumerate()
                    .map(|(i, (name, args))| json!({"id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": args}}))
                    .collect();
                axum::Json(completion(
                    json!({"role": "assistant", "content": null, "tool_calls": tool_calls}),
                    "tool_calls",
                    req,
                ))
                .into_response()
            }
            Step::Error(status, msg, retry_after) => {
                let mut resp = (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    axum::Json(json!({"error": {"message": msg, "type": "test_error"}})),
                )
                    .into_response();
                if let Some(s) = retry_after {
                    resp.headers_mut()
                        .insert("retry-after", s.to_string().parse().expect("header"));
                }
                resp
            }
            Step::StreamCalls(calls) => {
                let mut events: Vec<String> = Vec::new();
                for (i, (name, args)) in calls.iter().enumerate() {
                    let (a, b) = args.split_at(args.len() / 2);
                    events.push(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":i,"id":format!("call_{i}"),"type":"function","function":{"name":name,"arguments":a}}]}}]}).to_string());
                    events.push(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":i,"function":{"arguments":b}}]}}]}).to_string());
                }
                events.push(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":11,"completion_tokens":7}}).to_string());
                let body: String = events
                    .iter()
                    .map(|e| format!("data: {e}\n\n"))
                    .chain(std::iter::once("data: [DONE]\n\n".to_string()))
                    .collect();
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from(body))
                    .expect("response")
            }
            Step::Stream(chunks, gap) => {
                let model = req["model"].as_str().unwrap_or("fake-model").to_string();
                let stream = async_stream(chunks, gap, model);
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(stream))
                    .expect("response")
            }
        }
    })
}

fn async_stream(
    chunks: Vec<String>,
    gap: Duration,
    model: String,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    let mut events: Vec<String> = Vec::new();
    events.push(
        json!({"choices":[{"index":0,"delta":{"role":"assistant"}}],"model":model}).to_string(),
    );
    for c in &chunks {
        events
            .push(json!({"choices":[{"index":0,"delta":{"content":c}}],"model":model}).to_string());
    }
    events.push(
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"model":model})
            .to_string(),
    );
    events.push(
        json!({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":chunks.len()}})
            .to_string(),
    );
    futures_util::stream::unfold(
        (events.into_iter(), false),
        move |(mut it, done)| async move {
            if done {
                return None;
            }
            match it.next() {
                Some(e) => {
                    tokio::time::sleep(gap).await;
                    Some((Ok(format!("data: {e}\n\n")), (it, false)))
                }
                None => Some((Ok("data: [DONE]\n\n".to_string()), (it, true))),
            }
        },
    )
}
