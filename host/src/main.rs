//! `kennel` — the binary edge: argument parsing, logging set-up, exit codes.
//! Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use kennel::app::{self, App, Paths};
use kennel::routing::{ChannelInfo, ChannelKind};
use kennel::runtime::Origin;
use kennel::store::Store;

#[derive(Parser)]
#[command(
    name = "kennel",
    version,
    about = "Mattermost host for sandboxed WebAssembly agents, tools and scanners"
)]
struct Cli {
    /// Log format on stderr (filter with RUST_LOG, default `info` for `run`, `warn` otherwise).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Config file (default ./kennel.toml if it exists; every key has a default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Guest directory (*.wasm agents, tools, scanners).
    #[arg(long, default_value = "guests/dist")]
    guests: PathBuf,
    /// Data directory (redb file, compile cache).
    #[arg(long, default_value = ".kennel")]
    data: PathBuf,
}

impl Common {
    fn paths(&self) -> Paths {
        Paths {
            config: self.config.clone(),
            guests: self.guests.clone(),
            data: self.data.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve Mattermost (needs MATTERMOST_URL and MATTERMOST_TOKEN or [mattermost] in the config).
    Run(Common),
    /// Console channel: the full pipeline on stdin/stdout, no Mattermost needed.
    Chat {
        #[command(flatten)]
        common: Common,
        /// Channel name the console pretends to be (routes match on it).
        #[arg(long, default_value = "console")]
        channel: String,
        /// User name of the console user.
        #[arg(long, default_value = "operator")]
        user: String,
    },
    /// Load every guest and print name, kind, world, size, version and load time; non-zero exit on any invalid guest.
    Check {
        #[arg(long, default_value = "guests/dist")]
        guests: PathBuf,
        /// Data directory (for the compile cache).
        #[arg(long, default_value = ".kennel")]
        data: PathBuf,
    },
    /// Compile one guest into the compile cache (used by `kennel run`/`chat`
    /// to keep the compiler's memory out of the serving process).
    #[command(hide = true)]
    Compile {
        #[arg(long)]
        cache_dir: PathBuf,
        wasm: PathBuf,
    },
    /// Show the resolved route table, or explain which rule serves a channel.
    Routes {
        #[command(flatten)]
        common: Common,
        /// Channel name or id to explain.
        #[arg(long)]
        explain: Option<String>,
        /// Team of the channel (for --explain).
        #[arg(long)]
        team: Option<String>,
        /// Kind of the channel (for --explain).
        #[arg(long, value_enum, default_value = "public")]
        kind: KindArg,
    },
    /// LLM usage per route and user.
    Usage {
        #[arg(long, default_value = ".kennel")]
        data: PathBuf,
    },
    /// Check the Mattermost set-up (URL, token, WebSocket, teams, access) and print a fix for each failure.
    Doctor {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory of the bot (for the username bindings of the allowlist).
        #[arg(long, default_value = ".kennel")]
        data: PathBuf,
    },
    /// Post a proactive message to the home channel (through the running bot if there is one).
    Say {
        #[command(flatten)]
        common: Common,
        /// The message.
        text: String,
    },
    /// Pairing administration (works while `kennel run` is running).
    Pair {
        /// Data directory of the bot.
        #[arg(long, default_value = ".kennel", global = true)]
        data: PathBuf,
        #[command(subcommand)]
        action: PairAction,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Public,
    Private,
    Dm,
    Group,
}

#[derive(Subcommand)]
enum PairAction {
    /// Pending codes.
    List,
    /// Approve a code: its user may talk to the bot from now on.
    Approve { code: String },
    /// Deny (delete) a code.
    Deny { code: String },
    /// Revoke an approved user (id or username): they are asked to pair again.
    Revoke { user: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Run(_)) {
        "info"
    } else {
        "warn"
    };
    init_logging(cli.log_format, default_level);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

async fn dispatch(cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Chat {
            common,
            channel,
            user,
        } => {
            let app = Arc::new(App::build(common.paths(), &env)?);
            let _guards = app.start_reloaders();
            kennel::console::run(&app.gateway, &channel, &user).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { guests, data } => check(guests, data),
        Command::Compile { cache_dir, wasm } => {
            kennel::runtime::compile_to_cache(&cache_dir, &wasm).map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Routes {
            common,
            explain,
            team,
            kind,
        } => routes(common, explain, team, kind),
        Command::Usage { data } => usage(data),
        Command::Pair { data, action } => pair(data, action).await,
        Command::Run(common) => serve(common).await,
        Command::Doctor { config, data } => doctor(config, data).await,
        Command::Say { common, text } => say(common, text).await,
    }
}

fn check(guests: PathBuf, data: PathBuf) -> Result<ExitCode> {
    let paths = Paths {
        config: None,
        guests: guests.clone(),
        data,
    };
    let runtime = kennel::runtime::Runtime::new(kennel::runtime::RuntimeOptions {
        guest_dir: guests.clone(),
        cache_dir: Some(paths.cache_dir(&env)),
    })?;
    if !guests.is_dir() {
        anyhow::bail!(
            "guest directory {} does not exist (build the bundled guests with `just guests`)",
            guests.display()
        );
    }
    let results = runtime.load_dir();
    let mut bad = 0;
    println!(
        "{:<12} {:<8} {:<28} {:>9} {:<12} {:<19} {:>9}  FROM",
        "NAME", "KIND", "WORLD", "SIZE", "VERSION", "LOADED AT (UTC)", "LOAD"
    );
    for r in &results {
        match r {
            Ok(g) => println!(
                "{:<12} {:<8} {:<28} {:>9} {:<12} {:<19} {:>7.1}ms  {}",
                g.name,
                g.kind.as_str(),
                g.kind.world(),
                human_size(g.size),
                g.version,
                format_ms(
                    g.loaded_at
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as u64)
                        .unwrap_or(0)
                ),
                g.load_time.as_secs_f64() * 1000.0,
                if g.origin == Origin::Cached {
                    "cache"
                } else {
                    "compiled"
                }
            ),
            Err(e) => {
                bad += 1;
                println!("INVALID      {e}");
            }
        }
    }
    if results.is_empty() {
        println!("(no *.wasm files in {})", guests.display());
    }
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", n as f64 / 1024.0)
    }
}

fn routes(
    common: Common,
    explain: Option<String>,
    team: Option<String>,
    kind: KindArg,
) -> Result<ExitCode> {
    let paths = common.paths();
    let config = app::load_config(&paths, &env)?;
    let (runtime, _) = app::load_runtime(&paths, &env)?;
    app::validate(&config, &runtime)?;
    let table =
        kennel::routing::RouteTable::from_config(&config, &kennel::gateway::known_guests(&runtime));
    match explain {
        Some(ch) => {
            let info = ChannelInfo {
                id: ch.clone(),
                name: ch.trim_start_matches(['#', '~']).to_string(),
                display_name: String::new(),
                kind: match kind {
                    KindArg::Public => ChannelKind::Public,
                    KindArg::Private => ChannelKind::Private,
                    KindArg::Dm => ChannelKind::Direct,
                    KindArg::Group => ChannelKind::Group,
                },
                team,
            };
            for line in table.explain(&info) {
                println!("{line}");
            }
        }
        None => {
            println!(
                "{:<4} {:<5} {:<14} {:<8} {:<12} {:<20} {:<16} {:<6} {:<7}",
                "#", "LINE", "CHANNEL", "TEAM", "AGENT", "TOOLS", "SCANNERS", "CTX", "REPLY"
            );
            for r in &table.routes {
                println!(
                    "{:<4} {:<5} {:<14} {:<8} {:<12} {:<20} {:<16} {:<6} {:<7}",
                    if r.index == 0 {
                        "-".to_string()
                    } else {
                        r.index.to_string()
                    },
                    if r.line == 0 {
                        "-".to_string()
                    } else {
                        r.line.to_string()
                    },
                    r.channel,
                    r.team.clone().unwrap_or_else(|| "*".into()),
                    r.agent,
                    r.tools.join(","),
                    r.scanners.join(","),
                    format!("{:?}", r.context).to_lowercase(),
                    r.reply_mode
                        .map(|m| format!("{m:?}").to_lowercase())
                        .unwrap_or_else(|| "default".into()),
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn usage(data: PathBuf) -> Result<ExitCode> {
    let store = Store::open(&data)?;
    let mut agg: std::collections::BTreeMap<(String, String), kennel::store::Usage> =
        Default::default();
    for row in store.usage_rows()? {
        let e = agg.entry((row.route, row.user)).or_default();
        e.calls += row.usage.calls;
        e.prompt_tokens += row.usage.prompt_tokens;
        e.completion_tokens += row.usage.completion_tokens;
        e.last_used = e.last_used.max(row.usage.last_used);
    }
    println!(
        "{:<16} {:<28} {:>7} {:>10} {:>10}  LAST USED (UTC)",
        "ROUTE", "USER", "CALLS", "PROMPT", "COMPLETION"
    );
    for ((route, user), u) in &agg {
        println!(
            "{:<16} {:<28} {:>7} {:>10} {:>10}  {}",
            route,
            user,
            u.calls,
            u.prompt_tokens,
            u.completion_tokens,
            format_ms(u.last_used)
        );
    }
    if agg.is_empty() {
        println!("(no LLM usage recorded yet)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) from epoch milliseconds.
fn format_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

async fn serve(common: Common) -> Result<ExitCode> {
    let app = Arc::new(App::build(common.paths(), &env)?);
    let _guards = app.start_reloaders();
    let cfg = app.gateway.settings().config.clone();
    let opts = kennel::mattermost::BotOptions {
        ws: kennel::mattermost::ws::WsOptions {
            idle_timeout: std::time::Duration::from_secs(
                cfg.mattermost.ws_idle_timeout_secs.max(1),
            ),
            ..Default::default()
        },
    };
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    kennel::mattermost::run(app.gateway.clone(), opts, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

async fn doctor(config: Option<PathBuf>, data: PathBuf) -> Result<ExitCode> {
    let cfg = kennel::config::Config::load(config.as_deref(), &env)?;
    let bindings = bindings(&data).await;
    let checks = kennel::mattermost::doctor::run(&cfg, &bindings).await;
    let mut failed = false;
    for c in &checks {
        if c.ok {
            println!("ok    {:<13} {}", c.name, c.detail);
        } else {
            failed = true;
            println!("FAIL  {:<13} {}", c.name, c.detail);
            println!("      fix: {}", c.fix);
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The username bindings of the bot's store: directly, or through the running
/// bot's control socket; none when there is no store yet.
async fn bindings(data: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    if !data.join("kennel.redb").exists() {
        return Default::default();
    }
    match Store::open(data) {
        Ok(store) => store.bindings().unwrap_or_default(),
        Err(kennel::store::StoreError::Locked(_)) => {
            kennel::mattermost::control::request(data, &serde_json::json!({"cmd": "bindings"}))
                .await
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default()
        }
        Err(_) => Default::default(),
    }
}

async fn say(common: Common, text: String) -> Result<ExitCode> {
    // A running bot holds the store: ask it. Otherwise post directly.
    match Store::open(&common.data) {
        Err(kennel::store::StoreError::Locked(_)) => {
            let out = kennel::mattermost::control::request(
                &common.data,
                &serde_json::json!({"cmd": "say", "text": text}),
            )
            .await
            .map_err(anyhow::Error::msg)?;
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e.into()),
        Ok(store) => {
            let cfg = app::load_config(&common.paths(), &env)?;
            let home = store
                .setting("home_channel")?
                .filter(|h| !h.is_empty())
                .or_else(|| Some(cfg.mattermost.home_channel.clone()).filter(|h| !h.is_empty()))
                .context("no home channel: send /sethome to the bot in a channel, or set MATTERMOST_HOME_CHANNEL")?;
            let api =
                kennel::mattermost::api::Api::new(&cfg.mattermost.url, &cfg.mattermost.token)?;
            let pending = kennel::store::random_token(24)?;
            let p = api
                .create_post(
                    &home,
                    &text,
                    None,
                    serde_json::json!({"kennel_proactive": true}),
                    &pending,
                )
                .await?;
            println!("posted {}", p.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn pair(data: PathBuf, action: PairAction) -> Result<ExitCode> {
    use kennel::mattermost::control;
    let store = match Store::open(&data) {
        Err(kennel::store::StoreError::Locked(_)) => {
            // The bot is running: administer through its control socket.
            let req = match &action {
                PairAction::List => serde_json::json!({"cmd": "pair-list"}),
                PairAction::Approve { code } => {
                    serde_json::json!({"cmd": "pair-approve", "code": code})
                }
                PairAction::Deny { code } => serde_json::json!({"cmd": "pair-deny", "code": code}),
                PairAction::Revoke { user } => {
                    serde_json::json!({"cmd": "pair-revoke", "user": user})
                }
            };
            let out = control::request(&data, &req)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("{out}");
            return Ok(ExitCode::SUCCESS);
        }
        other => other.context("pairing needs the data directory of the bot")?,
    };
    let now = kennel::store::now_ms();
    let out = match action {
        PairAction::List => Ok(control::pair_list(&store.pairing_list()?, now)),
        PairAction::Approve { code } => {
            let code = kennel::policy::normalise_code(&code);
            match store.pairing_approve(&code, now).await? {
                Some(c) => Ok(format!("approved @{} ({})", c.user_name, c.user_id)),
                None => Err(format!(
                    "no live code {code} (expired or unknown; see `kennel pair list`)"
                )),
            }
        }
        PairAction::Deny { code } => {
            let code = kennel::policy::normalise_code(&code);
            match store.pairing_take(&code).await? {
                Some(c) => Ok(format!("denied code {code} of @{}", c.user_name)),
                None => Err(format!("no pending code {code}")),
            }
        }
        PairAction::Revoke { user } => control::revoke(&store, &user).await,
    };
    println!("{}", out.map_err(anyhow::Error::msg)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_epoch_ms() {
        assert_eq!(super::format_ms(0), "1970-01-01 00:00:00");
        assert_eq!(super::format_ms(1_700_000_000_000), "2023-11-14 22:13:20");
    }
}
