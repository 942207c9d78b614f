//! Delivering scheduled jobs on Mattermost: the scheduler loop, target
//! resolution (home, channel, DM), per-channel rate limits, and posting each
//! run exactly once.
//!
//! | step | stored before the next step |
//! |---|---|
//! | due → run recorded, job's next due moved on | `job_runs` row `started` |
//! | agent answered | row `answered` with the text and channel |
//! | posted (random stored `pending_post_id`, `props.kennel_job`/`kennel_run`) | row `posted` |
//!
//! After a restart a `started` run is answered again (nothing was posted),
//! an `answered` one is looked up in its channel by its props and posted only
//! if absent. A target that no longer exists disables the job (logged).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{Bot, lock};
use crate::gateway::{OutcomeKind, config_jobs};
use crate::mattermost::api::ApiError;
use crate::routing::ChannelInfo;
use crate::schedule::{Plan, plan};
use crate::store::{Job, Run, RunState, Target, now_ms};

/// How often due jobs are looked for.
const TICK: Duration = Duration::from_millis(500);
/// A run this late is still "on time" for `catch_up = "none"`.
const GRACE_MS: u64 = 60_000;
/// Attempts to answer and post one run before it is given up.
const RUN_ATTEMPTS: u32 = 4;

/// Per-channel timestamps of recent proactive posts, and the jobs with a
/// run under way (a job never has two: a slow or rate-limited run holds the
/// next one back, which then catches up by the job's rule).
#[derive(Default)]
pub(super) struct JobState {
    recent: std::sync::Mutex<HashMap<String, VecDeque<u64>>>,
    running: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Marks a job as running until dropped.
struct Running(Arc<Bot>, String);

impl Drop for Running {
    fn drop(&mut self) {
        lock(&self.0.jobs.running).remove(&self.1);
    }
}

impl Bot {
    /// Marks `job` running; `None` if a run of it is under way already.
    fn claim(self: &Arc<Self>, job: &str) -> Option<Running> {
        lock(&self.jobs.running)
            .insert(job.to_string())
            .then(|| Running(self.clone(), job.to_string()))
    }
}

impl Bot {
    /// The scheduler: syncs config schedules, finishes runs a restart
    /// interrupted, then starts due runs every [`TICK`]. Runs until aborted.
    pub(super) async fn scheduler(self: Arc<Self>) {
        match self.store().runs_unfinished() {
            Ok(runs) => {
                for run in runs {
                    tracing::info!(job = %run.job, due = run.due, state = ?run.state, "finishing an interrupted job run");
                    let claim = self.claim(&run.job);
                    let bot = self.clone();
                    tokio::spawn(async move {
                        let _claim = claim;
                        bot.finish_run(run).await
                    });
                }
            }
            Err(e) => tracing::error!("cannot read unfinished job runs: {e}"),
        }
        let mut synced: Option<String> = None;
        loop {
            self.sync_schedules(&mut synced).await;
            if let Err(e) = self.start_due().await {
                tracing::error!("scheduler: {e}");
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// Stores the config's `[[schedule]]` entries when they changed.
    async fn sync_schedules(&self, synced: &mut Option<String>) {
        let schedules = self.gateway.settings().config.schedules.clone();
        let key = format!("{schedules:?}");
        if synced.as_deref() == Some(key.as_str()) {
            return;
        }
        match self
            .store()
            .jobs_sync_config(config_jobs(&schedules, now_ms()))
            .await
        {
            Ok(()) => *synced = Some(key),
            Err(e) => tracing::error!("cannot store the configured schedules: {e}"),
        }
    }

    async fn start_due(self: &Arc<Self>) -> Result<(), crate::store::StoreError> {
        let now = now_ms();
        for job in self.store().jobs()? {
            let Some(next_due) = job.next_due.filter(|_| job.disabled.is_empty()) else {
                continue;
            };
            if next_due > now {
                continue;
            }
            let Some(claim) = self.claim(&job.id) else {
                continue;
            };
            match plan(
                &job.timing,
                next_due,
                job.created,
                now,
                job.catch_up,
                GRACE_MS,
            ) {
                Plan::Wait(_) => {}
                Plan::Skip { next } => {
                    crate::metrics::job_run("skipped");
                    tracing::info!(job = %job.id, "missed while down; skipped (catch_up = \"none\")");
                    self.store().job_skip_to(&job.id, next).await?;
                }
                Plan::Run { due, next } => {
                    let seed = crate::store::random_token(24)?;
                    if let Some(run) = self
                        .store()
                        .run_begin(&job.id, due, next, now, seed)
                        .await?
                    {
                        tracing::info!(job = %job.id, due, "job due: running");
                        let bot = self.clone();
                        tokio::spawn(async move {
                            let _claim = claim;
                            bot.execute_run(job, run).await
                        });
                    }
                }
            }
        }
        Ok(())
    }

    async fn finish_run(self: Arc<Self>, run: Run) {
        let job = match self.store().job(&run.job) {
            Ok(Some(j)) => j,
            Ok(None) => return self.give_up(run, "the job was deleted").await,
            Err(e) => return tracing::error!(job = %run.job, "cannot read the job: {e}"),
        };
        match run.state {
            RunState::Answered => self.deliver_run(job, run).await,
            _ => self.execute_run(job, run).await,
        }
    }

    /// Answers a run through the gateway, stores the answer, then delivers it.
    async fn execute_run(self: Arc<Self>, job: Job, mut run: Run) {
        let mut backoff = Duration::from_secs(2);
        let channel = loop {
            match self.resolve_target(&job.target).await {
                Ok(c) => break c,
                Err(TargetError::Gone(reason)) => {
                    tracing::warn!(job = %job.id, "the job's target is gone; disabling the job: {reason}");
                    if let Err(e) = self.store().job_disable(&job.id, &reason).await {
                        tracing::error!(job = %job.id, "cannot disable the job: {e}");
                    }
                    return self.give_up(run, &reason).await;
                }
                Err(TargetError::Later(reason)) if run.attempts < RUN_ATTEMPTS => {
                    tracing::warn!(job = %job.id, "cannot resolve the job's target yet; retrying: {reason}");
                    run.attempts += 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(TargetError::Later(reason)) => return self.give_up(run, &reason).await,
            }
        };
        // A job's turn counts against `max_concurrent_turns` like a message's
        // (the slot is released before posting, which may wait for the rate
        // limit); at shutdown the run stays `started` for the restart.
        let outcome = {
            let Ok(_slot) = self.turns.acquire().await else {
                return;
            };
            if self.draining.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            match self.gateway.run_job(&job, run.due, channel.clone()).await {
                Ok(o) => o,
                Err(e) => return self.give_up(run, &e.to_string()).await,
            }
        };
        match &outcome.kind {
            OutcomeKind::Blocked { scanner } => {
                return self
                    .give_up(run, &format!("the prompt was blocked by scanner {scanner}"))
                    .await;
            }
            OutcomeKind::NoRoute => return self.give_up(run, "no route answers it").await,
            _ if outcome.text.trim().is_empty() => {
                return self.give_up(run, "the agent answered nothing").await;
            }
            _ => {}
        }
        if let Some(record) = outcome.record
            && let Err(e) = self.store().record_turn(record).await
        {
            tracing::error!(job = %job.id, "cannot store the job's transcript: {e}");
        }
        run.state = RunState::Answered;
        run.answer = Some(with_files_named(outcome.text, &outcome.files));
        run.channel_id = channel.id;
        if let Err(e) = self.store().run_update(run.clone()).await {
            return tracing::error!(job = %job.id, "cannot store the job's answer; not posting it: {e}");
        }
        self.deliver_run(job, run).await;
    }

    /// Posts an answered run once: skips parts already in the channel, waits
    /// for the channel's rate limit, retries with backoff.
    async fn deliver_run(&self, job: Job, mut run: Run) {
        let text = run.answer.clone().unwrap_or_default();
        let parts = self.split(&text);
        let mut backoff = Duration::from_secs(2);
        loop {
            match self.post_parts(&job, &run, &parts).await {
                Ok(first) => {
                    run.state = RunState::Posted;
                    run.post_id = Some(first);
                    if let Err(e) = self.store().run_update(run).await {
                        tracing::error!(job = %job.id, "cannot record the posted run: {e}");
                    }
                    crate::metrics::job_run("posted");
                    tracing::info!(job = %job.id, "job run posted");
                    return;
                }
                Err(e) if run.attempts >= RUN_ATTEMPTS || !retryable(&e) => {
                    return self.give_up(run, &e.to_string()).await;
                }
                Err(e) => {
                    tracing::warn!(job = %job.id, attempt = run.attempts, "cannot post the job's answer; retrying: {e}");
                    run.attempts += 1;
                    let _ = self.store().run_update(run.clone()).await;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }

    /// Creates the parts not yet in the channel; returns the first part's id.
    async fn post_parts(&self, job: &Job, run: &Run, parts: &[String]) -> Result<String, ApiError> {
        let since = run.started.saturating_sub(1);
        let existing = self.api.posts_since_all(&run.channel_id, since).await?;
        let mut ids: Vec<Option<String>> = vec![None; parts.len()];
        for p in existing.iter().filter(|p| p.user_id == self.me.id) {
            if p.props.get("kennel_job").and_then(|v| v.as_str()) == Some(job.id.as_str())
                && p.props.get("kennel_run").and_then(|v| v.as_u64()) == Some(run.due)
            {
                let n = p
                    .props
                    .get("kennel_part")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0) as usize;
                if let Some(slot) = ids.get_mut(n) {
                    *slot = Some(p.id.clone());
                }
            }
        }
        for (n, part) in parts.iter().enumerate() {
            if ids[n].is_some() {
                continue;
            }
            self.wait_for_rate_limit(&run.channel_id).await;
            let props = json!({ "kennel_job": job.id, "kennel_run": run.due, "kennel_part": n, "kennel_proactive": true });
            let pending = format!("{}{n}", run.seed);
            let created = self
                .api
                .create_post(&run.channel_id, part, None, props, &pending)
                .await?;
            ids[n] = Some(created.id);
        }
        Ok(ids.into_iter().flatten().next().unwrap_or_default())
    }

    /// Waits until the channel has room under `max_posts_per_channel_per_hour`.
    async fn wait_for_rate_limit(&self, channel: &str) {
        let max = self
            .gateway
            .settings()
            .config
            .jobs
            .max_posts_per_channel_per_hour
            .max(1) as usize;
        loop {
            let now = now_ms();
            let wait = {
                let mut recent = lock(&self.jobs.recent);
                let q = recent.entry(channel.to_string()).or_default();
                while q
                    .front()
                    .is_some_and(|t| now.saturating_sub(*t) >= 3_600_000)
                {
                    q.pop_front();
                }
                if q.len() < max {
                    q.push_back(now);
                    return;
                }
                q.front()
                    .map(|t| 3_600_000 - now.saturating_sub(*t))
                    .unwrap_or(1000)
            };
            tracing::info!(
                channel,
                wait_ms = wait,
                "proactive posts rate-limited in this channel; waiting"
            );
            tokio::time::sleep(Duration::from_millis(wait.clamp(100, 60_000))).await;
        }
    }

    async fn give_up(&self, mut run: Run, reason: &str) {
        crate::metrics::job_run("failed");
        tracing::warn!(job = %run.job, due = run.due, "job run failed: {reason}");
        run.state = RunState::Failed;
        run.reason = reason.to_string();
        if let Err(e) = self.store().run_update(run).await {
            tracing::error!("cannot record the failed run: {e}");
        }
    }

    /// The channel a target names, or why it is gone.
    async fn resolve_target(&self, target: &Target) -> Result<ChannelInfo, TargetError> {
        let id = match target {
            Target::Home => self
                .store()
                .setting("home_channel")
                .ok()
                .flatten()
                .filter(|h| !h.is_empty())
                .or_else(|| {
                    Some(
                        self.gateway
                            .settings()
                            .config
                            .mattermost
                            .home_channel
                            .clone(),
                    )
                    .filter(|h| !h.is_empty())
                })
                .ok_or_else(|| TargetError::Gone("no home channel is set (/sethome)".into()))?,
            Target::Channel(c) if crate::policy::is_mattermost_id(c) => c.clone(),
            Target::Channel(name) => {
                let all = self.api.my_all_channels(&self.me.id).await.map_err(gone)?;
                all.into_iter()
                    .find(|c| c.name == *name)
                    .map(|c| c.id)
                    .ok_or_else(|| {
                        TargetError::Gone(format!("the bot is in no channel named `{name}`"))
                    })?
            }
            Target::Dm(user) => {
                let u = if crate::policy::is_mattermost_id(user) {
                    self.api.user(user).await
                } else {
                    self.api.user_by_username(user).await
                }
                .map_err(gone)?;
                if u.delete_at > 0 {
                    return Err(TargetError::Gone(format!(
                        "user @{} is deactivated",
                        u.username
                    )));
                }
                self.api
                    .direct_channel(&self.me.id, &u.id)
                    .await
                    .map_err(gone)?
                    .id
            }
        };
        self.channel_info(&id, None).await.map_err(gone)
    }
}

/// Why a target cannot be reached.
enum TargetError {
    /// It does not exist (or the bot may not see it): disable the job.
    Gone(String),
    /// The server could not answer now: try again.
    Later(String),
}

fn gone(e: ApiError) -> TargetError {
    if retryable(&e) {
        TargetError::Later(e.to_string())
    } else {
        TargetError::Gone(e.to_string())
    }
}

fn retryable(e: &ApiError) -> bool {
    !matches!(
        e,
        ApiError::NotFound { .. } | ApiError::Forbidden { .. } | ApiError::Unauthorized { .. }
    )
}

/// A scheduled run's answer: files are not posted for runs (the answer is
/// stored as text to post it exactly once), so their names are.
fn with_files_named(text: String, files: &[crate::gateway::ReplyFile]) -> String {
    if files.is_empty() {
        return text;
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    format!(
        "{text}\n\n_(The agent attached {} file(s), which scheduled runs do not post: {})_",
        names.len(),
        names.join(", ")
    )
}
