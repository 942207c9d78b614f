//! Process statistics from `/proc` for the benches (Linux only). Each bench
//! uses what it needs.

#![allow(dead_code)]

/// CPU seconds (user + system) a process has used.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu_secs(&stat).1
}

/// CPU seconds of one thread of a process, by the thread's name (the first
/// live thread so named): e.g. `kennel-store`, the store writer.
pub fn thread_cpu_secs(pid: u32, name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    tasks
        .flatten()
        .find_map(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            let (n, secs) = stat_cpu_secs(&stat);
            (n == name).then_some(secs)
        })
        .unwrap_or(0.0)
}

/// The name and the CPU seconds (user + system) of a `stat` line.
fn stat_cpu_secs(stat: &str) -> (&str, f64) {
    // The name is in parentheses and may hold spaces and ')': the fields
    // after it start at the last ')'.
    let (head, rest) = stat.rsplit_once(')').unwrap_or(("", ""));
    let name = head.split_once('(').map_or("", |(_, n)| n);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after ')'.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (name, (ticks(11) + ticks(12)) / hz.max(1.0))
}

/// VmRSS of a process, in MB.
pub fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

/// Anonymous (heap, stacks) and file-backed (the binary, mapped guests)
/// parts of a process's RSS, in MB.
pub fn rss_parts_mb(pid: u32) -> (f64, f64) {
    (status_mb(pid, "RssAnon:"), status_mb(pid, "RssFile:"))
}

/// A `kB` field of `/proc/PID/status`, in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}
