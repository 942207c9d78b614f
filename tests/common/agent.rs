//! Test doubles for calling agents through the runtime directly: one
//! [`Services`] whose LLM answers after a delay and whose tools go to the
//! runtime, and builders for a context and a message.

use std::sync::Arc;
use std::time::Duration;

use kennel::runtime::{AgentServices, BoxFuture, Runtime, llm, memory, types};

/// Host services for direct runtime calls: no memory, tools through `rt`
/// (if any), an LLM that answers "slept" after `delay`.
pub struct Services {
    pub delay: Duration,
    pub rt: Option<Runtime>,
}

impl Services {
    pub fn llm_after(delay: Duration) -> Arc<dyn AgentServices> {
        Arc::new(Services { delay, rt: None })
    }
}

impl AgentServices for Services {
    fn memory_get(&self, _: memory::Scope, _: &str) -> Option<String> {
        None
    }
    fn memory_set<'a>(
        &'a self,
        _: memory::Scope,
        _: &'a str,
        _: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn memory_delete<'a>(&'a self, _: memory::Scope, _: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }
    fn memory_keys(&self, _: memory::Scope, _: &str) -> Vec<String> {
        vec![]
    }
    fn tools_available(&self) -> BoxFuture<'_, Vec<types::ToolSpec>> {
        Box::pin(async { vec![] })
    }
    fn tool_call<'a>(
        &'a self,
        name: &'a str,
        args: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            match &self.rt {
                Some(rt) => rt
                    .tool_invoke(name, args)
                    .await
                    .unwrap_or_else(|e| Err(e.to_string())),
                None => Err("no tools".into()),
            }
        })
    }
    fn llm_chat(&self, _: llm::Request) -> BoxFuture<'_, Result<llm::Response, llm::LlmError>> {
        let d = self.delay;
        Box::pin(async move {
            tokio::time::sleep(d).await;
            Ok(llm::Response {
                message: llm::ChatMessage {
                    parts: Vec::new(),
                    role: "assistant".into(),
                    content: "slept".into(),
                    tool_calls: vec![],
                    tool_call_id: None,
                },
                finish_reason: "stop".into(),
                usage: llm::Usage {
                    prompt_tokens: 1,
                    completion_tokens: 1,
                },
                model: "m".into(),
            })
        })
    }
}

pub fn ctx() -> types::Context {
    types::Context {
        session_id: "s".into(),
        route: "r".into(),
        system_prompt: String::new(),
        history: vec![],
        scan_flags: vec![],
        can_stream: false,
    }
}

pub fn msg(text: &str) -> types::Message {
    types::Message {
        post_id: "p".into(),
        text: text.into(),
        user_id: "u".into(),
        user_name: "u".into(),
        channel_id: "c".into(),
        channel_name: "c".into(),
        channel_kind: types::ChannelKind::Console,
        thread_id: None,
        attachments: vec![],
    }
}
