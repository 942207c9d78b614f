//! The text of the read-only reports `kennel usage` and `kennel data stats`.
//!
//! One place builds them from a [`Store`], so the CLI (store opened directly)
//! and the control socket (store held by a running bot) print the same thing.
//! Reads only; it never writes to the store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::{Job, Store, StoreError, Target, Usage};

/// `kennel usage`: LLM calls and tokens per route and user.
pub fn usage(store: &Store) -> Result<String, StoreError> {
    let mut agg: BTreeMap<(String, String), Usage> = BTreeMap::new();
    for row in store.usage_rows()? {
        let e = agg.entry((row.route, row.user)).or_default();
        e.calls += row.usage.calls;
        e.prompt_tokens += row.usage.prompt_tokens;
        e.completion_tokens += row.usage.completion_tokens;
        e.last_used = e.last_used.max(row.usage.last_used);
    }
    let mut out = format!(
        "{:<16} {:<28} {:>7} {:>10} {:>10}  LAST USED (UTC)\n",
        "ROUTE", "USER", "CALLS", "PROMPT", "COMPLETION"
    );
    for ((route, user), u) in &agg {
        let _ = writeln!(
            out,
            "{:<16} {:<28} {:>7} {:>10} {:>10}  {}",
            route,
            user,
            u.calls,
            u.prompt_tokens,
            u.completion_tokens,
            format_ms(u.last_used)
        );
    }
    if agg.is_empty() {
        out.push_str("(no LLM usage recorded yet)\n");
    }
    out.push('\n');
    out.push_str(&feedback(store)?);
    Ok(out)
}

/// 👍/👎 reactions on the bot's replies, per route and agent.
fn feedback(store: &Store) -> Result<String, StoreError> {
    let mut agg: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for v in store.feedback_votes()? {
        let e = agg.entry((v.route, v.agent)).or_default();
        if v.up {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let mut out = format!(
        "{:<16} {:<20} {:>6} {:>6}\n",
        "ROUTE", "AGENT", "UP", "DOWN"
    );
    for ((route, agent), (up, down)) in &agg {
        let _ = writeln!(out, "{route:<16} {agent:<20} {up:>6} {down:>6}");
    }
    if agg.is_empty() {
        out.push_str("(no feedback reactions yet)\n");
    }
    Ok(out)
}

/// `kennel data stats`: the file, then rows, bytes and oldest row per table.
pub fn data_stats(store: &Store) -> Result<String, StoreError> {
    let s = store.stats()?;
    let mut out = format!(
        "file     {}\nsize     {}\nschema   v{}\nwaiting  {} post(s) received and not yet answered\n\n",
        s.path.display(),
        human_bytes(s.file_bytes),
        s.schema_version,
        s.inbox_unanswered
    );
    let _ = writeln!(
        out,
        "{:<12} {:>9} {:>10}  OLDEST ROW (UTC)",
        "TABLE", "ROWS", "STORED"
    );
    for t in &s.tables {
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>10}  {}",
            t.name,
            t.rows,
            human_bytes(t.stored_bytes),
            t.oldest.map(format_ms).unwrap_or_else(|| "-".into())
        );
    }
    Ok(out)
}

/// `kennel jobs list`: every job (config schedules and users' jobs).
pub fn jobs(store: &Store) -> Result<String, StoreError> {
    let jobs = store.jobs()?;
    if jobs.is_empty() {
        return Ok(
            "(no jobs: add [[schedule]] to the config, or grant the `schedule` tool)\n".into(),
        );
    }
    let mut out = String::new();
    for j in &jobs {
        let owner = if j.owner.is_some() {
            format!("@{}", j.owner_name)
        } else {
            "config".into()
        };
        let _ = writeln!(out, "{} (owner {owner}, {} runs)", job_line(j), j.runs);
    }
    Ok(out)
}

/// One line of a job listing.
pub fn job_line(j: &Job) -> String {
    let next = match (j.next_due, j.disabled.is_empty()) {
        (_, false) => format!("disabled: {}", j.disabled),
        (Some(t), true) => format!("next {} UTC", format_ms(t)),
        (None, true) => "finished".into(),
    };
    let target = match &j.target {
        Target::Home => "home channel".to_string(),
        Target::Channel(c) => format!("channel {c}"),
        Target::Dm(u) => format!("DM {u}"),
    };
    let prompt: String = j.prompt.chars().take(60).collect();
    format!(
        "- `{}` {} → {target}, {next}: {prompt}",
        j.id,
        j.timing.describe()
    )
}

/// `1.5 MiB`, `12 KiB`, `300 B`.
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1024 {
        format!("{:.0} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) from epoch milliseconds.
pub fn format_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_ms_and_sizes() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00");
        assert_eq!(format_ms(1_700_000_000_000), "2023-11-14 22:13:20");
        assert_eq!(human_bytes(300), "300 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }

    #[tokio::test]
    async fn data_stats_counts_rows_and_names_the_oldest() {
        let d = tempfile::tempdir().expect("dir");
        let store = Store::open(d.path()).expect("open");
        store
            .set_setting("home_channel", "town")
            .await
            .expect("setting");
        let text = data_stats(&store).expect("stats");
        let settings = text
            .lines()
            .find(|l| l.starts_with("settings"))
            .expect("settings row");
        assert_eq!(settings.split_whitespace().nth(1), Some("1"), "{text}");
        assert!(text.contains("schema   v"), "{text}");
        assert!(usage(&store).expect("usage").contains("no LLM usage"));
    }
}
