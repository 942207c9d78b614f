//! The process's allocator policy: how many glibc arenas it may use, and
//! giving freed heap back to the OS. Owns no data; callers decide when.
//! Must not be called on a hot path: a trim walks every free chunk.
//!
//! Why: glibc keeps what a burst freed (a compile, 10,000 sessions) mapped
//! for the life of the process, and by default gives each busy thread its
//! own arena (up to 8 per core), each holding its own freed pages.
//! Measured (`cargo bench -p kennel --bench e2e`, 2 cores): two arenas took
//! RSS under saturation from 44–47 to 37 MB and after 10,000 sessions from
//! 76–79 to 71 MB at the same throughput; mimalloc instead raised both
//! (64 and 86 MB).

/// Arenas glibc may create (it defaults to 8 per core).
const ARENAS: i32 = 2;

/// Caps glibc's arenas at [`ARENAS`], unless `MALLOC_ARENA_MAX` is set (the
/// user's choice wins). Call once at start, before threads are spawned.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it has no
        // preconditions and is called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Returns the allocator's free pages to the OS (every arena, not only the
/// top of the heap).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; it has
    // no preconditions and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    /// Freed memory is returned: RSS drops after many small blocks are
    /// freed and trimmed (glibc would keep their pages without a trim). RSS
    /// is the whole process's, so the measuring runs in a child process of
    /// this test binary with only this test in it: other tests compiling
    /// guests beside it would move the numbers.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
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
            .output()
            .expect("run the child");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the child ran no test: {text}");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
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
        // Keep every 64th block: the freed ones are not at the top of the
        // heap, so only a trim can return their pages.
        let kept: Vec<Vec<u8>> = blocks.into_iter().step_by(64).collect();
        super::give_back();
        let after = rss_kb();
        assert!(kept.iter().all(|b| b[0] != 0));
        assert!(
            after + 32 * 1024 < full,
            "RSS {full} kB before the trim, {after} kB after: freed pages were not returned"
        );
    }
}
