//! Scheduled jobs and their runs (tables `jobs` and `job_runs`).
//!
//! A run is recorded (and its job's next due time moved on) in one
//! transaction before any work, so a restart never runs the same due time
//! twice; its answer is stored before it is posted, so a restart posts what
//! was not posted yet instead of asking the agent again.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Store, db, decode, encode};
use crate::schedule::{CatchUp, Timing};

pub(super) const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
pub(super) const RUNS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("job_runs");

/// Where a job's answer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The home channel (`/sethome`, `MATTERMOST_HOME_CHANNEL`).
    Home,
    /// A channel, by id or name.
    Channel(String),
    /// A DM with this user (id or username).
    Dm(String),
}

/// A scheduled job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `cfg:NAME` for config schedules, a random id for users' jobs.
    pub id: String,
    /// The user who owns it (user jobs); `None` for config schedules.
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_name: String,
    pub timing: Timing,
    pub prompt: String,
    /// Route (by name) that answers; `None`: the target channel's route.
    #[serde(default)]
    pub route: Option<String>,
    /// Agent override.
    #[serde(default)]
    pub agent: Option<String>,
    pub target: Target,
    #[serde(default)]
    pub catch_up: CatchUp,
    pub created: u64,
    /// Next due time (ms); `None` = finished (a one-shot that ran).
    pub next_due: Option<u64>,
    /// Why it was disabled (target gone); empty = enabled.
    #[serde(default)]
    pub disabled: String,
    #[serde(default)]
    pub runs: u64,
    #[serde(default)]
    pub last_run: Option<u64>,
}

/// Progress of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Recorded; the agent may be working.
    Started,
    /// The answer is stored; posting may be under way.
    Answered,
    Posted,
    /// Given up (target gone, or too many attempts).
    Failed,
}

/// One run of a job for one due time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub job: String,
    pub due: u64,
    pub state: RunState,
    /// When it was recorded (ms).
    pub started: u64,
    /// Secret from which the post's `pending_post_id` derives.
    pub seed: String,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub post_id: Option<String>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub attempts: u32,
    /// The channel the answer goes to (set once the target is resolved).
    #[serde(default)]
    pub channel_id: String,
}

/// Why a user's job was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    TooMany(usize),
}

impl Store {
    /// Every job, by id.
    pub fn jobs(&self) -> Result<Vec<Job>> {
        self.read(|tx| {
            let t = tx.open_table(JOBS).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                out.push(decode::<Job>(row.map_err(db)?.1.value())?);
            }
            Ok(out)
        })
    }

    pub fn job(&self, id: &str) -> Result<Option<Job>> {
        self.read(|tx| {
            let t = tx.open_table(JOBS).map_err(db)?;
            t.get(id)
                .map_err(db)?
                .map(|v| decode::<Job>(v.value()))
                .transpose()
        })
    }

    /// Adds a user's job unless they already own `max` jobs (checked in the
    /// same transaction).
    pub async fn job_create(
        &self,
        job: Job,
        max: usize,
    ) -> Result<std::result::Result<(), Refused>> {
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(JOBS).map_err(db)?;
                let mut owned = 0;
                for row in t.iter().map_err(db)? {
                    let j = decode::<Job>(row.map_err(db)?.1.value())?;
                    owned += usize::from(
                        j.owner.is_some() && j.owner == job.owner && j.next_due.is_some(),
                    );
                }
                if owned >= max {
                    return Ok(Err(Refused::TooMany(max)));
                }
                t.insert(job.id.as_str(), encode(&job)?.as_slice())
                    .map_err(db)?;
                Ok(Ok(()))
            })
            .await
    }

    /// Deletes a job (and its runs). With `owner`, only a job that user owns.
    pub async fn job_delete(&self, id: &str, owner: Option<&str>) -> Result<bool> {
        let (id, owner) = (id.to_string(), owner.map(str::to_string));
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(JOBS).map_err(db)?;
                let job = match t.get(id.as_str()).map_err(db)? {
                    Some(v) => decode::<Job>(v.value())?,
                    None => return Ok(false),
                };
                if owner.is_some() && job.owner != owner {
                    return Ok(false);
                }
                t.remove(id.as_str()).map_err(db)?;
                let mut runs = tx.open_table(RUNS).map_err(db)?;
                runs.retain_in((id.as_str(), 0)..=(id.as_str(), u64::MAX), |_, _| false)
                    .map_err(db)?;
                Ok(true)
            })
            .await
    }

    /// Makes the config schedules the stored `cfg:` jobs: new ones added,
    /// removed ones deleted, changed ones replaced (an unchanged one keeps its
    /// next due time and counters).
    pub async fn jobs_sync_config(&self, jobs: Vec<Job>) -> Result<()> {
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(JOBS).map_err(db)?;
                let mut stale = Vec::new();
                for row in t.iter().map_err(db)? {
                    let (k, _) = row.map_err(db)?;
                    let id = k.value().to_string();
                    if id.starts_with("cfg:") && !jobs.iter().any(|j| j.id == id) {
                        stale.push(id);
                    }
                }
                for id in stale {
                    t.remove(id.as_str()).map_err(db)?;
                }
                for job in &jobs {
                    let old = t
                        .get(job.id.as_str())
                        .map_err(db)?
                        .map(|v| decode::<Job>(v.value()))
                        .transpose()?;
                    let keep = old.filter(|o| {
                        o.timing == job.timing
                            && o.prompt == job.prompt
                            && o.target == job.target
                            && o.route == job.route
                            && o.agent == job.agent
                            && o.catch_up == job.catch_up
                    });
                    let new = match keep {
                        Some(o) => Job {
                            created: o.created,
                            next_due: o.next_due,
                            runs: o.runs,
                            last_run: o.last_run,
                            disabled: o.disabled,
                            ..job.clone()
                        },
                        None => job.clone(),
                    };
                    t.insert(job.id.as_str(), encode(&new)?.as_slice())
                        .map_err(db)?;
                }
                Ok(())
            })
            .await
    }

    /// Records a run of `job` for `due` and moves the job's next due time to
    /// `next`, in one transaction. `None` if that run was recorded before (it
    /// is never started twice) or the job is gone.
    pub async fn run_begin(
        &self,
        job: &str,
        due: u64,
        next: Option<u64>,
        now: u64,
        seed: String,
    ) -> Result<Option<Run>> {
        let job = job.to_string();
        self.writer
            .write(move |tx| {
                let mut jobs = tx.open_table(JOBS).map_err(db)?;
                let mut j = match jobs.get(job.as_str()).map_err(db)? {
                    Some(v) => decode::<Job>(v.value())?,
                    None => return Ok(None),
                };
                let mut runs = tx.open_table(RUNS).map_err(db)?;
                if runs.get((job.as_str(), due)).map_err(db)?.is_some() {
                    return Ok(None);
                }
                let run = Run {
                    job: job.clone(),
                    due,
                    state: RunState::Started,
                    started: now,
                    seed: seed.clone(),
                    answer: None,
                    post_id: None,
                    reason: String::new(),
                    attempts: 1,
                    channel_id: String::new(),
                };
                runs.insert((job.as_str(), due), encode(&run)?.as_slice())
                    .map_err(db)?;
                j.next_due = next;
                j.runs += 1;
                j.last_run = Some(now);
                jobs.insert(job.as_str(), encode(&j)?.as_slice())
                    .map_err(db)?;
                Ok(Some(run))
            })
            .await
    }

    /// Moves a job's next due time without a run (a missed run skipped).
    pub async fn job_skip_to(&self, job: &str, next: Option<u64>) -> Result<()> {
        self.job_update(job, move |j| j.next_due = next).await
    }

    /// Disables a job (its target is gone), with the reason.
    pub async fn job_disable(&self, job: &str, reason: &str) -> Result<()> {
        let reason = reason.to_string();
        self.job_update(job, move |j| j.disabled = reason.clone())
            .await
    }

    /// Makes a job due now (`kennel jobs run ID`).
    pub async fn job_due_now(&self, job: &str, now: u64) -> Result<bool> {
        let exists = self.job(job)?.is_some();
        self.job_update(job, move |j| {
            j.next_due = Some(now);
            j.disabled.clear();
        })
        .await?;
        Ok(exists)
    }

    async fn job_update(&self, job: &str, f: impl Fn(&mut Job) + Send + 'static) -> Result<()> {
        let job = job.to_string();
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(JOBS).map_err(db)?;
                let mut j = match t.get(job.as_str()).map_err(db)? {
                    Some(v) => decode::<Job>(v.value())?,
                    None => return Ok(()),
                };
                f(&mut j);
                t.insert(job.as_str(), encode(&j)?.as_slice()).map_err(db)?;
                Ok(())
            })
            .await
    }

    /// Updates a run (state, answer, post id, reason, attempts).
    pub async fn run_update(&self, run: Run) -> Result<()> {
        self.writer
            .write(move |tx| {
                let mut runs = tx.open_table(RUNS).map_err(db)?;
                let mut run = run.clone();
                if run.state == RunState::Posted {
                    // Posted: the text lives in Mattermost; keep the row small.
                    run.answer = None;
                }
                runs.insert((run.job.as_str(), run.due), encode(&run)?.as_slice())
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    /// Runs not posted and not failed (to finish after a restart).
    pub fn runs_unfinished(&self) -> Result<Vec<Run>> {
        self.read(|tx| {
            let t = tx.open_table(RUNS).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let r = decode::<Run>(row.map_err(db)?.1.value())?;
                if matches!(r.state, RunState::Started | RunState::Answered) {
                    out.push(r);
                }
            }
            Ok(out)
        })
    }

    /// Runs of one job, oldest first.
    pub fn runs_of(&self, job: &str) -> Result<Vec<Run>> {
        self.read(|tx| {
            let t = tx.open_table(RUNS).map_err(db)?;
            let mut out = Vec::new();
            for row in t.range((job, 0)..=(job, u64::MAX)).map_err(db)? {
                out.push(decode::<Run>(row.map_err(db)?.1.value())?);
            }
            Ok(out)
        })
    }
}

/// Retention: finished runs older than `before` (ms) are deleted, and users'
/// one-shot jobs that ran before then.
pub(super) fn prune_runs(tx: &redb::WriteTransaction, before: u64) -> Result<u64> {
    {
        let mut jobs = tx.open_table(JOBS).map_err(db)?;
        jobs.retain(|_, v| match decode::<Job>(v) {
            Ok(j) => {
                !(j.owner.is_some()
                    && j.next_due.is_none()
                    && j.last_run.is_some_and(|t| t < before))
            }
            Err(_) => true,
        })
        .map_err(db)?;
    }
    let mut runs = tx.open_table(RUNS).map_err(db)?;
    let mut removed = 0u64;
    runs.retain(|_, v| {
        let keep = match decode::<Run>(v) {
            Ok(r) => {
                !(matches!(r.state, RunState::Posted | RunState::Failed) && r.started < before)
            }
            Err(_) => true,
        };
        removed += u64::from(!keep);
        keep
    })
    .map_err(db)?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, owner: Option<&str>) -> Job {
        Job {
            id: id.into(),
            owner: owner.map(str::to_string),
            owner_name: String::new(),
            timing: Timing::Every { ms: 60_000 },
            prompt: "p".into(),
            route: None,
            agent: None,
            target: Target::Home,
            catch_up: CatchUp::One,
            created: 1,
            next_due: Some(60_001),
            disabled: String::new(),
            runs: 0,
            last_run: None,
        }
    }

    #[tokio::test]
    async fn a_run_begins_once_and_moves_the_job_on() {
        let d = tempfile::tempdir().expect("dir");
        let s = Store::open(d.path()).expect("open");
        s.jobs_sync_config(vec![job("cfg:a", None)])
            .await
            .expect("sync");
        let r = s
            .run_begin("cfg:a", 60_001, Some(120_001), 60_002, "seed".into())
            .await
            .expect("begin");
        assert!(r.is_some());
        assert!(
            s.run_begin("cfg:a", 60_001, Some(120_001), 60_003, "seed".into())
                .await
                .expect("again")
                .is_none(),
            "the same due time never runs twice"
        );
        let j = s.job("cfg:a").expect("read").expect("job");
        assert_eq!((j.next_due, j.runs), (Some(120_001), 1));
        assert_eq!(s.runs_unfinished().expect("runs").len(), 1);
        let mut run = r.expect("run");
        run.state = RunState::Posted;
        run.answer = Some("text".into());
        s.run_update(run).await.expect("posted");
        assert!(s.runs_unfinished().expect("runs").is_empty());
        assert_eq!(s.runs_of("cfg:a").expect("runs")[0].answer, None);
        // Syncing the same config keeps the state; dropping it deletes the job.
        s.jobs_sync_config(vec![job("cfg:a", None)])
            .await
            .expect("sync");
        assert_eq!(s.job("cfg:a").expect("read").expect("job").runs, 1);
        s.jobs_sync_config(vec![]).await.expect("sync");
        assert!(s.job("cfg:a").expect("read").is_none());
    }

    #[tokio::test]
    async fn retention_drops_finished_one_shots_and_old_runs_only() {
        let d = tempfile::tempdir().expect("dir");
        let s = Store::open(d.path()).expect("open");
        let done = Job {
            next_due: None,
            last_run: Some(1_000),
            ..job("done", Some("alice"))
        };
        let recurring = Job {
            last_run: Some(1_000),
            ..job("recurring", Some("alice"))
        };
        assert_eq!(s.job_create(done, 10).await.expect("done"), Ok(()));
        assert_eq!(
            s.job_create(recurring, 10).await.expect("recurring"),
            Ok(())
        );
        let mut run = s
            .run_begin("recurring", 5, Some(10), 1_000, "x".into())
            .await
            .expect("begin")
            .expect("run");
        run.state = RunState::Posted;
        s.run_update(run).await.expect("posted");
        s.run_begin("recurring", 10, Some(20), 2_000, "y".into())
            .await
            .expect("begin")
            .expect("unfinished run");
        let r = crate::store::Retention {
            inbox_ms: 1,
            data_ms: 0,
            max_turns: 100,
        };
        let removed = s.maintain(r).await.expect("maintain");
        assert_eq!(removed.runs, 1, "only the finished run");
        assert!(s.job("done").expect("read").is_none());
        assert!(s.job("recurring").expect("read").is_some());
        assert_eq!(s.runs_unfinished().expect("runs").len(), 1);
    }

    #[tokio::test]
    async fn users_are_limited_and_only_delete_their_own() {
        let d = tempfile::tempdir().expect("dir");
        let s = Store::open(d.path()).expect("open");
        assert_eq!(
            s.job_create(job("u1", Some("alice")), 2).await.expect("1"),
            Ok(())
        );
        assert_eq!(
            s.job_create(job("u2", Some("alice")), 2).await.expect("2"),
            Ok(())
        );
        assert_eq!(
            s.job_create(job("u3", Some("alice")), 2).await.expect("3"),
            Err(Refused::TooMany(2))
        );
        assert_eq!(
            s.job_create(job("u4", Some("bob")), 2).await.expect("4"),
            Ok(())
        );
        assert!(!s.job_delete("u1", Some("bob")).await.expect("not bob's"));
        assert!(s.job_delete("u1", Some("alice")).await.expect("alice's"));
        assert!(s.job("u1").expect("read").is_none());
    }
}
