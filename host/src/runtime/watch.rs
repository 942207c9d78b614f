//! Hot swap: watches the guest directory and reloads changed guests.
//!
//! | event | action |
//! |---|---|
//! | `NAME.wasm` created or changed | wait until its size and mtime are stable, compile off the async runtime, type-check, swap the `Arc` |
//! | `NAME.toml` changed | reload `NAME.wasm` with the new limits |
//! | `NAME.wasm` removed | unload `NAME` (routes naming it answer "agent unavailable") |
//! | load fails (half-written, invalid, wrong world) | keep the old version serving; log why |
//!
//! Events are debounced ([`DEBOUNCE`]); deploy by writing a temp file and
//! renaming it for the fastest swap, but a slow in-place copy is safe too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};

use super::{Runtime, RuntimeError};

/// Quiet time after the last event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// A file must keep the same size and mtime this long to count as complete.
const SETTLE: Duration = Duration::from_millis(100);

/// Keeps the directory watch alive; dropping it stops hot swapping.
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    /// Must be called inside a tokio runtime.
    pub(super) fn start(rt: Runtime) -> Result<Watcher, RuntimeError> {
        let dir = rt.guest_dir().to_path_buf();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev
                && changes_content(&ev.kind)
            {
                for p in ev.paths {
                    let _ = tx.send(p);
                }
            }
        })
        .map_err(|e| RuntimeError::Watch {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| RuntimeError::Watch {
                path: dir.clone(),
                reason: e.to_string(),
            })?;
        let task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut names = BTreeSet::new();
                names.extend(guest_name(&first));
                // Debounce: collect until the directory is quiet.
                while let Ok(Some(p)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    names.extend(guest_name(&p));
                }
                for name in names {
                    let wasm = dir.join(format!("{name}.wasm"));
                    reload(&rt, &name, &wasm).await;
                }
            }
        });
        Ok(Watcher {
            _watcher: watcher,
            task,
        })
    }
}

/// Whether an event can mean a new file content or a removal. Opening and
/// reading (inotify's `IN_OPEN`, `IN_CLOSE_NOWRITE`) cannot — and counting
/// them made every reload, which reads the file, trigger the next one.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// `NAME` for `DIR/NAME.wasm` or `DIR/NAME.toml`; other files are ignored.
fn guest_name(p: &Path) -> Option<String> {
    let ext = p.extension()?.to_str()?;
    if ext != "wasm" && ext != "toml" {
        return None;
    }
    let stem = p.file_stem()?.to_str()?;
    super::valid_name(stem).then(|| stem.to_string())
}

async fn reload(rt: &Runtime, name: &str, wasm: &Path) {
    if !wasm.exists() {
        if rt.unload(name) {
            tracing::warn!(guest = name, "guest file removed; unloaded");
        }
        return;
    }
    if !settled(wasm).await {
        tracing::warn!(
            guest = name,
            "guest file kept changing; will load on its next change"
        );
        return;
    }
    let old = rt.get(name).map(|g| g.version.clone());
    let rt2 = rt.clone();
    let path = wasm.to_path_buf();
    match tokio::task::spawn_blocking(move || rt2.load_file(&path)).await {
        Ok(Ok(g)) => match old {
            Some(old) if old == g.version => {
                tracing::info!(guest = name, version = %g.version, "guest reloaded (same build, limits re-read)")
            }
            Some(old) => {
                crate::metrics::get().hot_swaps.inc();
                tracing::info!(guest = name, from = %old, to = %g.version, "guest hot-swapped")
            }
            None => tracing::info!(guest = name, version = %g.version, "new guest loaded"),
        },
        Ok(Err(e)) => match old {
            Some(old) => {
                tracing::error!(guest = name, serving = %old, "new build rejected, old version keeps serving: {e}")
            }
            None => tracing::error!(guest = name, "guest not loaded: {e}"),
        },
        Err(e) => tracing::error!(guest = name, "guest load task failed: {e}"),
    }
}

/// Waits until size and mtime are unchanged for [`SETTLE`] (at most ~10 s).
async fn settled(p: &Path) -> bool {
    let stat = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    };
    let mut last = stat(p);
    for _ in 0..100 {
        tokio::time::sleep(SETTLE).await;
        let now = stat(p);
        if now.is_none() {
            return false;
        }
        if now == last {
            return true;
        }
        last = now;
    }
    false
}
