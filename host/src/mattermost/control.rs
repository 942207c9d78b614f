//! The control socket `DATA/control.sock` of a running `kennel run`.
//!
//! redb allows one process per data file, so while the bot runs, `kennel pair`
//! and `kennel say` talk to it over this Unix socket: one JSON request line,
//! one JSON response line. This module knows nothing of the bot itself: it
//! serves any [`Target`] (the bot implements it), so the dependency points
//! one way only.
//!
//! | rule | how |
//! |---|---|
//! | private from creation | bound inside a fresh 0700 directory, set to 0600, then renamed into the (0700) data directory; any failure stops start-up |
//! | a failing `accept` never spins | it backs off from 50 ms to 5 s |
//!
//! | request | effect |
//! |---|---|
//! | `{"cmd":"pair-list"}` | pending codes |
//! | `{"cmd":"pair-approve","code":"…"}` | approve, and DM the user that they are in |
//! | `{"cmd":"pair-deny","code":"…"}` | delete the code |
//! | `{"cmd":"pair-revoke","user":"…"}` | revoke an approval (id or name) |
//! | `{"cmd":"say","text":"…"}` | post to the home channel |
//! | `{"cmd":"bindings"}` | listed usernames and the ids they are bound to (JSON) |
//! | `{"cmd":"usage"}` | the text of `kennel usage` |
//! | `{"cmd":"stats"}` | the text of `kennel data stats` |
//! | `{"cmd":"jobs-list"}` | the text of `kennel jobs list` |
//! | `{"cmd":"jobs-rm","id":"…"}` | delete a job |
//! | `{"cmd":"jobs-run","id":"…"}` | make a job due now |

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

use crate::runtime::BoxFuture;
use crate::store::{Store, now_ms};

/// What the control socket can ask of a running bot.
pub trait Target: Send + Sync + 'static {
    fn store(&self) -> &Arc<Store>;
    /// Posts a proactive message to the home channel; returns the post id.
    fn say<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<String, String>>;
    /// Tells a newly approved user they can talk to the bot.
    fn notify_approved<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, ()>;
}

/// Removes the socket file when the bot stops.
pub struct ControlGuard {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ControlGuard {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Path of the socket for a data directory.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join("control.sock")
}

/// Binds the socket (private from creation) and serves `target` on it.
pub fn serve(target: Arc<dyn Target>, data: &Path) -> Result<ControlGuard, String> {
    let path = socket_path(data);
    let listener = bind_private(data, &path)
        .map_err(|e| format!("cannot create control socket {}: {e}", path.display()))?;
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(50);
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(50);
                    stream
                }
                Err(e) => {
                    tracing::warn!("control socket accept failed: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            let target = target.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r.take(64 * 1024)).lines();
                if let Ok(Some(line)) = lines.next_line().await {
                    let resp = match serde_json::from_str::<Value>(&line) {
                        Ok(req) => handle(&*target, &req).await,
                        Err(e) => json!({"ok": false, "error": format!("bad request: {e}")}),
                    };
                    let _ = w.write_all(format!("{resp}\n").as_bytes()).await;
                }
            });
        }
    });
    Ok(ControlGuard { path, task })
}

/// Binds in a fresh 0700 directory, tightens the socket to 0600, then moves
/// it into place: nobody else can ever connect, not even briefly.
fn bind_private(data: &Path, path: &Path) -> std::io::Result<UnixListener> {
    let tmp = data.join(format!(".control-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::DirBuilder::new().mode(0o700).create(&tmp)?;
    let result = (|| {
        let inner = tmp.join("s");
        let listener = UnixListener::bind(&inner)?;
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o600))?;
        let _ = std::fs::remove_file(path);
        std::fs::rename(&inner, path)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

async fn handle(target: &dyn Target, req: &Value) -> Value {
    let store = target.store();
    let field = |k: &str| {
        req.get(k)
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string()
    };
    let code = crate::policy::normalise_code(&field("code"));
    let now = now_ms();
    let r: Result<String, String> = match field("cmd").as_str() {
        "pair-list" => store
            .pairing_list()
            .map_err(|e| e.to_string())
            .map(|codes| pair_list(&codes, now)),
        "pair-approve" => match store.pairing_approve(&code, now).await {
            Ok(Some(c)) => {
                tracing::info!(user = %c.user_name, "pairing approved");
                target.notify_approved(&c.user_id).await;
                Ok(format!("approved @{} ({})", c.user_name, c.user_id))
            }
            Ok(None) => Err(format!(
                "no live code {code} (expired or unknown; see `kennel pair list`)"
            )),
            Err(e) => Err(e.to_string()),
        },
        "pair-deny" => match store.pairing_take(&code).await {
            Ok(Some(c)) => Ok(format!("denied code {code} of @{}", c.user_name)),
            Ok(None) => Err(format!("no pending code {code}")),
            Err(e) => Err(e.to_string()),
        },
        "pair-revoke" => revoke(store, &field("user")).await,
        "bindings" => store
            .bindings()
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::to_string(&b).map_err(|e| e.to_string())),
        "usage" => crate::report::usage(store).map_err(|e| e.to_string()),
        "stats" => crate::report::data_stats(store).map_err(|e| e.to_string()),
        "jobs-list" => crate::report::jobs(store).map_err(|e| e.to_string()),
        "jobs-rm" => jobs_rm(store, &field("id")).await,
        "jobs-run" => jobs_run(store, &field("id")).await,
        "say" => match req.get("text").and_then(|t| t.as_str()) {
            Some(t) if !t.trim().is_empty() => target.say(t).await.map(|id| format!("posted {id}")),
            _ => Err("nothing to say".into()),
        },
        other => Err(format!("unknown command `{other}`")),
    };
    match r {
        Ok(text) => json!({"ok": true, "text": text}),
        Err(error) => json!({"ok": false, "error": error}),
    }
}

/// `kennel jobs rm ID`, shared by the socket and the offline CLI.
pub async fn jobs_rm(store: &Store, id: &str) -> Result<String, String> {
    match store.job_delete(id, None).await {
        Ok(true) => Ok(format!("deleted job {id}")),
        Ok(false) => Err(format!("no job `{id}` (see `kennel jobs list`)")),
        Err(e) => Err(e.to_string()),
    }
}

/// `kennel jobs run ID`: the job is due now (the running bot's scheduler
/// picks it up within a second; offline, at the next start).
pub async fn jobs_run(store: &Store, id: &str) -> Result<String, String> {
    match store.job_due_now(id, now_ms()).await {
        Ok(true) => Ok(format!("job {id} is due now")),
        Ok(false) => Err(format!("no job `{id}` (see `kennel jobs list`)")),
        Err(e) => Err(e.to_string()),
    }
}

/// `kennel pair revoke USER`, shared by the socket and the offline CLI.
pub async fn revoke(store: &Store, user: &str) -> Result<String, String> {
    match store.revoke_user(user).await {
        Ok(ids) if ids.is_empty() => Err(format!("no approved user `{user}`")),
        Ok(ids) => Ok(format!("revoked {}", ids.join(", "))),
        Err(e) => Err(e.to_string()),
    }
}

/// The text of `kennel pair list`.
pub fn pair_list(codes: &[crate::store::PairingCode], now: u64) -> String {
    let lines: Vec<String> = codes
        .iter()
        .filter(|c| c.expires_at > now)
        .map(|c| {
            format!(
                "{}  @{} ({})  expires in {} min",
                c.code,
                c.user_name,
                c.user_id,
                (c.expires_at - now) / 60_000
            )
        })
        .collect();
    if lines.is_empty() {
        "(no pending pairing codes)".to_string()
    } else {
        lines.join("\n")
    }
}

/// Client side: sends one request to a running bot.
pub async fn request(data: &Path, req: &Value) -> Result<String, String> {
    let path = socket_path(data);
    let stream = tokio::net::UnixStream::connect(&path).await.map_err(|e| {
        format!(
            "the data directory is in use, but no running kennel answers on {}: {e}",
            path.display()
        )
    })?;
    let (r, mut w) = stream.into_split();
    w.write_all(format!("{req}\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = BufReader::new(r).lines();
    let line = lines
        .next_line()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no answer from the running kennel")?;
    let v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
    if v["ok"] == true {
        Ok(v["text"].as_str().unwrap_or("").to_string())
    } else {
        Err(v["error"].as_str().unwrap_or("failed").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn the_socket_is_private_and_nothing_is_left_behind() {
        let d = tempfile::tempdir().expect("dir");
        let path = socket_path(d.path());
        let _listener = bind_private(d.path(), &path).expect("bind");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(d.path())
            .expect("read")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("control.sock")]);
    }
}
