//! The process's allocator: mimalloc (v3) as the global allocator, told to
//! give freed pages back to the OS at once, and a call that collects what
//! is still held. Owns no data; callers decide when to collect. Must not be
//! called on a hot path: a collect walks the allocator's pages.
//!
//! Why mimalloc: under saturation a seventh of the host's CPU was glibc's
//! `malloc`/`free` (`perf`, assistant saturation). Measured with
//! `cargo bench -p kennel --bench e2e` on 2 cores, interleaved with the
//! glibc build (two arenas and a trim after bursts): host CPU per message
//! 0.37–0.49 → 0.34–0.35 ms (assistant) and 0.23–0.32 → 0.21 ms (echo);
//! RSS under saturation about the same (27.5–33.5 against 28.4–31.3 MB),
//! after 10,000 sessions 37.5–43.3 → 35.1–39.9 MB. mimalloc v2 was as fast but held more (46 and 58 MB);
//! with mimalloc's default 10 ms purge delay v3 held 49 and 64 MB.

use libmimalloc_sys as mi;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (the bindings
/// name no constant for it): how long freed pages stay committed, in ms.
const PURGE_DELAY: mi::mi_option_t = 15;

/// Makes the allocator return freed pages to the OS at once, unless
/// `MIMALLOC_PURGE_DELAY` is set (the user's choice wins). Call once at start.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an option value; it has no
        // preconditions and is thread-safe.
        unsafe { mi::mi_option_set(PURGE_DELAY, 0) }
    }
}

/// Returns the allocator's free pages to the OS now (what a compile or a
/// burst of sessions freed).
pub fn give_back() {
    // SAFETY: mi_collect only frees memory the allocator no longer uses; it
    // has no preconditions and is thread-safe.
    unsafe { mi::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    /// The option this module sets is the purge delay: reading it back
    /// through its number gives 0, or the user's `MIMALLOC_PURGE_DELAY`.
    #[test]
    fn configure_sets_the_purge_delay() {
        let expected = std::env::var("MIMALLOC_PURGE_DELAY").map_or(0, |v| {
            v.trim()
                .parse::<std::ffi::c_long>()
                .expect("a number of ms")
        });
        super::configure();
        // SAFETY: reading an option has no preconditions.
        let delay = unsafe { super::mi::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(delay, expected);
        // The number is mimalloc v3's purge delay: its neighbours in the
        // enum are the ones the bindings name.
        assert_eq!(
            super::PURGE_DELAY,
            super::mi::mi_option_eager_commit_delay + 1
        );
    }

    /// Freed memory is returned: RSS drops after many small blocks are
    /// freed and collected. RSS is the whole process's, so the measuring
    /// runs in a child process of this test binary with only this test in
    /// it: other tests compiling guests beside it would move the numbers.
    #[cfg(target_os = "linux")]
    #[test]
    fn give_back_returns_freed_small_blocks() {
        const CHILD: &str = "KENNEL_MEMORY_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            return measure();
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "memory::tests::give_back_returns_freed_small_blocks",
            ])
            .args(["--test-threads", "1", "--nocapture"])
            .env(CHILD, "1")
            // The delay mimalloc uses when not configured: only the
            // collect can return the pages in time.
            .env("MIMALLOC_PURGE_DELAY", "100000")
            .output()
            .expect("run the child");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the child ran no test: {text}");
    }

    #[cfg(target_os = "linux")]
    fn measure() {
        fn rss_kb() -> u64 {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("RssAnon:"))
                        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                })
                .unwrap_or(0)
        }
        // 64 MiB in 4 KiB blocks, filled so the pages are resident.
        let blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8 | 1; 4096]).collect();
        let full = rss_kb();
        // Keep every 64th block: the freed ones are scattered, so whole
        // allocator pages come free only around the kept ones.
        let kept: Vec<Vec<u8>> = blocks.into_iter().step_by(64).collect();
        super::give_back();
        let after = rss_kb();
        assert!(kept.iter().all(|b| b[0] != 0));
        assert!(
            after + 32 * 1024 < full,
            "RSS {full} kB before the collect, {after} kB after: freed pages were not returned"
        );
    }
}
