//! When jobs run: parsing a job's timing (`cron` with a time zone, `every`,
//! `at`) and computing its next due time, and the rule for runs missed while
//! the host was down.
//!
//! Pure logic over explicit times (ms since the epoch): the caller passes
//! "now", so tests control the clock. No I/O, no storage, no posting.

use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

/// How a job repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// A 5-field cron pattern (an optional leading seconds field is accepted)
    /// in a time zone (IANA name; default UTC).
    Cron { pattern: String, timezone: String },
    /// Every so many milliseconds, from the job's creation.
    Every { ms: u64 },
    /// Once, at this time (ms since epoch).
    At { ms: u64 },
}

/// What a restart does with runs missed while the host was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// One run for everything missed (default).
    #[default]
    One,
    /// Skip what was missed; run at the next due time.
    None,
}

/// Invalid timing; the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimingError(pub String);

/// Parses the timing fields of a schedule: exactly one of `cron`, `every`, `at`.
pub fn parse(
    cron: Option<&str>,
    every: Option<&str>,
    at: Option<&str>,
    timezone: Option<&str>,
) -> Result<Timing, TimingError> {
    let tz_name = timezone
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("UTC");
    let tz = parse_tz(tz_name)?;
    match (cron, every, at) {
        (Some(p), None, None) => {
            croner::Cron::from_str(p.trim()).map_err(|e| {
                TimingError(format!(
                    "cron `{p}` is not a valid pattern ({e}); use 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\""
                ))
            })?;
            Ok(Timing::Cron {
                pattern: p.trim().to_string(),
                timezone: tz_name.to_string(),
            })
        }
        (None, Some(e), None) => {
            let d = humantime::parse_duration(e.trim()).map_err(|err| {
                TimingError(format!(
                    "every `{e}` is not a duration ({err}); write e.g. \"30m\", \"1h\", \"1day\""
                ))
            })?;
            let ms = d.as_millis() as u64;
            if ms == 0 {
                return Err(TimingError("every must be longer than 0".into()));
            }
            Ok(Timing::Every { ms })
        }
        (None, None, Some(a)) => Ok(Timing::At {
            ms: parse_local(a, &tz, tz_name)?,
        }),
        _ => Err(TimingError(
            "give exactly one of `cron`, `every` or `at`".into(),
        )),
    }
}

/// A time zone by IANA name, from the system's tz database (`TZDIR`,
/// `/usr/share/zoneinfo`) or, where it has none, the copy built in.
fn parse_tz(name: &str) -> Result<TimeZone, TimingError> {
    TimeZone::get(name).map_err(|_| {
        TimingError(format!(
            "unknown time zone `{name}`; use an IANA name such as \"Europe/Berlin\" or \"UTC\""
        ))
    })
}

/// `2026-12-24T09:00` (local to `tz`, named `tz_name`), with optional
/// seconds, or an RFC 3339 time with an offset. A local time that a clock
/// change skips is an error; one it repeats is its earlier instant.
fn parse_local(s: &str, tz: &TimeZone, tz_name: &str) -> Result<u64, TimingError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t.as_millisecond().max(0) as u64);
    }
    let civil = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| DateTime::strptime(f, s).ok())
    .ok_or_else(|| {
        TimingError(format!(
            "at `{s}` is not a time; write e.g. \"2026-12-24T09:00\" (in the schedule's timezone)"
        ))
    })?;
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    let local = match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => None,
        _ => ambiguous.earlier().ok(),
    }
    .ok_or_else(|| {
        TimingError(format!(
            "at `{s}` does not exist in {tz_name} (a clock change)"
        ))
    })?;
    Ok(local.as_millisecond().max(0) as u64)
}

impl Timing {
    /// The first due time strictly after `after` (ms), for a job created at
    /// `created`. `None` when it never runs again.
    pub fn next_after(&self, after: u64, created: u64) -> Option<u64> {
        match self {
            Timing::At { ms } => (*ms > after).then_some(*ms),
            Timing::Every { ms } => {
                let step = (*ms).max(1);
                if after < created {
                    return Some(created + step);
                }
                let n = (after - created) / step + 1;
                Some(created + n * step)
            }
            Timing::Cron { pattern, timezone } => {
                let cron = croner::Cron::from_str(pattern).ok()?;
                let tz = parse_tz(timezone).ok()?;
                let start = Timestamp::from_millisecond(after as i64).ok()?.to_zoned(tz);
                let next = cron.find_next_occurrence(&start, false).ok()?;
                let ms = next.timestamp().as_millisecond().max(0) as u64;
                (ms > after).then_some(ms)
            }
        }
    }

    /// The shortest gap between two runs (for per-user limits); `None` for one-shots.
    pub fn shortest_interval_ms(&self, now: u64) -> Option<u64> {
        match self {
            Timing::At { .. } => None,
            Timing::Every { ms } => Some(*ms),
            Timing::Cron { .. } => {
                // The smallest gap among the next few runs is a good bound.
                let mut t = self.next_after(now, now)?;
                let mut min = u64::MAX;
                for _ in 0..16 {
                    let n = self.next_after(t, now)?;
                    min = min.min(n - t);
                    t = n;
                }
                Some(min)
            }
        }
    }

    /// Short human description (for `!jobs`).
    pub fn describe(&self) -> String {
        match self {
            Timing::Cron { pattern, timezone } => format!("cron `{pattern}` ({timezone})"),
            Timing::Every { ms } => format!(
                "every {}",
                humantime::format_duration(std::time::Duration::from_millis(*ms))
            ),
            Timing::At { ms } => format!("once at {} UTC", crate::report::format_ms(*ms)),
        }
    }
}

/// What a job does at `now` given its stored next due time: `Some(due)` to
/// run now (the due time it runs for) and where its next due moves. Missed
/// runs collapse into one (`CatchUp::One`) or are skipped (`None`, unless
/// the due time was within `grace` ms, which is still "on time").
pub fn plan(
    timing: &Timing,
    next_due: u64,
    created: u64,
    now: u64,
    catch_up: CatchUp,
    grace: u64,
) -> Plan {
    if next_due > now {
        return Plan::Wait(next_due);
    }
    let next = timing.next_after(now, created);
    let late = now - next_due > grace;
    if late && catch_up == CatchUp::None {
        return Plan::Skip { next };
    }
    Plan::Run {
        due: next_due,
        next,
    }
}

/// The decision of [`plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Not yet: due at this time.
    Wait(u64),
    /// Run now for `due`; afterwards the job is next due at `next` (`None`: done).
    Run { due: u64, next: Option<u64> },
    /// Missed and not caught up; next due at `next`.
    Skip { next: Option<u64> },
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;

    fn ms(s: &str) -> u64 {
        s.parse::<Timestamp>().expect("time").as_millisecond() as u64
    }

    #[test]
    fn at_is_local_to_its_zone_through_clock_changes() {
        let at = |a: &str| parse(None, None, Some(a), Some("Europe/Berlin"));
        let due = |t: Timing| match t {
            Timing::At { ms } => ms,
            other => panic!("not at: {other:?}"),
        };
        // Winter (UTC+1), with or without seconds, `T` or a space.
        for a in [
            "2026-12-24T09:00",
            "2026-12-24 09:00",
            "2026-12-24T09:00:00",
        ] {
            assert_eq!(due(at(a).expect(a)), ms("2026-12-24T08:00:00Z"), "{a}");
        }
        // An explicit offset wins over the zone.
        assert_eq!(
            due(at("2026-12-24T09:00:00+05:00").expect("rfc3339")),
            ms("2026-12-24T04:00:00Z")
        );
        // 02:30 on 29 March 2026 is skipped in Berlin (clocks go 02:00 -> 03:00).
        let gap = at("2026-03-29T02:30").expect_err("a skipped time");
        assert!(gap.0.contains("does not exist in Europe/Berlin"), "{gap}");
        // 02:30 on 25 October 2026 happens twice: the first (still UTC+2).
        assert_eq!(
            due(at("2026-10-25T02:30").expect("repeated time")),
            ms("2026-10-25T00:30:00Z")
        );
        // A date alone is not a time.
        assert!(at("2026-12-24").is_err());
    }

    #[test]
    fn cron_follows_its_time_zone() {
        let t = parse(Some("0 9 * * *"), None, None, Some("Europe/Berlin")).expect("cron");
        // 07:00 UTC on a winter day is 08:00 in Berlin: next run 09:00 Berlin = 08:00 UTC.
        let now = ms("2026-12-03T07:00:00Z");
        assert_eq!(t.next_after(now, now), Some(ms("2026-12-03T08:00:00Z")));
        // In summer Berlin is UTC+2.
        let summer = ms("2026-07-01T06:30:00Z");
        assert_eq!(
            t.next_after(summer, summer),
            Some(ms("2026-07-01T07:00:00Z"))
        );
        assert_eq!(t.shortest_interval_ms(now), Some(24 * HOUR));
    }

    #[test]
    fn every_keeps_its_phase_and_at_runs_once() {
        let created = ms("2026-12-03T10:00:00Z");
        let t = parse(None, Some("1h"), None, None).expect("every");
        assert_eq!(t.next_after(created, created), Some(created + HOUR));
        assert_eq!(
            t.next_after(created + 90 * MIN, created),
            Some(created + 2 * HOUR)
        );
        let at = parse(None, None, Some("2026-12-24T09:00"), Some("UTC")).expect("at");
        let due = ms("2026-12-24T09:00:00Z");
        assert_eq!(at.next_after(created, created), Some(due));
        assert_eq!(at.next_after(due, created), None);
        assert_eq!(at.shortest_interval_ms(created), None);
    }

    #[test]
    fn bad_timings_say_what_to_write() {
        for (c, e, a, tz) in [
            (Some("61 * * * *"), None, None, None),
            (None, Some("soon"), None, None),
            (None, None, Some("tomorrow"), None),
            (Some("* * * * *"), Some("1h"), None, None),
            (None, None, None, None),
            (Some("* * * * *"), None, None, Some("Mars/Olympus")),
            (None, Some("0s"), None, None),
        ] {
            assert!(parse(c, e, a, tz).is_err(), "{c:?} {e:?} {a:?} {tz:?}");
        }
    }

    #[test]
    fn a_controllable_clock_fires_on_time_and_catches_up_once() {
        let created = ms("2026-12-03T10:00:00Z");
        let t = parse(None, Some("10m"), None, None).expect("every");
        let first = t.next_after(created, created).expect("first");
        // Before: wait. On time: run, next in 10 minutes.
        assert_eq!(
            plan(&t, first, created, first - 1, CatchUp::One, 0),
            Plan::Wait(first)
        );
        assert_eq!(
            plan(&t, first, created, first, CatchUp::One, 0),
            Plan::Run {
                due: first,
                next: Some(first + 10 * MIN)
            }
        );
        // Down for 95 minutes: one run, then the next slot after now.
        let now = first + 95 * MIN;
        assert_eq!(
            plan(&t, first, created, now, CatchUp::One, 0),
            Plan::Run {
                due: first,
                next: Some(first + 100 * MIN)
            }
        );
        assert_eq!(
            plan(&t, first, created, now, CatchUp::None, 60_000),
            Plan::Skip {
                next: Some(first + 100 * MIN)
            }
        );
        // A few seconds late is still on time for catch_up = none.
        assert!(matches!(
            plan(&t, first, created, first + 5_000, CatchUp::None, 60_000),
            Plan::Run { .. }
        ));
    }
}
