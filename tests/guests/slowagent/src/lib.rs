//! Test-only agent. Text `wait` makes it wait on the host (one `llm.chat`
//! call, which the test's fake LLM answers slowly); `spin N` burns CPU for N
//! million iterations; anything else replies with the build's `VERSION`
//! (set at compile time by the test through `SLOWAGENT_VERSION`).
//! `files` lists the message's attachments and whether their bytes came
//! (`attachments = "full"` routes).
//! `fetch http://HOST:PORT/PATH` makes one GET through `wasi:http` and replies
//! with the status and body, or the error (agents' network grant tests).

wit_bindgen::generate!({ path: "../../../wit", world: "agent", generate_all });

use kennel::guest::llm;

struct Slow;

const VERSION: &str = match option_env!("SLOWAGENT_VERSION") {
    Some(v) => v,
    None => "v0",
};

impl Guest for Slow {
    fn handle(_ctx: Context, msg: Message) -> Result<Reply, String> {
        let text = msg.text.trim();
        if text == "wait" {
            let req = llm::Request {
                messages: vec![llm::ChatMessage {
                    parts: Vec::new(),
                    role: "user".into(),
                    content: "wait".into(),
                    tool_calls: vec![],
                    tool_call_id: None,
                }],
                tools: vec![],
                model: None,
                temperature: None,
                max_tokens: None,
                stream_reply: false,
            };
            return match llm::chat(&req) {
                Ok(r) => Ok(Reply {
                    files: Vec::new(),
                    text: format!("waited: {}", r.message.content),
                }),
                Err(e) => Ok(Reply {
                    files: Vec::new(),
                    text: format!("llm error: {e:?}"),
                }),
            };
        }
        if let Some(url) = text.strip_prefix("fetch ") {
            return Ok(Reply {
                files: Vec::new(),
                text: match fetch(url.trim()) {
                    Ok((status, body)) => format!("fetched {status}: {body}"),
                    Err(e) => format!("fetch failed: {e}"),
                },
            });
        }
        if text == "files" {
            // What the host granted of each file: `NAME: BYTES bytes` or `NAME: no bytes`.
            let lines: Vec<String> = msg
                .attachments
                .iter()
                .map(|a| match &a.bytes {
                    Some(b) => format!("{}: {} bytes", a.name, b.len()),
                    None => format!("{}: no bytes", a.name),
                })
                .collect();
            return Ok(Reply {
                files: Vec::new(),
                text: lines.join("\n"),
            });
        }
        if let Some(n) = text.strip_prefix("spin ") {
            let n: u64 = n.parse().unwrap_or(1);
            let mut x: u64 = 0;
            for i in 0..n * 1_000_000 {
                x = std::hint::black_box(x ^ i);
            }
            return Ok(Reply {
                files: Vec::new(),
                text: format!("spun {}", x & 1),
            });
        }
        Ok(Reply {
            files: Vec::new(),
            text: format!("version {VERSION}"),
        })
    }
}

export!(Slow);

fn fetch(url: &str) -> Result<(u16, String), String> {
    use wasi::http::types::{ErrorCode, Fields, Method, OutgoingRequest, Scheme};
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let req = OutgoingRequest::new(Fields::new());
    let _ = req.set_method(&Method::Get);
    let _ = req.set_scheme(Some(&Scheme::Http));
    let _ = req.set_authority(Some(authority));
    let _ = req.set_path_with_query(Some(if path.is_empty() { "/" } else { path }));
    let describe = |e: &ErrorCode| match e {
        ErrorCode::InternalError(Some(m)) => m.clone(),
        other => format!("{other:?}"),
    };
    let fut = wasi::http::outgoing_handler::handle(req, None).map_err(|e| describe(&e))?;
    fut.subscribe().block();
    let resp = match fut.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(e))) => return Err(describe(&e)),
        _ => return Err("no response".into()),
    };
    let status = resp.status();
    let body = resp.consume().map_err(|_| "no body")?;
    let stream = body.stream().map_err(|_| "no body")?;
    let mut buf = Vec::new();
    while let Ok(chunk) = stream.blocking_read(65536) {
        buf.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&buf).into_owned()))
}
