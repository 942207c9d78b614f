//! Storage: the one redb file in the data directory (`kennel.redb`).
//!
//! Owns every table, the schema version, the JSON encoding of stored values,
//! quotas and retention. Nothing else opens the file. It must not call out (no
//! network, no guests): callers hand it plain values.
//!
//! Writes go through one writer thread ([`writer`]) that folds everything
//! pending into one transaction (group commit): a write returns after the
//! transaction holding it is durable. Reads are concurrent and never wait for
//! the writer.
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | schema version |
//! | `inbox` | post id | [`InboxEntry`] (JSON) |
//! | `transcripts` | (session id, seq) | [`Turn`] (JSON) |
//! | `sessions` | base session key | generation (bumped by `/reset`) |
//! | `memory` | (agent, scope id, key) | value |
//! | `memory_use` | (agent, scope id) | (keys, bytes) of that scope; `(agent, "*")` totals the agent |
//! | `pairing` | code | [`PairingCode`] (JSON) |
//! | `approved` | user id | user name |
//! | `bindings` | lower-case username | user id it first resolved to |
//! | `cursors` | channel id | largest `create_at` (ms) of a post recorded in the inbox |
//! | `settings` | name | value (e.g. `home_channel`, `last_alive`) |
//! | `usage` | (route, user, session) | [`Usage`] (JSON) |
//! | `jobs` | job id | [`Job`] (JSON) |
//! | `job_runs` | (job id, due ms) | [`Run`] (JSON) |
//!
//! Invariants:
//! - the inbox entry of a post is queued before any work on it and durable
//!   before anything is posted for it ([`Store::inbox_record_queued`]), in
//!   the same transaction that advances its channel's cursor (so the cursor
//!   never passes a post that is not recorded), and moves forward only
//!   (`received` → `replied`/`skipped`/`failed`);
//! - a turn once appended is never rewritten (retention deletes whole turns);
//! - a memory write that would exceed a quota writes nothing and says which.

mod feedback;
mod jobs;
mod writer;

pub use feedback::Vote;
pub use jobs::{Job, Refused, Run, RunState, Target};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

/// Schema version written by this build. Bump with a migration in [`Store::open`].
/// 2: inbox attempts/pending seed/answer, `memory_use`, `bindings`; cursors hold `create_at`.
/// 3: `inbox_open`, the index of `received` posts.
pub const SCHEMA_VERSION: u64 = 3;

/// redb's page cache. Its default (1 GiB) lets a long-running bot's RSS grow
/// with every page it ever touched; the hot set (recent inbox rows, the
/// sessions in use) is far smaller. 32 MiB filled up within 10,000
/// one-message sessions; 8 MiB took 24 MB off the RSS after them, with no
/// change in throughput (`cargo bench -p kennel --bench e2e`): a page not
/// cached is read from the OS's page cache.
const CACHE_BYTES: usize = 8 << 20;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("inbox");
/// The inbox's `received` posts (post id → when its next attempt is due),
/// kept with every inbox write: the once-a-second look for due retries
/// reads these few rows instead of decoding the whole inbox, which holds
/// every post seen within the retention window.
const INBOX_OPEN: TableDefinition<&str, u64> = TableDefinition::new("inbox_open");
const TRANSCRIPTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("transcripts");
const SESSIONS: TableDefinition<&str, u64> = TableDefinition::new("sessions");
const MEMORY: TableDefinition<(&str, &str, &str), &str> = TableDefinition::new("memory");
const MEMORY_USE: TableDefinition<(&str, &str), (u64, u64)> = TableDefinition::new("memory_use");
const PAIRING: TableDefinition<&str, &[u8]> = TableDefinition::new("pairing");
const APPROVED: TableDefinition<&str, &str> = TableDefinition::new("approved");
const BINDINGS: TableDefinition<&str, &str> = TableDefinition::new("bindings");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
const SETTINGS: TableDefinition<&str, &str> = TableDefinition::new("settings");
const USAGE: TableDefinition<(&str, &str, &str), &[u8]> = TableDefinition::new("usage");

/// Errors opening or using the store. Messages name the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data file {0} is in use by another kennel process (stop it, or pass a different --data directory)"
    )]
    Locked(PathBuf),
    #[error("the data file {path} is corrupt or not a kennel database: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the data file {path} has schema version {found}, newer than this kennel supports ({supported}); upgrade kennel"
    )]
    TooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("cannot create data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the data directory {path} belongs to user id {owner}, not to this process (uid {me}); refusing to use it"
    )]
    NotOwner { path: PathBuf, owner: u32, me: u32 },
    #[error("storage error: {0}")]
    Db(String),
    #[error("stored value could not be decoded: {0}")]
    Decode(String),
    #[error("memory quota exceeded: {0}")]
    Quota(String),
}

fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into().to_string())
}

type Result<T> = std::result::Result<T, StoreError>;

/// Processing state of an incoming post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxState {
    /// Recorded, not yet answered.
    Received,
    /// Answered; `reply_ids` holds the reply posts.
    Replied,
    /// Deliberately not answered (not addressed, denied, too old…).
    Skipped,
    /// Every attempt failed; the user got an apology (if it could be posted).
    Failed,
}

/// Inbox entry of one post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub state: InboxState,
    pub channel_id: String,
    /// When the entry last changed (ms since epoch).
    pub at: u64,
    #[serde(default)]
    pub reply_ids: Vec<String>,
    #[serde(default)]
    pub reason: String,
    /// The post's `create_at` (ms).
    #[serde(default)]
    pub created_at: u64,
    /// Random secret from which the reply parts' `pending_post_id`s derive
    /// (stored before any create, so a retry reuses them and nobody can guess them).
    #[serde(default)]
    pub pending_seed: String,
    /// Attempts made to answer (1 on the first).
    #[serde(default)]
    pub attempts: u32,
    /// Earliest time of the next retry (ms).
    #[serde(default)]
    pub next_try_at: u64,
    /// The full answer, stored before a multi-part or streamed reply is
    /// posted so that a restart can finish it.
    #[serde(default)]
    pub answer: Option<String>,
    /// Replies older than this (ms) belong to an earlier answer (the post
    /// was edited and is answered again): they do not count as this one's.
    #[serde(default)]
    pub replies_after: u64,
    /// Files uploaded for the stored answer (posted with it on a resume).
    #[serde(default)]
    pub file_ids: Vec<String>,
}

impl InboxEntry {
    /// A fresh `received` entry (first attempt, due now).
    fn received(channel_id: String, create_at: u64, pending_seed: String) -> InboxEntry {
        let now = now_ms();
        InboxEntry {
            state: InboxState::Received,
            channel_id,
            at: now,
            reply_ids: vec![],
            reason: String::new(),
            created_at: create_at,
            pending_seed,
            attempts: 1,
            next_try_at: now,
            answer: None,
            replies_after: 0,
            file_ids: Vec::new(),
        }
    }

    /// The `pending_post_id` of reply part `n`.
    pub fn pending_id(&self, n: usize) -> String {
        format!("{}{n}", self.pending_seed)
    }
}

/// One stored turn of a session transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub at: u64,
}

/// A pending pairing code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCode {
    pub code: String,
    pub user_id: String,
    pub user_name: String,
    pub channel_id: String,
    pub created_at: u64,
    pub expires_at: u64,
}

/// LLM usage counters of one (route, user, session).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub calls: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub last_used: u64,
}

/// One row of [`Store::usage_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub route: String,
    pub user: String,
    pub session: String,
    pub usage: Usage,
}

/// One LLM call's token counts, recorded with the turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDelta {
    pub route: String,
    pub user: String,
    pub session: String,
    pub prompt: u64,
    pub completion: u64,
}

/// What a finished turn writes: transcript turns and LLM usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnRecord {
    pub session: String,
    pub turns: Vec<Turn>,
    pub usage: Vec<UsageDelta>,
}

/// Memory quotas (0 = unlimited). Checked on every `set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Keys per (agent, scope): one user's, session's or channel's memory.
    pub keys_per_scope: u64,
    /// Bytes (keys + values) per (agent, scope).
    pub bytes_per_scope: u64,
    /// Bytes per agent over all scopes.
    pub bytes_per_agent: u64,
}

impl Default for Quota {
    fn default() -> Quota {
        Quota {
            keys_per_scope: 1_000,
            bytes_per_scope: 1 << 20,
            bytes_per_agent: 256 << 20,
        }
    }
}

/// What [`Store::maintain`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished inbox rows older than this (ms) are deleted.
    pub inbox_ms: u64,
    /// Transcript turns, usage rows older than this (ms) are deleted (0 = keep).
    pub data_ms: u64,
    /// Turns kept per session beyond which none can be read by any route.
    pub max_turns: usize,
}

/// Rows removed by [`Store::maintain`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub runs: u64,
    pub inbox: usize,
    pub turns: usize,
    pub usage: usize,
    pub codes: usize,
}

/// One table of `kennel data stats`: rows, bytes stored, and the oldest
/// timestamp of its rows where they carry one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    pub name: &'static str,
    pub rows: u64,
    /// Bytes of keys and values in the table's leaves.
    pub stored_bytes: u64,
    /// Oldest row (ms since epoch): receipt for the inbox, turn time for
    /// transcripts, creation for pairing codes, last use for usage.
    pub oldest: Option<u64>,
}

/// The whole file: its size, and each table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub path: PathBuf,
    pub file_bytes: u64,
    pub schema_version: u64,
    pub tables: Vec<TableStats>,
    /// Inbox rows still waiting for an answer.
    pub inbox_unanswered: u64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A queued write's acknowledgement, for as many waiters as need it:
/// `Ok` once the write is durable, else why it was not written.
#[derive(Clone)]
pub enum Durable {
    /// Nothing is waiting to be written.
    Done,
    Pending(Shared<BoxFuture<'static, std::result::Result<(), String>>>),
}

impl Durable {
    pub async fn wait(&self) -> std::result::Result<(), String> {
        match self {
            Durable::Done => Ok(()),
            Durable::Pending(ack) => ack.clone().await,
        }
    }
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Durable")
    }
}

/// Handle to the database. Share it behind an `Arc`; reads are one read
/// transaction each, writes are group-committed.
pub struct Store {
    // Field order matters: the writer (and its thread) drops before the database handle.
    writer: writer::Writer,
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) `DIR/kennel.redb`. The directory is made
    /// private (0700) and the file 0600, also when they already exist; a
    /// directory owned by another user is refused.
    pub fn open(dir: &Path) -> Result<Store> {
        create_private_dir(dir)?;
        let path = dir.join("kennel.redb");
        create_private_file(&path)?;
        let db = match Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
        {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(StoreError::Locked(path)),
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() == std::io::ErrorKind::WouldBlock =>
            {
                return Err(StoreError::Locked(path));
            }
            Err(e) => {
                return Err(StoreError::Corrupt {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        init(&db, &path)?;
        let db = Arc::new(db);
        let writer = writer::Writer::start(db.clone())?;
        Ok(Store { writer, db, path })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&redb::ReadTransaction) -> Result<T>) -> Result<T> {
        let tx = self.db.begin_read().map_err(db)?;
        f(&tx)
    }

    // ---- inbox -------------------------------------------------------------

    /// Records a post as received (with a fresh random pending seed, first
    /// attempt) and raises its channel's cursor to `create_at`, in one
    /// transaction. `Ok(new)` is the entry written; `Err(existing)` means the
    /// post was known and nothing was written: the caller must not process it
    /// again unless the existing state is `Received` (interrupted work).
    pub async fn inbox_record(
        &self,
        post_id: &str,
        channel_id: &str,
        create_at: u64,
    ) -> Result<std::result::Result<InboxEntry, InboxEntry>> {
        let post = post_id.to_string();
        let row = InboxEntry::received(channel_id.to_string(), create_at, random_token(12)?);
        self.writer
            .write(move |tx| {
                Ok(match insert_inbox_row(tx, &post, &row)? {
                    Some(existing) => Err(existing),
                    None => Ok(row.clone()),
                })
            })
            .await
    }

    /// As [`Store::inbox_record`], but returns as soon as the write is
    /// queued, with the entry it writes: the caller may start work on the
    /// post at once and must wait for [`Durable`] before anything leaves
    /// the host. The caller must already know the post is new (it checked
    /// [`Store::inbox_get`] and holds the post as in flight); if the row
    /// exists after all, nothing is written and `Durable` fails.
    pub fn inbox_record_queued(
        &self,
        post_id: &str,
        channel_id: &str,
        create_at: u64,
    ) -> Result<(InboxEntry, Durable)> {
        let post = post_id.to_string();
        let entry = InboxEntry::received(channel_id.to_string(), create_at, random_token(12)?);
        let row = entry.clone();
        let ack = self
            .writer
            .submit(move |tx| Ok(insert_inbox_row(tx, &post, &row)?.is_none()))?;
        let durable = async move {
            match writer::Writer::acked(ack).await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the post was already in the inbox".to_string()),
                Err(e) => Err(e.to_string()),
            }
        };
        Ok((entry, Durable::Pending(durable.boxed().shared())))
    }

    /// Opens a finished post again (its author edited it: an answered post
    /// under `edit_mode = "reanswer"`, or one that now mentions the bot):
    /// `received`, first attempt, a fresh pending seed (so the server cannot
    /// hand back an earlier reply), replies before now not counted. `None`
    /// when the post is not `replied` or `skipped`.
    pub async fn inbox_reopen(&self, post_id: &str) -> Result<Option<InboxEntry>> {
        let seed = random_token(12)?;
        self.update_entry(post_id.to_string(), move |e| {
            if !matches!(e.state, InboxState::Replied | InboxState::Skipped) {
                return false;
            }
            let now = now_ms();
            e.state = InboxState::Received;
            e.attempts = 1;
            e.next_try_at = now;
            e.answer = None;
            e.file_ids.clear();
            e.reply_ids.clear();
            e.reason = "edited; answering again".into();
            e.pending_seed = seed.clone();
            e.replies_after = now;
            true
        })
        .await
    }

    /// Starts another attempt on a `received` post: counts it and schedules
    /// the one after (`backoff_ms` from now). Returns the updated entry, or
    /// `None` when the post is not `received` any more.
    pub async fn inbox_retry(&self, post_id: &str, backoff_ms: u64) -> Result<Option<InboxEntry>> {
        let post_id = post_id.to_string();
        self.update_entry(post_id, move |e| {
            if e.state != InboxState::Received {
                return false;
            }
            e.attempts += 1;
            e.next_try_at = now_ms() + backoff_ms;
            true
        })
        .await
    }

    /// Schedules the next attempt on a `received` post without counting one
    /// (the failed attempt was counted when it started).
    pub async fn inbox_defer(&self, post_id: &str, backoff_ms: u64) -> Result<Option<InboxEntry>> {
        self.update_entry(post_id.to_string(), move |e| {
            if e.state != InboxState::Received {
                return false;
            }
            e.next_try_at = now_ms() + backoff_ms;
            true
        })
        .await
    }

    /// Stores the full answer of a post before its parts are posted.
    /// Stores the answer with the ids of the files uploaded for it
    /// (`None` keeps those stored before).
    pub async fn inbox_answer(
        &self,
        post_id: &str,
        answer: &str,
        file_ids: Option<&[String]>,
    ) -> Result<()> {
        let answer = answer.to_string();
        let file_ids = file_ids.map(<[String]>::to_vec);
        self.update_entry(post_id.to_string(), move |e| {
            e.answer = Some(answer.clone());
            if let Some(ids) = &file_ids {
                e.file_ids = ids.clone();
            }
            true
        })
        .await
        .map(|_| ())
    }

    async fn update_entry(
        &self,
        post_id: String,
        f: impl Fn(&mut InboxEntry) -> bool + Send + 'static,
    ) -> Result<Option<InboxEntry>> {
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(INBOX).map_err(db)?;
                let mut e: InboxEntry = match t.get(post_id.as_str()).map_err(db)? {
                    Some(v) => decode(v.value())?,
                    None => return Ok(None),
                };
                if !f(&mut e) {
                    return Ok(None);
                }
                e.at = now_ms();
                put_entry(tx, &mut t, &post_id, &e)?;
                Ok(Some(e))
            })
            .await
    }

    /// Moves a post to `Replied`, `Skipped` or `Failed`, and writes the
    /// turn's transcript and usage in the same transaction.
    pub async fn inbox_finish(
        &self,
        post_id: &str,
        state: InboxState,
        reply_ids: &[String],
        reason: &str,
        record: Option<TurnRecord>,
    ) -> Result<()> {
        let (post_id, reply_ids, reason) =
            (post_id.to_string(), reply_ids.to_vec(), reason.to_string());
        self.writer
            .write(move |tx| {
                {
                    let mut t = tx.open_table(INBOX).map_err(db)?;
                    let mut e: InboxEntry = match t.get(post_id.as_str()).map_err(db)? {
                        Some(v) => decode(v.value())?,
                        None => InboxEntry::received(String::new(), 0, String::new()),
                    };
                    e.state = state;
                    e.at = now_ms();
                    e.reply_ids = reply_ids.clone();
                    e.reason = reason.clone();
                    e.answer = None;
                    put_entry(tx, &mut t, &post_id, &e)?;
                }
                if let Some(r) = &record {
                    write_record(tx, r)?;
                }
                Ok(())
            })
            .await
    }

    /// Writes a turn that has no inbox entry (console).
    pub async fn record_turn(&self, record: TurnRecord) -> Result<()> {
        self.writer.write(move |tx| write_record(tx, &record)).await
    }

    /// The inbox entry of a post, if any.
    pub fn inbox_get(&self, post_id: &str) -> Result<Option<InboxEntry>> {
        self.read(|tx| {
            let t = tx.open_table(INBOX).map_err(db)?;
            match t.get(post_id).map_err(db)? {
                Some(v) => Ok(Some(decode(v.value())?)),
                None => Ok(None),
            }
        })
    }

    /// Posts recorded but never finished (work interrupted by a crash or an
    /// error). A row that cannot be decoded is logged and left out, so one
    /// bad row does not stop the retries of all the others.
    pub fn inbox_unfinished(&self) -> Result<Vec<(String, InboxEntry)>> {
        self.read(|tx| {
            let open = tx.open_table(INBOX_OPEN).map_err(db)?;
            let t = tx.open_table(INBOX).map_err(db)?;
            let mut out = Vec::new();
            for row in open.iter().map_err(db)? {
                let post = row.map_err(db)?.0.value().to_string();
                let Some(v) = t.get(post.as_str()).map_err(db)? else {
                    continue;
                };
                match decode::<InboxEntry>(v.value()) {
                    Ok(e) if e.state == InboxState::Received => out.push((post, e)),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(post = %post, "the inbox row of a post waiting for an answer cannot be read; not retrying it: {e}");
                    }
                }
            }
            Ok(out)
        })
    }

    /// Number of inbox entries.
    pub fn inbox_len(&self) -> Result<u64> {
        self.read(|tx| tx.open_table(INBOX).map_err(db)?.len().map_err(db))
    }

    // ---- sessions and transcripts -------------------------------------------

    /// Current generation of a base session key (0 until the first `/reset`).
    pub fn session_generation(&self, base: &str) -> Result<u64> {
        self.read(|tx| {
            let t = tx.open_table(SESSIONS).map_err(db)?;
            Ok(t.get(base).map_err(db)?.map(|v| v.value()).unwrap_or(0))
        })
    }

    /// Starts a new generation for a base session key (`/reset`). Returns it.
    pub async fn session_reset(&self, base: &str) -> Result<u64> {
        let base = base.to_string();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(SESSIONS).map_err(db)?;
                let next = t
                    .get(base.as_str())
                    .map_err(db)?
                    .map(|v| v.value())
                    .unwrap_or(0)
                    + 1;
                t.insert(base.as_str(), next).map_err(db)?;
                Ok(next)
            })
            .await
    }

    /// The last `max_turns` turns of a session whose texts fit in `max_chars`, oldest first.
    pub fn recent_turns(
        &self,
        session: &str,
        max_turns: usize,
        max_chars: usize,
    ) -> Result<Vec<Turn>> {
        self.read(|tx| {
            let t = tx.open_table(TRANSCRIPTS).map_err(db)?;
            let mut out = Vec::new();
            let mut chars = 0usize;
            for row in t
                .range((session, 0u64)..=(session, u64::MAX))
                .map_err(db)?
                .rev()
            {
                if out.len() >= max_turns {
                    break;
                }
                let (_, v) = row.map_err(db)?;
                let turn: Turn = decode(v.value())?;
                chars += turn.text.chars().count();
                if chars > max_chars && !out.is_empty() {
                    break;
                }
                out.push(turn);
            }
            out.reverse();
            Ok(out)
        })
    }

    /// Number of turns stored for a session.
    pub fn turn_count(&self, session: &str) -> Result<usize> {
        self.read(|tx| {
            let t = tx.open_table(TRANSCRIPTS).map_err(db)?;
            Ok(t.range((session, 0u64)..=(session, u64::MAX))
                .map_err(db)?
                .count())
        })
    }

    // ---- memory --------------------------------------------------------------

    pub fn memory_get(&self, agent: &str, scope: &str, key: &str) -> Result<Option<String>> {
        self.read(|tx| {
            let t = tx.open_table(MEMORY).map_err(db)?;
            Ok(t.get((agent, scope, key))
                .map_err(db)?
                .map(|v| v.value().to_string()))
        })
    }

    /// Sets a key, refusing (and writing nothing) when a quota would be exceeded.
    pub async fn memory_set(
        &self,
        agent: &str,
        scope: &str,
        key: &str,
        value: &str,
        quota: Quota,
    ) -> Result<()> {
        let (agent, scope, key, value) = (
            agent.to_string(),
            scope.to_string(),
            key.to_string(),
            value.to_string(),
        );
        self.writer
            .write(move |tx| memory_set_tx(tx, &agent, &scope, &key, &value, quota))
            .await
    }

    pub async fn memory_delete(&self, agent: &str, scope: &str, key: &str) -> Result<bool> {
        let (agent, scope, key) = (agent.to_string(), scope.to_string(), key.to_string());
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(MEMORY).map_err(db)?;
                let old = t
                    .remove((agent.as_str(), scope.as_str(), key.as_str()))
                    .map_err(db)?
                    .map(|v| v.value().len() as u64);
                drop(t);
                if let Some(len) = old {
                    let bytes = key.len() as u64 + len;
                    adjust_use(tx, &agent, &scope, -1, -(bytes as i64))?;
                }
                Ok(old.is_some())
            })
            .await
    }

    /// Keys of `(agent, scope)` starting with `prefix`, sorted, at most `limit`.
    pub fn memory_keys(
        &self,
        agent: &str,
        scope: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.read(|tx| {
            let t = tx.open_table(MEMORY).map_err(db)?;
            let mut out = Vec::new();
            for row in t.range((agent, scope, prefix)..).map_err(db)? {
                let (k, _) = row.map_err(db)?;
                let (a, s, key) = k.value();
                if a != agent || s != scope || !key.starts_with(prefix) || out.len() >= limit {
                    break;
                }
                out.push(key.to_string());
            }
            Ok(out)
        })
    }

    /// (keys, bytes) used by one scope of an agent (`"*"` = the agent's total).
    pub fn memory_use(&self, agent: &str, scope: &str) -> Result<(u64, u64)> {
        self.read(|tx| {
            let t = tx.open_table(MEMORY_USE).map_err(db)?;
            Ok(t.get((agent, scope))
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or((0, 0)))
        })
    }

    // ---- pairing, approvals and username bindings ----------------------------------

    /// Stores a new code; any other code of the same user is revoked.
    pub async fn pairing_put(&self, code: &PairingCode) -> Result<()> {
        let code = code.clone();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(PAIRING).map_err(db)?;
                let mut old = Vec::new();
                for row in t.iter().map_err(db)? {
                    let (k, v) = row.map_err(db)?;
                    let c: PairingCode = decode(v.value())?;
                    if c.user_id == code.user_id {
                        old.push(k.value().to_string());
                    }
                }
                for k in old {
                    t.remove(k.as_str()).map_err(db)?;
                }
                t.insert(code.code.as_str(), encode(&code)?.as_slice())
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    /// Every stored pairing code (expired ones included; callers filter).
    pub fn pairing_list(&self) -> Result<Vec<PairingCode>> {
        self.read(|tx| {
            let t = tx.open_table(PAIRING).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let (_, v) = row.map_err(db)?;
                out.push(decode(v.value())?);
            }
            Ok(out)
        })
    }

    /// Removes a code, returning it.
    pub async fn pairing_take(&self, code: &str) -> Result<Option<PairingCode>> {
        let code = code.to_string();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(PAIRING).map_err(db)?;
                let v = t.remove(code.as_str()).map_err(db)?;
                match v {
                    Some(v) => Ok(Some(decode(v.value())?)),
                    None => Ok(None),
                }
            })
            .await
    }

    /// Approves the user of a live code and removes the code, in one transaction.
    pub async fn pairing_approve(&self, code: &str, now: u64) -> Result<Option<PairingCode>> {
        let code = code.to_string();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(PAIRING).map_err(db)?;
                let c: PairingCode = match t.get(code.as_str()).map_err(db)? {
                    Some(v) => decode(v.value())?,
                    None => return Ok(None),
                };
                t.remove(code.as_str()).map_err(db)?;
                if c.expires_at <= now {
                    return Ok(None);
                }
                drop(t);
                let mut a = tx.open_table(APPROVED).map_err(db)?;
                a.insert(c.user_id.as_str(), c.user_name.as_str())
                    .map_err(db)?;
                Ok(Some(c))
            })
            .await
    }

    pub async fn approve_user(&self, user_id: &str, user_name: &str) -> Result<()> {
        let (user_id, user_name) = (user_id.to_string(), user_name.to_string());
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(APPROVED).map_err(db)?;
                t.insert(user_id.as_str(), user_name.as_str()).map_err(db)?;
                Ok(())
            })
            .await
    }

    /// Revokes an approval by user id or (case-insensitive) user name; returns the ids removed.
    pub async fn revoke_user(&self, who: &str) -> Result<Vec<String>> {
        let who = who.trim_start_matches('@').to_ascii_lowercase();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(APPROVED).map_err(db)?;
                let mut gone = Vec::new();
                for row in t.iter().map_err(db)? {
                    let (k, v) = row.map_err(db)?;
                    if k.value() == who || v.value().to_ascii_lowercase() == who {
                        gone.push(k.value().to_string());
                    }
                }
                for id in &gone {
                    t.remove(id.as_str()).map_err(db)?;
                }
                Ok(gone)
            })
            .await
    }

    pub fn is_approved(&self, user_id: &str) -> Result<bool> {
        self.read(|tx| {
            let t = tx.open_table(APPROVED).map_err(db)?;
            Ok(t.get(user_id).map_err(db)?.is_some())
        })
    }

    /// Approved users (id, name).
    pub fn approved(&self) -> Result<Vec<(String, String)>> {
        self.read(|tx| {
            let t = tx.open_table(APPROVED).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let (k, v) = row.map_err(db)?;
                out.push((k.value().to_string(), v.value().to_string()));
            }
            Ok(out)
        })
    }

    /// Binds a listed username to the id it resolves to, the first time only.
    /// Returns the id the name is bound to (the earlier one if it differs).
    pub async fn bind_username(&self, name: &str, user_id: &str) -> Result<String> {
        let (name, user_id) = (name.to_ascii_lowercase(), user_id.to_string());
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(BINDINGS).map_err(db)?;
                if let Some(v) = t.get(name.as_str()).map_err(db)? {
                    return Ok(v.value().to_string());
                }
                t.insert(name.as_str(), user_id.as_str()).map_err(db)?;
                Ok(user_id.clone())
            })
            .await
    }

    /// Every username binding (lower-case name → id).
    pub fn bindings(&self) -> Result<std::collections::BTreeMap<String, String>> {
        self.read(|tx| {
            let t = tx.open_table(BINDINGS).map_err(db)?;
            let mut out = std::collections::BTreeMap::new();
            for row in t.iter().map_err(db)? {
                let (k, v) = row.map_err(db)?;
                out.insert(k.value().to_string(), v.value().to_string());
            }
            Ok(out)
        })
    }

    /// The id a username is bound to, if any.
    pub fn username_binding(&self, name: &str) -> Result<Option<String>> {
        self.read(|tx| {
            let t = tx.open_table(BINDINGS).map_err(db)?;
            Ok(t.get(name.to_ascii_lowercase().as_str())
                .map_err(db)?
                .map(|v| v.value().to_string()))
        })
    }

    // ---- cursors and settings ------------------------------------------------------

    /// Every channel cursor (largest recorded `create_at`).
    pub fn cursors(&self) -> Result<Vec<(String, u64)>> {
        self.read(|tx| {
            let t = tx.open_table(CURSORS).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let (k, v) = row.map_err(db)?;
                out.push((k.value().to_string(), v.value()));
            }
            Ok(out)
        })
    }

    /// Raises a channel's cursor (never lowers it); for channels whose posts are not recorded.
    pub async fn cursor_advance(&self, channel_id: &str, at: u64) -> Result<()> {
        let channel_id = channel_id.to_string();
        self.writer
            .write(move |tx| raise_cursor(tx, &channel_id, at))
            .await
    }

    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        self.read(|tx| {
            let t = tx.open_table(SETTINGS).map_err(db)?;
            Ok(t.get(name).map_err(db)?.map(|v| v.value().to_string()))
        })
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        let (name, value) = (name.to_string(), value.to_string());
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(SETTINGS).map_err(db)?;
                t.insert(name.as_str(), value.as_str()).map_err(db)?;
                Ok(())
            })
            .await
    }

    // ---- usage -------------------------------------------------------------------

    /// Every usage row.
    pub fn usage_rows(&self) -> Result<Vec<UsageRow>> {
        self.read(|tx| {
            let t = tx.open_table(USAGE).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let (k, v) = row.map_err(db)?;
                let (route, user, session) = k.value();
                out.push(UsageRow {
                    route: route.to_string(),
                    user: user.to_string(),
                    session: session.to_string(),
                    usage: decode(v.value())?,
                });
            }
            Ok(out)
        })
    }

    // ---- retention and statistics -------------------------------------------------

    /// Deletes what retention allows: finished inbox rows, old and unreachable
    /// transcript turns (old `/reset` generations, turns beyond `max_turns`),
    /// old usage rows and expired pairing codes.
    ///
    /// The rows are found in a read transaction on a blocking thread: the
    /// scan decodes every inbox row and transcript turn, and in the writer
    /// it would hold up every write meanwhile (each message's record and
    /// finish). They are then deleted [`MAINTAIN_BATCH`] at a time, each
    /// batch checking again the rows that can change after the scan (a post
    /// reopened by an edit, a usage row used again, a pairing code renewed).
    pub async fn maintain(&self, r: Retention) -> Result<Removed> {
        let now = now_ms();
        let database = self.db.clone();
        let doomed = tokio::task::spawn_blocking(move || {
            let tx = database.begin_read().map_err(db)?;
            doomed_rows(&tx, r, now)
        })
        .await
        .map_err(|e| StoreError::Db(format!("the retention scan stopped: {e}")))??;
        self.remove_doomed(doomed, r, now).await
    }

    async fn remove_doomed(&self, d: Doomed, r: Retention, now: u64) -> Result<Removed> {
        let inbox_cutoff = now.saturating_sub(r.inbox_ms);
        let data_cutoff = now.saturating_sub(r.data_ms);
        Ok(Removed {
            // Finished job runs: kept as long as the inbox keeps answered posts.
            runs: self
                .writer
                .write(move |tx| jobs::prune_runs(tx, inbox_cutoff))
                .await?,
            inbox: self
                .batched(d.inbox, remove_old_inbox, inbox_cutoff)
                .await?,
            turns: self.batched(d.turns, remove_turns, 0).await?,
            usage: self.batched(d.usage, remove_old_usage, data_cutoff).await?,
            codes: self.batched(d.codes, remove_expired_codes, now).await?,
        })
    }

    /// Runs `remove(tx, keys, limit)` over `keys` in batches, one write each.
    async fn batched<K: Clone + Send + 'static>(
        &self,
        keys: Vec<K>,
        remove: fn(&WriteTransaction, &[K], u64) -> Result<usize>,
        limit: u64,
    ) -> Result<usize> {
        let mut n = 0;
        for chunk in keys.chunks(MAINTAIN_BATCH) {
            let chunk = chunk.to_vec();
            n += self
                .writer
                .write(move |tx| remove(tx, &chunk, limit))
                .await?;
        }
        Ok(n)
    }

    /// Table sizes and the oldest turn.
    pub fn stats(&self) -> Result<Stats> {
        let file_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        self.read(|tx| {
            let mut unanswered = 0;
            let tables = vec![
                dated(tx, INBOX, "inbox", |e: &InboxEntry| {
                    unanswered += u64::from(e.state == InboxState::Received);
                    if e.created_at > 0 { e.created_at } else { e.at }
                })?,
                dated(tx, TRANSCRIPTS, "transcripts", |t: &Turn| t.at)?,
                dated(tx, PAIRING, "pairing", |c: &PairingCode| c.created_at)?,
                dated(tx, USAGE, "usage", |u: &Usage| u.last_used)?,
                undated(tx, SESSIONS, "sessions")?,
                undated(tx, MEMORY, "memory")?,
                undated(tx, APPROVED, "approved")?,
                undated(tx, BINDINGS, "bindings")?,
                undated(tx, CURSORS, "cursors")?,
                undated(tx, SETTINGS, "settings")?,
                undated(tx, jobs::JOBS, "jobs")?,
                dated(tx, jobs::RUNS, "job_runs", |r: &Run| r.started)?,
                dated(tx, feedback::FEEDBACK, "feedback", |v: &Vote| v.at)?,
            ];
            let schema_version = tx
                .open_table(META)
                .map_err(db)?
                .get("schema_version")
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or(0);
            Ok(Stats {
                path: self.path.clone(),
                file_bytes,
                schema_version,
                tables,
                inbox_unanswered: unanswered,
            })
        })
    }
}

#[derive(Default)]
struct Oldest(Option<u64>);

impl Oldest {
    fn see(&mut self, at: u64) {
        if at > 0 {
            self.0 = Some(self.0.map_or(at, |o| o.min(at)));
        }
    }
}

/// Stats of a table whose values are encoded records carrying a time.
fn dated<K: redb::Key + 'static, T: for<'de> Deserialize<'de>>(
    tx: &redb::ReadTransaction,
    def: TableDefinition<K, &'static [u8]>,
    name: &'static str,
    mut at: impl FnMut(&T) -> u64,
) -> Result<TableStats> {
    let t = tx.open_table(def).map_err(db)?;
    let mut oldest = Oldest::default();
    for row in t.iter().map_err(db)? {
        oldest.see(at(&decode::<T>(row.map_err(db)?.1.value())?));
    }
    table_stats(name, &t, oldest.0)
}

fn undated<K: redb::Key + 'static, V: redb::Value + 'static>(
    tx: &redb::ReadTransaction,
    def: TableDefinition<K, V>,
    name: &'static str,
) -> Result<TableStats> {
    table_stats(name, &tx.open_table(def).map_err(db)?, None)
}

fn table_stats(
    name: &'static str,
    t: &impl ReadableTableMetadata,
    oldest: Option<u64>,
) -> Result<TableStats> {
    let stats = t.stats().map_err(db)?;
    Ok(TableStats {
        name,
        rows: t.len().map_err(db)?,
        stored_bytes: stats.stored_bytes(),
        oldest,
    })
}

fn init(db: &Database, path: &Path) -> Result<()> {
    let tx = db.begin_write().map_err(db_e)?;
    let found = {
        let meta = tx.open_table(META).map_err(db_e)?;
        meta.get("schema_version").map_err(db_e)?.map(|v| v.value())
    };
    if let Some(v) = found
        && v > SCHEMA_VERSION
    {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: v,
            supported: SCHEMA_VERSION,
        });
    }
    tx.open_table(INBOX).map_err(db_e)?;
    tx.open_table(INBOX_OPEN).map_err(db_e)?;
    tx.open_table(TRANSCRIPTS).map_err(db_e)?;
    tx.open_table(SESSIONS).map_err(db_e)?;
    tx.open_table(MEMORY).map_err(db_e)?;
    tx.open_table(MEMORY_USE).map_err(db_e)?;
    tx.open_table(PAIRING).map_err(db_e)?;
    tx.open_table(APPROVED).map_err(db_e)?;
    tx.open_table(BINDINGS).map_err(db_e)?;
    tx.open_table(jobs::JOBS).map_err(db_e)?;
    tx.open_table(jobs::RUNS).map_err(db_e)?;
    tx.open_table(CURSORS).map_err(db_e)?;
    tx.open_table(SETTINGS).map_err(db_e)?;
    tx.open_table(USAGE).map_err(db_e)?;
    tx.open_table(feedback::FEEDBACK).map_err(db_e)?;
    if found == Some(1) {
        migrate_1_to_2(&tx)?;
    }
    if matches!(found, Some(1 | 2)) {
        migrate_2_to_3(&tx)?;
    }
    if found != Some(SCHEMA_VERSION) {
        let mut meta = tx.open_table(META).map_err(db_e)?;
        meta.insert("schema_version", SCHEMA_VERSION)
            .map_err(db_e)?;
    }
    tx.commit().map_err(db_e)
}

fn db_e<E: Into<redb::Error>>(e: E) -> StoreError {
    db(e)
}

/// 2 → 3: index the inbox's `received` posts.
fn migrate_2_to_3(tx: &WriteTransaction) -> Result<()> {
    let t = tx.open_table(INBOX).map_err(db)?;
    let mut open = tx.open_table(INBOX_OPEN).map_err(db)?;
    for row in t.iter().map_err(db)? {
        let (k, v) = row.map_err(db)?;
        let e: InboxEntry = decode(v.value())?;
        if e.state == InboxState::Received {
            open.insert(k.value(), e.next_try_at).map_err(db)?;
        }
    }
    Ok(())
}

/// 1 → 2: count memory usage per scope; v1 cursors held `update_at`, which
/// only overshoots (catch-up re-reads by inbox, so nothing is lost by keeping them).
fn migrate_1_to_2(tx: &WriteTransaction) -> Result<()> {
    let mut rows: Vec<(String, String, u64)> = Vec::new();
    {
        let t = tx.open_table(MEMORY).map_err(db)?;
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let (a, s, key) = k.value();
            rows.push((
                a.to_string(),
                s.to_string(),
                (key.len() + v.value().len()) as u64,
            ));
        }
    }
    for (a, s, bytes) in rows {
        adjust_use(tx, &a, &s, 1, bytes as i64)?;
    }
    Ok(())
}

/// Writes `row` as the inbox entry of `post` and raises its channel's
/// cursor, unless the post has an entry already: then nothing is written
/// and the existing entry is returned.
fn insert_inbox_row(
    tx: &WriteTransaction,
    post: &str,
    row: &InboxEntry,
) -> Result<Option<InboxEntry>> {
    let mut t = tx.open_table(INBOX).map_err(db)?;
    if let Some(v) = t.get(post).map_err(db)? {
        return Ok(Some(decode::<InboxEntry>(v.value())?));
    }
    put_entry(tx, &mut t, post, row)?;
    raise_cursor(tx, &row.channel_id, row.created_at).map(|()| None)
}

/// Writes an inbox entry and keeps [`INBOX_OPEN`] in step with its state.
/// Every inbox write goes through here.
fn put_entry(
    tx: &WriteTransaction,
    inbox: &mut redb::Table<&str, &[u8]>,
    post: &str,
    e: &InboxEntry,
) -> Result<()> {
    inbox.insert(post, encode(e)?.as_slice()).map_err(db)?;
    let mut open = tx.open_table(INBOX_OPEN).map_err(db)?;
    match e.state {
        InboxState::Received => open.insert(post, e.next_try_at).map(drop),
        _ => open.remove(post).map(drop),
    }
    .map_err(db)
}

fn raise_cursor(tx: &WriteTransaction, channel_id: &str, at: u64) -> Result<()> {
    let mut t = tx.open_table(CURSORS).map_err(db)?;
    let cur = t
        .get(channel_id)
        .map_err(db)?
        .map(|v| v.value())
        .unwrap_or(0);
    if at > cur {
        t.insert(channel_id, at).map_err(db)?;
    }
    Ok(())
}

fn write_record(tx: &WriteTransaction, r: &TurnRecord) -> Result<()> {
    if !r.turns.is_empty() {
        let mut t = tx.open_table(TRANSCRIPTS).map_err(db)?;
        let session = r.session.as_str();
        let next = t
            .range((session, 0u64)..=(session, u64::MAX))
            .map_err(db)?
            .next_back()
            .transpose()
            .map_err(db)?
            .map(|(k, _)| k.value().1 + 1)
            .unwrap_or(0);
        for (i, turn) in r.turns.iter().enumerate() {
            t.insert((session, next + i as u64), encode(turn)?.as_slice())
                .map_err(db)?;
        }
    }
    if !r.usage.is_empty() {
        let mut t = tx.open_table(USAGE).map_err(db)?;
        for d in &r.usage {
            let key = (d.route.as_str(), d.user.as_str(), d.session.as_str());
            let mut u: Usage = match t.get(key).map_err(db)? {
                Some(v) => decode(v.value())?,
                None => Usage::default(),
            };
            u.calls += 1;
            u.prompt_tokens += d.prompt;
            u.completion_tokens += d.completion;
            u.last_used = now_ms();
            t.insert(key, encode(&u)?.as_slice()).map_err(db)?;
        }
    }
    Ok(())
}

fn memory_set_tx(
    tx: &WriteTransaction,
    agent: &str,
    scope: &str,
    key: &str,
    value: &str,
    q: Quota,
) -> Result<()> {
    let old = {
        let t = tx.open_table(MEMORY).map_err(db)?;
        t.get((agent, scope, key))
            .map_err(db)?
            .map(|v| v.value().len() as u64)
    };
    let new_bytes = (key.len() + value.len()) as u64;
    let (dk, db_) = match old {
        Some(len) => (0i64, new_bytes as i64 - (key.len() as u64 + len) as i64),
        None => (1i64, new_bytes as i64),
    };
    let (keys, bytes) = read_use(tx, agent, scope)?;
    let (_, agent_bytes) = read_use(tx, agent, "*")?;
    let over = |limit: u64, now: u64, delta: i64| {
        limit > 0 && delta > 0 && now.saturating_add(delta as u64) > limit
    };
    if over(q.keys_per_scope, keys, dk) {
        return Err(StoreError::Quota(format!(
            "{scope} already holds {keys} keys (limit {}); delete some first",
            q.keys_per_scope
        )));
    }
    if over(q.bytes_per_scope, bytes, db_) {
        return Err(StoreError::Quota(format!(
            "{scope} would hold more than {} bytes (now {bytes})",
            q.bytes_per_scope
        )));
    }
    if over(q.bytes_per_agent, agent_bytes, db_) {
        return Err(StoreError::Quota(format!(
            "agent `{agent}` would hold more than {} bytes of memory (now {agent_bytes})",
            q.bytes_per_agent
        )));
    }
    let mut t = tx.open_table(MEMORY).map_err(db)?;
    t.insert((agent, scope, key), value).map_err(db)?;
    drop(t);
    adjust_use(tx, agent, scope, dk, db_)
}

fn read_use(tx: &WriteTransaction, agent: &str, scope: &str) -> Result<(u64, u64)> {
    let t = tx.open_table(MEMORY_USE).map_err(db)?;
    Ok(t.get((agent, scope))
        .map_err(db)?
        .map(|v| v.value())
        .unwrap_or((0, 0)))
}

fn adjust_use(tx: &WriteTransaction, agent: &str, scope: &str, dk: i64, dbytes: i64) -> Result<()> {
    let apply = |(k, b): (u64, u64), dk: i64| {
        (k.saturating_add_signed(dk), b.saturating_add_signed(dbytes))
    };
    let scoped = apply(read_use(tx, agent, scope)?, dk);
    let total = apply(read_use(tx, agent, "*")?, dk);
    let mut t = tx.open_table(MEMORY_USE).map_err(db)?;
    t.insert((agent, scope), scoped).map_err(db)?;
    t.insert((agent, "*"), total).map_err(db)?;
    Ok(())
}

/// Rows deleted in one write by [`Store::maintain`]: bounds how long one
/// batch holds up the messages' writes.
const MAINTAIN_BATCH: usize = 1_000;

/// What retention allows to delete, found by [`doomed_rows`].
#[derive(Debug, Default)]
struct Doomed {
    inbox: Vec<String>,
    turns: Vec<(String, u64)>,
    usage: Vec<(String, String, String)>,
    codes: Vec<String>,
}

fn doomed_rows(tx: &redb::ReadTransaction, r: Retention, now: u64) -> Result<Doomed> {
    let mut d = Doomed::default();
    let inbox_cutoff = now.saturating_sub(r.inbox_ms);
    for row in tx.open_table(INBOX).map_err(db)?.iter().map_err(db)? {
        let (k, v) = row.map_err(db)?;
        if is_old_inbox(&decode(v.value())?, inbox_cutoff) {
            d.inbox.push(k.value().to_string());
        }
    }
    d.turns = doomed_turns(tx, r, now)?;
    if r.data_ms > 0 {
        let cutoff = now.saturating_sub(r.data_ms);
        for row in tx.open_table(USAGE).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if is_old_usage(&decode(v.value())?, cutoff) {
                let (a, b, c) = k.value();
                d.usage.push((a.to_string(), b.to_string(), c.to_string()));
            }
        }
    }
    for row in tx.open_table(PAIRING).map_err(db)?.iter().map_err(db)? {
        let (k, v) = row.map_err(db)?;
        if is_expired(&decode(v.value())?, now) {
            d.codes.push(k.value().to_string());
        }
    }
    Ok(d)
}

/// Transcript turns by age, by generation (a reset session is never read
/// again) and beyond the longest context any route reads. Each reason only
/// grows with time (a turn never gets younger, a generation never comes
/// back, later turns only push older ones further back), so a turn found
/// here may be deleted without a second look.
fn doomed_turns(tx: &redb::ReadTransaction, r: Retention, now: u64) -> Result<Vec<(String, u64)>> {
    let generations: std::collections::HashMap<String, u64> = {
        let mut m = std::collections::HashMap::new();
        for row in tx.open_table(SESSIONS).map_err(db)?.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            m.insert(k.value().to_string(), v.value());
        }
        m
    };
    let cutoff = if r.data_ms == 0 {
        0
    } else {
        now.saturating_sub(r.data_ms)
    };
    let mut doomed: Vec<(String, u64)> = Vec::new();
    let mut per_session: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for row in tx.open_table(TRANSCRIPTS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = row.map_err(db)?;
        let (sid, seq) = k.value();
        let turn: Turn = decode(v.value())?;
        let stale_gen = sid
            .rsplit_once('#')
            .and_then(|(base, g)| Some((generations.get(base).copied()?, g.parse::<u64>().ok()?)))
            .is_some_and(|(current, g)| g < current);
        if stale_gen || turn.at < cutoff {
            doomed.push((sid.to_string(), seq));
        } else {
            per_session.entry(sid.to_string()).or_default().push(seq);
        }
    }
    for (sid, seqs) in per_session {
        if r.max_turns > 0 && seqs.len() > r.max_turns {
            let extra = seqs.len() - r.max_turns;
            doomed.extend(seqs.into_iter().take(extra).map(|s| (sid.clone(), s)));
        }
    }
    Ok(doomed)
}

fn is_old_inbox(e: &InboxEntry, cutoff: u64) -> bool {
    e.state != InboxState::Received && e.at < cutoff
}

fn is_old_usage(u: &Usage, cutoff: u64) -> bool {
    u.last_used < cutoff
}

fn is_expired(c: &PairingCode, now: u64) -> bool {
    c.expires_at <= now
}

/// Removes those of `keys` whose row still matches `doomed` (rows can
/// change between the scan and the write).
fn remove_still_doomed<T: for<'de> Deserialize<'de>>(
    tx: &WriteTransaction,
    def: TableDefinition<&str, &[u8]>,
    keys: &[String],
    doomed: impl Fn(&T) -> bool,
) -> Result<usize> {
    let mut t = tx.open_table(def).map_err(db)?;
    let mut n = 0;
    for k in keys {
        let gone = match t.get(k.as_str()).map_err(db)? {
            Some(v) => doomed(&decode(v.value())?),
            None => false,
        };
        if gone {
            t.remove(k.as_str()).map_err(db)?;
            n += 1;
        }
    }
    Ok(n)
}

fn remove_old_inbox(tx: &WriteTransaction, keys: &[String], cutoff: u64) -> Result<usize> {
    remove_still_doomed(tx, INBOX, keys, |e: &InboxEntry| is_old_inbox(e, cutoff))
}

fn remove_expired_codes(tx: &WriteTransaction, keys: &[String], now: u64) -> Result<usize> {
    remove_still_doomed(tx, PAIRING, keys, |c: &PairingCode| is_expired(c, now))
}

fn remove_turns(tx: &WriteTransaction, keys: &[(String, u64)], _: u64) -> Result<usize> {
    let mut t = tx.open_table(TRANSCRIPTS).map_err(db)?;
    let mut n = 0;
    for (sid, seq) in keys {
        n += usize::from(t.remove((sid.as_str(), *seq)).map_err(db)?.is_some());
    }
    Ok(n)
}

/// As [`remove_still_doomed`], for the usage table's three-part keys.
fn remove_old_usage(
    tx: &WriteTransaction,
    keys: &[(String, String, String)],
    cutoff: u64,
) -> Result<usize> {
    let mut t = tx.open_table(USAGE).map_err(db)?;
    let mut n = 0;
    for (a, b, c) in keys {
        let key = (a.as_str(), b.as_str(), c.as_str());
        let old = match t.get(key).map_err(db)? {
            Some(v) => is_old_usage(&decode(v.value())?, cutoff),
            None => false,
        };
        if old {
            t.remove(key).map_err(db)?;
            n += 1;
        }
    }
    Ok(n)
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Decode(e.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| StoreError::Decode(e.to_string()))
}

/// A random lower-case alphanumeric token of `n` characters (OS randomness).
pub fn random_token(n: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Db(format!("no OS randomness: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Creates `dir` (and parents) with mode 0700, or makes an existing one
/// private (with a warning). A directory owned by someone else is refused.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let err = |source| StoreError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        return std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err);
    }
    let meta = std::fs::metadata(dir).map_err(err)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(StoreError::NotOwner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", meta.mode() & 0o777),
            "data directory was readable by others; changing it to 0700"
        );
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// Creates `path` with mode 0600 if missing, or tightens an existing file to 0600.
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |source| StoreError::Dir {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            if m.mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "data file was readable by others; changing it to 0600");
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(err)?;
            }
            Ok(())
        }
        Err(_) => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(|_| ())
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(err(e))
                }
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn append(s: &Store, session: &str, turns: &[Turn]) -> Result<()> {
        s.record_turn(TurnRecord {
            session: session.to_string(),
            turns: turns.to_vec(),
            usage: vec![],
        })
        .await
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).expect("open");
        (dir, s)
    }

    /// The queued record: the entry comes back at once, the row and the
    /// cursor are there once `Durable` resolves, a later write's
    /// acknowledgement implies the row is durable (one writer, in order),
    /// and a row that exists already is neither overwritten nor reported
    /// as written.
    #[tokio::test]
    async fn a_queued_inbox_record_is_durable_when_acknowledged() {
        let (_d, s) = open();
        let (entry, durable) = s.inbox_record_queued("p1", "c1", 10).expect("queue");
        assert_eq!(entry.state, InboxState::Received);
        assert_eq!(entry.pending_seed.len(), 12);
        durable.wait().await.expect("durable");
        durable.wait().await.expect("a second waiter sees the same");
        assert_eq!(s.inbox_get("p1").expect("read"), Some(entry.clone()));
        assert_eq!(s.cursors().expect("cursors"), vec![("c1".to_string(), 10)]);

        let (_, queued) = s.inbox_record_queued("p2", "c1", 20).expect("queue");
        s.memory_set("a", "user:1", "k", "v", Quota::default())
            .await
            .expect("later write");
        assert!(s.inbox_get("p2").expect("read").is_some(), "in order");
        queued.wait().await.expect("durable");

        let (other, again) = s.inbox_record_queued("p1", "c1", 10).expect("queue");
        assert_ne!(other.pending_seed, entry.pending_seed);
        assert!(again.wait().await.is_err(), "p1 was known");
        assert_eq!(s.inbox_get("p1").expect("read"), Some(entry));
    }

    #[tokio::test]
    async fn inbox_records_once_and_tracks_state() {
        let (_d, s) = open();
        assert!(s.inbox_record("p1", "c1", 10).await.expect("rec").is_ok());
        let again = s
            .inbox_record("p1", "c1", 10)
            .await
            .expect("rec")
            .expect_err("known already");
        assert_eq!(again.state, InboxState::Received);
        assert_eq!(again.attempts, 1);
        assert_eq!(again.pending_seed.len(), 12);
        assert_ne!(again.pending_id(0), again.pending_id(1));
        // The cursor moved with the record, in the same transaction, by create_at.
        assert_eq!(s.cursors().expect("cursors"), vec![("c1".to_string(), 10)]);
        assert_eq!(s.inbox_unfinished().expect("unfinished").len(), 1);
        let retried = s
            .inbox_retry("p1", 1000)
            .await
            .expect("retry")
            .expect("entry");
        assert_eq!(retried.attempts, 2);
        assert!(retried.next_try_at >= now_ms() + 900);
        s.inbox_finish("p1", InboxState::Replied, &["r1".into()], "", None)
            .await
            .expect("finish");
        let e = s.inbox_get("p1").expect("get").expect("exists");
        assert_eq!(e.state, InboxState::Replied);
        assert_eq!(e.reply_ids, vec!["r1".to_string()]);
        assert!(s.inbox_retry("p1", 0).await.expect("retry").is_none());
        assert!(s.inbox_unfinished().expect("unfinished").is_empty());
        let keep = Retention {
            inbox_ms: 60_000,
            data_ms: 0,
            max_turns: 0,
        };
        assert_eq!(s.maintain(keep).await.expect("maintain").inbox, 0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let drop_all = Retention {
            inbox_ms: 0,
            ..keep
        };
        assert_eq!(s.maintain(drop_all).await.expect("maintain").inbox, 1);
        assert_eq!(s.inbox_len().expect("len"), 0);
    }

    /// `inbox_open` follows every state change, and the look for due
    /// retries reads only it: an undecodable finished row (which a scan
    /// of the whole inbox would trip on) is never read, and an undecodable
    /// waiting one is left out without stopping the others.
    #[tokio::test]
    async fn only_received_posts_are_read_for_retries() {
        let (_d, s) = open();
        let open_ids = |s: &Store| -> Vec<String> {
            let mut v: Vec<String> = s
                .inbox_unfinished()
                .expect("unfinished")
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            v.sort();
            v
        };
        assert!(s.inbox_record("a", "c", 1).await.expect("rec").is_ok());
        let (_, durable) = s.inbox_record_queued("b", "c", 2).expect("queue");
        durable.wait().await.expect("durable");
        assert!(s.inbox_record("c", "c", 3).await.expect("rec").is_ok());
        assert_eq!(open_ids(&s), ["a", "b", "c"]);
        s.inbox_finish("a", InboxState::Replied, &[], "", None)
            .await
            .expect("finish");
        s.inbox_finish("b", InboxState::Skipped, &[], "", None)
            .await
            .expect("finish");
        assert_eq!(open_ids(&s), ["c"]);
        let retried = s.inbox_retry("c", 5_000).await.expect("retry");
        let due = s.inbox_unfinished().expect("unfinished");
        assert_eq!(due[0].1, retried.expect("received"));
        assert!(s.inbox_reopen("b").await.expect("reopen").is_some());
        assert_eq!(open_ids(&s), ["b", "c"]);
        let corrupt = |post: &'static str| {
            s.writer.write(move |tx| {
                let mut t = tx.open_table(INBOX).map_err(db)?;
                t.insert(post, b"not json".as_slice()).map_err(db)?;
                Ok(())
            })
        };
        corrupt("a").await.expect("corrupt a finished row");
        assert_eq!(open_ids(&s), ["b", "c"]);
        corrupt("b").await.expect("corrupt a waiting row");
        assert_eq!(open_ids(&s), ["c"], "the others are still retried");
    }

    /// Retention finds its rows in a read transaction and deletes them
    /// later: a post reopened (by an edit) or a usage row used again in
    /// between is kept; the rest goes.
    #[tokio::test]
    async fn retention_checks_again_what_changed_after_its_scan() {
        let (_d, s) = open();
        for p in ["reopened", "gone"] {
            assert!(s.inbox_record(p, "c", 1).await.expect("rec").is_ok());
            s.inbox_finish(p, InboxState::Replied, &[], "", None)
                .await
                .expect("finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        let r = Retention {
            inbox_ms: 1,
            data_ms: 0,
            max_turns: 0,
        };
        let now = now_ms();
        let doomed = doomed_rows(&s.db.begin_read().expect("read"), r, now).expect("scan");
        let mut found = doomed.inbox.clone();
        found.sort();
        assert_eq!(found, ["gone", "reopened"]);
        assert!(s.inbox_reopen("reopened").await.expect("reopen").is_some());
        let removed = s.remove_doomed(doomed, r, now).await.expect("remove");
        assert_eq!(removed.inbox, 1);
        assert!(s.inbox_get("gone").expect("get").is_none());
        let kept = s.inbox_get("reopened").expect("get").expect("kept");
        assert_eq!(kept.state, InboxState::Received);
    }

    /// A version-2 store (no `inbox_open`) gets the index built on open.
    #[tokio::test]
    async fn opening_a_version_2_store_indexes_its_received_posts() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let s = Store::open(dir.path()).expect("open");
            assert!(s.inbox_record("open", "c", 1).await.expect("rec").is_ok());
            assert!(s.inbox_record("done", "c", 2).await.expect("rec").is_ok());
            s.inbox_finish("done", InboxState::Replied, &[], "", None)
                .await
                .expect("finish");
            s.writer
                .write(|tx| {
                    tx.delete_table(INBOX_OPEN).map_err(db)?;
                    let mut meta = tx.open_table(META).map_err(db)?;
                    meta.insert("schema_version", 2).map_err(db)?;
                    Ok(())
                })
                .await
                .expect("make it version 2");
        }
        let s = Store::open(dir.path()).expect("reopen");
        assert_eq!(s.stats().expect("stats").schema_version, SCHEMA_VERSION);
        let open: Vec<String> = s
            .inbox_unfinished()
            .expect("unfinished")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(open, ["open"]);
    }

    #[tokio::test]
    async fn finish_writes_transcript_and_usage_with_the_inbox_state() {
        let (_d, s) = open();
        assert!(s.inbox_record("p", "c", 1).await.expect("rec").is_ok());
        let record = TurnRecord {
            session: "dm:c#0".into(),
            turns: vec![Turn {
                role: "user".into(),
                text: "hi".into(),
                user_name: None,
                at: now_ms(),
            }],
            usage: vec![UsageDelta {
                route: "r".into(),
                user: "u".into(),
                session: "dm:c#0".into(),
                prompt: 3,
                completion: 4,
            }],
        };
        s.inbox_finish("p", InboxState::Replied, &["x".into()], "", Some(record))
            .await
            .expect("finish");
        assert_eq!(s.turn_count("dm:c#0").expect("count"), 1);
        let rows = s.usage_rows().expect("usage");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].usage.completion_tokens, 4);
    }

    #[tokio::test]
    async fn concurrent_writes_are_group_committed_and_all_durable() {
        let (d, s) = open();
        let s = Arc::new(s);
        let mut tasks = Vec::new();
        for i in 0..200 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.inbox_record(&format!("p{i}"), "c", i).await
            }));
        }
        for t in tasks {
            assert!(
                t.await.expect("join").expect("record").is_ok(),
                "each post is new"
            );
        }
        drop(s);
        let s = Store::open(d.path()).expect("reopen");
        assert_eq!(s.inbox_len().expect("len"), 200);
        assert_eq!(s.cursors().expect("cursors"), vec![("c".to_string(), 199)]);
    }

    #[tokio::test]
    async fn a_failing_operation_fails_alone() {
        let (_d, s) = open();
        let s = Arc::new(s);
        let q = Quota {
            keys_per_scope: 1,
            bytes_per_scope: 0,
            bytes_per_agent: 0,
        };
        s.memory_set("a", "user:1", "k0", "v", q)
            .await
            .expect("first key fits");
        // Many writes in flight at once; the over-quota ones fail, the others land.
        let mut tasks = Vec::new();
        for i in 0..50 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    s.memory_set("a", "user:1", &format!("k{}", i + 1), "v", q)
                        .await
                        .map(|_| ())
                } else {
                    s.inbox_record(&format!("p{i}"), "c", 1).await.map(|_| ())
                }
            }));
        }
        let mut failed = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(()) => {}
                Err(StoreError::Quota(_)) => failed += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(failed, 25);
        assert_eq!(s.inbox_len().expect("len"), 25);
        assert_eq!(s.memory_use("a", "user:1").expect("use"), (1, 3));
    }

    #[tokio::test]
    async fn memory_quotas_bound_keys_and_bytes() {
        let (_d, s) = open();
        let q = Quota {
            keys_per_scope: 1000,
            bytes_per_scope: 64 * 1024,
            bytes_per_agent: 150 * 1024,
        };
        let big = "x".repeat(60 * 1024);
        s.memory_set("a", "user:1", "k", &big, q)
            .await
            .expect("fits");
        // Overwriting the same key with the same size is fine; a second one is not.
        s.memory_set("a", "user:1", "k", &big, q)
            .await
            .expect("overwrite");
        match s.memory_set("a", "user:1", "k2", &big, q).await {
            Err(StoreError::Quota(m)) => assert!(m.contains("user:1"), "{m}"),
            other => panic!("expected a quota error, got {other:?}"),
        }
        s.memory_set("a", "user:2", "k", &big, q)
            .await
            .expect("other scope");
        match s.memory_set("a", "user:3", "k", &big, q).await {
            Err(StoreError::Quota(m)) => assert!(m.contains("agent"), "{m}"),
            other => panic!("expected the agent quota, got {other:?}"),
        }
        assert!(s.memory_delete("a", "user:1", "k").await.expect("delete"));
        s.memory_set("a", "user:3", "k", &big, q)
            .await
            .expect("room again");
        assert_eq!(s.memory_use("a", "user:1").expect("use"), (0, 0));
    }

    #[tokio::test]
    async fn a_key_flood_stops_at_the_quota_and_the_file_stays_bounded() {
        let (_d, s) = open();
        let q = Quota::default();
        let value = "v".repeat(64 * 1024);
        let mut refused = 0;
        for i in 0..500 {
            let key = format!("{i:0>200}");
            match s.memory_set("ag", "user:flood", &key, &value, q).await {
                Ok(()) => {}
                Err(StoreError::Quota(_)) => refused += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        let (_, bytes) = s.memory_use("ag", "user:flood").expect("use");
        assert!(bytes <= q.bytes_per_scope, "{bytes}");
        assert!(refused >= 480, "{refused} refused");
        let size = std::fs::metadata(s.path()).expect("meta").len();
        assert!(size < 16 << 20, "the file grew to {size} bytes");
    }

    #[tokio::test]
    async fn transcripts_append_and_budget() {
        let (_d, s) = open();
        let t = |i: usize| Turn {
            role: "user".into(),
            text: format!("turn {i} {}", "x".repeat(10)),
            user_name: None,
            at: now_ms(),
        };
        append(&s, "a", &(0..10).map(t).collect::<Vec<_>>())
            .await
            .expect("append");
        append(&s, "b", &[t(99)]).await.expect("append");
        let recent = s.recent_turns("a", 3, 10_000).expect("recent");
        assert_eq!(
            recent
                .iter()
                .map(|t| t.text.split(' ').nth(1).unwrap_or(""))
                .collect::<Vec<_>>(),
            vec!["7", "8", "9"]
        );
        // Character budget: each turn is 17 chars; 40 allows two.
        assert_eq!(s.recent_turns("a", 10, 40).expect("recent").len(), 2);
        assert_eq!(s.turn_count("a").expect("count"), 10);
        assert_eq!(s.turn_count("b").expect("count"), 1);
    }

    #[tokio::test]
    async fn retention_drops_old_generations_and_unreachable_turns() {
        let (_d, s) = open();
        let turn = |at: u64| Turn {
            role: "user".into(),
            text: "t".into(),
            user_name: None,
            at,
        };
        append(&s, "dm:x#0", &[turn(now_ms()), turn(now_ms())])
            .await
            .expect("append");
        assert_eq!(s.session_reset("dm:x").await.expect("reset"), 1);
        let now = now_ms();
        append(
            &s,
            "dm:x#1",
            &(0..30).map(|_| turn(now)).collect::<Vec<_>>(),
        )
        .await
        .expect("append");
        append(&s, "dm:y#0", &[turn(1)]).await.expect("append old");
        let r = s
            .maintain(Retention {
                inbox_ms: u64::MAX,
                data_ms: 24 * 3600 * 1000,
                max_turns: 20,
            })
            .await
            .expect("maintain");
        assert_eq!(r.turns, 2 + 10 + 1);
        assert_eq!(s.turn_count("dm:x#0").expect("count"), 0);
        assert_eq!(s.turn_count("dm:x#1").expect("count"), 20);
        assert_eq!(s.turn_count("dm:y#0").expect("count"), 0);
    }

    #[tokio::test]
    async fn memory_scopes_and_prefix_keys() {
        let (_d, s) = open();
        let q = Quota::default();
        s.memory_set("ag", "user:u1", "fact:0001", "likes tea", q)
            .await
            .expect("set");
        s.memory_set("ag", "user:u1", "fact:0002", "on call", q)
            .await
            .expect("set");
        s.memory_set("ag", "user:u1", "other", "x", q)
            .await
            .expect("set");
        s.memory_set("ag", "user:u2", "fact:0001", "other user", q)
            .await
            .expect("set");
        s.memory_set("zz", "user:u1", "fact:0003", "other agent", q)
            .await
            .expect("set");
        assert_eq!(
            s.memory_keys("ag", "user:u1", "fact:", 100).expect("keys"),
            vec!["fact:0001", "fact:0002"]
        );
        assert!(
            s.memory_delete("ag", "user:u1", "other")
                .await
                .expect("del")
        );
        assert!(
            !s.memory_delete("ag", "user:u1", "other")
                .await
                .expect("del")
        );
        assert_eq!(
            s.memory_get("ag", "user:u2", "fact:0001")
                .expect("get")
                .as_deref(),
            Some("other user")
        );
    }

    #[tokio::test]
    async fn pairing_one_code_per_user_and_revocation() {
        let (_d, s) = open();
        let code = |c: &str, u: &str| PairingCode {
            code: c.into(),
            user_id: u.into(),
            user_name: format!("name-{u}"),
            channel_id: "c".into(),
            created_at: 0,
            expires_at: u64::MAX,
        };
        s.pairing_put(&code("AAAA", "u1")).await.expect("put");
        s.pairing_put(&code("BBBB", "u1")).await.expect("put");
        s.pairing_put(&code("CCCC", "u2")).await.expect("put");
        let mut live: Vec<String> = s
            .pairing_list()
            .expect("list")
            .into_iter()
            .map(|c| c.code)
            .collect();
        live.sort();
        assert_eq!(live, vec!["BBBB", "CCCC"]);
        assert!(
            s.pairing_approve("AAAA", 1)
                .await
                .expect("approve")
                .is_none()
        );
        assert!(
            s.pairing_approve("BBBB", 1)
                .await
                .expect("approve")
                .is_some()
        );
        assert!(s.is_approved("u1").expect("approved"));
        assert_eq!(s.revoke_user("@Name-U1").await.expect("revoke"), vec!["u1"]);
        assert!(!s.is_approved("u1").expect("approved"));
    }

    #[tokio::test]
    async fn usernames_bind_to_the_first_id() {
        let (_d, s) = open();
        assert_eq!(s.bind_username("Alice", "id1").await.expect("bind"), "id1");
        assert_eq!(s.bind_username("alice", "id2").await.expect("bind"), "id1");
        assert_eq!(
            s.username_binding("ALICE").expect("get").as_deref(),
            Some("id1")
        );
    }

    #[tokio::test]
    async fn second_open_is_locked_and_garbage_is_corrupt() {
        let (d, _s) = open();
        match Store::open(d.path()) {
            Err(StoreError::Locked(_)) => {}
            other => panic!("expected Locked, got {other:?}"),
        }
        let d2 = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            d2.path().join("kennel.redb"),
            b"not a database at all, just text",
        )
        .expect("write");
        match Store::open(d2.path()) {
            Err(StoreError::Corrupt { .. }) => {}
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn data_dir_and_file_are_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let data = d.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let s = Store::open(&data).expect("open");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(s.path()), 0o600);
        let path = s.path().to_path_buf();
        drop(s);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let s = Store::open(&data).expect("reopen");
        assert_eq!(mode(s.path()), 0o600);
    }

    #[tokio::test]
    async fn sessions_reset_and_cursors_only_advance() {
        let (_d, s) = open();
        assert_eq!(s.session_generation("dm:x").expect("gen"), 0);
        assert_eq!(s.session_reset("dm:x").await.expect("reset"), 1);
        assert_eq!(s.session_generation("dm:x").expect("gen"), 1);
        s.cursor_advance("c", 10).await.expect("adv");
        s.cursor_advance("c", 5).await.expect("adv");
        assert_eq!(s.cursors().expect("cursors"), vec![("c".to_string(), 10)]);
    }
}
