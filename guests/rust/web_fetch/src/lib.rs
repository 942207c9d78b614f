//! `web_fetch` tool: fetches a web page through the host's `wasi:http` and
//! returns it as readable text (`{"url": "https://…"}`).
//!
//! Markup, scripts and styles are removed, entities decoded and blank runs
//! collapsed; the result is capped at `max_chars` (default 20,000). Redirects
//! are followed (at most 5), each hop passing the host's policy again. The
//! tool has no network of its own: the operator grants hosts in
//! `web_fetch.toml`, and every request the host refuses comes back as an
//! error naming why.

pub mod text;

wit_bindgen::generate!({ path: "../../../wit", world: "tool", generate_all });

use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

const MAX_REDIRECTS: usize = 5;
const MAX_BODY: usize = 4 << 20;
const DEFAULT_CHARS: usize = 20_000;

struct WebFetch;

impl Guest for WebFetch {
    fn describe() -> ToolSpec {
        ToolSpec {
            name: "web_fetch".into(),
            description: "Fetch a web page (http/https) and return its readable text. Only hosts the operator granted can be reached.".into(),
            parameters: r#"{"type":"object","properties":{"url":{"type":"string","description":"absolute http(s) URL"},"max_chars":{"type":"integer","minimum":100,"maximum":60000,"description":"longest text to return (default 20000)"}},"required":["url"],"additionalProperties":false}"#.into(),
        }
    }

    fn invoke(arguments: String) -> Result<String, String> {
        let v: serde_json::Value =
            serde_json::from_str(&arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
        let url = v
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or("missing string field `url`")?;
        let max_chars = v
            .get("max_chars")
            .and_then(|m| m.as_u64())
            .map(|m| m.clamp(100, 60_000) as usize)
            .unwrap_or(DEFAULT_CHARS);
        let page = fetch(url)?;
        if !(200..300).contains(&page.status) {
            return Err(format!("{} answered HTTP {}", page.url, page.status));
        }
        let kind = page.content_type.to_ascii_lowercase();
        let body = String::from_utf8_lossy(&page.body);
        let text =
            if kind.contains("html") || (kind.is_empty() && body.trim_start().starts_with('<')) {
                text::html_to_text(&body)
            } else if kind.starts_with("text/")
                || kind.contains("json")
                || kind.contains("xml")
                || kind.is_empty()
            {
                text::collapse(&body)
            } else {
                return Err(format!(
                    "{} is {} ({} bytes), not text",
                    page.url,
                    page.content_type,
                    page.body.len()
                ));
            };
        Ok(text::cap(&text, max_chars))
    }
}

export!(WebFetch);

struct Page {
    url: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn fetch(start: &str) -> Result<Page, String> {
    let mut url = start.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let (status, headers, body) = get(&url)?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        if (300..400).contains(&status)
            && let Some(loc) = header("location")
        {
            url = text::join_url(&url, &loc)?;
            continue;
        }
        return Ok(Page {
            url,
            status,
            content_type: header("content-type").unwrap_or_default(),
            body,
        });
    }
    Err(format!("more than {MAX_REDIRECTS} redirects from {start}"))
}

type Headers = Vec<(String, Vec<u8>)>;

/// One GET through `wasi:http/outgoing-handler`, blocking on its pollable.
fn get(url: &str) -> Result<(u16, Headers, Vec<u8>), String> {
    let parts = text::split_url(url)?;
    let headers = Fields::new();
    headers
        .append("user-agent", b"kennel-web_fetch/0.2")
        .map_err(|e| format!("{e:?}"))?;
    headers
        .append("accept", b"text/html, text/plain;q=0.9, */*;q=0.5")
        .map_err(|e| format!("{e:?}"))?;
    let req = OutgoingRequest::new(headers);
    let _ = req.set_method(&Method::Get);
    let scheme = if parts.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let _ = req.set_scheme(Some(&scheme));
    req.set_authority(Some(&parts.authority))
        .map_err(|_| format!("bad host in {url}"))?;
    req.set_path_with_query(Some(&parts.path))
        .map_err(|_| format!("bad path in {url}"))?;
    let future = outgoing_handler::handle(req, None).map_err(|e| describe(&e))?;
    future.subscribe().block();
    let resp = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(e))) => return Err(format!("{url}: {}", describe(&e))),
        Some(Err(())) | None => return Err(format!("{url}: no response")),
    };
    let status = resp.status();
    let headers = resp.headers().entries();
    let body = resp
        .consume()
        .map_err(|_| "response body unavailable".to_string())?;
    let stream = body
        .stream()
        .map_err(|_| "response body unavailable".to_string())?;
    let mut buf = Vec::new();
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > MAX_BODY {
                    return Err(format!("{url}: page larger than {} bytes", MAX_BODY));
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("{url}: reading failed: {}", e.to_debug_string()));
            }
        }
    }
    Ok((status, headers, buf))
}

/// The host puts its refusal reason into `internal-error`; other codes are named.
fn describe(e: &ErrorCode) -> String {
    match e {
        ErrorCode::InternalError(Some(m)) => m.clone(),
        other => format!("{other:?}"),
    }
}
