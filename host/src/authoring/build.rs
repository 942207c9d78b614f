//! `kennel build`: the `[build]` table of `NAME.toml`, the build command with
//! the project's toolchains on PATH, C bindings, componentizing a core module
//! with the WASI preview-1 adapter, the loader check and the deploy by rename.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::AuthoringError;
use crate::runtime::{GuestKind, Runtime, RuntimeOptions};

/// The `[build]` table of a guest's `NAME.toml`.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub name: String,
    pub kind: GuestKind,
    pub command: String,
    /// `Some("c")`: write C bindings into `bindings/` before building.
    pub bindings: Option<String>,
    /// The WIT directory the bindings are made from (default `wit`).
    pub wit: PathBuf,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildTable {
    kind: String,
    command: String,
    #[serde(default)]
    bindings: Option<String>,
    #[serde(default)]
    wit: Option<PathBuf>,
}

impl Manifest {
    #[cfg(test)]
    pub(crate) fn parse(text: &str, name: &str) -> Result<Manifest, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        Manifest::from_table(&table, name)
    }

    fn from_table(table: &toml::Table, name: &str) -> Result<Manifest, String> {
        let build = table
            .get("build")
            .cloned()
            .ok_or_else(|| format!("{name}.toml has no [build] table (kennel new writes one)"))?;
        let b: BuildTable = build
            .try_into()
            .map_err(|e: toml::de::Error| format!("[build] of {name}.toml: {e}"))?;
        let kind = match b.kind.as_str() {
            "tool" => GuestKind::Tool,
            "agent" => GuestKind::Agent,
            "scanner" => GuestKind::Scanner,
            k => {
                return Err(format!(
                    "[build] kind = \"{k}\": use tool, agent or scanner"
                ));
            }
        };
        if let Some(other) = b.bindings.as_deref().filter(|b| *b != "c") {
            return Err(format!(
                "[build] bindings = \"{other}\": only \"c\" is supported"
            ));
        }
        Ok(Manifest {
            name: name.to_string(),
            kind,
            command: b.command,
            bindings: b.bindings,
            wit: b.wit.unwrap_or_else(|| PathBuf::from("wit")),
        })
    }

    /// Finds the one `NAME.toml` with a `[build]` table in `dir`.
    fn find(dir: &Path) -> Result<Manifest, AuthoringError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| AuthoringError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let entries = std::fs::read_dir(dir).map_err(|source| AuthoringError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut found = Vec::new();
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && stem != "Cargo"
            {
                let text = read(&path)?;
                match text.parse::<toml::Table>() {
                    Ok(t) if t.contains_key("build") => found.push((stem.to_string(), t)),
                    // A broken manifest is reported, not skipped as "none found".
                    Err(e) if text.contains("[build]") => {
                        return Err(AuthoringError::Manifest(format!("{stem}.toml: {e}")));
                    }
                    _ => {}
                }
            }
        }
        match found.as_slice() {
            [(name, table)] => Manifest::from_table(table, name).map_err(AuthoringError::Manifest),
            [] => Err(AuthoringError::Manifest(format!(
                "no NAME.toml with a [build] table in {} (create a guest with `kennel new`)",
                dir.display()
            ))),
            _ => Err(AuthoringError::Manifest(format!(
                "several NAME.toml files with a [build] table in {}",
                dir.display()
            ))),
        }
    }
}

/// What `kennel build` was asked for.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Copy the result into this guest directory (temp file + rename).
    pub deploy: Option<PathBuf>,
}

/// What `kennel build` did.
#[derive(Debug)]
pub struct BuildReport {
    pub name: String,
    pub kind: GuestKind,
    pub wasm: PathBuf,
    pub size: u64,
    /// The build command's wall time.
    pub build_time: Duration,
    /// Whether a core module was wrapped into a component.
    pub componentized: bool,
    /// wasmtime's compile time of the result (the loader check).
    pub compile_time: Duration,
    pub deployed: Option<PathBuf>,
}

/// `kennel build DIR`.
pub async fn build_guest(dir: &Path, opts: &BuildOptions) -> Result<BuildReport, AuthoringError> {
    let m = Manifest::find(dir)?;
    if m.bindings.is_some() {
        write_c_bindings(dir, &m)?;
    }
    let wasm = dir.join(format!("{}.wasm", m.name));
    let started = Instant::now();
    run_command(dir, &m)?;
    let build_time = started.elapsed();
    let componentized = componentize_if_core(&wasm)?;
    let (kind, compile_time) = check(dir, &wasm, &m).await?;
    let size = std::fs::metadata(&wasm).map(|md| md.len()).unwrap_or(0);
    let deployed = match &opts.deploy {
        Some(to) => Some(deploy(dir, &m.name, to)?),
        None => None,
    };
    Ok(BuildReport {
        name: m.name,
        kind,
        wasm,
        size,
        build_time,
        componentized,
        compile_time,
        deployed,
    })
}

/// Writes `bindings/WORLD.{h,c}` and `WORLD_component_type.o` (wit-bindgen's
/// C generator, the same code as `wit-bindgen c`).
fn write_c_bindings(dir: &Path, m: &Manifest) -> Result<(), AuthoringError> {
    let wit = dir.join(&m.wit);
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve
        .push_dir(&wit)
        .map_err(|e| AuthoringError::Bindings(format!("{}: {e:#}", wit.display())))?;
    let world = resolve
        .select_world(&[pkg], Some(m.kind.as_str()))
        .map_err(|e| AuthoringError::Bindings(format!("{e:#}")))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .map_err(|e| AuthoringError::Bindings(format!("{e:#}")))?;
    let out = dir.join("bindings");
    std::fs::create_dir_all(&out).map_err(|source| AuthoringError::Write {
        path: out.clone(),
        source,
    })?;
    for (name, bytes) in files.iter() {
        let path = out.join(name);
        // Unchanged files keep their time stamps (no needless rebuilds).
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            continue;
        }
        std::fs::write(&path, bytes).map_err(|source| AuthoringError::Write { path, source })?;
    }
    Ok(())
}

/// Where a program of a build command comes from, and how to get it.
fn toolchain_fix(program: &str) -> String {
    match program {
        "cargo" => "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip2` (`just setup` in the kennel checkout does that)".into(),
        "componentize-py" => "run `just setup` in the kennel checkout (installs componentize-py into .tools/py), or `pip install componentize-py`".into(),
        "componentize-js" => "run `just setup` in the kennel checkout (installs @bytecodealliance/componentize-js into .tools/js), or `npm install @bytecodealliance/componentize-js`".into(),
        "zig" => "run `just setup` in the kennel checkout (installs the `ziglang` package from PyPI into .tools/zig), or put zig 0.15 on PATH".into(),
        other => format!("install `{other}` or put it on PATH"),
    }
}

/// The project-local toolchain directories: `$KENNEL_TOOLS`, else the first
/// `.tools` above the guest directory or above the `kennel` executable.
fn tool_paths(dir: &Path) -> Vec<PathBuf> {
    let root = std::env::var_os("KENNEL_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            let guest = std::path::absolute(dir).ok();
            let exe = std::env::current_exe().ok();
            [guest, exe].into_iter().flatten().find_map(|start| {
                start
                    .ancestors()
                    .map(|a| a.join(".tools"))
                    .find(|t| t.is_dir())
            })
        });
    let Some(root) = root else {
        return Vec::new();
    };
    ["zig/bin", "py/bin", "js/node_modules/.bin"]
        .iter()
        .map(|p| root.join(p))
        .filter(|p| p.is_dir())
        .collect()
}

/// Whether rustup lists the wasm32-wasip2 target (true when rustup is absent:
/// then cargo's own error says what is missing).
fn wasip2_installed(path: &std::ffi::OsStr) -> bool {
    match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .env("PATH", path)
        .stderr(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == "wasm32-wasip2"),
        _ => true,
    }
}

fn on_path(program: &str, path: &std::ffi::OsStr) -> bool {
    std::env::split_paths(path).any(|d| d.join(program).is_file())
}

/// Runs the build command with `sh -c` in the guest directory; its output
/// goes to stderr (stdout stays the report's).
fn run_command(dir: &Path, m: &Manifest) -> Result<(), AuthoringError> {
    let mut paths = tool_paths(dir);
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).map_err(|e| AuthoringError::Manifest(e.to_string()))?;
    let program = m.command.split_whitespace().next().unwrap_or_default();
    if !program.contains('/') && !on_path(program, &path) {
        return Err(AuthoringError::MissingTool {
            program: format!("`{program}`"),
            fix: toolchain_fix(program),
        });
    }
    if program == "cargo" && m.command.contains("wasm32-wasip2") && !wasip2_installed(&path) {
        return Err(AuthoringError::MissingTool {
            program: "the Rust target wasm32-wasip2".into(),
            fix: "run `rustup target add wasm32-wasip2` (`just setup` in the kennel checkout does that)".into(),
        });
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    let target_dir = std::path::absolute(&target_dir).unwrap_or(target_dir);
    let stdout: Stdio = match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => fd.into(),
        Err(_) => Stdio::inherit(),
    };
    let status = Command::new("sh")
        .arg("-c")
        .arg(&m.command)
        .current_dir(dir)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .status()
        .map_err(AuthoringError::Spawn)?;
    if status.success() {
        return Ok(());
    }
    if status.code() == Some(127) {
        return Err(AuthoringError::MissingTool {
            program: format!("`{program}`"),
            fix: toolchain_fix(program),
        });
    }
    Err(AuthoringError::BuildFailed {
        status: status.to_string(),
    })
}

/// A core module (C, Zig) becomes a component: the component type the C
/// bindings embedded plus the WASI preview-1 reactor adapter (what
/// `wasm-tools component new --adapt` does). Components are left alone.
fn componentize_if_core(wasm: &Path) -> Result<bool, AuthoringError> {
    let bytes = std::fs::read(wasm).map_err(|source| AuthoringError::Read {
        path: wasm.to_path_buf(),
        source,
    })?;
    let err = |message: String| AuthoringError::Componentize {
        path: wasm.to_path_buf(),
        message,
    };
    match bytes.get(4..8) {
        Some([1, 0, 0, 0]) => {}
        Some(_) if bytes.starts_with(b"\0asm") => return Ok(false),
        _ => return Err(err("not a WebAssembly file".into())),
    }
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|e| {
            e.adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
        })
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| err(format!("{e:#}")))?;
    crate::replace::replace_file(wasm, &component, 0o644).map_err(|source| {
        AuthoringError::Write {
            path: wasm.to_path_buf(),
            source,
        }
    })?;
    Ok(true)
}

/// Loads the result with the runtime's loader (no cache): world, kind,
/// imports, and for a tool its `describe`. Returns the kind and compile time.
async fn check(
    dir: &Path,
    wasm: &Path,
    m: &Manifest,
) -> Result<(GuestKind, Duration), AuthoringError> {
    let check = |e: String| AuthoringError::Check(e);
    let runtime = Runtime::new(RuntimeOptions {
        guest_dir: dir.to_path_buf(),
        cache_dir: None,
    })
    .map_err(|e| check(e.to_string()))?;
    let guest = runtime.load_file(wasm).map_err(|e| check(e.to_string()))?;
    if guest.kind != m.kind {
        return Err(check(format!(
            "{} exports the {} world, but {}.toml says kind = \"{}\"",
            wasm.display(),
            guest.kind,
            m.name,
            m.kind
        )));
    }
    if guest.kind == GuestKind::Tool {
        runtime
            .tool_spec(&guest.name)
            .await
            .map_err(|e| check(format!("describe: {e}")))?;
    }
    Ok((guest.kind, guest.load_time))
}

/// Copies `NAME.toml` and then `NAME.wasm` into `to`, each by temp file + rename,
/// so a watching `kennel run` hot-swaps to a complete file with its limits.
fn deploy(dir: &Path, name: &str, to: &Path) -> Result<PathBuf, AuthoringError> {
    let fail = |source| AuthoringError::Deploy {
        dir: to.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(to).map_err(fail)?;
    for file in [format!("{name}.toml"), format!("{name}.wasm")] {
        let bytes = std::fs::read(dir.join(&file)).map_err(fail)?;
        crate::replace::replace_file(&to.join(&file), &bytes, 0o644).map_err(fail)?;
    }
    Ok(to.join(format!("{name}.wasm")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_name_their_kind_and_command() {
        let m = Manifest::parse(
            "cpu_ms = 5\n[build]\nkind = \"scanner\"\ncommand = \"make\"\n",
            "x",
        )
        .expect("parse");
        assert_eq!(m.kind, GuestKind::Scanner);
        assert_eq!(m.command, "make");
        assert!(Manifest::parse("cpu_ms = 5\n", "x").is_err());
        assert!(Manifest::parse("[build]\nkind = \"robot\"\ncommand = \"make\"\n", "x").is_err());
        assert!(
            Manifest::parse(
                "[build]\nkind = \"tool\"\ncommand = \"make\"\nbindings = \"go\"\n",
                "x"
            )
            .is_err()
        );
        assert!(Manifest::parse("[build]\nkind = \"tool\"\ncomand = \"make\"\n", "x").is_err());
    }

    #[test]
    fn a_broken_manifest_is_reported_not_skipped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("x.toml"), "[build]\nkind = \n").expect("write");
        let e = Manifest::find(tmp.path()).expect_err("broken");
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
        std::fs::write(tmp.path().join("x.toml"), "cpu_ms = 5\n").expect("write");
        let e = Manifest::find(tmp.path()).expect_err("none");
        assert!(
            e.to_string().contains("no NAME.toml with a [build] table"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_toolchain_names_the_setup_step() {
        assert!(toolchain_fix("zig").contains("just setup"));
        assert!(toolchain_fix("componentize-py").contains(".tools/py"));
    }

    #[test]
    fn a_file_that_is_not_wasm_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("x.wasm");
        std::fs::write(&p, b"#!/bin/sh\n").expect("write");
        assert!(matches!(
            componentize_if_core(&p),
            Err(AuthoringError::Componentize { .. })
        ));
    }
}
