//! Guest authoring: `kennel new` (a ready-to-build guest from templates
//! embedded in the binary, in Rust, Python, JavaScript, C or Zig) and
//! `kennel build` (runs the guest's build command, turns a core module into a
//! component, checks it with the runtime's loader, deploys it by rename).
//!
//! Owns the templates, the `[build]` table of `NAME.toml` and the toolchain
//! hints. Must not link into the serving path: nothing here runs while
//! `kennel run` serves.

mod build;
mod templates;

use std::path::{Path, PathBuf};

pub use build::{BuildOptions, BuildReport, build_guest};

use crate::runtime::GuestKind;

/// A language a guest can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Python,
    Js,
    C,
    Zig,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::Rust, Lang::Python, Lang::Js, Lang::C, Lang::Zig];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::C => "c",
            Lang::Zig => "zig",
        }
    }
}

/// Why a guest could not be created or built.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    #[error(
        "`{0}` is not a usable guest name: use 1-32 characters of a-z, 0-9 and '_', starting with a letter (it becomes a file name, a crate name and a C identifier)"
    )]
    BadName(String),
    #[error("{0} already exists and is not empty (choose another name or --dir)")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Manifest(String),
    #[error(
        "{program} was not found: {fix}\n(kennel build looks in PATH and in the checkout's .tools/ directory)"
    )]
    MissingTool { program: String, fix: String },
    #[error("cannot start the build command with `sh`: {0}")]
    Spawn(std::io::Error),
    #[error("the build command failed ({status}); its output is above")]
    BuildFailed { status: String },
    #[error("C bindings: {0}")]
    Bindings(String),
    #[error("componentizing {path}: {message}")]
    Componentize { path: PathBuf, message: String },
    #[error("the built guest does not load: {0}")]
    Check(String),
    #[error("deploy to {dir}: {source}")]
    Deploy {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Checks a guest name: it becomes a file stem, a crate name and a C identifier.
pub fn check_name(name: &str) -> Result<(), AuthoringError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AuthoringError::BadName(name.to_string()))
    }
}

/// `kennel new`: writes a guest named `name` of `kind` in `lang` into
/// `parent/name` and returns that directory.
pub fn new_guest(
    kind: GuestKind,
    name: &str,
    lang: Lang,
    parent: &Path,
) -> Result<PathBuf, AuthoringError> {
    check_name(name)?;
    let dir = parent.join(name);
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(AuthoringError::Exists(dir));
    }
    let in_workspace = lang == Lang::Rust && templates::is_workspace_member(&dir);
    for (rel, text) in templates::render(kind, name, lang, in_workspace) {
        let path = dir.join(&rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|source| AuthoringError::Write {
                path: p.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| AuthoringError::Write { path, source })?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_every_language() {
        for good in ["demo", "a", "word_count2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Demo",
            "9lives",
            "my-tool",
            "a/b",
            "..",
            &"x".repeat(33),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_language_and_kind_renders_a_manifest_with_a_build_command() {
        for lang in Lang::ALL {
            for kind in [GuestKind::Tool, GuestKind::Agent, GuestKind::Scanner] {
                let files = templates::render(kind, "demo", lang, false);
                let toml = files
                    .iter()
                    .find(|(p, _)| p == "demo.toml")
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                let m = build::Manifest::parse(&toml, "demo").expect("manifest parses");
                assert_eq!(m.kind, kind);
                assert!(!m.command.is_empty());
                crate::runtime::GuestFile::parse(kind, &toml).expect("the runtime accepts it");
                assert!(files.iter().any(|(p, _)| p == "wit/kennel.wit"));
                for (path, text) in &files {
                    for placeholder in ["{{name}}", "{{deps}}", "{{workspace}}"] {
                        assert!(
                            !text.contains(placeholder),
                            "{path} of {lang:?}/{kind}: {placeholder} left"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn new_refuses_a_non_empty_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = new_guest(GuestKind::Tool, "demo", Lang::C, tmp.path()).expect("new");
        assert!(dir.join("demo.c").is_file());
        assert!(matches!(
            new_guest(GuestKind::Tool, "demo", Lang::C, tmp.path()),
            Err(AuthoringError::Exists(_))
        ));
    }
}
