//! The Mattermost channel: turns WebSocket events and REST catch-up into
//! gateway calls and posts the answers, exactly once.
//!
//! Per post, in order: drop own posts, system posts (`type` ≠ ""), deleted
//! posts and edits → record in the inbox (a post already `replied`/`skipped`
//! is a duplicate) → catch-up window → addressing (DMs always; elsewhere a
//! mention unless the route has `require_mention = false`) → access gate →
//! a per-session worker (posts of one session are answered one at a time, in
//! arrival order) → typing indicator while the turn runs → reply (streamed
//! edits at most once a second, split to the limit, `root_id` by reply mode,
//! `props.kennel_reply_to`) → inbox `replied`.
//!
//! Exactly once: the inbox entry is written before any work and marked after
//! the reply is posted. A post found `received` after a restart is answered
//! again only if no reply carrying its id in `kennel_reply_to` exists.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::api::{Api, ApiError, Post, User};
use super::text;
use super::ws::{self, WsMsg, WsOptions};
use crate::gateway::{Admission, Admitted, Attachment, Gateway, Incoming, StreamFn};
use crate::policy::AllowList;
use crate::routing::{ChannelInfo, ChannelKind};
use crate::session;
use crate::store::{InboxState, Store, now_ms};

/// Largest attachment read as text.
const MAX_ATTACHMENT: u64 = 256 * 1024;
/// Attachments read per post.
const MAX_ATTACHMENTS: usize = 5;
/// How long a verified username is trusted before it is looked up again.
const USER_TTL: Duration = Duration::from_secs(300);
/// Typing indicator refresh.
const TYPING_EVERY: Duration = Duration::from_secs(4);
/// Minimum gap between two edits of a streamed reply.
pub const STREAM_EDIT_GAP: Duration = Duration::from_secs(1);
/// Idle per-session workers exit after this long.
const WORKER_IDLE: Duration = Duration::from_secs(60);

/// Failures that stop `kennel run`.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("stopping: {0}")]
    Ws(#[from] ws::WsFatal),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
}

/// Where a post came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Live,
    CatchUp,
    Recovery,
}

/// Channel facts carried by a `posted` event (or looked up).
#[derive(Debug, Clone, Default)]
struct Meta {
    channel_type: String,
    channel_name: String,
    display_name: String,
    team_id: String,
    mentions: Vec<String>,
}

struct Job {
    admitted: Admitted,
    post: Post,
    recovering: bool,
}

/// Options of [`run`].
#[derive(Debug, Clone, Default)]
pub struct BotOptions {
    pub ws: WsOptions,
}

/// The running bot. Shared by the event loop, workers and the control socket.
pub struct Bot {
    api: Api,
    me: User,
    gateway: Arc<Gateway>,
    /// The allowlist and the config entries it was built from (rebuilt when a
    /// config reload changes them).
    allow: Mutex<(AllowList, Vec<String>)>,
    users: Mutex<HashMap<String, (String, Instant)>>,
    channels: Mutex<HashMap<String, ChannelInfo>>,
    teams: Mutex<HashMap<String, String>>,
    in_flight: Mutex<HashSet<String>>,
    workers: Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connects, checks the token, resolves the allowlist and serves until a
/// fatal error (bad credentials) or until `shutdown` resolves.
pub async fn run(
    gateway: Arc<Gateway>,
    opts: BotOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), BotError> {
    let cfg = gateway.settings().config.clone();
    let api = Api::new(&cfg.mattermost.url, &cfg.mattermost.token)?;
    let me = api.me().await?;
    tracing::info!(bot = %me.username, id = %me.id, server = %api.site(), "authenticated");
    let mut allow = AllowList::from_entries(&cfg.access.allowed_users);
    for name in allow.names.clone() {
        match api.user_by_username(&name).await {
            Ok(u) => {
                allow.ids.insert(u.id);
            }
            Err(ApiError::NotFound { .. }) if crate::policy::is_mattermost_id(&name) => {}
            Err(e) => tracing::warn!(user = %name, "allowed user not found: {e}"),
        }
    }
    if allow.is_empty() && cfg.access.dm_policy != crate::config::DmPolicy::Open {
        tracing::warn!(
            "no allowed users: everyone is denied. Set MATTERMOST_ALLOWED_USERS (ids or usernames), \
             [access] allowed_users, or dm_policy = \"pairing\" / \"open\""
        );
    }
    let store = gateway.store().clone();
    if store.setting("home_channel")?.is_none() && !cfg.mattermost.home_channel.is_empty() {
        store.set_setting("home_channel", &cfg.mattermost.home_channel)?;
    }
    let pruned = store
        .inbox_prune((cfg.mattermost.catch_up_window_secs * 2 * 1000).max(7 * 24 * 3600 * 1000))?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned old inbox entries");
    }
    let bot = Arc::new(Bot {
        api: api.clone(),
        me,
        gateway,
        allow: Mutex::new((allow, cfg.access.allowed_users.clone())),
        users: Mutex::new(HashMap::new()),
        channels: Mutex::new(HashMap::new()),
        teams: Mutex::new(HashMap::new()),
        in_flight: Mutex::new(HashSet::new()),
        workers: Mutex::new(HashMap::new()),
    });
    let _control = super::control::serve(bot.clone(), &store)?;
    let (tx, mut rx) = mpsc::channel::<WsMsg>(256);
    let mut ws_task = tokio::spawn(ws::run(api, tx, opts.ws.clone()));
    let mut recovered = false;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("shutting down");
                ws_task.abort();
                return Ok(());
            }
            res = &mut ws_task => return ws_result(res),
            msg = rx.recv() => match msg {
                // The WebSocket task ended (it dropped its sender): report why.
                None => return ws_result((&mut ws_task).await),
                Some(WsMsg::Connected { catch_up, .. }) => {
                    if !recovered {
                        recovered = true;
                        bot.recover().await;
                    }
                    if catch_up {
                        bot.catch_up().await;
                    }
                }
                Some(WsMsg::Event(v)) => bot.on_event(&v).await,
            }
        }
    }
}

fn ws_result(res: Result<Result<(), ws::WsFatal>, tokio::task::JoinError>) -> Result<(), BotError> {
    match res {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(BotError::Config(format!("WebSocket task failed: {e}"))),
    }
}

impl Bot {
    pub fn api(&self) -> &Api {
        &self.api
    }
    pub fn me(&self) -> &User {
        &self.me
    }
    pub fn store(&self) -> &Arc<Store> {
        self.gateway.store()
    }

    async fn on_event(self: &Arc<Self>, v: &Value) {
        if v.get("event").and_then(|e| e.as_str()) != Some("posted") {
            return;
        }
        let data = &v["data"];
        let post: Post = match data
            .get("post")
            .and_then(|p| p.as_str())
            .map(serde_json::from_str::<Post>)
        {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                tracing::warn!("ignoring posted event with an undecodable post: {e}");
                return;
            }
            None => {
                tracing::warn!("ignoring posted event without a post");
                return;
            }
        };
        let s = |k: &str| {
            data.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        let meta = Meta {
            channel_type: s("channel_type"),
            channel_name: s("channel_name"),
            display_name: s("channel_display_name"),
            team_id: s("team_id"),
            mentions: text::parse_mentions(data.get("mentions")),
        };
        self.handle_post(post, Some(meta), Source::Live).await;
    }

    /// Answers posts left `received` by a previous run (crash between receive and reply).
    async fn recover(self: &Arc<Self>) {
        let unfinished = match self.store().inbox_unfinished() {
            Ok(u) => u,
            Err(e) => {
                tracing::error!("cannot read the inbox: {e}");
                return;
            }
        };
        for (id, _) in unfinished {
            match self.api.post(&id).await {
                Ok(p) => {
                    tracing::info!(post = %id, "recovering a post interrupted by a restart");
                    self.handle_post(p, None, Source::Recovery).await;
                }
                Err(e) => {
                    tracing::warn!(post = %id, "interrupted post cannot be read any more: {e}");
                    let _ = self.store().inbox_finish(
                        &id,
                        InboxState::Skipped,
                        &[],
                        "unreadable after restart",
                    );
                }
            }
        }
    }

    /// Catches up every channel with a cursor over REST (`since`).
    async fn catch_up(self: &Arc<Self>) {
        let cursors = match self.store().cursors() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot read channel cursors: {e}");
                return;
            }
        };
        for (channel, since) in cursors {
            match self.api.posts_since(&channel, since).await {
                Ok(list) => {
                    let mut posts: Vec<Post> = list
                        .posts
                        .into_values()
                        .filter(|p| p.channel_id == channel && p.create_at as u64 > since)
                        .collect();
                    posts.sort_by_key(|p| p.create_at);
                    if !posts.is_empty() {
                        tracing::info!(channel = %channel, posts = posts.len(), "catching up");
                    }
                    for p in posts {
                        self.handle_post(p, None, Source::CatchUp).await;
                    }
                }
                Err(e) => tracing::warn!(channel = %channel, "catch-up failed: {e}"),
            }
        }
    }

    async fn handle_post(self: &Arc<Self>, post: Post, meta: Option<Meta>, source: Source) {
        if post.user_id == self.me.id || !post.kind.is_empty() || post.delete_at > 0 {
            if let Err(e) = self
                .store()
                .cursor_advance(&post.channel_id, post.create_at.max(post.update_at) as u64)
            {
                tracing::error!("cannot store the channel cursor: {e}");
            }
            return;
        }
        if let Err(e) = self
            .store()
            .cursor_advance(&post.channel_id, post.create_at.max(post.update_at) as u64)
        {
            tracing::error!("cannot store the channel cursor: {e}");
        }
        let store = self.store().clone();
        let recovering = match store.inbox_record(&post.id, &post.channel_id) {
            Ok(None) => source == Source::Recovery,
            Ok(Some(e))
                if e.state == InboxState::Received && !lock(&self.in_flight).contains(&post.id) =>
            {
                true
            }
            Ok(Some(_)) => return, // duplicate (already answered, skipped, or in progress)
            Err(e) => {
                tracing::error!(post = %post.id, "cannot record the post in the inbox; not answering it now: {e}");
                return;
            }
        };
        let window = self
            .gateway
            .settings()
            .config
            .mattermost
            .catch_up_window_secs
            * 1000;
        if source != Source::Live && now_ms().saturating_sub(post.create_at as u64) > window {
            tracing::info!(post = %post.id, channel = %post.channel_id, "skipping a post older than the catch-up window");
            self.finish(
                &post.id,
                InboxState::Skipped,
                &[],
                "older than the catch-up window",
            );
            return;
        }
        let info = match self.channel_info(&post.channel_id, meta.as_ref()).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(post = %post.id, "cannot look up the channel; will retry on the next catch-up: {e}");
                return;
            }
        };
        let settings = self.gateway.settings();
        let cfg = &settings.config;
        let route = self.gateway.route_for(&info);
        let require_mention = route
            .as_ref()
            .and_then(|r| r.require_mention)
            .unwrap_or(cfg.mattermost.require_mention);
        let mentions = meta.map(|m| m.mentions).unwrap_or_default();
        let addressed = info.kind.is_direct()
            || !require_mention
            || text::is_addressed(
                &post.message,
                &mentions,
                &self.me.id,
                &self.me.username,
                cfg.mattermost.channel_wide_mentions,
            );
        if !addressed {
            self.finish(
                &post.id,
                InboxState::Skipped,
                &[],
                "not addressed to the bot",
            );
            return;
        }
        let listed = self.is_listed(&post.user_id).await;
        let user_name = self
            .user_name(&post.user_id)
            .await
            .unwrap_or_else(|| post.user_id.clone());
        let incoming = Incoming {
            post_id: post.id.clone(),
            text: text::strip_mention(&post.message, &self.me.username),
            user_id: post.user_id.clone(),
            user_name,
            channel: info,
            root_id: Some(post.root_id.clone()).filter(|r| !r.is_empty()),
            attachments: Vec::new(),
        };
        let admission = match self.gateway.admit(incoming, listed) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(post = %post.id, "access check failed; not answering: {e}");
                return;
            }
        };
        match admission {
            Admission::Denied(reason) => {
                tracing::info!(post = %post.id, user = %post.user_id, reason, "denied");
                self.finish(&post.id, InboxState::Skipped, &[], reason);
            }
            Admission::Pairing(reply) => {
                let root = Some(post.root_id.as_str()).filter(|r| !r.is_empty());
                match self.post_parts(&post, &[reply], root).await {
                    Ok(ids) => self.finish(&post.id, InboxState::Replied, &ids, "pairing"),
                    Err(e) => {
                        tracing::error!(post = %post.id, "cannot post the pairing reply: {e}")
                    }
                }
            }
            Admission::Allowed(admitted) => {
                let mut admitted = *admitted;
                // Attachments are fetched only for admitted users.
                if !post.file_ids.is_empty() {
                    let atts = self.attachments(&post).await;
                    admitted = admitted.with_attachments(atts);
                }
                let key = self.gateway.session_base(admitted.message());
                lock(&self.in_flight).insert(post.id.clone());
                self.enqueue(
                    key,
                    Job {
                        admitted,
                        post,
                        recovering,
                    },
                );
            }
        }
    }

    fn finish(&self, post_id: &str, state: InboxState, ids: &[String], reason: &str) {
        if let Err(e) = self.store().inbox_finish(post_id, state, ids, reason) {
            tracing::error!(post = %post_id, "cannot update the inbox: {e}");
        }
    }

    /// Sends a job to the session's worker, starting one if needed.
    fn enqueue(self: &Arc<Self>, key: String, job: Job) {
        let mut workers = lock(&self.workers);
        let job = match workers.get(&key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        workers.insert(key.clone(), tx);
        let bot = self.clone();
        tokio::spawn(async move { bot.worker(key, rx).await });
    }

    async fn worker(self: Arc<Self>, key: String, mut rx: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = match tokio::time::timeout(WORKER_IDLE, rx.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(_) => {
                    // Idle: retire, unless a job arrived meanwhile.
                    let mut workers = lock(&self.workers);
                    match rx.try_recv() {
                        Ok(job) => {
                            drop(workers);
                            self.answer(job).await;
                            continue;
                        }
                        Err(_) => {
                            workers.remove(&key);
                            return;
                        }
                    }
                }
            };
            self.answer(job).await;
        }
    }

    /// Runs one admitted post through the gateway and posts the reply.
    async fn answer(self: &Arc<Self>, job: Job) {
        let post = job.post;
        let done = |bot: &Bot| {
            lock(&bot.in_flight).remove(&post.id);
        };
        if job.recovering {
            match self.existing_reply(&post).await {
                Ok(Some(ids)) => {
                    tracing::info!(post = %post.id, "a reply was already posted before the restart; not answering twice");
                    self.finish(
                        &post.id,
                        InboxState::Replied,
                        &ids,
                        "reply found after restart",
                    );
                    done(self);
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(post = %post.id, "cannot check for an earlier reply; will retry later: {e}");
                    done(self);
                    return;
                }
            }
        }
        let default_mode = self.gateway.settings().config.mattermost.reply_mode;
        let msg = job.admitted.message();
        let mode = self
            .gateway
            .route_for(&msg.channel)
            .and_then(|r| r.reply_mode)
            .unwrap_or(default_mode);
        let root = session::reply_root(mode, &post.id, msg.root_id.as_deref());
        let typing = {
            let api = self.api.clone();
            let (me, channel, parent) = (self.me.id.clone(), post.channel_id.clone(), root.clone());
            tokio::spawn(async move {
                loop {
                    if let Err(e) = api.typing(&me, &channel, parent.as_deref()).await {
                        tracing::debug!("typing indicator failed: {e}");
                    }
                    tokio::time::sleep(TYPING_EVERY).await;
                }
            })
        };
        let streamer = Streamer::start(self.api.clone(), &post, root.clone());
        let result = self
            .gateway
            .handle(job.admitted, Some(streamer.sink()))
            .await;
        typing.abort();
        let streamed_id = streamer.finish().await;
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(post = %post.id, "cannot answer: {e}");
                done(self);
                return;
            }
        };
        if outcome.text.is_empty() {
            self.finish(
                &post.id,
                InboxState::Skipped,
                &[],
                "nothing to answer (no route)",
            );
            done(self);
            return;
        }
        let parts = text::split(&outcome.text, text::MAX_RUNES);
        let result = match streamed_id {
            Some(first) => {
                let mut ids = vec![first.clone()];
                let patched = self.api.patch_post(&first, &parts[0]).await;
                match patched {
                    Ok(_) => match self
                        .post_parts_from(&post, &parts[1..], root.as_deref(), 1)
                        .await
                    {
                        Ok(more) => {
                            ids.extend(more);
                            Ok(ids)
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            None => self.post_parts(&post, &parts, root.as_deref()).await,
        };
        match result {
            Ok(ids) => {
                tracing::info!(post = %post.id, replies = ids.len(), kind = ?outcome.kind, "answered");
                self.finish(&post.id, InboxState::Replied, &ids, "");
            }
            // The inbox keeps `received`: the next catch-up or restart retries,
            // and the kennel_reply_to check prevents a duplicate.
            Err(e) => tracing::error!(post = %post.id, "cannot post the reply: {e}"),
        }
        done(self);
    }

    async fn post_parts(
        &self,
        post: &Post,
        parts: &[String],
        root: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        self.post_parts_from(post, parts, root, 0).await
    }

    async fn post_parts_from(
        &self,
        post: &Post,
        parts: &[String],
        root: Option<&str>,
        offset: usize,
    ) -> Result<Vec<String>, ApiError> {
        let mut ids = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let n = i + offset;
            let props = json!({ "kennel_reply_to": post.id, "kennel_part": n });
            let created = self
                .api
                .create_post(
                    &post.channel_id,
                    part,
                    root,
                    props,
                    &format!("{}:{n}", post.id),
                )
                .await?;
            ids.push(created.id);
        }
        Ok(ids)
    }

    /// Reply posts of this bot that answer `post` (after a crash).
    async fn existing_reply(&self, post: &Post) -> Result<Option<Vec<String>>, ApiError> {
        let since = (post.create_at.max(1) - 1) as u64;
        let list = self.api.posts_since(&post.channel_id, since).await?;
        let mut ids: Vec<(i64, String)> = list
            .posts
            .values()
            .filter(|p| p.user_id == self.me.id && p.reply_to() == Some(post.id.as_str()))
            .map(|p| (p.create_at, p.id.clone()))
            .collect();
        ids.sort();
        Ok((!ids.is_empty()).then(|| ids.into_iter().map(|(_, id)| id).collect()))
    }

    async fn channel_info(&self, id: &str, meta: Option<&Meta>) -> Result<ChannelInfo, ApiError> {
        if let Some(c) = lock(&self.channels).get(id) {
            return Ok(c.clone());
        }
        let (kind, name, display, team_id) = match meta.filter(|m| !m.channel_type.is_empty()) {
            Some(m) => (
                m.channel_type.clone(),
                m.channel_name.clone(),
                m.display_name.clone(),
                m.team_id.clone(),
            ),
            None => {
                let c = self.api.channel(id).await?;
                (c.kind, c.name, c.display_name, c.team_id)
            }
        };
        let team = if team_id.is_empty() {
            None
        } else {
            self.team_name(&team_id).await
        };
        let info = ChannelInfo {
            id: id.to_string(),
            name,
            display_name: display,
            kind: ChannelKind::from_mattermost(&kind),
            team,
        };
        lock(&self.channels).insert(id.to_string(), info.clone());
        Ok(info)
    }

    async fn team_name(&self, id: &str) -> Option<String> {
        if let Some(n) = lock(&self.teams).get(id) {
            return Some(n.clone());
        }
        match self.api.team(id).await {
            Ok(t) => {
                lock(&self.teams).insert(id.to_string(), t.name.clone());
                Some(t.name)
            }
            Err(e) => {
                tracing::warn!(team = %id, "cannot look up the team: {e}");
                None
            }
        }
    }

    /// The user's username as the API reports it (cached for [`USER_TTL`]).
    async fn user_name(&self, id: &str) -> Option<String> {
        if let Some((n, at)) = lock(&self.users).get(id)
            && at.elapsed() < USER_TTL
        {
            return Some(n.clone());
        }
        match self.api.user(id).await {
            Ok(u) => {
                lock(&self.users).insert(id.to_string(), (u.username.clone(), Instant::now()));
                Some(u.username)
            }
            Err(e) => {
                tracing::warn!(user = %id, "cannot look up the user: {e}");
                None
            }
        }
    }

    /// On the allowlist by id, or by a username verified through the API (re-resolved on a miss).
    async fn is_listed(&self, user_id: &str) -> bool {
        let entries = self.gateway.settings().config.access.allowed_users.clone();
        let (by_id, names_empty) = {
            let mut guard = lock(&self.allow);
            if guard.1 != entries {
                // The config was reloaded: usernames are verified on their next miss.
                tracing::info!(
                    entries = entries.len(),
                    "allowlist changed by a config reload"
                );
                *guard = (AllowList::from_entries(&entries), entries);
            }
            let a = &guard.0;
            (a.ids.contains(user_id), a.names.is_empty())
        };
        if by_id {
            return true;
        }
        if names_empty {
            return false;
        }
        match self.user_name(user_id).await {
            Some(name) => {
                let mut guard = lock(&self.allow);
                let a = &mut guard.0;
                if a.contains(user_id, Some(&name)) {
                    a.ids.insert(user_id.to_string());
                    true
                } else {
                    false
                }
            }
            None => false,
        }
    }

    async fn attachments(&self, post: &Post) -> Vec<Attachment> {
        let mut out = Vec::new();
        for id in post.file_ids.iter().take(MAX_ATTACHMENTS) {
            let info = match self.api.file_info(id).await {
                Ok(i) => i,
                Err(e) => {
                    tracing::warn!(file = %id, "cannot read attachment info: {e}");
                    continue;
                }
            };
            let textual = info.mime_type.starts_with("text/")
                || matches!(
                    info.mime_type.as_str(),
                    "application/json"
                        | "application/xml"
                        | "application/x-yaml"
                        | "application/toml"
                );
            let text = if textual && info.size <= MAX_ATTACHMENT {
                match self.api.file(id).await {
                    Ok(b) => String::from_utf8(b.to_vec()).ok(),
                    Err(e) => {
                        tracing::warn!(file = %id, "cannot download attachment: {e}");
                        None
                    }
                }
            } else {
                None
            };
            out.push(Attachment {
                name: info.name,
                mime_type: info.mime_type,
                size: info.size,
                text,
            });
        }
        out
    }

    /// Posts a proactive message to the home channel.
    pub async fn say(&self, message: &str) -> Result<String, String> {
        let home = self
            .store()
            .setting("home_channel")
            .map_err(|e| e.to_string())?
            .ok_or("no home channel: send /sethome in a channel or set MATTERMOST_HOME_CHANNEL")?;
        let pending = format!("say:{}", now_ms());
        let p = self
            .api
            .create_post(
                &home,
                message,
                None,
                json!({ "kennel_proactive": true }),
                &pending,
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(p.id)
    }

    /// Tells a newly approved user they can talk to the bot.
    pub async fn notify_approved(&self, user_id: &str) {
        match self.api.direct_channel(&self.me.id, user_id).await {
            Ok(ch) => {
                let pending = format!("approved:{user_id}:{}", now_ms());
                if let Err(e) = self
                    .api
                    .create_post(
                        &ch.id,
                        "You've been approved. Go ahead, I'm listening!",
                        None,
                        json!({}),
                        &pending,
                    )
                    .await
                {
                    tracing::warn!("cannot notify the approved user: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot open a DM with the approved user: {e}"),
        }
    }
}

/// Posts a reply while it streams: created on the first text, then edited at
/// most once per [`STREAM_EDIT_GAP`].
struct Streamer {
    tx: tokio::sync::watch::Sender<String>,
    task: tokio::task::JoinHandle<Option<String>>,
}

impl Streamer {
    fn start(api: Api, post: &Post, root: Option<String>) -> Streamer {
        let (tx, mut rx) = tokio::sync::watch::channel(String::new());
        let (channel, reply_to) = (post.channel_id.clone(), post.id.clone());
        let task = tokio::spawn(async move {
            let mut id: Option<String> = None;
            let mut shown = String::new();
            let mut last = Instant::now() - STREAM_EDIT_GAP;
            loop {
                let open = rx.changed().await.is_ok();
                let wait = STREAM_EDIT_GAP.saturating_sub(last.elapsed());
                if open && !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let text = preview(&rx.borrow_and_update());
                if !text.is_empty() && text != shown {
                    let r = match &id {
                        None => api
                            .create_post(
                                &channel,
                                &text,
                                root.as_deref(),
                                json!({ "kennel_reply_to": reply_to, "kennel_part": 0 }),
                                &format!("{reply_to}:0"),
                            )
                            .await
                            .map(|p| id = Some(p.id)),
                        Some(pid) => api.patch_post(pid, &text).await.map(|_| ()),
                    };
                    match r {
                        Ok(()) => shown = text,
                        Err(e) => tracing::warn!("streaming update failed: {e}"),
                    }
                    last = Instant::now();
                }
                if !open {
                    return id;
                }
            }
        });
        Streamer { tx, task }
    }

    fn sink(&self) -> StreamFn {
        let tx = self.tx.clone();
        Arc::new(move |t: &str| {
            let _ = tx.send(t.to_string());
        })
    }

    /// Stops streaming; returns the streamed post's id, if one was created.
    async fn finish(self) -> Option<String> {
        drop(self.tx);
        self.task.await.ok().flatten()
    }
}

/// The first part of a streaming text, cut to fit one post.
fn preview(s: &str) -> String {
    if s.chars().count() <= text::MAX_RUNES - 64 {
        return s.to_string();
    }
    let cut: String = s.chars().take(text::MAX_RUNES - 64).collect();
    format!("{cut} …")
}
