//! A fake Mattermost server for tests, following `shared/MATTERMOST.md`.
//!
//! REST v4 subset a bot uses, with AppError bodies and Bearer auth; posts
//! with the 16383-rune limit, root-id checks, `pending_post_id` dedupe,
//! `since` by `update_at`; the WebSocket with header or challenge auth,
//! `hello` (seq 0), per-connection `seq`, a 128-event dead queue and resume
//! by `connection_id` + `sequence_number` (no `hello` on success, a new id
//! otherwise), `posted` events whose `post` and `mentions` are JSON strings
//! (mentions only on a mentioned recipient's connections), pings.
//!
//! Faults for tests: plain-text 429 storms, 5xx, dropped sockets (kept for
//! resume or forgotten), muted (silent) sockets, sequence gaps, malformed
//! frames. Runs on 127.0.0.1 on its own thread; stops when dropped.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub const MAX_RUNES: usize = 16383;
/// How long the server remembers a `pending_post_id`.
const PENDING_TTL_MS: i64 = 30_000;
/// Most posts one `since` query returns.
const SINCE_CAP: usize = 1000;
const DEAD_QUEUE: usize = 128;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub is_bot: bool,
}

#[derive(Clone, Debug)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub kind: String,
    pub team_id: String,
    pub members: HashSet<String>,
}

#[derive(Clone, Debug)]
pub struct File {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
    /// Who uploaded it ("" for files made by tests).
    pub creator: String,
    pub channel_id: String,
    /// The post it is attached to ("" until a post claims it).
    pub post_id: String,
}

/// A reaction as the server stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub user_id: String,
    pub post_id: String,
    pub emoji_name: String,
}

enum Out {
    Text(String),
    Ping,
    Close,
}

struct Conn {
    user: String,
    next_seq: u64,
    dead: VecDeque<(u64, String)>,
    tx: Option<mpsc::UnboundedSender<Out>>,
}

#[derive(Default)]
struct Faults {
    rate_limit: u32,
    retry_after: u64,
    server_errors: u32,
    muted: bool,
    gap_next: bool,
    /// WebSocket upgrades fail with 503 (a proxy in front of a restarting server).
    refuse_ws: bool,
    /// Every file download waits this long first (a slow file store).
    file_delay: Duration,
    team_delay: Duration,
    /// The next N `POST /posts` each wait this long before they are handled.
    create_delay: (u32, Duration),
    /// How many creates have started such a wait.
    creates_held: u32,
    /// The next N `POST /posts` are refused with 400 …
    reject_creates: u32,
    /// … after this many more succeed.
    reject_after: u32,
}

#[derive(Default)]
pub struct St {
    users: HashMap<String, User>,
    tokens: HashMap<String, String>,
    teams: HashMap<String, String>,
    channels: HashMap<String, Channel>,
    posts: Vec<Value>,
    /// Post id → index in `posts` (posts are never removed, only marked deleted).
    post_index: HashMap<String, usize>,
    /// pending_post_id → (post id, when): server-wide, kept [`PENDING_TTL_MS`].
    pending: HashMap<String, (String, i64)>,
    /// The pending keys in the order they were stored (to expire them in order).
    pending_order: std::collections::VecDeque<(String, i64)>,
    files: HashMap<String, File>,
    conns: HashMap<String, Conn>,
    faults: Faults,
    counter: u64,
    ping_every: Option<Duration>,
    /// How long a new WebSocket waits after the upgrade before the server
    /// registers it (and sends `hello`), as a busy server does.
    register_delay: Option<Duration>,
    pub typing: Vec<(String, String)>,
    pub edits: Vec<(String, String, Instant)>,
    pub requests: Vec<(String, String)>,
    pub ws_connects: Vec<(Option<String>, Option<String>)>,
    pub pongs: u64,
    /// Reply post id and time by the `kennel_reply_to` it carries (for fast waits).
    replies: HashMap<String, (String, Instant)>,
    /// Who waits for a reply to a post: each is woken alone (a condition
    /// variable for all would wake every waiting client on every reply).
    reply_waiters: HashMap<String, Vec<(u64, std::sync::mpsc::Sender<Instant>)>>,
    waiter_seq: u64,
    /// When each post's `posted` event was handed to the WebSocket
    /// connections (for the host's own share of a reply's latency).
    event_sent: HashMap<String, Instant>,
    /// Custom slash commands (as the server stores them, token included).
    commands: Vec<Value>,
    pub reactions: Vec<Reaction>,
    /// Every reaction change, in order: (added?, reaction).
    pub reaction_log: Vec<(bool, Reaction)>,
    /// The next N `POST /files` fail with 500 (after the retry budget: use a large N).
    upload_errors: u32,
    /// Users who post again the instant their reply arrives ([`FakeMm::post_loops`]).
    loops: Loops,
}

/// The bench's saturation driver, run inside the server: when the reply to
/// a user's post is created, that user's next post is created in the same
/// call, so no client thread is woken per message (50 of them cost the
/// shared cores more than the host's own work on a message).
#[derive(Default)]
struct Loops {
    /// Open post id → (author, channel, index of the author, posts so far, when posted).
    open: HashMap<String, (String, String, usize, u64, Instant)>,
    /// No new posts after this.
    until: Option<Instant>,
    /// Post → reply latency of every answered post.
    latencies: Vec<Duration>,
    /// Told once every open post is answered after `until`.
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl St {
    fn new_id(&mut self, prefix: char) -> String {
        self.counter += 1;
        format!("{prefix}{:025}", self.counter)
    }

    /// Stores a post (and indexes it by id).
    fn push_post(&mut self, p: Value) {
        let id = p["id"].as_str().unwrap_or("").to_string();
        self.post_index.insert(id, self.posts.len());
        self.posts.push(p);
    }

    /// Where the post with this id is in `posts`.
    fn post_at(&self, id: &str) -> Option<usize> {
        self.post_index.get(id).copied()
    }

    fn post(&self, id: &str) -> Option<&Value> {
        self.post_at(id).map(|i| &self.posts[i])
    }

    fn post_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.post_at(id).map(|i| &mut self.posts[i])
    }

    /// Forgets pending_post_ids older than [`PENDING_TTL_MS`], oldest first.
    fn expire_pending(&mut self, now: i64) {
        while let Some((key, at)) = self.pending_order.front() {
            if now - *at < PENDING_TTL_MS {
                break;
            }
            if self.pending.get(key).is_some_and(|(_, t)| t == at) {
                self.pending.remove(key);
            }
            self.pending_order.pop_front();
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The running server.
pub struct FakeMm {
    pub addr: SocketAddr,
    st: Arc<Mutex<St>>,
    _server: crate::common::server::Server,
}

type Shared = Arc<Mutex<St>>;

fn lock(st: &Shared) -> std::sync::MutexGuard<'_, St> {
    st.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeMm {
    pub fn start() -> FakeMm {
        let st: Shared = Arc::new(Mutex::new(St::default()));
        lock(&st).faults.retry_after = 1;
        let app = Router::new()
            .route("/api/v4/websocket", get(ws_handler))
            .route("/api/v4/websocket/", get(ws_handler))
            .fallback(any(rest))
            .with_state(st.clone());
        let server = crate::common::server::Server::start(app);
        FakeMm {
            addr: server.addr,
            st,
            _server: server,
        }
    }

    /// Every custom slash command, deleted ones included.
    pub fn commands(&self) -> Vec<Value> {
        lock(&self.st).commands.clone()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_user(&self, username: &str, is_bot: bool) -> (String, String) {
        let mut s = lock(&self.st);
        let id = s.new_id('u');
        let token = format!("tok{}", s.new_id('t'));
        s.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                username: username.into(),
                is_bot,
            },
        );
        s.tokens.insert(token.clone(), id.clone());
        (id, token)
    }

    pub fn add_team(&self, name: &str) -> String {
        let mut s = lock(&self.st);
        let id = s.new_id('t');
        s.teams.insert(id.clone(), name.into());
        id
    }

    /// A public (`O`), private (`P`) or group (`G`) channel.
    pub fn add_channel(&self, team: &str, name: &str, kind: &str, members: &[&str]) -> String {
        let mut s = lock(&self.st);
        let id = s.new_id('c');
        let team_id = if kind == "G" {
            String::new()
        } else {
            team.to_string()
        };
        s.channels.insert(
            id.clone(),
            Channel {
                id: id.clone(),
                name: name.into(),
                display_name: name.to_uppercase(),
                kind: kind.into(),
                team_id,
                members: members.iter().map(|m| m.to_string()).collect(),
            },
        );
        id
    }

    /// Each `(user, channel)` posts, and posts again the instant the reply
    /// to its last post is created, for `secs`; then waits (at most
    /// `timeout` more) for the last replies. Returns every post → reply
    /// latency and the time until the last reply (`None` on a timeout).
    pub fn post_loops(
        &self,
        people: &[(String, String)],
        secs: u64,
        timeout: Duration,
    ) -> Option<(Vec<Duration>, Duration)> {
        let t0 = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let mut s = lock(&self.st);
            s.loops = Loops {
                until: Some(t0 + Duration::from_secs(secs)),
                done: Some(tx),
                ..Loops::default()
            };
            for (i, (user, channel)) in people.iter().enumerate() {
                loop_post(&mut s, user.clone(), channel.clone(), i, 0)?;
            }
        }
        let answered = rx.recv_timeout(Duration::from_secs(secs) + timeout).is_ok();
        let elapsed = t0.elapsed();
        let mut s = lock(&self.st);
        let loops = std::mem::take(&mut s.loops);
        answered.then_some((loops.latencies, elapsed))
    }

    /// Waits until a reply to `post_id` exists; returns when it was created.
    pub fn wait_reply(&self, post_id: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        let (me, rx) = {
            let mut s = lock(&self.st);
            if let Some((_, at)) = s.replies.get(post_id) {
                return Some(*at);
            }
            let (tx, rx) = std::sync::mpsc::channel();
            s.waiter_seq += 1;
            let me = s.waiter_seq;
            s.reply_waiters
                .entry(post_id.to_string())
                .or_default()
                .push((me, tx));
            (me, rx)
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if let Ok(at) = rx.recv_timeout(left) {
            return Some(at);
        }
        // Timed out: stop waiting (only this waiter), then one last look.
        let mut s = lock(&self.st);
        if let Some(w) = s.reply_waiters.get_mut(post_id) {
            w.retain(|(id, _)| *id != me);
            if w.is_empty() {
                s.reply_waiters.remove(post_id);
            }
        }
        s.replies.get(post_id).map(|(_, at)| *at)
    }

    /// From the `posted` event of `post_id` being sent to the reply to it
    /// arriving: the host's share of the latency (the fake server's own
    /// work and the client's wake-up left out).
    pub fn host_time(&self, post_id: &str) -> Option<Duration> {
        let s = lock(&self.st);
        let sent = s.event_sent.get(post_id)?;
        let (_, at) = s.replies.get(post_id)?;
        Some(at.saturating_duration_since(*sent))
    }

    /// Every post by `user`, in every channel.
    pub fn all_posts_by(&self, user: &str) -> Vec<Value> {
        lock(&self.st)
            .posts
            .iter()
            .filter(|p| p["user_id"] == user)
            .cloned()
            .collect()
    }

    /// Adds a member to a channel.
    pub fn join(&self, channel: &str, user: &str) {
        let mut s = lock(&self.st);
        if let Some(c) = s.channels.get_mut(channel) {
            c.members.insert(user.to_string());
        }
    }

    /// The DM channel between two users (named from the sorted ids).
    pub fn dm(&self, a: &str, b: &str) -> String {
        let mut s = lock(&self.st);
        dm_channel(&mut s, a, b)
    }

    /// A post by a user (as if they used the web app): stored and broadcast.
    pub fn user_post(
        &self,
        user: &str,
        channel: &str,
        message: &str,
        root_id: Option<&str>,
    ) -> Value {
        self.user_post_with_files(user, channel, message, root_id, vec![])
    }

    pub fn user_post_with_files(
        &self,
        user: &str,
        channel: &str,
        message: &str,
        root_id: Option<&str>,
        file_ids: Vec<String>,
    ) -> Value {
        let mut s = lock(&self.st);
        create(
            &mut s,
            user,
            channel,
            message,
            root_id.unwrap_or(""),
            json!({}),
            file_ids,
            "",
        )
        .expect("user post")
    }

    /// A system post (type != "") attributed to `user` (e.g. "user joined the channel").
    pub fn system_post(&self, user: &str, channel: &str, message: &str) -> Value {
        let mut s = lock(&self.st);
        let mut p = create_post_value(&mut s, user, channel, message, "", json!({}), vec![]);
        p["type"] = json!("system_join_channel");
        store_and_broadcast(&mut s, p.clone());
        p
    }

    /// A webhook post: the webhook creator's `user_id`, `props.from_webhook`.
    pub fn webhook_post(&self, creator: &str, channel: &str, message: &str) -> Value {
        let mut s = lock(&self.st);
        let props = json!({"from_webhook": "true", "override_username": "ci-bot"});
        let p = create_post_value(&mut s, creator, channel, message, "", props, vec![]);
        store_and_broadcast(&mut s, p.clone());
        p
    }

    /// A post by a bot account (`props.from_bot`).
    pub fn bot_post(&self, bot: &str, channel: &str, message: &str) -> Value {
        let mut s = lock(&self.st);
        let p = create_post_value(
            &mut s,
            bot,
            channel,
            message,
            "",
            json!({"from_bot": "true"}),
            vec![],
        );
        store_and_broadcast(&mut s, p.clone());
        p
    }

    /// Forgets the pending_post_ids that are too old at `now` (ms), as the
    /// next create at that time would (for tests of the dedup window).
    pub fn expire_pending_as_of(&self, now: i64) {
        lock(&self.st).expire_pending(now);
    }

    /// A reaction: bumps the post's `update_at` like the server does.
    pub fn react(&self, post_id: &str) {
        let mut s = lock(&self.st);
        let now = now_ms();
        if let Some(p) = s.post_mut(post_id) {
            p["update_at"] = json!(now);
            p["has_reactions"] = json!(true);
        }
    }

    /// Renames a user (`PUT /users/{id}/patch`).
    pub fn rename(&self, user: &str, new_name: &str) {
        let mut s = lock(&self.st);
        if let Some(u) = s.users.get_mut(user) {
            u.username = new_name.to_string();
        }
    }

    /// Creates posts with `pending_post_id` as `user` (what a channel member can do).
    pub fn create_as(&self, user: &str, channel: &str, message: &str, pending: &str) -> Value {
        let mut s = lock(&self.st);
        create(
            &mut s,
            user,
            channel,
            message,
            "",
            json!({}),
            vec![],
            pending,
        )
        .expect("create")
    }

    /// A post stored but not broadcast (as if it arrived while the bot was disconnected and the event was lost).
    pub fn silent_post(&self, user: &str, channel: &str, message: &str) -> Value {
        let mut s = lock(&self.st);
        let p = create_post_value(&mut s, user, channel, message, "", json!({}), vec![]);
        s.push_post(p.clone());
        p
    }

    pub fn add_file(&self, name: &str, mime: &str, bytes: &[u8]) -> String {
        let mut s = lock(&self.st);
        let id = s.new_id('f');
        s.files.insert(
            id.clone(),
            File {
                id: id.clone(),
                name: name.into(),
                mime: mime.into(),
                bytes: bytes.to_vec(),
                creator: String::new(),
                channel_id: String::new(),
                post_id: String::new(),
            },
        );
        id
    }

    /// A stored file (uploaded by the bot or added by a test).
    pub fn file(&self, id: &str) -> Option<File> {
        lock(&self.st).files.get(id).cloned()
    }

    /// `POST /files` fails with 500 this many times.
    pub fn fail_uploads(&self, n: u32) {
        lock(&self.st).upload_errors = n;
    }

    /// A user edits their post (`PUT /posts/{id}/patch`): message, `edit_at`,
    /// `update_at`, and a `post_edited` event to the channel.
    pub fn edit_post(&self, user: &str, post_id: &str, message: &str) -> Value {
        let mut s = lock(&self.st);
        let i = s
            .post_at(post_id)
            .filter(|i| s.posts[*i]["user_id"] == user)
            .expect("the user's post");
        let now = now_ms();
        s.posts[i]["message"] = json!(message);
        s.posts[i]["edit_at"] = json!(now);
        s.posts[i]["update_at"] = json!(now);
        let p = s.posts[i].clone();
        let ch = s.channels[p["channel_id"].as_str().unwrap_or("")].clone();
        let ps = p.to_string();
        broadcast(&mut s, &ch, "post_edited", &|_u| json!({"post": ps}));
        p
    }

    /// A user reacts to a post (`POST /reactions` as that user).
    pub fn user_react(&self, user: &str, post_id: &str, emoji: &str) {
        let mut s = lock(&self.st);
        add_reaction(&mut s, user, post_id, emoji).expect("reaction");
    }

    /// A user takes a reaction back.
    pub fn user_unreact(&self, user: &str, post_id: &str, emoji: &str) {
        let mut s = lock(&self.st);
        remove_reaction(&mut s, user, post_id, emoji);
    }

    /// The reactions on a post now: (user, emoji).
    pub fn reactions_on(&self, post_id: &str) -> Vec<(String, String)> {
        lock(&self.st)
            .reactions
            .iter()
            .filter(|r| r.post_id == post_id)
            .map(|r| (r.user_id.clone(), r.emoji_name.clone()))
            .collect()
    }

    /// Every reaction change on a post, in order: (added?, user, emoji).
    pub fn reaction_history(&self, post_id: &str) -> Vec<(bool, String, String)> {
        lock(&self.st)
            .reaction_log
            .iter()
            .filter(|(_, r)| r.post_id == post_id)
            .map(|(a, r)| (*a, r.user_id.clone(), r.emoji_name.clone()))
            .collect()
    }

    /// Posts in a channel, oldest first.
    pub fn posts(&self, channel: &str) -> Vec<Value> {
        lock(&self.st)
            .posts
            .iter()
            .filter(|p| p["channel_id"] == channel)
            .cloned()
            .collect()
    }

    /// Posts by a user in a channel, oldest first.
    pub fn posts_by(&self, user: &str, channel: &str) -> Vec<Value> {
        self.posts(channel)
            .into_iter()
            .filter(|p| p["user_id"] == user)
            .collect()
    }

    /// Waits until `user` has at least `n` posts in `channel`; returns them.
    pub fn wait_posts(&self, user: &str, channel: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let p = self.posts_by(user, channel);
            if p.len() >= n {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} posts by {user} in {channel}; have {}: {:?}",
                p.len(),
                p.iter().map(|p| p["message"].clone()).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Revokes a token (the bot is deactivated or its token deleted).
    pub fn revoke(&self, token: &str) {
        lock(&self.st).tokens.remove(token);
    }

    pub fn rate_limit_next(&self, n: u32, retry_after: u64) {
        let mut s = lock(&self.st);
        s.faults.rate_limit = n;
        s.faults.retry_after = retry_after;
    }

    /// Refuses the next `n` creates with a 400 AppError (no retry helps).
    pub fn reject_creates(&self, n: u32) {
        self.reject_creates_after(0, n);
    }

    /// Lets `ok` creates through, then refuses `n`.
    pub fn reject_creates_after(&self, ok: u32, n: u32) {
        let mut s = lock(&self.st);
        s.faults.reject_after = ok;
        s.faults.reject_creates = n;
    }

    /// Makes every `GET /files/{id}` wait `d` before answering.
    pub fn delay_files(&self, d: Duration) {
        lock(&self.st).faults.file_delay = d;
    }

    /// The next `n` post creates each wait `d` before the server handles
    /// them (a slow server, or a slow network on the way).
    pub fn delay_creates(&self, n: u32, d: Duration) {
        lock(&self.st).faults.create_delay = (n, d);
    }

    /// How many creates have begun a wait set by [`FakeMm::delay_creates`].
    pub fn creates_held(&self) -> u32 {
        lock(&self.st).faults.creates_held
    }

    /// Makes every `GET /teams/{id}` wait `d` before answering.
    pub fn delay_teams(&self, d: Duration) {
        lock(&self.st).faults.team_delay = d;
    }

    pub fn fail_next(&self, n: u32) {
        lock(&self.st).faults.server_errors = n;
    }

    /// Closes every WebSocket. `forget` also drops their resume state (as after a server restart).
    pub fn drop_sockets(&self, forget: bool) {
        let mut s = lock(&self.st);
        for c in s.conns.values_mut() {
            if let Some(tx) = c.tx.take() {
                let _ = tx.send(Out::Close);
            }
        }
        if forget {
            s.conns.clear();
        }
    }

    /// Stops writing to sockets (events still get seqs and queue for resume).
    /// While on, WebSocket upgrades are refused with 503 (REST still works).
    pub fn refuse_websockets(&self, on: bool) {
        lock(&self.st).faults.refuse_ws = on;
    }

    pub fn mute(&self, on: bool) {
        lock(&self.st).faults.muted = on;
    }

    /// The next broadcast skips one sequence number on every connection.
    pub fn gap_next(&self) {
        lock(&self.st).faults.gap_next = true;
    }

    /// Sends raw text frames to every live socket (not sequenced).
    pub fn send_raw(&self, text: &str) {
        let s = lock(&self.st);
        for c in s.conns.values() {
            if let Some(tx) = &c.tx {
                let _ = tx.send(Out::Text(text.to_string()));
            }
        }
    }

    pub fn pongs(&self) -> u64 {
        lock(&self.st).pongs
    }

    /// New WebSockets are registered (and get `hello`) only after `d`:
    /// events in between do not reach them, as on a busy real server.
    pub fn set_register_delay(&self, d: Duration) {
        lock(&self.st).register_delay = Some(d);
    }

    pub fn set_ping_every(&self, d: Duration) {
        lock(&self.st).ping_every = Some(d);
    }

    pub fn live_sockets(&self) -> usize {
        lock(&self.st)
            .conns
            .values()
            .filter(|c| c.tx.is_some())
            .count()
    }

    pub fn typing(&self) -> Vec<(String, String)> {
        lock(&self.st).typing.clone()
    }

    pub fn edits(&self) -> Vec<(String, String, Instant)> {
        lock(&self.st).edits.clone()
    }

    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.st).requests.clone()
    }

    pub fn ws_connects(&self) -> Vec<(Option<String>, Option<String>)> {
        lock(&self.st).ws_connects.clone()
    }

    pub fn wait_sockets(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.live_sockets() < n {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} live sockets"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeMm {
    fn drop(&mut self) {
        // Close sockets first so the server can shut down gracefully.
        self.drop_sockets(true);
    }
}

fn dm_channel(s: &mut St, a: &str, b: &str) -> String {
    let mut ids = [a.to_string(), b.to_string()];
    ids.sort();
    let name = format!("{}__{}", ids[0], ids[1]);
    if let Some(c) = s.channels.values().find(|c| c.name == name) {
        return c.id.clone();
    }
    let id = s.new_id('d');
    s.channels.insert(
        id.clone(),
        Channel {
            id: id.clone(),
            name,
            display_name: String::new(),
            kind: "D".into(),
            team_id: String::new(),
            members: [a.to_string(), b.to_string()].into_iter().collect(),
        },
    );
    id
}

fn app_error(status: u16, id: &str, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"id": id, "message": message, "detailed_error": "", "request_id": "req0000000000000000000000000", "status_code": status});
    let mut r = (code, axum::Json(body)).into_response();
    r.headers_mut().insert(
        "X-Request-Id",
        "req0000000000000000000000000".parse().expect("hdr"),
    );
    r.headers_mut()
        .insert("X-Version-Id", "10.5.0.fake".parse().expect("hdr"));
    r
}

fn ok(status: u16, v: Value) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        axum::Json(v),
    )
        .into_response();
    r.headers_mut().insert(
        "X-Request-Id",
        "req0000000000000000000000000".parse().expect("hdr"),
    );
    r
}

fn user_json(u: &User) -> Value {
    let mut v = json!({
        "id": u.id, "create_at": 1_700_000_000_000i64, "update_at": 1_700_000_000_000i64, "delete_at": 0,
        "username": u.username, "auth_service": "", "email": format!("{}@localhost", u.username), "nickname": "",
        "first_name": "", "last_name": "", "position": "", "roles": "system_user", "locale": "en",
        "timezone": {"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}, "disable_welcome_email": false
    });
    if u.is_bot {
        v["is_bot"] = json!(true);
    }
    v
}

/// The channel with `last_post_at` as the server keeps it (newest post's create_at).
fn channel_with_last_post(s: &St, c: &Channel) -> Value {
    let last = s
        .posts
        .iter()
        .filter(|p| p["channel_id"] == c.id.as_str())
        .filter_map(|p| p["create_at"].as_i64())
        .max()
        .unwrap_or(0);
    let mut v = channel_json(c);
    v["last_post_at"] = json!(last);
    v
}

fn channel_json(c: &Channel) -> Value {
    json!({"id": c.id, "create_at": 1, "update_at": 1, "delete_at": 0, "team_id": c.team_id, "type": c.kind,
           "display_name": c.display_name, "name": c.name, "header": "", "purpose": "", "last_post_at": 0,
           "total_msg_count": 0, "extra_update_at": 0, "creator_id": ""})
}

fn auth(s: &St, headers: &HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = h.split_at(h.find(' ')?);
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("token") {
        return None;
    }
    s.tokens.get(token.trim()).cloned()
}

fn create_post_value(
    s: &mut St,
    user: &str,
    channel: &str,
    message: &str,
    root_id: &str,
    props: Value,
    file_ids: Vec<String>,
) -> Value {
    let id = s.new_id('p');
    let now = now_ms().max(
        s.posts
            .last()
            .and_then(|p| p["create_at"].as_i64())
            .unwrap_or(0)
            + 1,
    );
    let mut p = json!({
        "id": id, "create_at": now, "update_at": now, "edit_at": 0, "delete_at": 0, "is_pinned": false,
        "user_id": user, "channel_id": channel, "root_id": root_id, "original_id": "", "message": message,
        "type": "", "props": props, "hashtags": "", "pending_post_id": "", "reply_count": 0,
        "last_reply_at": 0, "participants": null, "metadata": {}
    });
    if !file_ids.is_empty() {
        let infos: Vec<Value> = file_ids
            .iter()
            .filter_map(|f| s.files.get(f))
            .map(
                |f| json!({"id": f.id, "name": f.name, "mime_type": f.mime, "size": f.bytes.len()}),
            )
            .collect();
        p["file_ids"] = json!(file_ids);
        p["metadata"] = json!({"files": infos});
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn create(
    s: &mut St,
    user: &str,
    channel: &str,
    message: &str,
    root_id: &str,
    props: Value,
    file_ids: Vec<String>,
    pending: &str,
) -> Result<Value, Box<Response>> {
    let Some(ch) = s.channels.get(channel) else {
        return Err(Box::new(app_error(
            403,
            "api.context.permissions.app_error",
            "You do not have the appropriate permissions.",
        )));
    };
    if !ch.members.contains(user) {
        return Err(Box::new(app_error(
            403,
            "api.context.permissions.app_error",
            "You do not have the appropriate permissions.",
        )));
    }
    if message.chars().count() > MAX_RUNES {
        return Err(Box::new(app_error(
            400,
            "model.post.is_valid.message_length.app_error",
            "Post Message property is longer than the maximum permitted length.",
        )));
    }
    if !root_id.is_empty() {
        let root_ok = s
            .post(root_id)
            .is_some_and(|p| p["root_id"] == "" && p["channel_id"] == channel);
        if !root_ok {
            return Err(Box::new(app_error(
                400,
                "api.post.create_post.root_id.app_error",
                "Invalid RootId parameter.",
            )));
        }
    }
    // Like the server: the key is server-wide (whoever made the earlier post)
    // and lives about 30 s; within that a repeat returns the earlier post.
    let now = now_ms();
    s.expire_pending(now);
    if !pending.is_empty()
        && let Some((existing, _)) = s.pending.get(pending).cloned()
        && let Some(p) = s.post(&existing)
    {
        return Ok(p.clone());
    }
    if file_ids.len() > 10 {
        return Err(Box::new(app_error(
            400,
            "model.post.is_valid.file_ids.app_error",
            "Invalid file ids.",
        )));
    }
    // Like the server's attachFilesToPost: only the creator's unattached
    // files uploaded to this channel are attached; others are dropped.
    let file_ids: Vec<String> = file_ids
        .into_iter()
        .filter(|f| {
            s.files.get(f).is_some_and(|f| {
                f.creator.is_empty()
                    || (f.creator == user && f.channel_id == channel && f.post_id.is_empty())
            })
        })
        .collect();
    let mut p = create_post_value(s, user, channel, message, root_id, props, file_ids.clone());
    let pid = p["id"].as_str().unwrap_or("").to_string();
    for f in &file_ids {
        if let Some(file) = s.files.get_mut(f)
            && !file.creator.is_empty()
        {
            file.post_id = pid.clone();
        }
    }
    if !pending.is_empty() {
        p["pending_post_id"] = json!(pending);
        let id = p["id"].as_str().unwrap_or("").to_string();
        s.pending.insert(pending.to_string(), (id, now));
        s.pending_order.push_back((pending.to_string(), now));
    }
    if !root_id.is_empty() {
        // A reply bumps its root's update_at (so `since` returns the root again).
        let at = p["create_at"].clone();
        if let Some(root) = s.post_mut(root_id) {
            root["update_at"] = at.clone();
            root["last_reply_at"] = at;
        }
    }
    if let Some(to) = p["props"]["kennel_reply_to"].as_str() {
        let id = p["id"].as_str().unwrap_or("").to_string();
        let at = Instant::now();
        s.replies.entry(to.to_string()).or_insert((id, at));
        for (_, w) in s.reply_waiters.remove(to).unwrap_or_default() {
            let _ = w.send(at);
        }
    }
    store_and_broadcast(s, p.clone());
    if let Some(to) = p["props"]["kennel_reply_to"].as_str() {
        next_in_loop(s, to);
    }
    Ok(p)
}

/// Post number `n` of looping user `i`, kept open until its reply arrives.
fn loop_post(s: &mut St, user: String, channel: String, i: usize, n: u64) -> Option<()> {
    let sent = Instant::now();
    let p = create(
        s,
        &user,
        &channel,
        &format!("sat {i} {n}"),
        "",
        json!({}),
        vec![],
        "",
    )
    .ok()?;
    let id = p["id"].as_str().unwrap_or("").to_string();
    s.loops.open.insert(id, (user, channel, i, n, sent));
    Some(())
}

/// A reply to a looping user's post arrived: note its latency and (before
/// the deadline) post that user's next message.
fn next_in_loop(s: &mut St, answered: &str) {
    let Some((user, channel, i, n, sent)) = s.loops.open.remove(answered) else {
        return;
    };
    s.loops.latencies.push(sent.elapsed());
    if s.loops.until.is_some_and(|u| Instant::now() < u) {
        let _ = loop_post(s, user, channel, i, n + 1);
    }
    if s.loops.open.is_empty()
        && let Some(done) = s.loops.done.take()
    {
        let _ = done.send(());
    }
}

fn store_and_broadcast(s: &mut St, p: Value) {
    s.push_post(p.clone());
    let channel = p["channel_id"].as_str().unwrap_or("").to_string();
    let Some(ch) = s.channels.get(&channel).cloned() else {
        return;
    };
    let author = p["user_id"].as_str().unwrap_or("").to_string();
    let author_name = s
        .users
        .get(&author)
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let message = p["message"].as_str().unwrap_or("").to_lowercase();
    let mut mentioned: HashSet<String> = HashSet::new();
    for m in &ch.members {
        if *m == author {
            continue;
        }
        if ch.kind == "D" {
            mentioned.insert(m.clone());
            continue;
        }
        if let Some(u) = s.users.get(m) {
            let needle = format!("@{}", u.username.to_lowercase());
            let hit = message.match_indices(&needle).any(|(i, _)| {
                let after = message[i + needle.len()..].chars().next();
                !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
            if hit || message.contains("@channel") || message.contains("@all") {
                mentioned.insert(m.clone());
            }
        }
    }
    let display = match ch.kind.as_str() {
        "D" => format!("@{author_name}"),
        _ => ch.display_name.clone(),
    };
    let post_str = p.to_string();
    let data_for = |user: &str| {
        let mut data = json!({
            "channel_display_name": display, "channel_name": ch.name, "channel_type": ch.kind,
            "post": post_str, "sender_name": format!("@{author_name}"), "set_online": true, "team_id": ch.team_id,
        });
        if mentioned.contains(user) {
            data["mentions"] = json!(json!([user]).to_string());
        }
        data
    };
    broadcast(s, &ch, "posted", &data_for);
    let id = p["id"].as_str().unwrap_or("").to_string();
    s.event_sent.insert(id, Instant::now());
}

fn broadcast(s: &mut St, ch: &Channel, event: &str, data_for: &dyn Fn(&str) -> Value) {
    let gap = std::mem::take(&mut s.faults.gap_next);
    let muted = s.faults.muted;
    for c in s.conns.values_mut() {
        if !ch.members.contains(&c.user) {
            continue;
        }
        if gap {
            c.next_seq += 1;
        }
        let seq = c.next_seq;
        c.next_seq += 1;
        // Precomputed broadcasts have spaces after ':' between top-level keys.
        let text = format!(
            "{{\"event\": {}, \"data\": {}, \"broadcast\": {}, \"seq\": {seq}}}",
            json!(event),
            data_for(&c.user),
            json!({"omit_users": null, "user_id": "", "channel_id": ch.id, "team_id": "", "connection_id": "", "omit_connection_id": ""})
        );
        c.dead.push_back((seq, text.clone()));
        while c.dead.len() > DEAD_QUEUE {
            c.dead.pop_front();
        }
        if !muted && let Some(tx) = &c.tx {
            let _ = tx.send(Out::Text(text));
        }
    }
}

async fn rest(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let path = uri.path().to_string();
    let delay = match path.as_str() {
        p if p.starts_with("/api/v4/files/") => lock(&st).faults.file_delay,
        p if p.starts_with("/api/v4/teams/") => lock(&st).faults.team_delay,
        "/api/v4/posts" if method == Method::POST => {
            let f = &mut lock(&st).faults;
            match f.create_delay {
                (0, _) => Duration::ZERO,
                (n, d) => {
                    f.create_delay = (n - 1, d);
                    f.creates_held += 1;
                    d
                }
            }
        }
        _ => Duration::ZERO,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // Read before the state is locked (a lock is never held across an await).
    let form = match (
        method == Method::POST,
        path.trim_end_matches('/') == "/api/v4/files",
    ) {
        (true, true) => Some(read_multipart(&headers, raw.clone()).await),
        _ => None,
    };
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut s = lock(&st);
    s.requests.push((method.to_string(), path.clone()));
    if s.faults.rate_limit > 0 {
        s.faults.rate_limit -= 1;
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "limit exceeded\n").into_response();
        r.headers_mut().insert(
            "content-type",
            "text/plain; charset=utf-8".parse().expect("hdr"),
        );
        r.headers_mut().insert(
            "retry-after",
            s.faults.retry_after.to_string().parse().expect("hdr"),
        );
        r.headers_mut()
            .insert("x-ratelimit-limit", "101".parse().expect("hdr"));
        r.headers_mut()
            .insert("x-ratelimit-remaining", "0".parse().expect("hdr"));
        return r;
    }
    if s.faults.server_errors > 0 {
        s.faults.server_errors -= 1;
        return app_error(500, "app.internal.app_error", "An internal error occurred.");
    }
    // The real server answers the health ping without a session.
    if method == Method::GET && path.trim_end_matches('/') == "/api/v4/system/ping" {
        return ok(
            200,
            json!({"status": "OK", "ActiveSearchBackend": "database"}),
        );
    }
    let Some(me) = auth(&s, &headers) else {
        return app_error(
            401,
            "api.context.session_expired.app_error",
            "Invalid or expired session, please login again.",
        );
    };
    let Some(rest) = path.strip_prefix("/api/v4") else {
        return app_error(
            404,
            "api.context.404.app_error",
            "Sorry, we could not find the page.",
        );
    };
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    if method == Method::POST && parts == ["files"] {
        if s.upload_errors > 0 {
            s.upload_errors -= 1;
            return app_error(500, "app.internal.app_error", "An internal error occurred.");
        }
        return upload(&mut s, &me, form.unwrap_or(Err("no body".into())));
    }
    let body: Value = if raw.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&raw) {
            Ok(v) => v,
            Err(_) => {
                return app_error(
                    400,
                    "api.context.invalid_body_param.app_error",
                    "Invalid or missing body in request.",
                );
            }
        }
    };
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["users", "me"]) => ok(200, user_json(&s.users[&me])),
        ("GET", ["users", "me", "teams"]) => {
            let teams: Vec<Value> = s
                .teams
                .iter()
                .filter(|(id, _)| {
                    s.channels
                        .values()
                        .any(|c| &c.team_id == *id && c.members.contains(&me))
                })
                .map(|(id, n)| json!({"id": id, "name": n, "display_name": n}))
                .collect();
            ok(200, json!(teams))
        }
        // Like the server, a team's channel list also holds the user's DMs
        // and groups (team_id ""); `/users/{id}/channels` lists every team's.
        ("GET", ["users", "me", "teams", team, "channels"]) => {
            let chans: Vec<Value> = s
                .channels
                .values()
                .filter(|c| (c.team_id == *team || c.team_id.is_empty()) && c.members.contains(&me))
                .map(|c| channel_with_last_post(&s, c))
                .collect();
            ok(200, json!(chans))
        }
        ("GET", ["users", uid, "channels"]) => {
            let uid = if *uid == "me" {
                me.clone()
            } else {
                uid.to_string()
            };
            if uid != me {
                return app_error(
                    403,
                    "api.context.permissions.app_error",
                    "You do not have the appropriate permissions.",
                );
            }
            let chans: Vec<Value> = s
                .channels
                .values()
                .filter(|c| c.members.contains(&me))
                .map(|c| channel_with_last_post(&s, c))
                .collect();
            ok(200, json!(chans))
        }
        ("GET", ["users", "username", name]) => {
            match s.users.values().find(|u| u.username == *name) {
                Some(u) => ok(200, user_json(u)),
                None => app_error(
                    404,
                    "app.user.missing_account.const",
                    "Unable to find the user.",
                ),
            }
        }
        ("GET", ["users", id]) => match s.users.get(*id) {
            Some(u) => ok(200, user_json(u)),
            None => app_error(
                404,
                "app.user.missing_account.const",
                "Unable to find the user.",
            ),
        },
        ("POST", ["users", _id, "typing"]) => {
            let ch = body["channel_id"].as_str().unwrap_or("").to_string();
            let parent = body["parent_id"].as_str().unwrap_or("").to_string();
            s.typing.push((ch, parent));
            ok(200, json!({"status": "OK"}))
        }
        ("GET", ["teams", id]) => match s.teams.get(*id) {
            Some(n) => ok(200, json!({"id": id, "name": n, "display_name": n})),
            None => app_error(
                404,
                "app.team.get.find.app_error",
                "Unable to find the existing team.",
            ),
        },
        ("POST", ["channels", "direct"]) => {
            let ids: Vec<String> = serde_json::from_value(body).unwrap_or_default();
            if ids.len() != 2 || !ids.contains(&me) {
                return app_error(
                    400,
                    "api.context.invalid_body_param.app_error",
                    "Invalid or missing user_ids in request body.",
                );
            }
            let id = dm_channel(&mut s, &ids[0], &ids[1]);
            let c = s.channels[&id].clone();
            ok(201, channel_json(&c))
        }
        ("GET", ["channels", id]) => match s.channels.get(*id) {
            Some(c) if c.members.contains(&me) => ok(200, channel_json(c)),
            Some(_) => app_error(
                403,
                "api.context.permissions.app_error",
                "You do not have the appropriate permissions.",
            ),
            None => app_error(
                404,
                "app.channel.get.existing.app_error",
                "Unable to find the existing channel.",
            ),
        },
        ("GET", ["channels", id, "posts"]) => {
            let Some(c) = s.channels.get(*id) else {
                return app_error(
                    404,
                    "app.channel.get.existing.app_error",
                    "Unable to find the existing channel.",
                );
            };
            if !c.members.contains(&me) {
                return app_error(
                    403,
                    "api.context.permissions.app_error",
                    "You do not have the appropriate permissions.",
                );
            }
            let since: i64 = query.get("since").and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut posts: Vec<Value> = s
                .posts
                .iter()
                .filter(|p| p["channel_id"] == *id && p["update_at"].as_i64().unwrap_or(0) > since)
                .cloned()
                .collect();
            // The server's `LIMIT 1000` has no ORDER BY; it reads the
            // (channel, update_at) index, so the oldest updates come first and
            // the rest is cut silently. `order` is newest-first by create_at.
            posts.sort_by_key(|p| p["update_at"].as_i64().unwrap_or(0));
            posts.truncate(SINCE_CAP);
            let mut list = post_list(posts);
            list["first_inaccessible_post_time"] = json!(0);
            ok(200, list)
        }
        ("POST", ["posts"]) if s.faults.reject_creates > 0 => {
            s.faults.reject_creates -= 1;
            app_error(
                400,
                "api.post.create_post.invalid.app_error",
                "Invalid post.",
            )
        }
        ("POST", ["posts"]) => {
            if s.faults.reject_creates > 0 {
                s.faults.reject_after -= 1;
            }
            let ch = body["channel_id"].as_str().unwrap_or("").to_string();
            let msg = body["message"].as_str().unwrap_or("").to_string();
            let root = body["root_id"].as_str().unwrap_or("").to_string();
            let pending = body["pending_post_id"].as_str().unwrap_or("").to_string();
            let props = if body["props"].is_object() {
                body["props"].clone()
            } else {
                json!({})
            };
            let files: Vec<String> = body["file_ids"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            match create(&mut s, &me, &ch, &msg, &root, props, files, &pending) {
                Ok(p) => ok(201, p),
                Err(r) => *r,
            }
        }
        // Slash commands, as the server's api4/command.go answers them.
        ("GET", ["commands"]) => {
            let team = query.get("team_id").cloned().unwrap_or_default();
            if team.is_empty() {
                return app_error(
                    400,
                    "api.context.invalid_url_param.app_error",
                    "Invalid or missing team_id parameter in request URL.",
                );
            }
            let list: Vec<Value> = s
                .commands
                .iter()
                .filter(|c| c["team_id"] == team.as_str() && c["delete_at"] == 0)
                .cloned()
                .collect();
            ok(200, json!(list))
        }
        ("POST", ["commands"]) => {
            let team = body["team_id"].as_str().unwrap_or("").to_string();
            let trigger = body["trigger"].as_str().unwrap_or("").to_string();
            let url = body["url"].as_str().unwrap_or("").to_string();
            if trigger.is_empty()
                || trigger.starts_with('/')
                || !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return app_error(
                    400,
                    "model.command.is_valid.trigger.app_error",
                    "Invalid trigger.",
                );
            }
            if s.commands.iter().any(|c| {
                c["team_id"] == team.as_str()
                    && c["trigger"] == trigger.as_str()
                    && c["delete_at"] == 0
            }) {
                return app_error(
                    400,
                    "api.command.duplicate_trigger.app_error",
                    "This trigger word is already in use. Please choose another word.",
                );
            }
            let id = s.new_id('c');
            let token = s.new_id('t');
            let mut c = body.clone();
            c["id"] = json!(id);
            c["token"] = json!(token);
            c["creator_id"] = json!(me);
            c["create_at"] = json!(now_ms());
            c["update_at"] = json!(now_ms());
            c["delete_at"] = json!(0);
            s.commands.push(c.clone());
            ok(201, c)
        }
        ("PUT", ["commands", id]) => {
            if body["id"] != *id {
                return app_error(
                    400,
                    "api.context.invalid_body_param.app_error",
                    "Invalid or missing command in request body.",
                );
            }
            let Some(i) = s
                .commands
                .iter()
                .position(|c| c["id"] == *id && c["delete_at"] == 0)
            else {
                return app_error(
                    404,
                    "app.command.getcommand.app_error",
                    "Unable to get the command.",
                );
            };
            let old = s.commands[i].clone();
            if old["creator_id"] != me.as_str() {
                return app_error(
                    403,
                    "api.command.update.app_error",
                    "You do not have the appropriate permissions.",
                );
            }
            let mut c = body.clone();
            for k in ["token", "creator_id", "create_at", "team_id", "delete_at"] {
                c[k] = old[k].clone();
            }
            c["update_at"] = json!(now_ms());
            s.commands[i] = c.clone();
            ok(200, c)
        }
        ("PUT", ["posts", id, "patch"]) => {
            let msg = body["message"].as_str().map(String::from);
            if msg.as_ref().is_some_and(|m| m.chars().count() > MAX_RUNES) {
                return app_error(
                    400,
                    "model.post.is_valid.message_length.app_error",
                    "Post Message property is longer than the maximum permitted length.",
                );
            }
            let Some(i) = s.post_at(id) else {
                return app_error(404, "app.post.get.app_error", "Unable to get the post.");
            };
            if s.posts[i]["user_id"] != me.as_str() {
                return app_error(
                    403,
                    "api.context.permissions.app_error",
                    "You do not have the appropriate permissions.",
                );
            }
            let now = now_ms();
            if let Some(m) = &msg {
                s.posts[i]["message"] = json!(m);
                s.edits.push((id.to_string(), m.clone(), Instant::now()));
            }
            if body["props"].is_object() {
                s.posts[i]["props"] = body["props"].clone();
            }
            s.posts[i]["edit_at"] = json!(now);
            s.posts[i]["update_at"] = json!(now);
            let p = s.posts[i].clone();
            if let Some(ch) = s
                .channels
                .get(p["channel_id"].as_str().unwrap_or(""))
                .cloned()
            {
                let ps = p.to_string();
                broadcast(&mut s, &ch, "post_edited", &|_u| json!({"post": ps}));
            }
            ok(200, p)
        }
        ("GET", ["posts", id, "thread"]) => {
            let Some(post) = s.post(id) else {
                return app_error(404, "app.post.get.app_error", "Unable to get the post.");
            };
            let root = match post["root_id"].as_str() {
                Some(r) if !r.is_empty() => r.to_string(),
                _ => id.to_string(),
            };
            let posts: Vec<Value> = s
                .posts
                .iter()
                .filter(|p| {
                    (p["id"] == root.as_str() || p["root_id"] == root.as_str())
                        && p["delete_at"] == 0
                })
                .cloned()
                .collect();
            let mut list = post_list(posts);
            list["has_next"] = json!(false);
            ok(200, list)
        }
        ("POST", ["reactions"]) => {
            let user = body["user_id"].as_str().unwrap_or("").to_string();
            let post = body["post_id"].as_str().unwrap_or("").to_string();
            let emoji = body["emoji_name"].as_str().unwrap_or("").to_string();
            if post.is_empty() || emoji.is_empty() || emoji.len() > 64 || emoji.contains(':') {
                return app_error(
                    400,
                    "api.reaction.save_reaction.invalid.app_error",
                    "Reaction is not valid.",
                );
            }
            if user != me {
                return app_error(
                    403,
                    "api.reaction.save_reaction.user_id.app_error",
                    "You cannot save reaction for the other user.",
                );
            }
            match add_reaction(&mut s, &me, &post, &emoji) {
                Some(r) => ok(200, r),
                None => app_error(404, "app.post.get.app_error", "Unable to get the post."),
            }
        }
        ("DELETE", ["users", uid, "posts", pid, "reactions", emoji]) => {
            if *uid != me {
                return app_error(
                    403,
                    "api.context.permissions.app_error",
                    "You do not have the appropriate permissions.",
                );
            }
            remove_reaction(&mut s, &me, pid, emoji);
            ok(200, json!({"status": "OK"}))
        }
        ("GET", ["posts", id]) => match s.post(id) {
            Some(p) => ok(200, p.clone()),
            None => app_error(404, "app.post.get.app_error", "Unable to get the post."),
        },
        ("GET", ["files", id, "info"]) => match s.files.get(*id) {
            Some(f) => ok(
                200,
                json!({"id": f.id, "user_id": "", "channel_id": "", "create_at": 1, "update_at": 1, "delete_at": 0, "name": f.name, "extension": f.name.rsplit('.').next().unwrap_or(""), "size": f.bytes.len(), "mime_type": f.mime, "mini_preview": null, "remote_id": "", "archived": false}),
            ),
            None => app_error(
                404,
                "app.file_info.get.app_error",
                "Unable to get the file info.",
            ),
        },
        ("GET", ["files", id]) => match s.files.get(*id) {
            Some(f) => {
                let mut r = (StatusCode::OK, f.bytes.clone()).into_response();
                r.headers_mut().insert(
                    "content-type",
                    f.mime
                        .parse()
                        .unwrap_or_else(|_| "application/octet-stream".parse().expect("hdr")),
                );
                r
            }
            None => app_error(
                404,
                "app.file_info.get.app_error",
                "Unable to get the file.",
            ),
        },
        _ => app_error(
            404,
            "api.context.404.app_error",
            "Sorry, we could not find the page.",
        ),
    }
}

/// A PostList: `order` newest first by `create_at`, `posts` by id.
fn post_list(mut posts: Vec<Value>) -> Value {
    posts.sort_by_key(|p| std::cmp::Reverse(p["create_at"].as_i64().unwrap_or(0)));
    let order: Vec<Value> = posts.iter().map(|p| p["id"].clone()).collect();
    let map: serde_json::Map<String, Value> = posts
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or("").to_string(), p.clone()))
        .collect();
    json!({"order": order, "posts": map, "next_post_id": "", "prev_post_id": ""})
}

/// A multipart field: (name, file name, bytes).
type FormField = (String, Option<String>, Vec<u8>);

/// A multipart form's fields: (name, file name, bytes), or why it is broken.
async fn read_multipart(
    headers: &HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Vec<FormField>, String> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(ct).map_err(|e| e.to_string())?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(raw) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or("").to_string();
        let file = field.file_name().map(String::from);
        let bytes = field.bytes().await.map_err(|e| e.to_string())?;
        out.push((name, file, bytes.to_vec()));
    }
    Ok(out)
}

/// `POST /files` as `api4/file.go` answers it.
fn upload(s: &mut St, me: &str, form: Result<Vec<FormField>, String>) -> Response {
    let Ok(fields) = form else {
        return app_error(
            400,
            "api.file.upload_file.read_request.app_error",
            "Unable to upload file(s). Error reading or parsing request data.",
        );
    };
    let mut channel = String::new();
    let mut files = Vec::new();
    for (name, file, bytes) in fields {
        match (name.as_str(), file) {
            ("channel_id", None) => channel = String::from_utf8_lossy(&bytes).into_owned(),
            ("client_ids", None) => {}
            ("files", Some(file)) => files.push((file, bytes)),
            _ => {
                return app_error(
                    400,
                    "api.file.upload_file.invalid_param",
                    "Invalid or missing parameter in request.",
                );
            }
        }
    }
    let member = s
        .channels
        .get(&channel)
        .is_some_and(|c| c.members.contains(me));
    if !member {
        return app_error(
            403,
            "api.context.permissions.app_error",
            "You do not have the appropriate permissions.",
        );
    }
    if files.is_empty() {
        return app_error(
            400,
            "api.file.upload_file.read_request.app_error",
            "Unable to upload file(s). Error reading or parsing request data.",
        );
    }
    let mut infos = Vec::new();
    for (name, bytes) in files {
        let id = s.new_id('f');
        let mime = mime_of(&name);
        infos.push(json!({"id": id, "user_id": me, "channel_id": channel, "create_at": now_ms(), "update_at": now_ms(), "delete_at": 0,
            "name": name, "extension": name.rsplit('.').next().unwrap_or(""), "size": bytes.len(), "mime_type": mime,
            "mini_preview": null, "remote_id": "", "archived": false}));
        s.files.insert(
            id.clone(),
            File {
                id,
                name,
                mime,
                bytes,
                creator: me.to_string(),
                channel_id: channel.clone(),
                post_id: String::new(),
            },
        );
    }
    ok(201, json!({"file_infos": infos, "client_ids": []}))
}

/// The server derives the MIME type from the file name's extension.
fn mime_of(name: &str) -> String {
    match name
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "md" => "text/markdown",
        "txt" | "log" => "text/plain",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// Adds a reaction (idempotent like the server's upsert), bumps the post's
/// `update_at` and broadcasts `reaction_added`; `None` for an unknown post.
fn add_reaction(s: &mut St, user: &str, post_id: &str, emoji: &str) -> Option<Value> {
    let now = now_ms();
    let i = s.post_at(post_id)?;
    s.posts[i]["update_at"] = json!(now);
    s.posts[i]["has_reactions"] = json!(true);
    let channel = s.posts[i]["channel_id"].as_str().unwrap_or("").to_string();
    let r = Reaction {
        user_id: user.into(),
        post_id: post_id.into(),
        emoji_name: emoji.into(),
    };
    if !s.reactions.contains(&r) {
        s.reactions.push(r.clone());
    }
    s.reaction_log.push((true, r));
    let v = json!({"user_id": user, "post_id": post_id, "emoji_name": emoji, "create_at": now, "update_at": now, "delete_at": 0, "remote_id": "", "channel_id": channel});
    if let Some(ch) = s.channels.get(&channel).cloned() {
        let rs = v.to_string();
        broadcast(s, &ch, "reaction_added", &|_u| json!({"reaction": rs}));
    }
    Some(v)
}

fn remove_reaction(s: &mut St, user: &str, post_id: &str, emoji: &str) {
    let r = Reaction {
        user_id: user.into(),
        post_id: post_id.into(),
        emoji_name: emoji.into(),
    };
    let before = s.reactions.len();
    s.reactions.retain(|x| *x != r);
    if s.reactions.len() == before {
        return;
    }
    s.reaction_log.push((false, r));
    let now = now_ms();
    let Some(i) = s.post_at(post_id) else {
        return;
    };
    s.posts[i]["update_at"] = json!(now);
    let channel = s.posts[i]["channel_id"].as_str().unwrap_or("").to_string();
    let v = json!({"user_id": user, "post_id": post_id, "emoji_name": emoji, "create_at": now, "update_at": now, "delete_at": now, "remote_id": "", "channel_id": channel});
    if let Some(ch) = s.channels.get(&channel).cloned() {
        let rs = v.to_string();
        broadcast(s, &ch, "reaction_removed", &|_u| json!({"reaction": rs}));
    }
}

async fn ws_handler(
    ws: WebSocketUpgrade,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    State(st): State<Shared>,
) -> Response {
    if lock(&st).faults.refuse_ws {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable").into_response();
    }
    let user = auth(&lock(&st), &headers);
    lock(&st).ws_connects.push((
        q.get("connection_id").cloned(),
        q.get("sequence_number").cloned(),
    ));
    ws.on_upgrade(move |socket| conn_loop(socket, st, user, q))
}

async fn conn_loop(
    mut socket: WebSocket,
    st: Shared,
    user: Option<String>,
    q: HashMap<String, String>,
) {
    // Challenge authentication when the upgrade carried no valid token.
    let mut challenge_seq: Option<i64> = None;
    let user = match user {
        Some(u) => u,
        None => {
            let deadline = tokio::time::sleep(Duration::from_secs(5));
            tokio::pin!(deadline);
            let found = loop {
                tokio::select! {
                    _ = &mut deadline => break None,
                    m = socket.recv() => match m {
                        Some(Ok(Message::Text(t))) => {
                            let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                            if v["action"] == "authentication_challenge" {
                                let tok = v["data"]["token"].as_str().unwrap_or("");
                                let u = lock(&st).tokens.get(tok).cloned();
                                challenge_seq = v["seq"].as_i64();
                                break u;
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break None,
                    }
                }
            };
            match found {
                Some(u) => u,
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    };
    let register_delay = lock(&st).register_delay;
    if let Some(d) = register_delay {
        tokio::time::sleep(d).await;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let mut replay: Vec<String> = Vec::new();
    let mut close_now = false;
    {
        let mut s = lock(&st);
        let resume_id = if challenge_seq.is_none() {
            q.get("connection_id").cloned()
        } else {
            None
        };
        let mut resumed = false;
        if let Some(id) = resume_id
            && let Some(c) = s.conns.get_mut(&id)
            && c.user == user
        {
            let from = q.get("sequence_number").and_then(|v| v.parse::<u64>().ok());
            close_now = from.is_none();
            let from = from.unwrap_or(0);
            let recoverable = from == c.next_seq
                || c.dead.front().is_some_and(|(first, _)| *first <= from) && from <= c.next_seq;
            if recoverable && !close_now {
                replay = c
                    .dead
                    .iter()
                    .filter(|(seq, _)| *seq >= from)
                    .map(|(_, t)| t.clone())
                    .collect();
                if let Some(old) = c.tx.replace(tx.clone()) {
                    let _ = old.send(Out::Close);
                }
                resumed = true;
            } else {
                s.conns.remove(&id);
            }
        }
        if !resumed && !close_now {
            let id = s.new_id('w');
            let hello = format!(
                "{{\"event\":\"hello\",\"data\":{{\"connection_id\":\"{id}\",\"server_version\":\"10.5.0.0.abc.false\",\"server_hostname\":\"fake\"}},\"broadcast\":{{\"omit_users\":null,\"user_id\":\"{user}\",\"channel_id\":\"\",\"team_id\":\"\",\"connection_id\":\"\",\"omit_connection_id\":\"\"}},\"seq\":0}}\n"
            );
            let mut dead = VecDeque::new();
            dead.push_back((0, hello.clone()));
            s.conns.insert(
                id,
                Conn {
                    user: user.clone(),
                    next_seq: 1,
                    dead,
                    tx: Some(tx.clone()),
                },
            );
            replay.push(hello);
        }
    }
    if close_now {
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    for t in replay {
        if socket.send(Message::Text(t.into())).await.is_err() {
            return;
        }
    }
    if let Some(seq) = challenge_seq {
        let _ = socket
            .send(Message::Text(
                json!({"status": "OK", "seq_reply": seq}).to_string().into(),
            ))
            .await;
    }
    let ping_every = lock(&st).ping_every.unwrap_or(Duration::from_secs(60));
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Text(t)) => if socket.send(Message::Text(t.into())).await.is_err() { break },
                Some(Out::Ping) => if socket.send(Message::Ping(vec![1].into())).await.is_err() { break },
                Some(Out::Close) | None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            },
            _ = ping.tick() => {
                if !lock(&st).faults.muted && socket.send(Message::Ping(vec![1].into())).await.is_err() {
                    break;
                }
            }
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                    if let Some(seq) = v["seq"].as_i64() {
                        let reply = match v["action"].as_str() {
                            Some("ping") => json!({"status": "OK", "seq_reply": seq, "data": {"text": "pong", "version": "10.5.0", "server_time": now_ms(), "node_id": ""}}),
                            Some("user_typing") => json!({"status": "OK", "seq_reply": seq}),
                            _ => json!({"status": "FAIL", "seq_reply": seq, "error": {"id": "api.web_socket_router.bad_action.app_error", "message": "Invalid action", "detailed_error": "", "status_code": 500}}),
                        };
                        if socket.send(Message::Text(reply.to_string().into())).await.is_err() { break }
                    }
                }
                Some(Ok(Message::Pong(_))) => lock(&st).pongs += 1,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    // Keep the connection (inactive) for resuming.
    let mut s = lock(&st);
    for c in s.conns.values_mut() {
        if c.tx.as_ref().is_some_and(|t| t.same_channel(&tx)) {
            c.tx = None;
        }
    }
}

/// Path params are unused by the fallback router but kept for clarity.
#[allow(unused)]
fn _unused(_: Path<String>) {}
