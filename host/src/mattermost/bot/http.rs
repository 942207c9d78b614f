//! The bot's HTTP listener (`[http] listen`, off by default) and the native
//! `/kennel` slash command (`[commands] public_url`).
//!
//! | path | answer |
//! |---|---|
//! | `GET /healthz` | 200 while the process runs |
//! | `GET /readyz` | 200 when the WebSocket is up, the store takes a write and every routed guest is loaded; else 503 with the reason |
//! | `GET /metrics` | Prometheus text format ([`crate::metrics`]) |
//! | `POST /mattermost/command` | slash-command callback: token checked in constant time against the team's command token, the same access gate as messages, an ephemeral answer |
//!
//! Registration creates `/TRIGGER` in each of the bot's teams, or updates the
//! one it created before (never a duplicate).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{Bot, lock};
use crate::gateway::Admission;
use crate::mattermost::api::Command;

/// Path of the slash-command callback under `public_url`.
pub const COMMAND_PATH: &str = "/mattermost/command";
/// Subcommands `/kennel` answers.
const SUBCOMMANDS: &[&str] = &["help", "reset", "whoami", "jobs", "sethome"];

/// Serves the listener until the returned task is aborted.
pub(super) async fn serve(
    bot: Arc<Bot>,
    listen: &str,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on [http] listen = {listen:?}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, "HTTP listener up (/healthz, /readyz, /metrics)");
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(COMMAND_PATH, post(command))
        .with_state(bot);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("HTTP listener stopped: {e}");
        }
    }))
}

async fn readyz(State(bot): State<Arc<Bot>>) -> Response {
    match bot.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(bot): State<Arc<Bot>>) -> Response {
    let m = crate::metrics::get();
    m.queue_depth.set(lock(&bot.in_flight).len() as i64);
    if let Ok(meta) = std::fs::metadata(bot.store().path()) {
        m.store_bytes.set(meta.len() as i64);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

/// The fields of a slash-command callback the bot reads.
#[derive(Debug, Deserialize)]
struct CommandForm {
    #[serde(default)]
    team_id: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    token: String,
}

async fn command(
    State(bot): State<Arc<Bot>>,
    headers: HeaderMap,
    Form(form): Form<CommandForm>,
) -> Response {
    // Mattermost sends the token in the header and in the form; older
    // servers only in the form.
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token "))
        .unwrap_or(&form.token);
    let registered = lock(&bot.command_tokens).get(&form.team_id).cloned();
    let manual = Some(bot.gateway.settings().config.commands.manual_token.clone());
    let matches = |t: Option<String>| {
        t.is_some_and(|t| !t.is_empty() && bool::from(t.as_bytes().ct_eq(given.as_bytes())))
    };
    // Both are compared, always: the time taken says nothing about which.
    let ok = matches(registered) | matches(manual);
    if !ok {
        tracing::warn!(team = %form.team_id, "slash command with a wrong token refused");
        return (StatusCode::UNAUTHORIZED, "invalid command token\n").into_response();
    }
    let text = bot.slash(&form).await;
    Json(json!({ "response_type": "ephemeral", "text": text })).into_response()
}

impl Bot {
    /// Why the bot is not ready, if it is not.
    async fn readiness(&self) -> Result<(), String> {
        if !self.connected.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the WebSocket is not connected".into());
        }
        self.store()
            .set_setting("ready_probe", &crate::store::now_ms().to_string())
            .await
            .map_err(|e| format!("the store does not take writes: {e}"))?;
        let settings = self.gateway.settings();
        let runtime = self.gateway.runtime();
        for r in &settings.routes.routes {
            for name in std::iter::once(&r.agent).chain(&r.scanners).chain(&r.tools) {
                if crate::config::HOST_TOOLS.contains(&name.as_str()) {
                    continue;
                }
                if runtime.get(name).is_none() {
                    return Err(format!(
                        "guest `{name}` of route \"{}\" is not loaded",
                        r.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Answers `/kennel SUB` for a user who passed the access gate.
    async fn slash(&self, form: &CommandForm) -> String {
        let sub = form
            .text
            .split_whitespace()
            .next()
            .unwrap_or("help")
            .to_ascii_lowercase();
        if !SUBCOMMANDS.contains(&sub.as_str()) {
            return format!(
                "Usage: `/{} help | reset | whoami | jobs [rm ID] | sethome`. To talk to me, send a message.",
                self.gateway.settings().config.commands.trigger
            );
        }
        let info = match self.channel_info(&form.channel_id, None).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(channel = %form.channel_id, "slash command in an unknown channel: {e}");
                return "Sorry, I can't see this channel.".into();
            }
        };
        let rest: Vec<&str> = form.text.split_whitespace().skip(1).collect();
        let (incoming, listed) = self
            .incoming(
                &form.user_id,
                info,
                format!("/{sub} {}", rest.join(" ")).trim().to_string(),
                format!("slash:{}", crate::store::now_ms()),
                None,
            )
            .await;
        match self.gateway.admit(incoming, listed).await {
            Ok(Admission::Allowed(admitted)) => match self.gateway.handle(*admitted, None).await {
                Ok(o) => o.text,
                Err(e) => {
                    tracing::error!("slash command failed: {e}");
                    "Sorry, that failed.".into()
                }
            },
            Ok(_) => {
                crate::metrics::post("denied");
                "Sorry, you are not allowed to use this bot.".into()
            }
            Err(e) => {
                tracing::error!("slash command gate failed: {e}");
                "Sorry, that failed.".into()
            }
        }
    }

    /// Creates or updates `/TRIGGER` in every team of the bot and keeps each
    /// team's command token for checking callbacks.
    pub(super) async fn register_commands(&self) {
        let cfg = self.gateway.settings().config.commands.clone();
        let base = cfg.public_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return;
        }
        let url = format!("{base}{COMMAND_PATH}");
        let teams = match self.api.my_teams().await {
            Ok(t) => t,
            Err(e) => {
                return tracing::error!("cannot list teams to register /{}: {e}", cfg.trigger);
            }
        };
        let mut tokens = HashMap::new();
        for team in teams {
            match self.register_in(&team.id, &cfg.trigger, &url).await {
                Ok(token) => {
                    tokens.insert(team.id.clone(), token);
                }
                Err(e) => tracing::error!(
                    team = %team.name,
                    "cannot register /{}: {e}. Without the permission to manage slash commands, create it by hand (System Console → Integrations → Slash Commands, URL {url}, method POST)",
                    cfg.trigger
                ),
            }
        }
        *lock(&self.command_tokens) = tokens;
    }

    async fn register_in(
        &self,
        team: &str,
        trigger: &str,
        url: &str,
    ) -> Result<String, crate::mattermost::api::ApiError> {
        let want = Command {
            team_id: team.to_string(),
            trigger: trigger.to_string(),
            method: "P".into(),
            url: url.to_string(),
            display_name: "Kennel".into(),
            description: "Talk to the Kennel bot".into(),
            auto_complete: true,
            auto_complete_desc: "help, reset, whoami, jobs, sethome".into(),
            auto_complete_hint: "help | reset | whoami | jobs | sethome".into(),
            username: self.me.username.clone(),
            ..Default::default()
        };
        let existing = self.api.team_commands(team).await?;
        let mine = existing
            .into_iter()
            .find(|c| c.trigger == trigger && c.delete_at == 0 && c.creator_id == self.me.id);
        match mine {
            Some(c) if c.url == want.url && c.method == want.method => {
                tracing::info!(team, trigger, "slash command already registered");
                Ok(c.token)
            }
            Some(c) => {
                let updated = Command {
                    id: c.id.clone(),
                    token: c.token.clone(),
                    creator_id: c.creator_id.clone(),
                    ..want
                };
                let out = self.api.update_command(&updated).await?;
                tracing::info!(team, trigger, "slash command updated");
                Ok(if out.token.is_empty() {
                    c.token
                } else {
                    out.token
                })
            }
            None => {
                let out = self.api.create_command(&want).await?;
                tracing::info!(team, trigger, "slash command registered");
                Ok(out.token)
            }
        }
    }
}
