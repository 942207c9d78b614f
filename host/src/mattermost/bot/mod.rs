//! The Mattermost channel: turns WebSocket events and REST catch-up into
//! gateway calls and posts the answers, exactly once.
//!
//! Per post: drop own, system, deleted and edited posts → **record** in the
//! inbox (one write that also raises the channel cursor, queued without
//! waiting for its commit; a known or in-flight post is a duplicate) →
//! catch-up window → addressing → bots and webhooks (ignored unless the
//! route sets `allow_bots`) → access gate → the session's bounded
//! queue → attachments → a turn slot (at most `max_concurrent_turns` at
//! once; more wait) → gateway, the slot released → **reply** → inbox
//! `replied` with the transcript and usage in the same write.
//!
//! Nothing waits on the event loop: each channel has its own task for the
//! steps up to admission (in arrival order), each session its own worker
//! for turns (in arrival order).
//!
//! Submodules: [`jobs`] delivers scheduled runs; [`http`] serves
//! `/healthz`, `/readyz`, `/metrics` and the `/kennel` slash command.
//! Shutdown drains: no new turn starts, turns in flight finish and answers
//! under way are posted (bounded by `drain_timeout_secs`).
//!
//! | promise | how |
//! |---|---|
//! | no post lost | the cursor only moves with an inbox record; catch-up re-reads from `cursor − 5 min` and keeps what the inbox does not know; channels with posts the bot never saw are discovered on every (re)connect (`last_post_at` against the last time the host was alive) |
//! | none answered twice | the post is claimed in memory and its inbox row queued before any work, and nothing is posted for it before that row is durable (a crash before then leaves the cursor behind the post: catch-up reads it again); reply parts carry random `pending_post_id`s stored with the row, and a create's answer counts only if it is the bot's own post with this post's `kennel_reply_to` and part |
//! | nothing left half done | a post still `received` after an error or a crash is retried with backoff (the reply found on the server, the stored answer, or a new turn); after [`MAX_ATTEMPTS`] the user gets an apology and the row is `failed`; an interrupted stream is finished or marked interrupted |
//! | no flood | at most `max_reply_parts` posts per answer; full session queues answer "busy" |

mod cache;
mod events;
mod http;
mod jobs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use super::api::{Api, ApiError, Post, User};
use super::control;
use super::files::FILES_PER_POST;
use super::text;
use super::ws::{self, WsMsg, WsOptions};
use crate::gateway::{Admission, Admitted, Gateway, Incoming, ReplyFile, StreamFn, ThreadPost};
use crate::policy::AllowList;
use crate::routing::{ChannelInfo, ChannelKind};
use crate::runtime::BoxFuture;
use crate::session;
use crate::store::{Durable, InboxEntry, InboxState, Retention, Store, TurnRecord, now_ms};

/// Why a post was skipped when it did not address the bot (an edit that
/// adds the mention makes it answerable).
const NOT_ADDRESSED: &str = "not addressed to the bot";
/// The file an answer too long for `max_reply_parts` posts is sent as.
const LONG_ANSWER_FILE: &str = "answer.md";
/// Reactions that replace `ack_reaction` when a turn ends.
const ACK_DONE: &str = "white_check_mark";
const ACK_FAILED: &str = "x";
/// How long a verified username, a channel's name and kind, or a team's
/// name is trusted before it is looked up again (renames are seen then).
const LOOKUP_TTL: Duration = Duration::from_secs(300);
/// A turn still running after this long shows the typing indicator.
const TYPING_DELAY: Duration = Duration::from_millis(800);
/// Typing indicator refresh.
const TYPING_EVERY: Duration = Duration::from_secs(4);
/// Minimum gap between two edits of a streamed reply; a streamed answer that
/// completes sooner is posted once, without edits.
pub const STREAM_EDIT_GAP: Duration = Duration::from_secs(1);
/// Idle per-channel and per-session queues retire after this long. A new
/// one costs a task spawn; an idle one holds ~1.5 KB, so a burst of 10,000
/// one-message sessions would otherwise keep ~15 MB alive for this long.
/// Measured (`cargo bench -p kennel --bench e2e`, RSS right after 10,000
/// one-message sessions): 2 s 57.4–60.9 MB, 1 s 45.2–50.5 MB.
const WORKER_IDLE: Duration = Duration::from_secs(1);
/// Attempts to answer a post before the user gets an apology.
pub const MAX_ATTEMPTS: u32 = 4;
/// Catch-up re-reads this far behind a channel's cursor (posts recorded out
/// of order); the inbox drops what was seen.
const CURSOR_SLACK_MS: u64 = 5 * 60 * 1000;
/// How often the host notes that it is alive, retries, and prunes.
const HEARTBEAT: Duration = Duration::from_secs(1);
const MAINTAIN_EVERY: Duration = Duration::from_secs(600);
/// Interrupted-stream note.
const INTERRUPTED: &str =
    "\n\n_(This answer was interrupted by a restart and is incomplete. Please ask again.)_";
/// Apology after every attempt failed.
const APOLOGY: &str =
    "Sorry, I couldn't answer this message (something kept failing). Please try again later.";
/// Full session queue.
const BUSY: &str =
    "I'm still working on your earlier messages. Please send this one again in a moment.";

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
    Retry,
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

/// A post waiting for the channel's admission task (boxed in the queue, as [`Job`]).
struct Arrival {
    post: Post,
    meta: Option<Meta>,
    source: Source,
}

/// An admitted post waiting for its session's worker. Boxed in the queues:
/// a channel allocates room for 32 messages at a time, and 10,000 idle
/// sessions must not each hold 32 posts' worth of memory.
type Job = Box<JobData>;

struct JobData {
    admitted: Admitted,
    post: Post,
    entry: InboxEntry,
    /// Live posts get "busy" from a full queue; caught-up and retried ones
    /// wait for room (the user did not flood anything: the bot was away).
    live: bool,
}

/// Options of [`run`].
#[derive(Debug, Clone, Default)]
pub struct BotOptions {
    pub ws: WsOptions,
}

/// The running bot. Shared by the event loop, the channel and session tasks
/// and the control socket.
pub struct Bot {
    api: Api,
    me: User,
    gateway: Arc<Gateway>,
    /// The allowlist and the config entries it was built from (rebuilt when a
    /// config reload changes them).
    allow: Mutex<(AllowList, Vec<String>)>,
    users: Mutex<cache::Cache<User>>,
    channels: Mutex<cache::Cache<ChannelInfo>>,
    teams: Mutex<cache::Cache<String>>,
    /// Posts being worked on now (never picked up by a retry meanwhile),
    /// each with its inbox row's acknowledgement: a live post's turn starts
    /// while the row is being committed, and nothing is posted before it is.
    in_flight: Mutex<HashMap<String, Durable>>,
    arrivals: Mutex<HashMap<String, mpsc::UnboundedSender<Box<Arrival>>>>,
    workers: Mutex<HashMap<String, mpsc::Sender<Job>>>,
    turns: Semaphore,
    /// One permit per answer under way, from admission to the inbox's
    /// final state (a turn slot covers only the turn): shutdown takes them
    /// all, so it waits for answers being posted too.
    answering: Semaphore,
    /// Set at shutdown: no new turn starts (the post stays in the inbox and
    /// is answered after the restart).
    draining: std::sync::atomic::AtomicBool,
    /// Scheduler state: rate limits of proactive posts, runs under way.
    jobs: jobs::JobState,
    /// The WebSocket is up (for `/readyz`).
    connected: std::sync::atomic::AtomicBool,
    /// Command tokens of the registered `/kennel` slash command, by team id.
    command_tokens: Mutex<HashMap<String, String>>,
    /// Edited text of posts not answered yet (used when their turn starts).
    edits: Mutex<events::Edits>,
}

/// A finished turn: the gateway's result, the post it streamed into (if
/// any), when it started.
struct Turned {
    result: Result<crate::gateway::Outcome, crate::gateway::GatewayError>,
    streamed: Option<Post>,
    started: Instant,
}

/// More answers than can ever be under way at once (one per session).
const ANSWERS: u32 = 1 << 24;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connects, checks the token, binds the allowlist's usernames and serves
/// until a fatal error (bad credentials) or until `shutdown` resolves.
pub async fn run(
    gateway: Arc<Gateway>,
    opts: BotOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), BotError> {
    let cfg = gateway.settings().config.clone();
    let api = Api::new(&cfg.mattermost.url, &cfg.mattermost.token)?;
    let me = api.me().await?;
    tracing::info!(bot = %me.username, id = %me.id, server = %api.site(), "authenticated");
    let store = gateway.store().clone();
    let allow = resolve_allowlist(&api, &store, &cfg.access.allowed_users).await;
    if cfg.access.dm_policy == crate::config::DmPolicy::Open {
        tracing::warn!(
            "!!! dm_policy is OPEN: ANYONE on this Mattermost server can talk to the bot and use \
             its tools and LLM budget (MATTERMOST_ALLOW_ALL_USERS=true or [access] dm_policy = \"open\"). \
             Set MATTERMOST_ALLOWED_USERS and remove it unless that is what you want. !!!"
        );
    } else if allow.is_empty() {
        tracing::warn!(
            "no allowed users: everyone is denied. Set MATTERMOST_ALLOWED_USERS (ids or usernames), \
             [access] allowed_users, or dm_policy = \"pairing\" / \"open\""
        );
    }
    if store.setting("home_channel")?.is_none() && !cfg.mattermost.home_channel.is_empty() {
        store
            .set_setting("home_channel", &cfg.mattermost.home_channel)
            .await?;
    }
    let bot = Arc::new(Bot {
        api: api.clone(),
        me,
        gateway,
        allow: Mutex::new((allow, cfg.access.allowed_users.clone())),
        users: Mutex::new(cache::Cache::new(LOOKUP_TTL)),
        channels: Mutex::new(cache::Cache::new(LOOKUP_TTL)),
        teams: Mutex::new(cache::Cache::new(LOOKUP_TTL)),
        in_flight: Mutex::new(HashMap::new()),
        arrivals: Mutex::new(HashMap::new()),
        workers: Mutex::new(HashMap::new()),
        turns: Semaphore::new(cfg.mattermost.max_concurrent_turns.max(1)),
        answering: Semaphore::new(ANSWERS as usize),
        draining: std::sync::atomic::AtomicBool::new(false),
        jobs: Default::default(),
        connected: std::sync::atomic::AtomicBool::new(false),
        command_tokens: Mutex::new(HashMap::new()),
        edits: Mutex::new(events::Edits::default()),
    });
    let data = store.path().parent().unwrap_or(std::path::Path::new("."));
    let _control = control::serve(bot.clone(), data).map_err(BotError::Config)?;
    let last_alive = store
        .setting("last_alive")?
        .and_then(|v| v.parse::<u64>().ok());
    let http = match cfg.http.listen.trim() {
        "" => None,
        listen => Some(
            http::serve(bot.clone(), listen)
                .await
                .map_err(BotError::Config)?,
        ),
    };
    let housekeeping = tokio::spawn(bot.clone().housekeeping());
    let scheduler = tokio::spawn(bot.clone().scheduler());
    let (tx, mut rx) = mpsc::channel::<WsMsg>(256);
    let mut ws_task = tokio::spawn(ws::run(api, tx, opts.ws.clone()));
    tokio::pin!(shutdown);
    // The last moment the host is known to have seen events: the first
    // connect catches up from the previous run's heartbeat, later reconnects
    // from the last event of the connection that dropped.
    let mut seen_until = last_alive;
    let watchdog = crate::service::start_watchdog();
    let mut ready = false;
    let result = loop {
        tokio::select! {
            _ = &mut shutdown => {
                crate::service::notify_stopping();
                ws_task.abort();
                scheduler.abort();
                bot.drain(&cfg.mattermost).await;
                break Ok(());
            }
            res = &mut ws_task => break ws_result(res),
            msg = rx.recv() => match msg {
                // The WebSocket task ended (it dropped its sender): report why.
                None => break ws_result((&mut ws_task).await),
                Some(WsMsg::Disconnected) => {
                    bot.connected.store(false, std::sync::atomic::Ordering::SeqCst);
                }
                Some(WsMsg::Connected { .. }) => {
                    bot.connected.store(true, std::sync::atomic::Ordering::SeqCst);
                    if !std::mem::replace(&mut ready, true) {
                        crate::service::notify_ready();
                    }
                    // Every (re)connect: discover and catch up, off the event loop.
                    tokio::spawn(bot.clone().catch_up(seen_until));
                }
                Some(WsMsg::Event(v)) => {
                    seen_until = Some(now_ms());
                    bot.on_event(&v);
                }
            }
        }
    };
    housekeeping.abort();
    scheduler.abort();
    if let Some(h) = http {
        h.abort();
    }
    if let Some(w) = watchdog {
        w.abort();
    }
    result
}

fn ws_result(res: Result<Result<(), ws::WsFatal>, tokio::task::JoinError>) -> Result<(), BotError> {
    match res {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(BotError::Config(format!("WebSocket task failed: {e}"))),
    }
}

/// The allowlist with every listed username bound to (and resolved as) the
/// id it first resolved to. A name now held by another id stays unresolved.
async fn resolve_allowlist(api: &Api, store: &Store, entries: &[String]) -> AllowList {
    let mut allow = AllowList::from_entries(entries);
    for name in allow.names.clone() {
        if let Ok(Some(id)) = store.username_binding(&name) {
            allow.ids.insert(id);
            continue;
        }
        match api.user_by_username(&name).await {
            Ok(u) => match store.bind_username(&name, &u.id).await {
                Ok(bound) => {
                    allow.ids.insert(bound);
                }
                Err(e) => tracing::error!(user = %name, "cannot bind the allowed username: {e}"),
            },
            Err(ApiError::NotFound { .. }) if crate::policy::is_mattermost_id(&name) => {}
            Err(e) => tracing::warn!(user = %name, "allowed user not found: {e}"),
        }
    }
    allow
}

impl control::Target for Bot {
    fn store(&self) -> &Arc<Store> {
        self.gateway.store()
    }
    fn say<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.say(text))
    }
    fn notify_approved<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.notify_approved(user_id))
    }
}

impl Bot {
    /// Shutdown: lets no new turn start and waits (bounded) for the turns in
    /// flight to finish and their answers to be posted. A turn cut off by
    /// the bound stays `received` in the inbox and is answered after the
    /// restart.
    async fn drain(&self, cfg: &crate::config::MattermostConfig) {
        use std::sync::atomic::Ordering;
        self.draining.store(true, Ordering::SeqCst);
        let all = cfg.max_concurrent_turns.max(1);
        let running = all - self.turns.available_permits().min(all);
        tracing::info!(
            turns = running,
            "shutting down: finishing the turns in flight"
        );
        let limit = Duration::from_secs(cfg.drain_timeout_secs);
        // Answers first: one waiting for a turn slot gets it, sees the
        // drain and ends; holding every slot first would block it until the
        // bound. Then the slots, for scheduled jobs' turns.
        let settled = async {
            let answers = self.answering.acquire_many(ANSWERS).await;
            let turns = self.turns.acquire_many(all as u32).await;
            (answers, turns)
        };
        match tokio::time::timeout(limit, settled).await {
            Ok(_) => tracing::info!("shut down cleanly"),
            Err(_) => tracing::warn!(
                "turns or answers still under way after {limit:?}; they will be answered after the restart"
            ),
        }
    }

    pub fn api(&self) -> &Api {
        &self.api
    }
    pub fn me(&self) -> &User {
        &self.me
    }
    pub fn store(&self) -> &Arc<Store> {
        self.gateway.store()
    }

    /// Decodes a WebSocket event and hands posts to their channel's task.
    fn on_event(self: &Arc<Self>, v: &Value) {
        let data = &v["data"];
        match v.get("event").and_then(|e| e.as_str()) {
            Some("posted") => self.on_posted(data),
            Some("post_edited") => self.on_edited(data),
            Some("reaction_added") => self.on_reaction(data, true),
            Some("reaction_removed") => self.on_reaction(data, false),
            _ => {}
        }
    }

    /// A new post: decoded and handed to its channel's task.
    fn on_posted(self: &Arc<Self>, data: &Value) {
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
        self.arrive(post, Some(meta), Source::Live);
    }

    /// Queues a post on its channel's admission task (started on demand).
    fn arrive(self: &Arc<Self>, post: Post, meta: Option<Meta>, source: Source) {
        let channel = post.channel_id.clone();
        let mut arrivals = lock(&self.arrivals);
        let arrival = Box::new(Arrival { post, meta, source });
        let arrival = match arrivals.get(&channel) {
            Some(tx) => match tx.send(arrival) {
                Ok(()) => return,
                Err(mpsc::error::SendError(a)) => a,
            },
            None => arrival,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(arrival);
        arrivals.insert(channel.clone(), tx);
        tokio::spawn(self.clone().admission_task(channel, rx));
    }

    async fn admission_task(
        self: Arc<Self>,
        channel: String,
        mut rx: mpsc::UnboundedReceiver<Box<Arrival>>,
    ) {
        while let Some(a) = next_or_retire(&mut rx, &self.arrivals, &channel).await {
            Box::pin(self.admit_post(a)).await;
        }
    }

    /// Every step up to the session queue: record, window, addressing, access.
    async fn admit_post(self: &Arc<Self>, a: Box<Arrival>) {
        let Arrival { post, meta, source } = *a;
        if post.user_id == self.me.id || !post.kind.is_empty() || post.delete_at > 0 {
            return;
        }
        let Some(entry) = self.record(&post, source).await else {
            return;
        };
        let window = self.window_ms();
        if source != Source::Live && now_ms().saturating_sub(post.create_at as u64) > window {
            tracing::info!(post = %post.id, channel = %post.channel_id, "skipping a post older than the catch-up window");
            self.finish(
                &post.id,
                InboxState::Skipped,
                &[],
                "older than the catch-up window",
                None,
            )
            .await;
            return;
        }
        let info = match self.channel_info(&post.channel_id, meta.as_ref()).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(post = %post.id, "cannot look up the channel; will retry: {e}");
                self.retry_later(&post.id).await;
                return;
            }
        };
        let mentions = meta.map(|m| m.mentions).unwrap_or_default();
        if let Some(reason) = self.not_for_us(&post, &info, &mentions).await {
            self.finish(&post.id, InboxState::Skipped, &[], reason, None)
                .await;
            return;
        }
        self.gate(post, info, entry, source == Source::Live).await;
    }

    /// Records the post; `None` when it must not be worked on now (known
    /// already, in progress, or the store failed — then a retry or the next
    /// catch-up picks it up).
    ///
    /// A new post is claimed in memory first (so a second copy of it, from
    /// catch-up or a repeated event, stops here), then its row is queued
    /// without waiting for the commit: the turn runs meanwhile, and the row
    /// usually shares a commit with the turn's first write (one disk sync
    /// fewer per message). [`Bot::deliver_and_finish`] and the streamer wait
    /// for the row before posting anything.
    async fn record(&self, post: &Post, source: Source) -> Option<InboxEntry> {
        if source == Source::Retry {
            return self.store().inbox_get(&post.id).ok().flatten();
        }
        if lock(&self.in_flight)
            .insert(post.id.clone(), Durable::Done)
            .is_some()
        {
            return None; // being worked on
        }
        let queued = match self.store().inbox_get(&post.id) {
            Ok(None) => self.store().inbox_record_queued(
                &post.id,
                &post.channel_id,
                post.create_at.max(0) as u64,
            ),
            Ok(Some(_)) => {
                // A duplicate; a `received` one is the retry task's.
                lock(&self.in_flight).remove(&post.id);
                return None;
            }
            Err(e) => Err(e),
        };
        match queued {
            Ok((entry, durable)) => {
                crate::metrics::post("received");
                lock(&self.in_flight).insert(post.id.clone(), durable);
                Some(entry)
            }
            Err(e) => {
                lock(&self.in_flight).remove(&post.id);
                tracing::error!(post = %post.id, "cannot record the post in the inbox; not answering it now: {e}");
                None
            }
        }
    }

    /// The acknowledgement of the post's inbox row (already done for a post
    /// not recorded by this process just now).
    fn durable(&self, post_id: &str) -> Durable {
        lock(&self.in_flight)
            .get(post_id)
            .cloned()
            .unwrap_or(Durable::Done)
    }

    /// Waits until the post's inbox row is durable.
    async fn recorded(&self, post_id: &str) -> Result<(), String> {
        self.durable(post_id).wait().await
    }

    /// Why a recorded post is not to be answered (not addressed, from a bot…).
    async fn not_for_us(
        &self,
        post: &Post,
        info: &ChannelInfo,
        mentions: &[String],
    ) -> Option<&'static str> {
        let settings = self.gateway.settings();
        let cfg = &settings.config;
        let route = self.gateway.route_for(info);
        let require_mention = route
            .as_ref()
            .and_then(|r| r.require_mention)
            .unwrap_or(cfg.mattermost.require_mention);
        let addressed = info.kind.is_direct()
            || !require_mention
            || text::is_addressed(
                &post.message,
                mentions,
                &self.me.id,
                &self.me.username,
                cfg.mattermost.channel_wide_mentions,
            );
        if !addressed {
            return Some(NOT_ADDRESSED);
        }
        let allow_bots = route.as_ref().is_some_and(|r| r.allow_bots);
        if !allow_bots && self.is_bot_post(post).await {
            tracing::info!(post = %post.id, "ignoring a post by a bot or webhook (allow_bots = false)");
            return Some("posted by a bot or webhook");
        }
        None
    }

    /// Webhook posts carry their creator's user id; bots' posts are marked.
    async fn is_bot_post(&self, post: &Post) -> bool {
        let flag = |k: &str| match post.props.get(k) {
            Some(Value::String(s)) => s == "true",
            Some(Value::Bool(b)) => *b,
            _ => false,
        };
        if flag("from_webhook") || flag("from_bot") {
            return true;
        }
        self.user(&post.user_id).await.is_some_and(|u| u.is_bot)
    }

    /// The access gate, then the session queue.
    async fn gate(self: &Arc<Self>, post: Post, info: ChannelInfo, entry: InboxEntry, live: bool) {
        let (incoming, listed) = self
            .incoming(
                &post.user_id,
                info,
                text::strip_mention(&post.message, &self.me.username),
                post.id.clone(),
                Some(post.root_id.clone()).filter(|r| !r.is_empty()),
            )
            .await;
        match self.gateway.admit(incoming, listed).await {
            Ok(Admission::Denied(reason)) => {
                crate::metrics::post("denied");
                tracing::info!(post = %post.id, user = %post.user_id, reason, "denied");
                self.finish(&post.id, InboxState::Skipped, &[], reason, None)
                    .await;
            }
            Ok(Admission::Pairing(reply)) => {
                let root = Some(post.root_id.clone()).filter(|r| !r.is_empty());
                self.deliver_and_finish(
                    &post,
                    &entry,
                    Outgoing::text(&[reply]),
                    root.as_deref(),
                    &[],
                    None,
                )
                .await;
            }
            Ok(Admission::Allowed(admitted)) => {
                let key = self.gateway.session_base(admitted.message());
                self.enqueue(
                    key,
                    Box::new(JobData {
                        admitted: *admitted,
                        post,
                        entry,
                        live,
                    }),
                )
                .await;
            }
            Err(e) => {
                tracing::error!(post = %post.id, "access check failed: {e}");
                self.retry_later(&post.id).await;
            }
        }
    }

    /// Sends a job to the session's worker (starting one if needed). A full
    /// queue answers "busy" instead of waiting without bound.
    async fn enqueue(self: &Arc<Self>, key: String, job: Job) {
        enum Next {
            Done,
            Wait(mpsc::Sender<Job>, Job),
            Busy(Job),
        }
        let next = {
            let mut workers = lock(&self.workers);
            match workers.get(&key).cloned() {
                None => {
                    self.start_worker(&mut workers, key.clone(), job);
                    Next::Done
                }
                Some(tx) => match tx.try_send(job) {
                    Ok(()) => Next::Done,
                    Err(mpsc::error::TrySendError::Full(job)) if !job.live => Next::Wait(tx, job),
                    Err(mpsc::error::TrySendError::Full(job)) => Next::Busy(job),
                    Err(mpsc::error::TrySendError::Closed(job)) => {
                        workers.remove(&key);
                        self.start_worker(&mut workers, key.clone(), job);
                        Next::Done
                    }
                },
            }
        };
        match next {
            Next::Done => {}
            Next::Wait(tx, job) => {
                if let Err(mpsc::error::SendError(job)) = tx.send(job).await {
                    // The worker retired meanwhile: start a new one.
                    let mut workers = lock(&self.workers);
                    self.start_worker(&mut workers, key, job);
                }
            }
            Next::Busy(job) => {
                tracing::warn!(session = %key, post = %job.post.id, "session queue full; answering busy");
                let root = Some(job.post.root_id.clone()).filter(|r| !r.is_empty());
                self.deliver_and_finish(
                    &job.post,
                    &job.entry,
                    Outgoing::text(&[BUSY.to_string()]),
                    root.as_deref(),
                    &[],
                    None,
                )
                .await;
            }
        }
    }

    fn start_worker(
        self: &Arc<Self>,
        workers: &mut HashMap<String, mpsc::Sender<Job>>,
        key: String,
        job: Job,
    ) {
        let depth = self
            .gateway
            .settings()
            .config
            .mattermost
            .session_queue
            .max(1);
        let (tx, rx) = mpsc::channel(depth);
        let _ = tx.try_send(job);
        workers.insert(key.clone(), tx);
        tokio::spawn(self.clone().worker(key, rx));
    }

    /// A session's worker. The turn future is boxed so that an idle worker
    /// (one per recent session) holds a few hundred bytes, not a turn's state.
    async fn worker(self: Arc<Self>, key: String, mut rx: mpsc::Receiver<Job>) {
        while let Some(job) = next_or_retire(&mut rx, &self.workers, &key).await {
            Box::pin(self.answer(job)).await;
        }
    }

    /// Answers one admitted post: resumes an earlier attempt when its reply
    /// (or stored answer) exists, else fetches its files and thread, runs a
    /// turn, then uploads, posts and records.
    async fn answer(self: &Arc<Self>, job: Job) {
        let Ok(_answering) = self.answering.acquire().await else {
            return;
        };
        let JobData {
            admitted,
            post,
            entry,
            ..
        } = *job;
        let root = self.reply_root(&admitted);
        if (entry.attempts > 1 || entry.answer.is_some())
            && self.try_resume(&post, &entry, root.as_deref()).await
        {
            return;
        }
        // Downloads happen before the turn slot: a big file delays only its own session.
        let admitted = self.prepare(admitted, &post).await;
        let Some(Turned {
            result,
            streamed,
            started,
        }) = self.take_turn(admitted, &post, &entry, root.clone()).await
        else {
            return;
        };
        let outcome = match result {
            Ok(o) => {
                count_outcome(&o.kind, started.elapsed());
                o
            }
            Err(e) => {
                tracing::error!(post = %post.id, "cannot answer: {e}");
                self.acknowledge(&post.id, Ack::Failed).await;
                self.retry_later(&post.id).await;
                return;
            }
        };
        if outcome.text.is_empty() && outcome.files.is_empty() && streamed.is_none() {
            self.acknowledge(&post.id, Ack::Off).await;
            self.finish(
                &post.id,
                InboxState::Skipped,
                &[],
                "nothing to answer (no route)",
                None,
            )
            .await;
            return;
        }
        self.acknowledge(&post.id, Ack::after(&outcome.kind)).await;
        self.reply(&post, &entry, root.as_deref(), outcome, streamed)
            .await;
    }

    /// Runs the post's turn in a turn slot, streaming as it goes; `None` at
    /// shutdown (the post stays `received`). The slot is released when the
    /// turn ends: posting the answer and recording it do not hold one (a
    /// slot bounds guest instances and LLM calls, not Mattermost requests).
    async fn take_turn(
        &self,
        admitted: Admitted,
        post: &Post,
        entry: &InboxEntry,
        root: Option<String>,
    ) -> Option<Turned> {
        let _slot = self.turns.acquire().await.ok()?;
        if self.draining.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let admitted = match lock(&self.edits).take(&post.id) {
            Some(text) => admitted.with_text(text::strip_mention(&text, &self.me.username)),
            None => admitted,
        };
        self.acknowledge(&post.id, Ack::Working(entry.attempts > 1))
            .await;
        let typing = self.typing_after_delay(post, root.clone());
        let recorded = self.durable(&post.id);
        let streamer = Streamer::start(self.api.clone(), post, entry, root, recorded);
        let started = Instant::now();
        let result = self.gateway.handle(admitted, Some(streamer.sink())).await;
        typing.abort();
        let streamed = streamer.finish().await;
        Some(Turned {
            result,
            streamed,
            started,
        })
    }

    /// Resumes an earlier attempt if its reply (or stored answer) exists;
    /// true when the post needs nothing more from this attempt.
    async fn try_resume(&self, post: &Post, entry: &InboxEntry, root: Option<&str>) -> bool {
        match self.existing_reply(post, entry).await {
            Ok(existing) if !existing.is_empty() || entry.answer.is_some() => {
                self.resume(post, entry, root, existing).await;
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(post = %post.id, "cannot check for an earlier reply; will retry: {e}");
                self.retry_later(&post.id).await;
                true
            }
        }
    }

    /// Uploads the answer's files and posts it. An answer longer than
    /// `max_reply_parts` posts goes out as `answer.md` with a short summary
    /// post (cut instead, with a note, if the upload fails).
    async fn reply(
        &self,
        post: &Post,
        entry: &InboxEntry,
        root: Option<&str>,
        outcome: crate::gateway::Outcome,
        streamed: Option<Post>,
    ) {
        let mut text = outcome.text;
        let mut files = outcome.files;
        let max_parts = self
            .gateway
            .settings()
            .config
            .mattermost
            .max_reply_parts
            .max(1);
        let long = text::split(&text, text::MAX_RUNES).len() > max_parts;
        let full = long.then(|| text.clone());
        if let Some(full) = &full {
            files.insert(
                0,
                ReplyFile::new(LONG_ANSWER_FILE, "text/markdown", full.clone().into_bytes()),
            );
            text = text::summary(full, LONG_ANSWER_FILE);
        }
        let (file_ids, failed) = match files.is_empty() {
            true => (Vec::new(), Vec::new()),
            false => super::files::upload(&self.api, &post.channel_id, &files).await,
        };
        match (&full, failed.first()) {
            (Some(full), Some(first)) if first == LONG_ANSWER_FILE => text = full.clone(),
            _ => {}
        }
        let failed: Vec<&String> = failed.iter().filter(|n| *n != LONG_ANSWER_FILE).collect();
        if !failed.is_empty() {
            text.push_str(&format!(
                "\n\n_({} file(s) could not be attached: {})_",
                failed.len(),
                failed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let parts = self.split(&text);
        // Stored before posting whenever a retry could not rebuild it: several
        // parts, a stream, or files (uploaded once, attached on the resume).
        if (parts.len() > 1 || streamed.is_some() || !file_ids.is_empty())
            && let Err(e) = self
                .store()
                .inbox_answer(&post.id, &text, Some(&file_ids))
                .await
        {
            tracing::error!(post = %post.id, "cannot store the answer before posting it: {e}");
        }
        let existing: Vec<Post> = streamed.into_iter().collect();
        let out = Outgoing {
            parts: &parts,
            file_ids: &file_ids,
        };
        self.deliver_and_finish(post, entry, out, root, &existing, outcome.record)
            .await;
    }

    /// Fetches what an admitted post's turn needs from the server: its files
    /// (within the `[files]` caps) and the thread's other posts. Never before
    /// admission: denied users cost nothing.
    async fn prepare(&self, admitted: Admitted, post: &Post) -> Admitted {
        let files = async {
            if post.file_ids.is_empty() {
                return Vec::new();
            }
            let caps = self.gateway.settings().config.files.clone();
            super::files::fetch(&self.api, post, &caps).await
        };
        let (files, thread) = tokio::join!(files, self.thread_context(post));
        admitted.with_attachments(files).with_thread(thread)
    }

    /// The other participants' posts in the post's thread since the bot's
    /// last reply there, oldest first (posts the bot answers are in the
    /// session's transcript already and are left out).
    async fn thread_context(&self, post: &Post) -> Vec<ThreadPost> {
        if post.root_id.is_empty() || !self.gateway.settings().config.mattermost.thread_context {
            return Vec::new();
        }
        let list = match self.api.thread(&post.root_id).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(post = %post.id, "cannot read the thread; answering without it: {e}");
                return Vec::new();
            }
        };
        let mut posts: Vec<Post> = list
            .posts
            .into_values()
            .filter(|p| p.kind.is_empty() && p.delete_at == 0 && p.create_at < post.create_at)
            .collect();
        posts.sort_by(|a, b| (a.create_at, &a.id).cmp(&(b.create_at, &b.id)));
        let since = posts
            .iter()
            .rposition(|p| p.user_id == self.me.id)
            .map_or(0, |i| i + 1);
        let mut out = Vec::new();
        for p in &posts[since..] {
            let answered = matches!(
                self.store().inbox_get(&p.id),
                Ok(Some(e)) if matches!(e.state, InboxState::Received | InboxState::Replied)
            );
            if answered || p.message.trim().is_empty() {
                continue;
            }
            let user_name = match self.user(&p.user_id).await {
                Some(u) => u.username,
                None => p.user_id.clone(),
            };
            out.push(ThreadPost {
                user_name,
                text: p.message.clone(),
            });
        }
        out
    }

    /// Puts the acknowledgement reaction on a post (`ack_reaction`, off by
    /// default): the working emoji while a turn runs, then a check mark or
    /// a cross. Failures are logged, never fatal.
    async fn acknowledge(&self, post_id: &str, ack: Ack) {
        let emoji = self
            .gateway
            .settings()
            .config
            .mattermost
            .ack_reaction
            .clone();
        if emoji.is_empty() {
            return;
        }
        let me = &self.me.id;
        let (add, remove): (Option<&str>, Vec<&str>) = match ack {
            // A retry takes back the cross of the failed attempt.
            Ack::Working(true) => (Some(emoji.as_str()), vec![ACK_FAILED]),
            Ack::Working(false) => (Some(emoji.as_str()), vec![]),
            Ack::Done => (Some(ACK_DONE), vec![emoji.as_str()]),
            Ack::Failed => (Some(ACK_FAILED), vec![emoji.as_str()]),
            Ack::Off => (None, vec![emoji.as_str()]),
        };
        for r in remove {
            if let Err(e) = self.api.remove_reaction(me, post_id, r).await {
                tracing::debug!(post = %post_id, "cannot remove reaction {r}: {e}");
            }
        }
        if let Some(a) = add
            && let Err(e) = self.api.add_reaction(me, post_id, a).await
        {
            tracing::warn!(post = %post_id, "cannot add reaction {a}: {e}");
        }
    }

    /// Finishes an earlier attempt: posts the parts still missing of a stored
    /// answer, or completes an interrupted stream with a note.
    async fn resume(
        &self,
        post: &Post,
        entry: &InboxEntry,
        root: Option<&str>,
        existing: Vec<Post>,
    ) {
        tracing::info!(post = %post.id, found = existing.len(), "resuming an interrupted answer");
        if let Some(answer) = &entry.answer {
            let parts = self.split(answer);
            let out = Outgoing {
                parts: &parts,
                file_ids: &entry.file_ids,
            };
            self.deliver_and_finish(post, entry, out, root, &existing, None)
                .await;
            return;
        }
        // The reply exists but its full text was never stored: a single post
        // (complete) or a stream cut off mid-way (marked as interrupted).
        let mut ids = Vec::new();
        for p in &existing {
            if p.props.get("kennel_streaming") == Some(&Value::Bool(true)) {
                let text = format!("{}{INTERRUPTED}", p.message.trim_end_matches(" …"));
                if let Err(e) = self
                    .api
                    .patch_post(&p.id, &text, reply_props(post, 0))
                    .await
                {
                    tracing::warn!(post = %post.id, "cannot mark the interrupted stream: {e}");
                    self.retry_later(&post.id).await;
                    return;
                }
            }
            ids.push(p.id.clone());
        }
        self.finish(
            &post.id,
            InboxState::Replied,
            &ids,
            "reply found after restart",
            None,
        )
        .await;
    }

    /// Posts the parts not yet on the server (`existing` holds posted ones by
    /// part number), then marks the post `replied` with `record`.
    async fn deliver_and_finish(
        &self,
        post: &Post,
        entry: &InboxEntry,
        out: Outgoing<'_>,
        root: Option<&str>,
        existing: &[Post],
        record: Option<TurnRecord>,
    ) {
        if let Err(e) = self.recorded(&post.id).await {
            // Nothing was posted; the cursor did not move past the post, so
            // the next catch-up reads it again.
            tracing::error!(post = %post.id, "the post's inbox row was not written; not answering it now: {e}");
            lock(&self.in_flight).remove(&post.id);
            return;
        }
        match self.deliver(post, entry, out, root, existing).await {
            Ok(ids) => {
                tracing::info!(post = %post.id, replies = ids.len(), "answered");
                self.finish(&post.id, InboxState::Replied, &ids, "", record)
                    .await;
            }
            Err(e) => {
                tracing::error!(post = %post.id, "cannot post the reply: {e}");
                // Keep the answer so that the retry posts it without a new
                // turn. A split answer was stored before posting; a single
                // part is the whole (unnumbered) answer.
                if let (Some(r), [only]) = (&record, out.parts)
                    && !r.turns.is_empty()
                    && let Err(e) = self.store().inbox_answer(&post.id, only, None).await
                {
                    tracing::error!(post = %post.id, "cannot store the answer for the retry: {e}");
                }
                self.retry_later(&post.id).await;
            }
        }
    }

    /// Posts each part (files ride on the last text part, at most
    /// [`FILES_PER_POST`] per post; further ones get posts of their own).
    async fn deliver(
        &self,
        post: &Post,
        entry: &InboxEntry,
        out: Outgoing<'_>,
        root: Option<&str>,
        existing: &[Post],
    ) -> Result<Vec<String>, ApiError> {
        let last = out.parts.len().saturating_sub(1);
        let plan = out.plan(existing.iter().any(|p| part_of(p) == Some(last)));
        let mut ids = Vec::with_capacity(plan.len());
        for (n, (part, files)) in plan.into_iter().enumerate() {
            if let Some(p) = existing.iter().find(|p| part_of(p) == Some(n)) {
                let streaming = p.props.get("kennel_streaming") == Some(&Value::Bool(true));
                if p.message != *part || streaming {
                    self.api
                        .patch_post(&p.id, part, reply_props(post, n))
                        .await?;
                }
                ids.push(p.id.clone());
                continue;
            }
            ids.push(self.create_part(post, entry, part, root, n, files).await?);
        }
        Ok(ids)
    }

    /// Creates part `n` with its stored pending id and accepts the answer
    /// only if it is the bot's own post for this part; anything else (a post
    /// that pre-empted the pending id) is ignored and the part created anew.
    async fn create_part(
        &self,
        post: &Post,
        entry: &InboxEntry,
        part: &str,
        root: Option<&str>,
        n: usize,
        files: &[String],
    ) -> Result<String, ApiError> {
        let mut pending = entry.pending_id(n);
        for _ in 0..2 {
            let created = self
                .api
                .create_post_with_files(
                    &post.channel_id,
                    part,
                    root,
                    reply_props(post, n),
                    &pending,
                    files,
                )
                .await?;
            if created.user_id == self.me.id
                && created.reply_to() == Some(post.id.as_str())
                && part_of(&created) == Some(n)
            {
                return Ok(created.id);
            }
            tracing::warn!(post = %post.id, other = %created.id, "the server answered a create with someone else's post; creating again with a fresh pending id");
            pending =
                crate::store::random_token(24).map_err(|e| ApiError::Decode(e.to_string()))?;
        }
        Err(ApiError::Decode(
            "the server keeps answering creates with another post".into(),
        ))
    }

    /// Counts a failed attempt: retried later with backoff (by
    /// [`Bot::housekeeping`]), or, after [`MAX_ATTEMPTS`], apologised for.
    async fn retry_later(&self, post_id: &str) {
        let attempts = self
            .store()
            .inbox_get(post_id)
            .ok()
            .flatten()
            .map(|e| e.attempts)
            .unwrap_or(1);
        if let Err(e) = self
            .store()
            .inbox_defer(post_id, self.backoff_ms(attempts))
            .await
        {
            tracing::error!(post = %post_id, "cannot schedule a retry: {e}");
        }
        lock(&self.in_flight).remove(post_id);
    }

    async fn finish(
        &self,
        post_id: &str,
        state: InboxState,
        ids: &[String],
        reason: &str,
        record: Option<TurnRecord>,
    ) {
        if let Err(e) = self
            .store()
            .inbox_finish(post_id, state, ids, reason, record)
            .await
        {
            tracing::error!(post = %post_id, "cannot update the inbox: {e}");
        }
        lock(&self.in_flight).remove(post_id);
        lock(&self.edits).forget(post_id);
    }

    /// Runs forever: notes that the host is alive, retries due posts,
    /// applies retention.
    async fn housekeeping(self: Arc<Self>) {
        let mut last_maintain = Instant::now();
        let mut first = true;
        let mut commands: Option<(String, String)> = None;
        loop {
            if !first {
                tokio::time::sleep(HEARTBEAT).await;
            }
            // The slash command: at start, and again when a reload changes it.
            let c = self.gateway.settings().config.commands.clone();
            if commands.as_ref() != Some(&(c.public_url.clone(), c.trigger.clone())) {
                commands = Some((c.public_url, c.trigger));
                let bot = self.clone();
                tokio::spawn(async move { bot.register_commands().await });
            }
            if let Err(e) = self
                .store()
                .set_setting("last_alive", &now_ms().to_string())
                .await
            {
                tracing::error!("cannot record the heartbeat: {e}");
            }
            self.clone().retry_due(first).await;
            first = false;
            if last_maintain.elapsed() >= MAINTAIN_EVERY {
                last_maintain = Instant::now();
                self.maintain().await;
            }
        }
    }

    /// Picks up `received` posts whose retry is due (after a restart: all of them).
    async fn retry_due(self: Arc<Self>, all: bool) {
        let unfinished = match self.store().inbox_unfinished() {
            Ok(u) => u,
            Err(e) => {
                tracing::error!("cannot read the inbox: {e}");
                return;
            }
        };
        let now = now_ms();
        for (id, entry) in unfinished {
            if (!all && entry.next_try_at > now)
                || lock(&self.in_flight)
                    .insert(id.clone(), Durable::Done)
                    .is_some()
            {
                continue;
            }
            let bot = self.clone();
            tokio::spawn(async move { bot.retry(id, entry).await });
        }
    }

    async fn retry(self: Arc<Self>, id: String, entry: InboxEntry) {
        let post = match self.api.post(&id).await {
            Ok(p) => p,
            Err(ApiError::NotFound { .. }) | Err(ApiError::Forbidden { .. }) => {
                tracing::warn!(post = %id, "a post waiting for an answer is gone; dropping it");
                self.finish(
                    &id,
                    InboxState::Skipped,
                    &[],
                    "post deleted or unreadable",
                    None,
                )
                .await;
                return;
            }
            Err(e) => {
                tracing::warn!(post = %id, "cannot read a post waiting for an answer: {e}");
                self.retry_later(&id).await;
                return;
            }
        };
        if entry.attempts >= MAX_ATTEMPTS {
            self.apologise(&post, &entry).await;
            return;
        }
        match self
            .store()
            .inbox_retry(&id, 2_000u64 << entry.attempts.min(5))
            .await
        {
            Ok(Some(_)) => {
                tracing::info!(post = %id, attempt = entry.attempts + 1, "retrying a post");
                self.arrive(post, None, Source::Retry);
            }
            Ok(None) => {
                lock(&self.in_flight).remove(&id);
            }
            Err(e) => {
                tracing::error!(post = %id, "cannot count the attempt: {e}");
                lock(&self.in_flight).remove(&id);
            }
        }
    }

    async fn apologise(&self, post: &Post, entry: &InboxEntry) {
        tracing::error!(post = %post.id, attempts = entry.attempts, "giving up on a post; apologising");
        let root = Some(post.root_id.clone()).filter(|r| !r.is_empty());
        let existing = self.existing_reply(post, entry).await.unwrap_or_default();
        let ids = if existing.is_empty() {
            self.create_part(post, entry, APOLOGY, root.as_deref(), 0, &[])
                .await
                .map(|id| vec![id])
                .unwrap_or_default()
        } else {
            existing.iter().map(|p| p.id.clone()).collect()
        };
        self.finish(
            &post.id,
            InboxState::Failed,
            &ids,
            "every attempt failed",
            None,
        )
        .await;
    }

    async fn maintain(&self) {
        let settings = self.gateway.settings();
        let cfg = &settings.config;
        let r = Retention {
            inbox_ms: self.inbox_retention_ms(),
            data_ms: cfg.storage.retention_days * 24 * 3_600_000,
            max_turns: settings
                .routes
                .routes
                .iter()
                .map(|r| r.max_turns)
                .max()
                .unwrap_or(0),
        };
        match self.store().maintain(r).await {
            Ok(removed) => tracing::info!(?removed, "retention applied"),
            Err(e) => tracing::error!("retention failed: {e}"),
        }
    }

    /// Wait before the attempt after attempt `n`: `retry_backoff_ms`, doubling, at most ×32.
    fn backoff_ms(&self, n: u32) -> u64 {
        let base = self.gateway.settings().config.mattermost.retry_backoff_ms;
        base << n.saturating_sub(1).min(5)
    }

    /// How long finished inbox rows are kept: well past the catch-up window.
    fn inbox_retention_ms(&self) -> u64 {
        let window = self.window_ms();
        (2 * window).max(window + 3_600_000)
    }

    fn window_ms(&self) -> u64 {
        self.gateway
            .settings()
            .config
            .mattermost
            .catch_up_window_secs
            * 1000
    }

    /// Reads what was posted while the bot was not listening: every known
    /// channel from its cursor, and every channel the bot is in whose last
    /// post is newer than the host's last sign of life.
    async fn catch_up(self: Arc<Self>, last_alive: Option<u64>) {
        // Posts older than the window are read too (and skipped with a log
        // line), back to what the inbox still remembers: never further, or a
        // post answered long ago could not be told from a new one.
        let floor = now_ms().saturating_sub(self.inbox_retention_ms() - CURSOR_SLACK_MS);
        let mut since: HashMap<String, u64> = match self.store().cursors() {
            Ok(c) => c
                .into_iter()
                .map(|(ch, at)| (ch, at.saturating_sub(CURSOR_SLACK_MS).max(floor)))
                .collect(),
            Err(e) => {
                tracing::error!("cannot read channel cursors: {e}");
                HashMap::new()
            }
        };
        // Never alive before: nothing was missed.
        let alive = last_alive.map(|t| t.saturating_sub(CURSOR_SLACK_MS).max(floor));
        if let Some(alive) = alive {
            for (id, last_post_at) in self.discover().await {
                if last_post_at > alive {
                    since.entry(id).or_insert(alive);
                }
            }
        }
        for (channel, from) in since {
            let posts = match self.api.posts_since_all(&channel, from).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(channel = %channel, "catch-up failed: {e}");
                    continue;
                }
            };
            let mut posts: Vec<Post> = posts
                .into_iter()
                .filter(|p| p.channel_id == channel && p.create_at as u64 > from)
                .filter(|p| matches!(self.store().inbox_get(&p.id), Ok(None)))
                .collect();
            posts.sort_by_key(|p| p.create_at);
            if !posts.is_empty() {
                tracing::info!(channel = %channel, posts = posts.len(), "catching up");
            }
            for p in posts {
                self.arrive(p, None, Source::CatchUp);
            }
        }
    }

    /// Channels the bot is a member of, with their `last_post_at`.
    async fn discover(&self) -> Vec<(String, u64)> {
        match self.api.my_all_channels(&self.me.id).await {
            Ok(chs) => return chs.into_iter().map(|c| (c.id, c.last_post_at)).collect(),
            Err(e) => tracing::debug!("listing all channels failed, listing per team: {e}"),
        }
        let mut out = Vec::new();
        match self.api.my_teams().await {
            Ok(teams) => {
                for t in teams {
                    match self.api.my_channels(&t.id).await {
                        Ok(chs) => out.extend(chs.into_iter().map(|c| (c.id, c.last_post_at))),
                        Err(e) => tracing::warn!(team = %t.id, "cannot list channels: {e}"),
                    }
                }
            }
            Err(e) => tracing::warn!("cannot list teams: {e}"),
        }
        out
    }

    fn split(&self, text: &str) -> Vec<String> {
        let max_parts = self.gateway.settings().config.mattermost.max_reply_parts;
        text::split_limited(text, text::MAX_RUNES, max_parts)
    }

    fn reply_root(&self, admitted: &Admitted) -> Option<String> {
        let msg = admitted.message();
        let mode = self.gateway.reply_mode(&msg.channel);
        session::reply_root(mode, &msg.post_id, msg.root_id.as_deref())
    }

    /// Shows "typing" only for turns still running after [`TYPING_DELAY`].
    fn typing_after_delay(&self, post: &Post, root: Option<String>) -> tokio::task::JoinHandle<()> {
        let api = self.api.clone();
        let (me, channel) = (self.me.id.clone(), post.channel_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(TYPING_DELAY).await;
            loop {
                if let Err(e) = api.typing(&me, &channel, root.as_deref()).await {
                    tracing::debug!("typing indicator failed: {e}");
                }
                tokio::time::sleep(TYPING_EVERY).await;
            }
        })
    }

    /// This bot's reply posts to `post` (after a crash or a failed attempt).
    async fn existing_reply(&self, post: &Post, entry: &InboxEntry) -> Result<Vec<Post>, ApiError> {
        let since = ((post.create_at.max(1) - 1) as u64).max(entry.replies_after);
        let list = self.api.posts_since_all(&post.channel_id, since).await?;
        let mut mine: Vec<Post> = list
            .into_iter()
            .filter(|p| p.user_id == self.me.id && p.reply_to() == Some(post.id.as_str()))
            .filter(|p| p.create_at.max(0) as u64 >= entry.replies_after)
            .collect();
        mine.sort_by_key(|p| (part_of(p).unwrap_or(0), p.create_at));
        mine.dedup_by_key(|p| part_of(p));
        Ok(mine)
    }

    async fn channel_info(&self, id: &str, meta: Option<&Meta>) -> Result<ChannelInfo, ApiError> {
        if let Some(c) = lock(&self.channels).get(id) {
            return Ok(c);
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
        lock(&self.channels).insert(id, info.clone());
        Ok(info)
    }

    async fn team_name(&self, id: &str) -> Option<String> {
        if let Some(n) = lock(&self.teams).get(id) {
            return Some(n);
        }
        match self.api.team(id).await {
            Ok(t) => {
                lock(&self.teams).insert(id, t.name.clone());
                Some(t.name)
            }
            Err(e) => {
                tracing::warn!(team = %id, "cannot look up the team: {e}");
                None
            }
        }
    }

    /// The user as the API reports it (cached for [`LOOKUP_TTL`]).
    async fn user(&self, id: &str) -> Option<User> {
        if let Some(u) = lock(&self.users).get(id) {
            return Some(u);
        }
        match self.api.user(id).await {
            Ok(u) => {
                lock(&self.users).insert(id, u.clone());
                Some(u)
            }
            Err(e) => {
                tracing::warn!(user = %id, "cannot look up the user: {e}");
                None
            }
        }
    }

    /// A user's message as the gateway sees it, and whether the user is
    /// listed: the name and the admin check come from the API (never from
    /// display data in the event). One place for posts and slash commands.
    async fn incoming(
        &self,
        user_id: &str,
        channel: ChannelInfo,
        text: String,
        post_id: String,
        root_id: Option<String>,
    ) -> (Incoming, bool) {
        let settings = self.gateway.settings();
        let listed = self.is_listed(user_id).await;
        let admin = self
            .is_member(&settings.config.access.admins, user_id)
            .await;
        let user_name = self
            .user(user_id)
            .await
            .map(|u| u.username)
            .unwrap_or_else(|| user_id.to_string());
        let incoming = Incoming {
            post_id,
            text,
            user_id: user_id.to_string(),
            user_name,
            channel,
            root_id,
            attachments: Vec::new(),
            thread: Vec::new(),
            admin,
        };
        (incoming, listed)
    }

    /// On the allowlist by id, or by a listed username bound to this id.
    async fn is_listed(&self, user_id: &str) -> bool {
        let settings = self.gateway.settings();
        let entries = &settings.config.access.allowed_users;
        let by_id = {
            let mut guard = lock(&self.allow);
            if guard.1 != *entries {
                // The config was reloaded: usernames are checked on their next miss.
                tracing::info!(
                    entries = entries.len(),
                    "allowlist changed by a config reload"
                );
                *guard = (AllowList::from_entries(entries), entries.clone());
            }
            guard.0.ids.contains(user_id)
        };
        if by_id {
            return true;
        }
        let listed = self.is_member(entries, user_id).await;
        if listed {
            lock(&self.allow).0.ids.insert(user_id.to_string());
        }
        listed
    }

    /// Whether `user_id` is in `entries` (ids, or usernames). A username
    /// counts only for the id it was first bound to: someone who takes the
    /// name later (rename, new account) is refused.
    async fn is_member(&self, entries: &[String], user_id: &str) -> bool {
        if entries.is_empty() {
            return false;
        }
        let list = AllowList::from_entries(entries);
        if list.ids.contains(user_id) {
            return true;
        }
        if list.names.is_empty() {
            return false;
        }
        let Some(user) = self.user(user_id).await else {
            return false;
        };
        let name = user.username.to_ascii_lowercase();
        if !list.names.contains(&name) {
            return false;
        }
        match self.store().bind_username(&name, user_id).await {
            Ok(bound) if bound == user_id => true,
            Ok(bound) => {
                tracing::warn!(user = %user_id, name = %name, bound_to = %bound, "a listed username is now held by a different account; denied");
                false
            }
            Err(e) => {
                tracing::error!("cannot check the username binding: {e}");
                false
            }
        }
    }

    /// Posts a proactive message to the home channel.
    pub async fn say(&self, message: &str) -> Result<String, String> {
        let home = self
            .store()
            .setting("home_channel")
            .map_err(|e| e.to_string())?
            .ok_or("no home channel: send /sethome in a channel or set MATTERMOST_HOME_CHANNEL")?;
        let pending = crate::store::random_token(24).map_err(|e| e.to_string())?;
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
                let Ok(pending) = crate::store::random_token(24) else {
                    return;
                };
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

/// A per-key queue (a channel's arrivals, a session's jobs).
trait Queue<T> {
    fn recv(&mut self) -> impl std::future::Future<Output = Option<T>> + Send;
    fn try_recv(&mut self) -> Option<T>;
}

impl<T: Send> Queue<T> for mpsc::UnboundedReceiver<T> {
    fn recv(&mut self) -> impl std::future::Future<Output = Option<T>> + Send {
        mpsc::UnboundedReceiver::recv(self)
    }
    fn try_recv(&mut self) -> Option<T> {
        mpsc::UnboundedReceiver::try_recv(self).ok()
    }
}

impl<T: Send> Queue<T> for mpsc::Receiver<T> {
    fn recv(&mut self) -> impl std::future::Future<Output = Option<T>> + Send {
        mpsc::Receiver::recv(self)
    }
    fn try_recv(&mut self) -> Option<T> {
        mpsc::Receiver::try_recv(self).ok()
    }
}

/// The next item of a per-key queue, or `None` once it has been idle for
/// [`WORKER_IDLE`] and is retired: the retirement removes it from `map`
/// under the lock senders take, after one last look, so no item is ever
/// handed to a retired queue.
async fn next_or_retire<T, V>(
    rx: &mut impl Queue<T>,
    map: &Mutex<HashMap<String, V>>,
    key: &str,
) -> Option<T> {
    if let Ok(item) = tokio::time::timeout(WORKER_IDLE, rx.recv()).await {
        return item;
    }
    let mut senders = lock(map);
    let last = rx.try_recv();
    if last.is_none() {
        senders.remove(key);
        let idle = senders.is_empty();
        drop(senders);
        retired(idle);
    }
    last
}

/// Counts a retired queue. The bot gives freed memory back to the OS when
/// the last queue of a kind retires (it is idle) and after every
/// [`TRIM_EVERY`] retirements (a busy bot that is never idle): a burst of
/// sessions otherwise leaves its freed pages mapped for good.
fn retired(idle: bool) {
    static RETIRED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RETIRED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if idle || n.is_multiple_of(TRIM_EVERY) {
        tokio::task::spawn_blocking(crate::memory::give_back);
    }
}

/// See [`retired`].
const TRIM_EVERY: u64 = 1024;

/// Counts an answered post in the metrics.
fn count_outcome(kind: &crate::gateway::OutcomeKind, took: Duration) {
    use crate::gateway::OutcomeKind as K;
    crate::metrics::get()
        .turn_seconds
        .observe(took.as_secs_f64());
    crate::metrics::post(match kind {
        K::Agent { .. } | K::Command(_) => "answered",
        K::Blocked { .. } => "blocked",
        K::NoRoute => "unrouted",
        K::Unavailable { .. } | K::Failed { .. } => "failed",
    });
}

/// What one answer posts: text parts, and uploaded files for the last one.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    parts: &'a [String],
    file_ids: &'a [String],
}

impl<'a> Outgoing<'a> {
    fn text(parts: &'a [String]) -> Outgoing<'a> {
        Outgoing {
            parts,
            file_ids: &[],
        }
    }

    /// Each post's text and files: the first [`FILES_PER_POST`] files on
    /// the last text part, the rest on posts of their own (empty text).
    /// When the last text part is on the server already (a streamed
    /// reply: an edit cannot add files), every file gets a post of its own.
    fn plan(self, last_posted: bool) -> Vec<(&'a str, &'a [String])> {
        let mut chunks = self.file_ids.chunks(FILES_PER_POST);
        let first = match last_posted {
            true => &[][..],
            false => chunks.next().unwrap_or(&[]),
        };
        let last = self.parts.len().saturating_sub(1);
        let mut plan: Vec<(&str, &[String])> = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), if i == last { first } else { &[][..] }))
            .collect();
        plan.extend(chunks.map(|c| ("", c)));
        plan
    }
}

/// The acknowledgement reaction's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ack {
    /// A turn runs (`true`: a retry).
    Working(bool),
    Done,
    Failed,
    /// Nothing was answered: the working emoji goes, nothing replaces it.
    Off,
}

impl Ack {
    fn after(kind: &crate::gateway::OutcomeKind) -> Ack {
        use crate::gateway::OutcomeKind as K;
        match kind {
            K::Agent { .. } | K::Command(_) => Ack::Done,
            K::Blocked { .. } | K::Unavailable { .. } | K::Failed { .. } => Ack::Failed,
            K::NoRoute => Ack::Off,
        }
    }
}

/// The props of reply part `n` of `post`.
fn reply_props(post: &Post, n: usize) -> Value {
    json!({ "kennel_reply_to": post.id, "kennel_part": n })
}

/// The part number a reply post carries.
fn part_of(p: &Post) -> Option<usize> {
    p.props
        .get("kennel_part")
        .and_then(|v| v.as_u64())
        .map(|n| n as usize)
}

/// Posts a reply while it streams: created once the turn has run for
/// [`STREAM_EDIT_GAP`] (a faster answer is posted once, by the caller), then
/// edited at most once per gap. The post carries `kennel_streaming = true`
/// until the caller's final edit, so a restart can tell it is incomplete.
struct Streamer {
    tx: tokio::sync::watch::Sender<String>,
    task: tokio::task::JoinHandle<Option<Post>>,
}

impl Streamer {
    /// Nothing is posted before `recorded` (the post's inbox row) is durable.
    fn start(
        api: Api,
        post: &Post,
        entry: &InboxEntry,
        root: Option<String>,
        recorded: Durable,
    ) -> Streamer {
        let (tx, mut rx) = tokio::sync::watch::channel(String::new());
        let (channel, reply_to) = (post.channel_id.clone(), post.id.clone());
        let pending = entry.pending_id(0);
        let task = tokio::spawn(async move {
            let mut created: Option<Post> = None;
            let mut shown = String::new();
            let mut last = Instant::now();
            loop {
                let open = rx.changed().await.is_ok();
                if !open {
                    // The turn is over: the caller posts or finalises.
                    return created;
                }
                // Wait out the gap, but stop at once when the turn ends.
                let due = tokio::time::Instant::from_std(last + STREAM_EDIT_GAP);
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(due) => break,
                        r = rx.changed() => if r.is_err() { return created; },
                    }
                }
                let text = preview(&rx.borrow_and_update());
                if text.is_empty() || text == shown {
                    continue;
                }
                if created.is_none() && recorded.wait().await.is_err() {
                    return None; // the caller sees the failure too and posts nothing
                }
                let props = json!({ "kennel_reply_to": reply_to, "kennel_part": 0, "kennel_streaming": true });
                let r = match &created {
                    None => api
                        .create_post(&channel, &text, root.as_deref(), props, &pending)
                        .await
                        .map(|p| created = Some(p)),
                    Some(p) => api.patch_post(&p.id, &text, props).await.map(|_| ()),
                };
                match r {
                    Ok(()) => shown = text,
                    Err(e) => tracing::warn!("streaming update failed: {e}"),
                }
                last = Instant::now();
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

    /// Stops streaming; returns the streamed post, if one was created.
    async fn finish(self) -> Option<Post> {
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
