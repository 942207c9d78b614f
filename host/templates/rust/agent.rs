//! `{{name}}` agent: answers every message with what it heard and how much
//! history the host gave it. Replace `answer` with your own logic; the host's
//! `llm`, `tools` and `memory` imports are in `kennel::guest::*`.

wit_bindgen::generate!({ path: "wit", world: "agent", generate_all });

struct Agent;

impl Guest for Agent {
    fn handle(ctx: Context, msg: Message) -> Result<Reply, String> {
        Ok(Reply {
            text: answer(&msg.text, ctx.history.len()),
            files: Vec::new(),
        })
    }
}

export!(Agent);

/// The reply to `text` after `history` earlier turns.
pub fn answer(text: &str, history: usize) -> String {
    format!("You said: {text} ({history} earlier turns)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_with_the_text() {
        assert_eq!(super::answer("hi", 2), "You said: hi (2 earlier turns)");
    }
}
