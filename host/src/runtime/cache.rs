//! On-disk cache of compiled components.
//!
//! Cranelift takes 40–50 ms for a Rust guest and 5–12 s for a Python or JS
//! guest, so compiled code is cached as `<sha256 of the .wasm>-<engine hash>.cwasm`.
//! Deserializing is `unsafe` (the bytes become executable code), so:
//!
//! | rule | why |
//! |---|---|
//! | only files this process (or an earlier kennel) wrote, via temp file + rename | no half-written or foreign artifacts |
//! | the directory is created 0700 and must be owned by us and not group/world-writable | nobody else can plant a file |
//! | the key includes the engine's precompile compatibility hash | a wasmtime upgrade or config change misses the cache instead of loading incompatible code |
//! | a file that fails to deserialize is deleted and the guest recompiled | corruption costs time, never correctness |
//! | a freshly compiled component is served from the file it was written to | file-backed code pages instead of anonymous memory: RSS after a cold compile stays near the warm level |
//! | after each write the directory is pruned to [`MAX_CACHE_BYTES`], least recently used first (a hit touches its file) | every hot-swapped version leaves a file; Python/JS ones are tens of MB |
//! | a written file's pages are dropped from the page cache once synced ([`drop_from_page_cache`]) | one 35 MB write leaves large page-cache folios, and the kernel maps a whole folio on a fault: serving from such a file cost 4–5 MB more RSS than from one read back from disk (`cargo bench --bench kennel-bench`, idle warm start) |

use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Size cap of the cache directory. 512 MiB holds every bundled guest many
/// times over; lower it and a hot swap may evict a guest still in use (it is
/// then recompiled at the next start, nothing breaks).
pub const MAX_CACHE_BYTES: u64 = 512 << 20;

/// Where compiled components are kept.
pub struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Compiled,
    Cached,
}

impl CompileCache {
    /// A cache in `dir` (created 0700); `None` disables caching.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> CompileCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_key = format!("{:016x}", h.finish());
        let dir = dir.and_then(|d| match prepare_dir(&d) {
            Ok(()) => Some(d),
            Err(e) => {
                tracing::warn!(dir = %d.display(), "compile cache disabled: {e}");
                None
            }
        });
        CompileCache { dir, engine_key }
    }

    /// The cache directory, if caching is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether compiled code for this content is on disk (a load will be fast).
    pub fn is_cached(&self, sha256: &str) -> bool {
        self.path(sha256).is_some_and(|p| p.is_file())
    }

    fn path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// Loads the component of the file at `wasm` (whose content hashes to
    /// `sha256`) from cache, or reads and compiles it. On a hit the file is
    /// not read at all.
    pub fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        wasm: &Path,
    ) -> wasmtime::Result<(Component, Origin)> {
        if let Some(path) = self.path(sha256)
            && path.is_file()
        {
            // SAFETY: the file was written by `store` below into a 0700 directory
            // owned by this user (checked in `prepare_dir`), keyed by the content
            // hash and the engine's compatibility hash.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => {
                    touch(&path);
                    return Ok((c, Origin::Cached));
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), "discarding unusable cache entry: {e}");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let bytes = std::fs::read(wasm)?;
        // Replaced since it was hashed (hot swap): compiling it under the old
        // key would poison the cache. The watcher loads the new file.
        if super::hex(&Sha256::digest(&bytes)) != sha256 {
            wasmtime::bail!("{} changed while it was being loaded", wasm.display());
        }
        let component = Component::new(engine, &bytes)?;
        drop(bytes);
        if let Some(path) = self.path(sha256) {
            match store(&component, &path) {
                Ok(()) => {
                    if let Some(dir) = &self.dir {
                        prune(dir, MAX_CACHE_BYTES);
                    }
                    // Serve from the file just written: its code is mapped
                    // from disk (paged in on use) instead of held in
                    // anonymous memory — for a Python or JS guest that is
                    // the difference between ~200 MB and ~25 MB of RSS.
                    // SAFETY: as above; this process wrote the file just now.
                    if let Ok(mapped) = unsafe { Component::deserialize_file(engine, &path) } {
                        return Ok((mapped, Origin::Compiled));
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), "could not write compile cache: {e}")
                }
            }
        }
        Ok((component, Origin::Compiled))
    }
}

/// Marks a cache file as just used (its mtime orders eviction).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Deletes the least recently used `.cwasm` files until the directory holds
/// at most `cap` bytes of them. Returns how many were deleted.
pub fn prune(dir: &Path, cap: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort_by_key(|f| f.0);
    let mut removed = 0;
    for (_, len, path) in files {
        if total <= cap {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            tracing::info!(file = %path.display(), bytes = len, "compile cache: evicted the least recently used entry");
            total -= len;
            removed += 1;
        }
    }
    removed
}

fn store(component: &Component, path: &Path) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    crate::replace::replace_file(path, &bytes, 0o600).map_err(|e| e.to_string())?;
    drop_from_page_cache(path);
    Ok(())
}

/// Asks the kernel to drop the (synced, so clean) page-cache pages of
/// `path`. A later load then pages in only what it touches, in the small
/// folios of a read from disk, as after a reboot. Best effort: a failure
/// costs memory, never correctness.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
fn drop_from_page_cache(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(f) = std::fs::File::open(path) {
        use std::os::fd::AsRawFd;
        // SAFETY: posix_fadvise only reads the descriptor, which `f` keeps
        // open for the call; the advice changes no file content.
        let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!(file = %path.display(), rc, "posix_fadvise(DONTNEED) failed");
        }
    }
}

fn prepare_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| e.to_string())?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| e.to_string())?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if meta.uid() != uid {
        return Err(format!("owned by uid {}, not by us ({uid})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "mode {:o} is group- or world-writable",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_evicts_least_recently_used_first() {
        let d = tempfile::tempdir().expect("dir");
        let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let p = d.path().join(format!("{name}.cwasm"));
            std::fs::write(&p, vec![0u8; 1000]).expect("write");
            let f = std::fs::File::options()
                .append(true)
                .open(&p)
                .expect("open");
            f.set_modified(t0 + std::time::Duration::from_secs(i as u64 * 10))
                .expect("mtime");
        }
        std::fs::write(d.path().join("other.txt"), vec![0u8; 5000]).expect("write");
        // "a" is the oldest, but a hit touches it: "b" goes first.
        touch(&d.path().join("a.cwasm"));
        assert_eq!(prune(d.path(), 2000), 1);
        assert!(!d.path().join("b.cwasm").exists());
        assert!(d.path().join("a.cwasm").exists() && d.path().join("c.cwasm").exists());
        assert!(
            d.path().join("other.txt").exists(),
            "only cache files are pruned"
        );
        assert_eq!(prune(d.path(), 2000), 0);
    }

    /// Pages of `path` in the page cache (`mincore` over a mapping of it).
    #[cfg(target_os = "linux")]
    fn cached_pages(path: &Path) -> (usize, usize) {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(path).expect("open");
        let len = f.metadata().expect("meta").len() as usize;
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let pages = len.div_ceil(page);
        // SAFETY: a fresh read-only shared mapping of an open file; it is
        // only passed to mincore (never read) and unmapped below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED);
        let mut vec = vec![0u8; pages];
        // SAFETY: `map` is a live mapping of `len` bytes and `vec` holds one
        // byte per page of it.
        let rc = unsafe { libc::mincore(map, len, vec.as_mut_ptr()) };
        // SAFETY: unmaps exactly the mapping made above.
        unsafe { libc::munmap(map, len) };
        assert_eq!(rc, 0);
        (vec.iter().filter(|b| *b & 1 == 1).count(), pages)
    }

    /// A compiled file is not left in the page cache: before the fix every
    /// page of it was there (just written), mapped in large folios.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_stored_component_leaves_the_page_cache() {
        let engine = super::super::make_engine().expect("engine");
        // Beside the sources, not in /tmp: a tmpfs /tmp has no page cache to
        // drop (its files are the memory).
        let d = tempfile::Builder::new()
            .prefix(".page-cache-test")
            .tempdir_in(env!("CARGO_MANIFEST_DIR"))
            .expect("dir");
        // A component holding a core module with 1 MB of data, so the
        // compiled file spans hundreds of pages.
        fn leb(mut n: usize, out: &mut Vec<u8>) {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    return out.push(byte);
                }
                out.push(byte | 0x80);
            }
        }
        let data = vec![1u8; 1 << 20];
        let mut segment = vec![1, 0, 0x41, 0, 0x0b]; // one active segment at i32.const 0
        leb(data.len(), &mut segment);
        segment.extend_from_slice(&data);
        let mut module = b"\0asm\x01\0\0\0\x05\x03\x01\x00\x20\x0b".to_vec(); // memory of 32 pages
        leb(segment.len(), &mut module);
        module.extend_from_slice(&segment);
        let mut bytes = b"\0asm\x0d\0\x01\0\x01".to_vec();
        leb(module.len(), &mut bytes);
        bytes.extend_from_slice(&module);
        let component = Component::new(&engine, &bytes).expect("compile");
        let path = d.path().join("c.cwasm");
        store(&component, &path).expect("store");
        let (cached, pages) = cached_pages(&path);
        assert!(pages >= 256, "only {pages} pages");
        assert!(
            cached * 10 < pages,
            "{cached} of {pages} pages still in the page cache"
        );
        // Still a good cache entry.
        // SAFETY: written by `store` just above.
        unsafe { Component::deserialize_file(&engine, &path) }.expect("deserialize");
    }

    #[test]
    fn a_file_replaced_after_hashing_is_not_cached_under_the_old_hash() {
        let engine = super::super::make_engine().expect("engine");
        let d = tempfile::tempdir().expect("dir");
        let cache = CompileCache::new(&engine, Some(d.path().join("cache")));
        // The smallest component.
        let wasm = d.path().join("g.wasm");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").expect("write");
        let stale = "00".repeat(32);
        let Err(e) = cache.load(&engine, &stale, &wasm) else {
            panic!("a stale hash was accepted");
        };
        assert!(
            e.to_string().contains("changed while it was being loaded"),
            "{e}"
        );
        assert!(!cache.is_cached(&stale));
        // With its real hash it compiles, is cached, and the next load is a hit.
        let digest = super::super::file_digest(&wasm).expect("digest");
        assert_eq!(digest.len, 8);
        let (_, origin) = cache.load(&engine, &digest.sha256, &wasm).expect("compile");
        assert_eq!(origin, Origin::Compiled);
        assert!(cache.is_cached(&digest.sha256));
        std::fs::remove_file(&wasm).expect("rm");
        let (_, origin) = cache
            .load(&engine, &digest.sha256, &wasm)
            .expect("hit without the file");
        assert_eq!(origin, Origin::Cached);
    }
}
