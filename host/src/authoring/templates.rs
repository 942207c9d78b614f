//! The embedded templates of `kennel new`: one source per language and kind,
//! the `NAME.toml` with its build command, a README and the WIT contract.

use std::path::Path;

use super::Lang;
use crate::runtime::GuestKind;

/// The WIT contract, written into every new guest's `wit/`.
pub(super) const WIT: &[(&str, &str)] = &[
    ("wit/kennel.wit", include_str!("../../../wit/kennel.wit")),
    (
        "wit/deps/cli.wit",
        include_str!("../../../wit/deps/cli.wit"),
    ),
    (
        "wit/deps/clocks.wit",
        include_str!("../../../wit/deps/clocks.wit"),
    ),
    (
        "wit/deps/filesystem.wit",
        include_str!("../../../wit/deps/filesystem.wit"),
    ),
    (
        "wit/deps/http.wit",
        include_str!("../../../wit/deps/http.wit"),
    ),
    ("wit/deps/io.wit", include_str!("../../../wit/deps/io.wit")),
    (
        "wit/deps/random.wit",
        include_str!("../../../wit/deps/random.wit"),
    ),
    (
        "wit/deps/sockets.wit",
        include_str!("../../../wit/deps/sockets.wit"),
    ),
];

macro_rules! per_kind {
    ($dir:literal, $ext:literal) => {
        [
            include_str!(concat!("../../templates/", $dir, "/tool", $ext)),
            include_str!(concat!("../../templates/", $dir, "/agent", $ext)),
            include_str!(concat!("../../templates/", $dir, "/scanner", $ext)),
        ]
    };
}

const RUST_CARGO: &str = include_str!("../../templates/rust/Cargo.toml");
const RUST_SRC: [&str; 3] = per_kind!("rust", ".rs");
const PY_APP: [&str; 3] = per_kind!("python", "_app.py");
const PY_LOGIC: [&str; 3] = per_kind!("python", "_logic.py");
const PY_TEST: [&str; 3] = per_kind!("python", "_test.py");
const JS_SRC: [&str; 3] = per_kind!("js", ".js");
const JS_TEST: [&str; 3] = per_kind!("js", ".test.js");
const JS_PACKAGE: &str = include_str!("../../templates/js/package.json");
const C_SRC: [&str; 3] = per_kind!("c", ".c");
const ZIG_SRC: [&str; 3] = per_kind!("zig", ".zig");

fn index(kind: GuestKind) -> usize {
    match kind {
        GuestKind::Tool => 0,
        GuestKind::Agent => 1,
        GuestKind::Scanner => 2,
    }
}

/// The build command of a language (run by `sh -c` in the guest directory;
/// it must leave `NAME.wasm`, a component or a core module).
pub(super) fn build_command(lang: Lang, kind: GuestKind, name: &str) -> String {
    let world = kind.as_str();
    match lang {
        Lang::Rust => format!(
            "cargo build --release --target wasm32-wasip2 && cp \"$CARGO_TARGET_DIR/wasm32-wasip2/release/{name}.wasm\" {name}.wasm"
        ),
        Lang::Python => {
            format!("componentize-py -d wit -w {world} componentize app -o {name}.wasm")
        }
        Lang::Js => format!(
            "componentize-js {name}.js --wit wit --world-name {world} -d http -d fetch-event -o {name}.wasm"
        ),
        Lang::C => format!(
            "zig cc -target wasm32-wasi -mexec-model=reactor -Os -Ibindings -o {name}.wasm {name}.c bindings/{world}.c bindings/{world}_component_type.o"
        ),
        Lang::Zig => format!(
            "zig build-exe {name}.zig bindings/{world}.c bindings/{world}_component_type.o -target wasm32-wasi -mexec-model=reactor -fno-entry -lc -Ibindings -O ReleaseSmall -femit-bin={name}.wasm"
        ),
    }
}

fn manifest(lang: Lang, kind: GuestKind, name: &str) -> String {
    let bindings = if matches!(lang, Lang::C | Lang::Zig) {
        "# C bindings, written into bindings/ from wit/ before every build.\nbindings = \"c\"\n"
    } else {
        ""
    };
    format!(
        "# `{name}`: limits of the {kind} (every key optional; defaults in the kennel README)\n\
         # and how `kennel build` builds it.\n\
         # memory_mb = 64\n\
         # cpu_ms = 1000\n\
         # timeout_ms = 10000\n\
         \n\
         [build]\n\
         kind = \"{kind}\"\n\
         {bindings}\
         command = '{cmd}'\n",
        cmd = build_command(lang, kind, name)
    )
}

fn readme(lang: Lang, kind: GuestKind, name: &str) -> String {
    let try_it = match kind {
        GuestKind::Tool => {
            format!("kennel call --guests . {name} '{{\"text\": \"hello wide world\"}}'")
        }
        GuestKind::Agent => {
            format!("echo hello | kennel chat --guests . --data .kennel --agent {name}")
        }
        GuestKind::Scanner => format!(
            "printf 'hello\\npassword=hunter2\\n' | kennel scan --guests . --scanners {name}"
        ),
    };
    let behaviour = match kind {
        GuestKind::Tool => "counts the words and characters of `{\"text\": ...}`",
        GuestKind::Agent => "answers every message with what it heard",
        GuestKind::Scanner => "blocks text carrying a private key or a `password=`",
    };
    let (source, test, toolchain) = match lang {
        Lang::Rust => (
            "src/lib.rs",
            "cargo test",
            "Rust with the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`, or `just setup` in the kennel checkout)",
        ),
        Lang::Python => (
            "app.py (bindings) and logic.py (logic)",
            "python3 -m unittest",
            "componentize-py (`just setup` in the kennel checkout installs it into .tools/py)",
        ),
        Lang::Js => (
            "the .js file",
            "node --test",
            "componentize-js (`just setup` in the kennel checkout installs it into .tools/js)",
        ),
        Lang::C => (
            "the .c file",
            "(none: try it with the command below)",
            "zig (its `zig cc`; `just setup` in the kennel checkout installs the `ziglang` package into .tools/zig)",
        ),
        Lang::Zig => (
            "the .zig file",
            "(`test` blocks document the logic; try it with the command below)",
            "zig (`just setup` in the kennel checkout installs the `ziglang` package into .tools/zig)",
        ),
    };
    format!(
        "# {name}\n\n\
         A Kennel {kind} in {lang}: it {behaviour}. Edit {source}.\n\n\
         Needs {toolchain}.\n\n\
         ```sh\n\
         kennel build                      # runs [build] command of {name}.toml, checks the component\n\
         {try_it}\n\
         {test}\n\
         kennel build --deploy /path/to/guests   # hot swap: the next message uses it\n\
         ```\n\n\
         Limits (memory, CPU time, network grants) go in `{name}.toml`; the\n\
         contract is `wit/kennel.wit` (world `{kind}`).\n",
        lang = lang.as_str(),
    )
}

fn render_text(template: &str, name: &str) -> String {
    template.replace("{{name}}", name)
}

/// Every file of a new guest: (path relative to its directory, contents).
pub(super) fn render(
    kind: GuestKind,
    name: &str,
    lang: Lang,
    in_workspace: bool,
) -> Vec<(String, String)> {
    let i = index(kind);
    let mut files = vec![
        (format!("{name}.toml"), manifest(lang, kind, name)),
        ("README.md".to_string(), readme(lang, kind, name)),
        (
            ".gitignore".to_string(),
            format!("/{name}.wasm\n/target/\n/bindings/\n/.kennel/\n__pycache__/\n.zig-cache/\n"),
        ),
    ];
    files.extend(WIT.iter().map(|(p, t)| (p.to_string(), t.to_string())));
    let src: Vec<(String, &str)> = match lang {
        Lang::Rust => {
            let deps = if kind == GuestKind::Tool {
                "serde_json = \"1\"\n"
            } else {
                ""
            };
            // Its own workspace, unless a parent workspace already lists it.
            let ws = if in_workspace { "" } else { "\n[workspace]\n" };
            let cargo = RUST_CARGO
                .replace("{{deps}}", deps)
                .replace("{{workspace}}", ws);
            files.push(("Cargo.toml".into(), render_text(&cargo, name)));
            vec![("src/lib.rs".into(), RUST_SRC[i])]
        }
        Lang::Python => vec![
            ("app.py".into(), PY_APP[i]),
            ("logic.py".into(), PY_LOGIC[i]),
            ("test_logic.py".into(), PY_TEST[i]),
        ],
        Lang::Js => vec![
            (format!("{name}.js"), JS_SRC[i]),
            (format!("{name}.test.js"), JS_TEST[i]),
            ("package.json".into(), JS_PACKAGE),
        ],
        Lang::C => vec![(format!("{name}.c"), C_SRC[i])],
        Lang::Zig => vec![(format!("{name}.zig"), ZIG_SRC[i])],
    };
    files.extend(src.into_iter().map(|(p, t)| (p, render_text(t, name))));
    files
}

/// Whether `dir` would be a member of an enclosing Cargo workspace (its
/// `members` globs match it): then the Rust template must not declare its own.
pub(super) fn is_workspace_member(dir: &Path) -> bool {
    let Ok(dir) = std::path::absolute(dir) else {
        return false;
    };
    for root in dir.ancestors().skip(1) {
        let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else {
            return false;
        };
        let Some(members) = table
            .get("workspace")
            .and_then(|w| w.get("members"))
            .and_then(|m| m.as_array())
        else {
            continue;
        };
        let Ok(rel) = dir.strip_prefix(root) else {
            return false;
        };
        return members
            .iter()
            .filter_map(|m| m.as_str())
            .any(|glob| glob_matches(glob, rel));
    }
    false
}

/// Cargo's member globs, as far as workspaces use them: `*` per path segment.
fn glob_matches(glob: &str, rel: &Path) -> bool {
    let pat: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    pat.len() == parts.len() && pat.iter().zip(&parts).all(|(p, s)| *p == "*" || p == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_globs_match_one_segment_per_star() {
        assert!(glob_matches("guests/rust/*", Path::new("guests/rust/demo")));
        assert!(!glob_matches("guests/rust/*", Path::new("guests/demo")));
        assert!(!glob_matches("guests/rust/*", Path::new("guests/rust/a/b")));
        assert!(glob_matches("host", Path::new("host")));
    }

    #[test]
    fn the_rust_template_joins_an_enclosing_workspace_only_as_a_member() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"guests/rust/*\"]\n",
        )
        .expect("write");
        assert!(is_workspace_member(&tmp.path().join("guests/rust/demo")));
        assert!(!is_workspace_member(&tmp.path().join("elsewhere/demo")));
        let files = render(GuestKind::Tool, "demo", Lang::Rust, true);
        let cargo = &files
            .iter()
            .find(|(p, _)| p == "Cargo.toml")
            .expect("cargo")
            .1;
        assert!(!cargo.contains("[workspace]"));
        let files = render(GuestKind::Tool, "demo", Lang::Rust, false);
        let cargo = &files
            .iter()
            .find(|(p, _)| p == "Cargo.toml")
            .expect("cargo")
            .1;
        assert!(cargo.contains("\n[workspace]\n"));
    }
}
