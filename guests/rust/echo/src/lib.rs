//! `echo` agent: the smallest useful agent. Replies `echo: <text> (turn N)`,
//! where N counts this session's turns in host memory (so it survives restarts
//! and starts again after `/reset`), then one line per attachment it got:
//! `[NAME, SIZE bytes, image|text]`. A message starting with `calc ` is handed
//! to the `calc` tool through the host, proving agent → host → tool works;
//! `echo file NAME…` attaches a small text file per NAME to the reply (a
//! fixed hook for the file path end to end).

wit_bindgen::generate!({ path: "../../../wit", world: "agent", generate_all });

use kennel::guest::memory::{self, Scope};
use kennel::guest::tools;
use kennel::guest::types::File;

struct Echo;

impl Guest for Echo {
    fn handle(_ctx: Context, msg: Message) -> Result<Reply, String> {
        let turn = memory::get(Scope::Session, "turns")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        memory::set(Scope::Session, "turns", &turn.to_string())?;
        let text = msg.text.trim();
        if let Some(expr) = text.strip_prefix("calc ") {
            let args = format!("{{\"expression\":{}}}", json_string(expr));
            let result = match tools::call("calc", &args) {
                Ok(v) => v,
                Err(e) => format!("calc failed: {e}"),
            };
            return Ok(Reply {
                files: Vec::new(),
                text: format!("echo: {expr} = {result} (turn {turn})"),
            });
        }
        let mut reply = format!("echo: {text} (turn {turn})");
        for a in &msg.attachments {
            let kind = if a.is_image { "image" } else { "text" };
            reply.push_str(&format!("\n[{}, {} bytes, {kind}]", a.name, a.size));
        }
        let files = match text.strip_prefix("echo file ") {
            Some(names) => names
                .split_whitespace()
                .map(|name| File {
                    name: name.to_string(),
                    mime_type: "text/plain".into(),
                    bytes: format!("file {name} from echo (turn {turn})\n").into_bytes(),
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Reply { files, text: reply })
    }
}

/// Minimal JSON string encoder (keeps this guest free of serde).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

export!(Echo);
