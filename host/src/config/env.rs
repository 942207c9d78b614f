//! Where settings come from besides `kennel.toml`: the process environment
//! and an optional dotenv file (`--env-file`, `KENNEL_ENV_FILE`), so an
//! existing Hermes `~/.hermes/.env` works unchanged; and, for `kennel doctor`,
//! which of file, env file, environment or default each setting came from.
//!
//! The process environment wins over the env file (as with every dotenv
//! tool), and both win over the config file. Owns lookup and provenance only:
//! it never prints a value, and it never writes to the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// Variables read from the environment, with the settings they override.
/// The provenance report walks this table; `apply_env` reads the same names.
pub const SETTINGS: &[(&str, &str)] = &[
    ("MATTERMOST_URL", "mattermost.url"),
    ("MATTERMOST_TOKEN", "mattermost.token"),
    ("MATTERMOST_ALLOWED_USERS", "access.allowed_users"),
    ("MATTERMOST_ALLOW_ALL_USERS", "access.dm_policy"),
    ("MATTERMOST_DM_POLICY", "access.dm_policy"),
    ("MATTERMOST_REPLY_MODE", "mattermost.reply_mode"),
    ("MATTERMOST_HOME_CHANNEL", "mattermost.home_channel"),
    ("MATTERMOST_REQUIRE_MENTION", "mattermost.require_mention"),
];

/// Settings whose values are never shown, only where they came from.
const SECRET_KEYS: &[&str] = &["mattermost.token"];

/// The process environment plus an optional env file.
#[derive(Debug, Default, Clone)]
pub struct EnvSource {
    file: Option<PathBuf>,
    vars: BTreeMap<String, String>,
    /// Test hook: a fixed map instead of the process environment.
    fixed: Option<BTreeMap<String, String>>,
}

/// Where one value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The process environment (variable named).
    Environment(String),
    /// The env file (path and variable named).
    EnvFile(PathBuf, String),
    /// The config file.
    File(PathBuf),
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Environment(v) => write!(f, "environment ({v})"),
            Origin::EnvFile(p, v) => write!(f, "env file {} ({v})", p.display()),
            Origin::File(p) => write!(f, "config file {}", p.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

impl EnvSource {
    /// The process environment only.
    pub fn process() -> EnvSource {
        EnvSource::default()
    }

    /// A fixed set of variables standing in for the process environment (tests).
    pub fn fixed(vars: &[(&str, &str)]) -> EnvSource {
        EnvSource {
            fixed: Some(
                vars.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    /// Adds a dotenv file (`KEY=value`, `export KEY=value`, quotes, comments).
    /// A missing or malformed file is an error that names it and the line.
    pub fn with_file(mut self, path: &Path) -> Result<EnvSource, ConfigError> {
        let err = |message: String| ConfigError::EnvFile {
            path: path.to_path_buf(),
            message,
        };
        let iter = dotenvy::from_path_iter(path).map_err(|e| err(describe(&e)))?;
        for item in iter {
            let (k, v) = item.map_err(|e| err(describe(&e)))?;
            self.vars.insert(k, v);
        }
        warn_if_readable_by_others(path);
        self.file = Some(path.to_path_buf());
        Ok(self)
    }

    /// The env file in use, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn process_var(&self, k: &str) -> Option<String> {
        let v = match &self.fixed {
            Some(m) => m.get(k).cloned(),
            None => std::env::var(k).ok(),
        };
        v.filter(|v| !v.trim().is_empty())
    }

    /// The value of `k`: the environment first, then the env file.
    pub fn get(&self, k: &str) -> Option<String> {
        self.process_var(k)
            .or_else(|| self.vars.get(k).filter(|v| !v.trim().is_empty()).cloned())
    }

    /// Where `k` would be read from, if anywhere.
    pub fn origin(&self, k: &str) -> Option<Origin> {
        if self.process_var(k).is_some() {
            Some(Origin::Environment(k.to_string()))
        } else {
            self.vars
                .get(k)
                .filter(|v| !v.trim().is_empty())
                .map(|_| Origin::EnvFile(self.file.clone().unwrap_or_default(), k.to_string()))
        }
    }
}

/// The env file a config file names with its top-level `env_file` key
/// (relative to the config file's directory), if it names one. Read before
/// the config is parsed for real, so the env file can feed its overrides.
pub fn named_by_config(config: Option<&Path>) -> Option<PathBuf> {
    let config = config?;
    let text = std::fs::read_to_string(config).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let name = table.get("env_file")?.as_str()?.trim();
    if name.is_empty() {
        return None;
    }
    let p = Path::new(name);
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        config
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(p)
    })
}

/// One line of `kennel doctor`'s settings report.
#[derive(Debug, Clone)]
pub struct SettingOrigin {
    pub key: &'static str,
    pub origin: Origin,
    /// The value as shown: `(set)` for secrets, never the secret itself.
    pub shown: String,
}

/// Where each environment-overridable setting of `cfg` came from.
pub fn provenance(cfg: &super::Config, env: &EnvSource) -> Vec<SettingOrigin> {
    let file_table: Option<toml::Table> = cfg.text.parse().ok();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (_, key) in SETTINGS {
        if seen.contains(key) {
            continue;
        }
        // The last variable of a key wins in `apply_env`; look them all up.
        let vars: Vec<&str> = SETTINGS
            .iter()
            .filter(|(_, k)| k == key)
            .map(|(v, _)| *v)
            .collect();
        seen.push(*key);
        let origin = vars
            .iter()
            .rev()
            .find_map(|v| env.origin(v))
            .or_else(|| {
                let in_file = file_table.as_ref().is_some_and(|t| has_key(t, key));
                in_file.then(|| Origin::File(cfg.path_for_errors()))
            })
            .unwrap_or(Origin::Default);
        out.push(SettingOrigin {
            key,
            shown: shown(cfg, key),
            origin,
        });
    }
    out
}

fn has_key(t: &toml::Table, dotted: &str) -> bool {
    let mut cur = t;
    let mut parts = dotted.split('.').peekable();
    while let Some(p) = parts.next() {
        match cur.get(p) {
            Some(toml::Value::Table(inner)) if parts.peek().is_some() => cur = inner,
            Some(_) => return parts.peek().is_none(),
            None => return false,
        }
    }
    false
}

fn shown(cfg: &super::Config, key: &str) -> String {
    if SECRET_KEYS.contains(&key) {
        return if cfg.mattermost.token.is_empty() {
            "(not set)".into()
        } else {
            "(set, hidden)".into()
        };
    }
    match key {
        "mattermost.url" => cfg.mattermost.url.clone(),
        "access.allowed_users" => cfg.access.allowed_users.join(","),
        "access.dm_policy" => format!("{:?}", cfg.access.dm_policy).to_lowercase(),
        "mattermost.reply_mode" => format!("{:?}", cfg.mattermost.reply_mode).to_lowercase(),
        "mattermost.home_channel" => cfg.mattermost.home_channel.clone(),
        "mattermost.require_mention" => cfg.mattermost.require_mention.to_string(),
        _ => String::new(),
    }
}

/// dotenvy's errors can quote the offending line, which may hold a token:
/// keep the position, drop the text.
fn describe(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!("cannot parse the line at byte {index} (expected KEY=value)")
        }
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "not a valid env file".to_string(),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the env file is readable by other users; it may hold the token: chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
        f
    }

    #[test]
    fn environment_wins_over_the_env_file() {
        let f = file(
            "# hermes\nexport MATTERMOST_URL=https://file.example\nMATTERMOST_TOKEN=\"tok en\"\n",
        );
        let env = EnvSource::fixed(&[("MATTERMOST_URL", "https://env.example")])
            .with_file(f.path())
            .expect("env file");
        assert_eq!(
            env.get("MATTERMOST_URL").as_deref(),
            Some("https://env.example")
        );
        assert_eq!(env.get("MATTERMOST_TOKEN").as_deref(), Some("tok en"));
        assert_eq!(
            env.origin("MATTERMOST_TOKEN"),
            Some(Origin::EnvFile(
                f.path().to_path_buf(),
                "MATTERMOST_TOKEN".into()
            ))
        );
        assert_eq!(env.get("NOPE"), None);
    }

    #[test]
    fn a_bad_line_is_reported_without_its_text() {
        let f = file("MATTERMOST_TOKEN=secret-value\nthis is not valid secret-value\n");
        let e = EnvSource::fixed(&[])
            .with_file(f.path())
            .expect_err("bad file");
        let text = e.to_string();
        assert!(text.contains(&f.path().display().to_string()), "{text}");
        assert!(!text.contains("secret-value"), "{text}");
        let missing = EnvSource::fixed(&[]).with_file(Path::new("/nonexistent/.env"));
        assert!(missing.is_err());
    }

    #[test]
    fn a_config_names_its_env_file_relative_to_itself() {
        let d = tempfile::tempdir().expect("dir");
        let cfg = d.path().join("kennel.toml");
        std::fs::write(&cfg, "env_file = \"secrets.env\"\n").expect("write");
        assert_eq!(
            named_by_config(Some(&cfg)),
            Some(d.path().join("secrets.env"))
        );
        std::fs::write(&cfg, "env_file = \"/etc/kennel/kennel.env\"\n").expect("write");
        assert_eq!(
            named_by_config(Some(&cfg)),
            Some(PathBuf::from("/etc/kennel/kennel.env"))
        );
        std::fs::write(&cfg, "[mattermost]\n").expect("write");
        assert_eq!(named_by_config(Some(&cfg)), None);
        assert_eq!(named_by_config(Some(&d.path().join("missing.toml"))), None);
    }

    #[test]
    fn provenance_names_each_source_and_hides_the_token() {
        let f = file("MATTERMOST_TOKEN=s3cret\nMATTERMOST_ALLOW_ALL_USERS=true\n");
        let env = EnvSource::fixed(&[("MATTERMOST_URL", "https://env.example")])
            .with_file(f.path())
            .expect("env file");
        let mut cfg =
            crate::config::Config::parse("[mattermost]\nreply_mode = \"thread\"\n").expect("parse");
        cfg.source = Some(PathBuf::from("k.toml"));
        cfg.apply_env(&|k| env.get(k)).expect("apply");
        let rows = provenance(&cfg, &env);
        let row = |k: &str| rows.iter().find(|r| r.key == k).expect(k).clone();
        assert_eq!(
            row("mattermost.url").origin,
            Origin::Environment("MATTERMOST_URL".into())
        );
        assert!(matches!(
            row("mattermost.token").origin,
            Origin::EnvFile(..)
        ));
        assert_eq!(row("mattermost.token").shown, "(set, hidden)");
        assert_eq!(
            row("mattermost.reply_mode").origin,
            Origin::File("k.toml".into())
        );
        assert_eq!(row("mattermost.home_channel").origin, Origin::Default);
        assert_eq!(row("access.dm_policy").shown, "open");
        assert!(matches!(
            row("access.dm_policy").origin,
            Origin::EnvFile(..)
        ));
        let all = format!("{rows:?}");
        assert!(!all.contains("s3cret"), "{all}");
    }
}
