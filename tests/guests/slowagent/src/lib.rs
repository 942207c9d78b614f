//! Test-only agent. Text `wait` makes it wait on the host (one `llm.chat`
//! call, which the test's fake LLM answers slowly); `spin N` burns CPU for N
//! million iterations; anything else replies with the build's `VERSION`
//! (set at compile time by the test through `SLOWAGENT_VERSION`).

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
