//! The control socket `DATA/control.sock` of a running `kennel run`.
//!
//! redb allows one process per data file, so while the bot runs, `kennel pair`
//! and `kennel say` talk to it over this Unix socket (mode 0600, in the 0700
//! data directory): one JSON request line, one JSON response line.
//!
//! | request | effect |
//! |---|---|
//! | `{"cmd":"pair-list"}` | pending codes |
//! | `{"cmd":"pair-approve","code":"…"}` | approve, and DM the user that they are in |
//! | `{"cmd":"pair-deny","code":"…"}` | delete the code |
//! | `{"cmd":"say","text":"…"}` | post to the home channel |

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

use super::bot::{Bot, BotError};
use crate::store::{Store, now_ms};

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

pub(super) fn serve(bot: Arc<Bot>, store: &Store) -> Result<ControlGuard, BotError> {
    let dir = store
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let path = socket_path(&dir);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|e| {
        BotError::Config(format!(
            "cannot create control socket {}: {e}",
            path.display()
        ))
    })?;
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let bot = bot.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                if let Ok(Some(line)) = lines.next_line().await {
                    let resp = match serde_json::from_str::<Value>(&line) {
                        Ok(req) => handle(&bot, &req).await,
                        Err(e) => json!({"ok": false, "error": format!("bad request: {e}")}),
                    };
                    let _ = w.write_all(format!("{resp}\n").as_bytes()).await;
                }
            });
        }
    });
    Ok(ControlGuard { path, task })
}

async fn handle(bot: &Bot, req: &Value) -> Value {
    let store = bot.store();
    let code = req
        .get("code")
        .and_then(|c| c.as_str())
        .map(crate::policy::normalise_code)
        .unwrap_or_default();
    let now = now_ms();
    let r: Result<String, String> = match req.get("cmd").and_then(|c| c.as_str()).unwrap_or("") {
        "pair-list" => store
            .pairing_list()
            .map_err(|e| e.to_string())
            .map(|codes| {
                let lines: Vec<String> = codes
                    .into_iter()
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
            }),
        "pair-approve" => match store.pairing_take(&code) {
            Ok(Some(c)) if c.expires_at > now => match store.approve_user(&c.user_id, &c.user_name)
            {
                Ok(()) => {
                    tracing::info!(user = %c.user_name, "pairing approved");
                    bot.notify_approved(&c.user_id).await;
                    Ok(format!("approved @{} ({})", c.user_name, c.user_id))
                }
                Err(e) => Err(e.to_string()),
            },
            Ok(Some(_)) => Err(format!(
                "code {code} has expired; ask the user to message the bot again for a new one"
            )),
            Ok(None) => Err(format!("no pending code {code} (see `kennel pair list`)")),
            Err(e) => Err(e.to_string()),
        },
        "pair-deny" => match store.pairing_take(&code) {
            Ok(Some(c)) => Ok(format!("denied code {code} of @{}", c.user_name)),
            Ok(None) => Err(format!("no pending code {code}")),
            Err(e) => Err(e.to_string()),
        },
        "say" => match req.get("text").and_then(|t| t.as_str()) {
            Some(t) if !t.trim().is_empty() => bot.say(t).await.map(|id| format!("posted {id}")),
            _ => Err("nothing to say".into()),
        },
        other => Err(format!("unknown command `{other}`")),
    };
    match r {
        Ok(text) => json!({"ok": true, "text": text}),
        Err(error) => json!({"ok": false, "error": error}),
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
