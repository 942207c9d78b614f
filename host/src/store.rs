//! Storage: the one redb file in the data directory (`kennel.redb`).
//!
//! Owns every table, the schema version and the JSON encoding of stored
//! values. Nothing else opens the file. It must not call out (no network, no
//! guests): callers hand it plain values.
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | schema version |
//! | `inbox` | post id | [`InboxEntry`] (JSON) |
//! | `transcripts` | (session id, seq) | [`Turn`] (JSON) |
//! | `sessions` | base session key | generation (bumped by `/reset`) |
//! | `memory` | (agent, scope id, key) | value |
//! | `pairing` | code | [`PairingCode`] (JSON) |
//! | `approved` | user id | user name |
//! | `cursors` | channel id | last seen `update_at` (ms) |
//! | `settings` | name | value (e.g. `home_channel`) |
//! | `usage` | (route, user, session) | [`Usage`] (JSON) |
//!
//! Invariants: the inbox entry of a post is written before any work on it and
//! moves forward only (`received` → `replied`/`skipped`); a turn once appended
//! is never rewritten.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

/// Schema version written by this build. Bump with a migration in [`Store::open`].
pub const SCHEMA_VERSION: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("inbox");
const TRANSCRIPTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("transcripts");
const SESSIONS: TableDefinition<&str, u64> = TableDefinition::new("sessions");
const MEMORY: TableDefinition<(&str, &str, &str), &str> = TableDefinition::new("memory");
const PAIRING: TableDefinition<&str, &[u8]> = TableDefinition::new("pairing");
const APPROVED: TableDefinition<&str, &str> = TableDefinition::new("approved");
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
    #[error("storage error: {0}")]
    Db(String),
    #[error("stored value could not be decoded: {0}")]
    Decode(String),
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

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Handle to the database. Cheap to share behind an `Arc`; every method is one transaction.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) `DIR/kennel.redb`, creating the directory with mode 0700.
    pub fn open(dir: &Path) -> Result<Store> {
        create_private_dir(dir)?;
        let path = dir.join("kennel.redb");
        let db = match Database::create(&path) {
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
        let store = Store { db, path };
        store.init()?;
        Ok(store)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init(&self) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut meta = tx.open_table(META).map_err(db)?;
            let found = meta.get("schema_version").map_err(db)?.map(|v| v.value());
            match found {
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(StoreError::TooNew {
                        path: self.path.clone(),
                        found: v,
                        supported: SCHEMA_VERSION,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION).map_err(db)?;
                }
            }
            tx.open_table(INBOX).map_err(db)?;
            tx.open_table(TRANSCRIPTS).map_err(db)?;
            tx.open_table(SESSIONS).map_err(db)?;
            tx.open_table(MEMORY).map_err(db)?;
            tx.open_table(PAIRING).map_err(db)?;
            tx.open_table(APPROVED).map_err(db)?;
            tx.open_table(CURSORS).map_err(db)?;
            tx.open_table(SETTINGS).map_err(db)?;
            tx.open_table(USAGE).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    // ---- inbox -------------------------------------------------------------

    /// Records a post as received. Returns `Some(existing)` (and writes nothing)
    /// when the post is already known: the caller must not process it again
    /// unless the existing state is `Received` (interrupted work).
    pub fn inbox_record(&self, post_id: &str, channel_id: &str) -> Result<Option<InboxEntry>> {
        let tx = self.db.begin_write().map_err(db)?;
        let existing = {
            let mut t = tx.open_table(INBOX).map_err(db)?;
            let existing = match t.get(post_id).map_err(db)? {
                Some(v) => Some(decode::<InboxEntry>(v.value())?),
                None => None,
            };
            if existing.is_none() {
                let entry = InboxEntry {
                    state: InboxState::Received,
                    channel_id: channel_id.to_string(),
                    at: now_ms(),
                    reply_ids: vec![],
                    reason: String::new(),
                };
                t.insert(post_id, encode(&entry)?.as_slice()).map_err(db)?;
            }
            existing
        };
        tx.commit().map_err(db)?;
        Ok(existing)
    }

    /// Moves a post to `Replied` or `Skipped`.
    pub fn inbox_finish(
        &self,
        post_id: &str,
        state: InboxState,
        reply_ids: &[String],
        reason: &str,
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(INBOX).map_err(db)?;
            let channel_id = match t.get(post_id).map_err(db)? {
                Some(v) => decode::<InboxEntry>(v.value())?.channel_id,
                None => String::new(),
            };
            let entry = InboxEntry {
                state,
                channel_id,
                at: now_ms(),
                reply_ids: reply_ids.to_vec(),
                reason: reason.to_string(),
            };
            t.insert(post_id, encode(&entry)?.as_slice()).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// The inbox entry of a post, if any.
    pub fn inbox_get(&self, post_id: &str) -> Result<Option<InboxEntry>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(INBOX).map_err(db)?;
        match t.get(post_id).map_err(db)? {
            Some(v) => Ok(Some(decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// Posts recorded but never finished (work interrupted by a crash).
    pub fn inbox_unfinished(&self) -> Result<Vec<(String, InboxEntry)>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(INBOX).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let e: InboxEntry = decode(v.value())?;
            if e.state == InboxState::Received {
                out.push((k.value().to_string(), e));
            }
        }
        Ok(out)
    }

    /// Deletes finished inbox entries older than `max_age_ms`. Returns how many.
    pub fn inbox_prune(&self, max_age_ms: u64) -> Result<usize> {
        let cutoff = now_ms().saturating_sub(max_age_ms);
        let tx = self.db.begin_write().map_err(db)?;
        let n = {
            let mut t = tx.open_table(INBOX).map_err(db)?;
            let mut old = Vec::new();
            for row in t.iter().map_err(db)? {
                let (k, v) = row.map_err(db)?;
                let e: InboxEntry = decode(v.value())?;
                if e.state != InboxState::Received && e.at < cutoff {
                    old.push(k.value().to_string());
                }
            }
            for k in &old {
                t.remove(k.as_str()).map_err(db)?;
            }
            old.len()
        };
        tx.commit().map_err(db)?;
        Ok(n)
    }

    /// Number of inbox entries.
    pub fn inbox_len(&self) -> Result<u64> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(INBOX).map_err(db)?;
        t.len().map_err(db)
    }

    // ---- sessions and transcripts -------------------------------------------

    /// Current generation of a base session key (0 until the first `/reset`).
    pub fn session_generation(&self, base: &str) -> Result<u64> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(SESSIONS).map_err(db)?;
        Ok(t.get(base).map_err(db)?.map(|v| v.value()).unwrap_or(0))
    }

    /// Starts a new generation for a base session key (`/reset`). Returns it.
    pub fn session_reset(&self, base: &str) -> Result<u64> {
        let tx = self.db.begin_write().map_err(db)?;
        let next = {
            let mut t = tx.open_table(SESSIONS).map_err(db)?;
            let next = t.get(base).map_err(db)?.map(|v| v.value()).unwrap_or(0) + 1;
            t.insert(base, next).map_err(db)?;
            next
        };
        tx.commit().map_err(db)?;
        Ok(next)
    }

    /// Appends turns to a session transcript in one transaction.
    pub fn append_turns(&self, session: &str, turns: &[Turn]) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(TRANSCRIPTS).map_err(db)?;
            let next = t
                .range((session, 0u64)..=(session, u64::MAX))
                .map_err(db)?
                .next_back()
                .transpose()
                .map_err(db)?
                .map(|(k, _)| k.value().1 + 1)
                .unwrap_or(0);
            for (i, turn) in turns.iter().enumerate() {
                t.insert((session, next + i as u64), encode(turn)?.as_slice())
                    .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// The last `max_turns` turns of a session whose texts fit in `max_chars`, oldest first.
    pub fn recent_turns(
        &self,
        session: &str,
        max_turns: usize,
        max_chars: usize,
    ) -> Result<Vec<Turn>> {
        let tx = self.db.begin_read().map_err(db)?;
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
    }

    /// Number of turns stored for a session.
    pub fn turn_count(&self, session: &str) -> Result<usize> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(TRANSCRIPTS).map_err(db)?;
        Ok(t.range((session, 0u64)..=(session, u64::MAX))
            .map_err(db)?
            .count())
    }

    // ---- memory --------------------------------------------------------------

    pub fn memory_get(&self, agent: &str, scope: &str, key: &str) -> Result<Option<String>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MEMORY).map_err(db)?;
        Ok(t.get((agent, scope, key))
            .map_err(db)?
            .map(|v| v.value().to_string()))
    }

    pub fn memory_set(&self, agent: &str, scope: &str, key: &str, value: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(MEMORY).map_err(db)?;
            t.insert((agent, scope, key), value).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    pub fn memory_delete(&self, agent: &str, scope: &str, key: &str) -> Result<bool> {
        let tx = self.db.begin_write().map_err(db)?;
        let existed = {
            let mut t = tx.open_table(MEMORY).map_err(db)?;
            t.remove((agent, scope, key)).map_err(db)?.is_some()
        };
        tx.commit().map_err(db)?;
        Ok(existed)
    }

    /// Keys of `(agent, scope)` starting with `prefix`, sorted, at most `limit`.
    pub fn memory_keys(
        &self,
        agent: &str,
        scope: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let tx = self.db.begin_read().map_err(db)?;
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
    }

    // ---- pairing and approvals -------------------------------------------------

    pub fn pairing_put(&self, code: &PairingCode) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(PAIRING).map_err(db)?;
            t.insert(code.code.as_str(), encode(code)?.as_slice())
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// Every stored pairing code (expired ones included; callers filter).
    pub fn pairing_list(&self) -> Result<Vec<PairingCode>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(PAIRING).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (_, v) = row.map_err(db)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    /// Removes a code, returning it.
    pub fn pairing_take(&self, code: &str) -> Result<Option<PairingCode>> {
        let tx = self.db.begin_write().map_err(db)?;
        let taken = {
            let mut t = tx.open_table(PAIRING).map_err(db)?;
            let v = t.remove(code).map_err(db)?;
            match v {
                Some(v) => Some(decode(v.value())?),
                None => None,
            }
        };
        tx.commit().map_err(db)?;
        Ok(taken)
    }

    pub fn approve_user(&self, user_id: &str, user_name: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(APPROVED).map_err(db)?;
            t.insert(user_id, user_name).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    pub fn is_approved(&self, user_id: &str) -> Result<bool> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(APPROVED).map_err(db)?;
        Ok(t.get(user_id).map_err(db)?.is_some())
    }

    // ---- cursors and settings ------------------------------------------------------

    /// Raises a channel's cursor to `update_at` (never lowers it).
    pub fn cursor_advance(&self, channel_id: &str, update_at: u64) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(CURSORS).map_err(db)?;
            let cur = t
                .get(channel_id)
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or(0);
            if update_at > cur {
                t.insert(channel_id, update_at).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// Every channel cursor.
    pub fn cursors(&self) -> Result<Vec<(String, u64)>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(CURSORS).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            out.push((k.value().to_string(), v.value()));
        }
        Ok(out)
    }

    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(SETTINGS).map_err(db)?;
        Ok(t.get(name).map_err(db)?.map(|v| v.value().to_string()))
    }

    pub fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(SETTINGS).map_err(db)?;
            t.insert(name, value).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    // ---- usage -------------------------------------------------------------------

    /// Adds one LLM call's token counts.
    pub fn usage_add(
        &self,
        route: &str,
        user: &str,
        session: &str,
        prompt: u64,
        completion: u64,
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(USAGE).map_err(db)?;
            let mut u: Usage = match t.get((route, user, session)).map_err(db)? {
                Some(v) => decode(v.value())?,
                None => Usage::default(),
            };
            u.calls += 1;
            u.prompt_tokens += prompt;
            u.completion_tokens += completion;
            u.last_used = now_ms();
            t.insert((route, user, session), encode(&u)?.as_slice())
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// Every usage row.
    pub fn usage_rows(&self) -> Result<Vec<UsageRow>> {
        let tx = self.db.begin_read().map_err(db)?;
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
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Decode(e.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| StoreError::Decode(e.to_string()))
}

/// Creates `dir` (and parents) with mode 0700 when it does not exist.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StoreError::Dir {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).expect("open");
        (dir, s)
    }

    #[test]
    fn inbox_records_once_and_tracks_state() {
        let (_d, s) = open();
        assert_eq!(s.inbox_record("p1", "c1").expect("rec"), None);
        let again = s.inbox_record("p1", "c1").expect("rec").expect("exists");
        assert_eq!(again.state, InboxState::Received);
        assert_eq!(s.inbox_unfinished().expect("unfinished").len(), 1);
        s.inbox_finish("p1", InboxState::Replied, &["r1".into()], "")
            .expect("finish");
        let e = s.inbox_get("p1").expect("get").expect("exists");
        assert_eq!(e.state, InboxState::Replied);
        assert_eq!(e.reply_ids, vec!["r1".to_string()]);
        assert!(s.inbox_unfinished().expect("unfinished").is_empty());
        // Pruning keeps recent entries and removes old finished ones.
        assert_eq!(s.inbox_prune(60_000).expect("prune"), 0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(s.inbox_prune(0).expect("prune"), 1);
        assert_eq!(s.inbox_len().expect("len"), 0);
    }

    #[test]
    fn transcripts_append_and_budget() {
        let (_d, s) = open();
        let t = |i: usize| Turn {
            role: "user".into(),
            text: format!("turn {i} {}", "x".repeat(10)),
            user_name: None,
            at: 0,
        };
        s.append_turns("a", &(0..10).map(t).collect::<Vec<_>>())
            .expect("append");
        s.append_turns("b", &[t(99)]).expect("append");
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

    #[test]
    fn memory_scopes_and_prefix_keys() {
        let (_d, s) = open();
        s.memory_set("ag", "user:u1", "fact:0001", "likes tea")
            .expect("set");
        s.memory_set("ag", "user:u1", "fact:0002", "on call")
            .expect("set");
        s.memory_set("ag", "user:u1", "other", "x").expect("set");
        s.memory_set("ag", "user:u2", "fact:0001", "other user")
            .expect("set");
        s.memory_set("zz", "user:u1", "fact:0003", "other agent")
            .expect("set");
        assert_eq!(
            s.memory_keys("ag", "user:u1", "fact:", 100).expect("keys"),
            vec!["fact:0001", "fact:0002"]
        );
        assert!(s.memory_delete("ag", "user:u1", "other").expect("del"));
        assert!(!s.memory_delete("ag", "user:u1", "other").expect("del"));
        assert_eq!(
            s.memory_get("ag", "user:u2", "fact:0001")
                .expect("get")
                .as_deref(),
            Some("other user")
        );
    }

    #[test]
    fn second_open_is_locked_and_garbage_is_corrupt() {
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

    #[test]
    fn sessions_reset_and_cursors_only_advance() {
        let (_d, s) = open();
        assert_eq!(s.session_generation("dm:x").expect("gen"), 0);
        assert_eq!(s.session_reset("dm:x").expect("reset"), 1);
        assert_eq!(s.session_generation("dm:x").expect("gen"), 1);
        s.cursor_advance("c", 10).expect("adv");
        s.cursor_advance("c", 5).expect("adv");
        assert_eq!(s.cursors().expect("cursors"), vec![("c".to_string(), 10)]);
    }
}
