//! Per-guest sandbox limits and their optional `NAME.toml` override file.
//!
//! | limit | default | what breaks if you change it |
//! |---|---|---|
//! | `memory_mb` | 64 | lower: Python/JS guests fail to start (they need ~40–64 MiB); higher: a runaway guest may take that much RAM per concurrent call |
//! | `cpu_ms` | 1000 (agents 2000) | guest *execution* time per call; time waiting in host calls (LLM, tools) is not counted. Lower: slow guests fail with `cpu`; higher: a looping guest holds a core longer |
//! | `timeout_ms` | agents 300000, tools 10000, scanners 5000 | wall clock per call, including host waits (an agent's LLM calls) |
//! | `memory_mb` | (above) | counts every linear memory of the call together: a component with several memories shares one cap |
//! | `output_kb` | 256 | stdout + stderr + `log` lines per call (forwarded to the log); more fails the call with `output` |
//! | `reply_kb` | 64 (agents 4096) | the call's return value (agent reply with its files, tool output, scanner findings); larger fails with `reply` |
//!
//! Everything not granted is denied: guests get no files, sockets, environment or arguments.
//! The same file may grant a tool or agent outbound HTTP (see [`super::net`]):
//! `allowed_hosts`, `allowed_methods`, `max_request_kb`, `max_response_kb`,
//! `http_timeout_ms`, `max_requests`, `secrets`.

use serde::Deserialize;

use super::GuestKind;
use super::net::{NET_KEYS, NetKeys, NetPolicy};

/// Limits applied to every call of one guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub memory_mb: u64,
    pub cpu_ms: u64,
    pub timeout_ms: u64,
    pub output_kb: u64,
    pub reply_kb: u64,
}

/// The limit keys of the override file: every key optional.
#[derive(Debug, Default, Deserialize)]
struct LimitsFile {
    memory_mb: Option<u64>,
    cpu_ms: Option<u64>,
    timeout_ms: Option<u64>,
    output_kb: Option<u64>,
    reply_kb: Option<u64>,
}

/// Hard ceilings so a typo in `NAME.toml` cannot disable a limit.
const MAX_MEMORY_MB: u64 = 1024;
const MAX_CPU_MS: u64 = 600_000;
const MAX_TIMEOUT_MS: u64 = 3_600_000;
const MAX_OUTPUT_KB: u64 = 16 * 1024;
const MAX_REPLY_KB: u64 = 16 * 1024;

impl Limits {
    /// Defaults for a kind of guest.
    pub fn defaults(kind: GuestKind) -> Limits {
        match kind {
            GuestKind::Agent => Limits {
                memory_mb: 64,
                cpu_ms: 2000,
                timeout_ms: 300_000,
                output_kb: 256,
                reply_kb: 4096,
            },
            GuestKind::Tool => Limits {
                memory_mb: 64,
                cpu_ms: 1000,
                timeout_ms: 10_000,
                output_kb: 256,
                reply_kb: 64,
            },
            GuestKind::Scanner => Limits {
                memory_mb: 64,
                cpu_ms: 1000,
                timeout_ms: 5_000,
                output_kb: 256,
                reply_kb: 64,
            },
        }
    }

    /// Defaults overridden by the TOML text of `NAME.toml` (limit keys only).
    pub fn from_toml(kind: GuestKind, text: &str) -> Result<Limits, String> {
        Ok(GuestFile::parse(kind, text)?.limits)
    }

    fn from_file(kind: GuestKind, f: LimitsFile) -> Result<Limits, String> {
        let mut l = Limits::defaults(kind);
        let check = |name: &str, v: u64, max: u64| -> Result<u64, String> {
            if v == 0 || v > max {
                Err(format!("`{name} = {v}` is out of range (1..={max})"))
            } else {
                Ok(v)
            }
        };
        if let Some(v) = f.memory_mb {
            l.memory_mb = check("memory_mb", v, MAX_MEMORY_MB)?;
        }
        if let Some(v) = f.cpu_ms {
            l.cpu_ms = check("cpu_ms", v, MAX_CPU_MS)?;
        }
        if let Some(v) = f.timeout_ms {
            l.timeout_ms = check("timeout_ms", v, MAX_TIMEOUT_MS)?;
        }
        if let Some(v) = f.output_kb {
            l.output_kb = check("output_kb", v, MAX_OUTPUT_KB)?;
        }
        if let Some(v) = f.reply_kb {
            l.reply_kb = check("reply_kb", v, MAX_REPLY_KB)?;
        }
        Ok(l)
    }

    /// The pool's per-memory ceiling: no override may exceed it.
    pub const fn max_memory_bytes() -> usize {
        (MAX_MEMORY_MB as usize) << 20
    }
}

const LIMIT_KEYS: &[&str] = &["memory_mb", "cpu_ms", "timeout_ms", "output_kb", "reply_kb"];
/// Read by `kennel build`, not by the runtime.
const BUILD_KEYS: &[&str] = &["build"];

/// Everything a guest's `NAME.toml` says: its limits and its network grant.
#[derive(Debug, Clone)]
pub struct GuestFile {
    pub limits: Limits,
    pub net: NetPolicy,
}

impl GuestFile {
    /// The defaults of a kind (no `NAME.toml`): no network.
    pub fn defaults(kind: GuestKind) -> GuestFile {
        GuestFile {
            limits: Limits::defaults(kind),
            net: NetPolicy::default(),
        }
    }

    /// Parses `NAME.toml`. Unknown keys are errors (a typo must not silently
    /// drop a limit), and a scanner may not be granted network access.
    pub fn parse(kind: GuestKind, text: &str) -> Result<GuestFile, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        for key in table.keys() {
            let known = LIMIT_KEYS.contains(&key.as_str())
                || NET_KEYS.contains(&key.as_str())
                || BUILD_KEYS.contains(&key.as_str());
            if !known {
                return Err(format!(
                    "unknown key `{key}` (known: {}, {}, build)",
                    LIMIT_KEYS.join(", "),
                    NET_KEYS.join(", ")
                ));
            }
            if kind == GuestKind::Scanner && NET_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "`{key}`: a scanner may not be granted network access"
                ));
            }
        }
        let limits: LimitsFile = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string().trim().to_string())?;
        let net: NetKeys = table
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string().trim().to_string())?;
        Ok(GuestFile {
            limits: Limits::from_file(kind, limits)?,
            net: NetPolicy::from_keys(net)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_bounds() {
        let l =
            Limits::from_toml(GuestKind::Tool, "memory_mb = 128\ncpu_ms = 50\n").expect("parse");
        assert_eq!(l.memory_mb, 128);
        assert_eq!(l.cpu_ms, 50);
        assert_eq!(l.timeout_ms, Limits::defaults(GuestKind::Tool).timeout_ms);
        assert!(Limits::from_toml(GuestKind::Tool, "memory_mb = 0").is_err());
        assert!(Limits::from_toml(GuestKind::Tool, "memory_mb = 99999").is_err());
        assert!(Limits::from_toml(GuestKind::Tool, "memroy_mb = 1").is_err());
    }

    #[test]
    fn network_keys_parse_for_tools_and_are_refused_for_scanners() {
        let text = "allowed_hosts = [\"https://api.github.com/repos/\"]\nallowed_methods = [\"get\", \"POST\"]\nmax_response_kb = 8\nsecrets = [\"github\"]\ncpu_ms = 50\n";
        let f = GuestFile::parse(GuestKind::Tool, text).expect("parse");
        assert!(f.net.granted());
        assert_eq!(f.net.allowed_methods, ["GET", "POST"]);
        assert_eq!(f.net.max_response_bytes, 8 << 10);
        assert_eq!(f.net.secrets, ["github"]);
        assert_eq!(f.limits.cpu_ms, 50);
        let e = GuestFile::parse(GuestKind::Scanner, text).expect_err("scanner");
        assert!(e.contains("scanner may not"), "{e}");
        assert!(GuestFile::parse(GuestKind::Tool, "allowed_hosts = [\"ftp://x\"]").is_err());
        assert!(GuestFile::parse(GuestKind::Tool, "allowed_methods = [\"BREW\"]").is_err());
        assert!(!GuestFile::defaults(GuestKind::Tool).net.granted());
    }
}
