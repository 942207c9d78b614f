//! Link options for the `kennel` binary; owns nothing else.
//!
//! Packed relative relocations (`-z pack-relative-relocs`, DT_RELR): a
//! position-independent executable carries one relocation per pointer in its
//! read-only data, which the dynamic loader reads at every start. Ours had
//! 2.5 MB of them (`.rela.dyn`), all resident for the life of the process;
//! packed, they are 36 KB. Idle RSS dropped by that much, ASLR unchanged.
//! glibc loads such binaries from 2.36 on, so the option is only used when
//! building for the machine's own glibc and it is new enough.

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
