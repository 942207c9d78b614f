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

use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

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

    fn path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// Loads the component for `bytes` (whose hash is `sha256`) from cache or compiles it.
    pub fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, Origin)> {
        if let Some(path) = self.path(sha256)
            && path.is_file()
        {
            // SAFETY: the file was written by `store` below into a 0700 directory
            // owned by this user (checked in `prepare_dir`), keyed by the content
            // hash and the engine's compatibility hash.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, Origin::Cached)),
                Err(e) => {
                    tracing::warn!(file = %path.display(), "discarding unusable cache entry: {e}");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Some(path) = self.path(sha256)
            && let Err(e) = store(&component, &path)
        {
            tracing::warn!(file = %path.display(), "could not write compile cache: {e}");
        }
        Ok((component, Origin::Compiled))
    }
}

fn store(component: &Component, path: &Path) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
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
