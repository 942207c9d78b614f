//! The epoch ticker: advances the engine's epoch every [`TICK`] while a
//! guest call is under way, which charges CPU time and lets long calls
//! yield. Owns one thread per engine; holds the engine only weakly, so the
//! thread ends with it. Must not tick while no call runs: an idle host
//! would otherwise wake 200 times a second for nothing.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

use super::TICK;

/// How often an idle ticker checks that its engine still exists.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Counts the guest calls under way; shared by the runtime and its ticker.
#[derive(Debug, Default)]
pub(super) struct Activity {
    calls: Mutex<usize>,
    wake: Condvar,
    /// Epoch increments so far (for tests and diagnostics).
    ticks: std::sync::atomic::AtomicU64,
}

/// Counts one call while it lives.
pub(super) struct Busy(Arc<Activity>);

impl Activity {
    /// Marks a call as under way until the returned guard drops.
    pub(super) fn busy(self: &Arc<Self>) -> Busy {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        *calls += 1;
        if *calls == 1 {
            self.wake.notify_one();
        }
        Busy(self.clone())
    }

    #[cfg(test)]
    fn ticks(&self) -> u64 {
        self.ticks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Blocks while no call is under way; false once the engine is gone.
    fn wait_for_calls(&self, alive: &dyn Fn() -> bool) -> bool {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        while *calls == 0 {
            calls = match self.wake.wait_timeout(calls, IDLE_CHECK) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
            if !alive() {
                return false;
            }
        }
        true
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut calls = self.0.calls.lock().unwrap_or_else(|p| p.into_inner());
        *calls = calls.saturating_sub(1);
    }
}

/// Starts the ticker thread of `engine`.
pub(super) fn start(engine: &Engine, activity: Arc<Activity>) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("kennel-epoch".into())
        .spawn(move || {
            let alive = || weak.upgrade().is_some();
            while activity.wait_for_calls(&alive) {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(e) => e.increment_epoch(),
                    None => return,
                }
                activity
                    .ticks
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the epoch ticker thread ({e}); CPU limits will not apply");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks while a call is under way, not before it nor after it ended.
    #[test]
    fn ticks_only_while_a_call_runs() {
        let mut cfg = wasmtime::Config::new();
        cfg.epoch_interruption(true);
        let engine = Engine::new(&cfg).expect("engine");
        let activity = Arc::new(Activity::default());
        start(&engine, activity.clone());
        std::thread::sleep(TICK * 10);
        assert_eq!(activity.ticks(), 0, "idle: no ticks");
        let busy = activity.busy();
        let second = activity.busy();
        std::thread::sleep(TICK * 10);
        drop(busy);
        std::thread::sleep(TICK * 4);
        let during = activity.ticks();
        assert!(during >= 3, "ticks while busy: {during}");
        drop(second);
        std::thread::sleep(TICK * 3); // a tick already started may finish
        let after = activity.ticks();
        std::thread::sleep(TICK * 10);
        assert_eq!(activity.ticks(), after, "no ticks once every call ended");
    }
}
