//! Scheduled work in the gateway: running a job's prompt through a route
//! (the same scanners, agent, tools and LLM as a message), the `schedule`
//! host tool with which a model creates reminders for its user, and the
//! `/jobs` command with which users list and cancel their own jobs.
//!
//! Timing rules live in [`crate::schedule`], storage in the store; delivery
//! (resolving targets, posting exactly once) is the channel's job.

use crate::config::ScheduleConfig;
use crate::report::job_line;
use crate::routing::{ChannelInfo, Route};
use crate::schedule::{self, CatchUp};
use crate::store::{Job, Refused, Target, now_ms};

use super::{Gateway, GatewayError, Incoming, Outcome, OutcomeKind, TurnServices, types};

/// The name of the host tool.
pub const SCHEDULE_TOOL: &str = "schedule";

/// The user id under which config schedules run (they have no owner).
pub const SCHEDULER_USER: &str = "kennel-scheduler";

impl Gateway {
    /// Runs a job's prompt for its `due` time in `channel` (the resolved
    /// target). The job's session (`job:ID`) keeps the history of its runs.
    /// A blocked prompt returns a `Blocked` outcome: the caller posts nothing.
    pub async fn run_job(
        &self,
        job: &Job,
        due: u64,
        channel: ChannelInfo,
    ) -> Result<Outcome, GatewayError> {
        let settings = self.settings();
        let Some(route) = job_route(&settings.routes.routes, job, &channel) else {
            return Ok(Outcome::plain(
                String::new(),
                OutcomeKind::NoRoute,
                settings.config.mattermost.reply_mode,
            ));
        };
        let msg = Incoming {
            post_id: format!("job:{}:{due}", job.id),
            text: job.prompt.clone(),
            user_id: job.owner.clone().unwrap_or_else(|| SCHEDULER_USER.into()),
            user_name: if job.owner_name.is_empty() {
                "scheduler".into()
            } else {
                job.owner_name.clone()
            },
            channel,
            root_id: None,
            attachments: vec![],
            thread: Vec::new(),
            admin: false,
        };
        let sid = crate::session::session_id(
            &format!("job:{}", job.id),
            self.store.session_generation(&format!("job:{}", job.id))?,
        );
        self.scan_and_run(
            &route,
            &msg,
            &sid,
            settings.config.mattermost.reply_mode,
            None,
        )
        .await
    }

    /// `/jobs` (list the caller's jobs) and `/jobs rm ID` (cancel one).
    pub(super) async fn jobs_command(&self, msg: &Incoming) -> Result<String, GatewayError> {
        let mut words = msg.text.split_whitespace().skip(1);
        match (words.next(), words.next()) {
            (Some("rm" | "cancel" | "delete"), Some(id)) => {
                Ok(if self.store.job_delete(id, Some(&msg.user_id)).await? {
                    format!("Cancelled job `{id}`.")
                } else {
                    format!("You have no job `{id}` (see `!jobs`).")
                })
            }
            (None, _) => {
                let mine: Vec<Job> = self
                    .store
                    .jobs()?
                    .into_iter()
                    .filter(|j| j.owner.as_deref() == Some(msg.user_id.as_str()))
                    .filter(|j| j.next_due.is_some())
                    .collect();
                if mine.is_empty() {
                    return Ok(
                        "You have no scheduled jobs. Ask me to remind you of something!".into(),
                    );
                }
                let lines: Vec<String> = mine.iter().map(job_line).collect();
                Ok(format!(
                    "Your jobs (cancel one with `!jobs rm ID`):\n{}",
                    lines.join("\n")
                ))
            }
            _ => Ok("Usage: `!jobs` lists your jobs, `!jobs rm ID` cancels one.".into()),
        }
    }
}

/// The route that answers a job: by name, else the channel's route; with
/// the job's agent override.
fn job_route(routes: &[Route], job: &Job, channel: &ChannelInfo) -> Option<Route> {
    let table = crate::routing::RouteTable {
        routes: routes.to_vec(),
    };
    let mut route = match &job.route {
        Some(name) => routes.iter().find(|r| &r.name == name).cloned(),
        None => table.resolve(channel).cloned(),
    }?;
    if let Some(agent) = &job.agent {
        route.agent = agent.clone();
    }
    Some(route)
}

/// The stored jobs of the config's `[[schedule]]` entries (invalid ones are
/// reported by config validation and skipped here).
pub fn config_jobs(schedules: &[ScheduleConfig], now: u64) -> Vec<Job> {
    let mut out = Vec::new();
    for s in schedules {
        let Ok(timing) = schedule::parse(
            s.cron.as_deref(),
            s.every.as_deref(),
            s.at.as_deref(),
            s.timezone.as_deref(),
        ) else {
            continue;
        };
        let target = match (&s.dm, s.channel.as_deref()) {
            (Some(u), _) => Target::Dm(u.trim_start_matches('@').to_string()),
            (None, None | Some("home")) => Target::Home,
            (None, Some(c)) => Target::Channel(c.trim_start_matches(['~', '#']).to_string()),
        };
        let id = match &s.name {
            Some(n) => format!("cfg:{n}"),
            None => format!(
                "cfg:{}",
                short_hash(&format!("{timing:?}|{}|{target:?}", s.prompt.get_ref()))
            ),
        };
        out.push(Job {
            id,
            owner: None,
            owner_name: String::new(),
            next_due: timing.next_after(now, now),
            timing,
            prompt: s.prompt.get_ref().clone(),
            route: s.route.clone(),
            agent: s.agent.clone(),
            target,
            catch_up: s.catch_up,
            created: now,
            disabled: String::new(),
            runs: 0,
            last_run: None,
        });
    }
    out
}

fn short_hash(s: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(s.as_bytes());
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

pub(super) fn schedule_spec() -> types::ToolSpec {
    types::ToolSpec {
        name: SCHEDULE_TOOL.into(),
        description: "Schedule a reminder or recurring job for the user you are talking to, or list or cancel their jobs. When it is due, the prompt is answered again by this assistant and posted to the user (by DM, or in this channel). Times: `at` is a local date-time like 2026-12-24T09:00 in `timezone` (default UTC); `every` is a duration like 1h or 1day; `cron` is a 5-field pattern.".into(),
        parameters: r#"{"type":"object","properties":{"action":{"type":"string","enum":["create","list","cancel"]},"prompt":{"type":"string","description":"what to do or say when due, e.g. 'Remind me to renew the certificate'"},"at":{"type":"string"},"every":{"type":"string"},"cron":{"type":"string"},"timezone":{"type":"string"},"deliver":{"type":"string","enum":["dm","here"],"description":"dm (default) or here (this channel)"},"id":{"type":"string","description":"job id, for cancel"}},"required":["action"]}"#.into(),
    }
}

impl TurnServices {
    /// The `schedule` tool: create, list or cancel the user's jobs.
    pub(super) async fn schedule(&self, arguments: &str) -> Result<String, String> {
        let v: serde_json::Value =
            serde_json::from_str(arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let fake = Incoming {
            post_id: String::new(),
            text: String::new(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            channel: self.channel.clone(),
            root_id: None,
            attachments: vec![],
            thread: Vec::new(),
            admin: false,
        };
        match field("action").unwrap_or("create") {
            "list" => {
                let jobs = self.store.jobs().map_err(|e| e.to_string())?;
                let mine: Vec<String> = jobs
                    .iter()
                    .filter(|j| {
                        j.owner.as_deref() == Some(fake.user_id.as_str()) && j.next_due.is_some()
                    })
                    .map(job_line)
                    .collect();
                Ok(if mine.is_empty() {
                    "the user has no scheduled jobs".into()
                } else {
                    mine.join("\n")
                })
            }
            "cancel" => {
                let id = field("id").ok_or("missing `id` (list the jobs first)")?;
                match self.store.job_delete(id, Some(&self.user_id)).await {
                    Ok(true) => Ok(format!("cancelled job {id}")),
                    Ok(false) => Err(format!("the user has no job {id}")),
                    Err(e) => Err(e.to_string()),
                }
            }
            "create" => self.schedule_create(&v).await,
            other => Err(format!("unknown action `{other}` (create, list or cancel)")),
        }
    }

    async fn schedule_create(&self, v: &serde_json::Value) -> Result<String, String> {
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let prompt = field("prompt").ok_or("missing `prompt`")?;
        if prompt.len() > 2000 {
            return Err("the prompt must be at most 2000 bytes".into());
        }
        let timing = schedule::parse(
            field("cron"),
            field("every"),
            field("at"),
            field("timezone"),
        )
        .map_err(|e| e.0)?;
        let now = now_ms();
        let next = timing
            .next_after(now, now)
            .ok_or("that time is in the past; pick a future time")?;
        if let Some(gap) = timing.shortest_interval_ms(now)
            && gap < self.jobs.min_interval_secs * 1000
        {
            return Err(format!(
                "jobs may repeat at most every {} seconds",
                self.jobs.min_interval_secs
            ));
        }
        let target = match field("deliver").unwrap_or("dm") {
            "here" => Target::Channel(self.channel.id.clone()),
            _ => Target::Dm(self.user_id.clone()),
        };
        let id = crate::store::random_token(8)
            .map_err(|e| e.to_string())?
            .to_lowercase();
        let job = Job {
            id: id.clone(),
            owner: Some(self.user_id.clone()),
            owner_name: self.user_name.clone(),
            timing: timing.clone(),
            prompt: prompt.to_string(),
            route: Some(self.route.name.clone()),
            agent: None,
            target,
            catch_up: CatchUp::One,
            created: now,
            next_due: Some(next),
            disabled: String::new(),
            runs: 0,
            last_run: None,
        };
        match self.store.job_create(job, self.jobs.max_per_user).await {
            Ok(Ok(())) => {
                tracing::info!(job = %id, user = %self.user_name, timing = %timing.describe(), "job scheduled by the user");
                Ok(format!(
                    "scheduled job {id} ({}); first run {} UTC. The user can list and cancel jobs with `!jobs`.",
                    timing.describe(),
                    crate::report::format_ms(next)
                ))
            }
            Ok(Err(Refused::TooMany(n))) => Err(format!(
                "the user already has {n} jobs (the limit); they can cancel one with `!jobs rm ID`"
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Timing;

    #[test]
    fn config_jobs_get_stable_ids_and_targets() {
        let cfg = crate::config::Config::parse(
            "[[schedule]]\nname = \"standup\"\ncron = \"0 9 * * 1-5\"\ntimezone = \"Europe/Berlin\"\nprompt = \"plan\"\nchannel = \"town\"\n\n[[schedule]]\nevery = \"1h\"\nprompt = \"check\"\ndm = \"@alice\"\n\n[[schedule]]\nevery = \"1h\"\nprompt = \"home\"\n",
        )
        .expect("parse");
        let a = config_jobs(&cfg.schedules, 1_000);
        let b = config_jobs(&cfg.schedules, 5_000);
        assert_eq!(a[0].id, "cfg:standup");
        assert_eq!(a[0].target, Target::Channel("town".into()));
        assert_eq!(a[1].target, Target::Dm("alice".into()));
        assert_eq!(a[2].target, Target::Home);
        assert_eq!(a[1].id, b[1].id, "the derived id does not depend on time");
        assert_ne!(a[1].id, a[2].id);
        assert_eq!(a[1].next_due, Some(1_000 + 3_600_000));
        assert!(matches!(a[0].timing, Timing::Cron { .. }));
    }
}
