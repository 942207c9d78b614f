//! Link options for the `kennel` binary; owns nothing else.
//!
//! Packed relative relocations (`-z pack-relative-relocs`, DT_RELR): a
//! position-independent executable carries one relocation per pointer in its
//! read-only data, which the dynamic loader reads at every start. Ours had
//! 2.5 MB of them (`.rela.dyn`), all resident for the life of the process;
//! packed, they are 36 KB. Idle RSS dropped by that much, ASLR unchanged.
//! glibc loads such binaries from 2.36 on, so the option is only used when
//! building for the machine's own glibc and it is new enough.
//!
//! Startup layout (`layout/startup.order`, written by `just startup-order`):
//! the functions a start and the first turns run, placed first in `.text`.
//! A start runs ~2,700–3,400 functions (1.7 MB) spread over 35 MB of code,
//! and the kernel maps whole neighbourhoods of each touched page: 12–18 MB
//! of the binary stayed resident in an idle process, 5.4–7.8 MB once they
//! are together. The file names symbols with the toolchain's crate hashes,
//! so it is used only with the rustc it was made with (a warning says so
//! otherwise), and only with lld (rustc's default linker here).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_at_least(2, 36)
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let layout = startup_layout(native);
    // Tells `tests/cli.rs` what the link did: `used`, or why not.
    println!("cargo:rustc-env=KENNEL_STARTUP_ORDER={layout}");
}

/// Passes the startup order file to the linker when it fits this build;
/// returns `used` or the reason it was not.
fn startup_layout(native: bool) -> String {
    const ORDER: &str = "layout/startup.order";
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let lld_default = var("TARGET") == "x86_64-unknown-linux-gnu";
    let rustflags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_linker = rustflags.contains("linker")
        || rustflags.contains("link-self-contained")
        || !var("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_empty();
    if !native || !lld_default || own_linker {
        // Another linker may not know the option; nothing to warn about.
        return "other-linker".into();
    }
    let Ok(text) = std::fs::read_to_string(ORDER) else {
        return "no-file".into();
    };
    let made_with = text.lines().next().unwrap_or("").trim_start_matches("# ");
    let rustc = std::process::Command::new(var("RUSTC"))
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if made_with != rustc {
        println!(
            "cargo:warning=host/{ORDER} was made with {made_with}, this build uses {rustc}: \
             linked without it (idle RSS ~9 MB higher); `just startup-order` makes a new one"
        );
        return "other-rustc".into();
    }
    let path = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join(ORDER);
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        path.display()
    );
    // Functions renamed or gone since the file was made are skipped.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    "used".into()
}

/// Whether the glibc this build script runs on is at least `major.minor`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_at_least(major: u32, minor: u32) -> bool {
    // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version
        .to_str()
        .unwrap_or("")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (have_major, have_minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (have_major, have_minor) >= (major, minor)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_at_least(_: u32, _: u32) -> bool {
    false
}
