//! `kennel` — the binary edge: argument parsing, logging set-up, exit codes.
//! Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use kennel::app::{self, App, Paths};
use kennel::config::env::EnvSource;
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
    /// Dotenv file with settings and secrets (`MATTERMOST_TOKEN=…`), e.g. an
    /// existing `~/.hermes/.env`; the environment wins over it. For `init`:
    /// where the token is written (default kennel.env).
    #[arg(long, global = true, env = "KENNEL_ENV_FILE")]
    env_file: Option<PathBuf>,
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
        /// Directory where files the agent attaches to a reply are written
        /// (default: they are listed, not written).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Talk to this agent (a file stem in the guest directory) on every
        /// route, keeping the route's tools and scanners.
        #[arg(long)]
        agent: Option<String>,
    },
    /// Create a ready-to-build guest from a template: source implementing the
    /// current WIT world, NAME.toml (limits, build command), README, a test.
    New {
        #[arg(value_enum)]
        kind: KindOfGuest,
        /// Guest name: a-z, 0-9 and '_' (a file stem, crate name and C identifier).
        name: String,
        #[arg(long, value_enum)]
        lang: LangArg,
        /// Parent directory: the guest is created in DIR/NAME.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Build a guest with its NAME.toml `[build]` command, make a component of
    /// a core module, check it with the loader and print size and compile time.
    Build {
        /// The guest's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Copy the result (and NAME.toml) into this guest directory by
        /// temp file + rename: a running kennel hot-swaps to it.
        #[arg(long, value_name = "GUESTS_DIR")]
        deploy: Option<PathBuf>,
    },
    /// Load every guest and print name, kind, world, size, version and load time; non-zero exit on any invalid guest.
    Check {
        #[arg(long, default_value = "guests/dist")]
        guests: PathBuf,
        /// Config file: its [[mcp]] servers are started and their tools listed.
        #[arg(long)]
        config: Option<PathBuf>,
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
    /// Run one tool with JSON arguments through the same runtime, network
    /// policy and secrets as the bot; prints its output (stdout) and the HTTP
    /// requests it made (stderr). For tool authors and tests.
    Call {
        #[command(flatten)]
        common: Common,
        /// Tool name (file stem in the guest directory).
        tool: String,
        /// Arguments: a JSON object (checked against the tool's schema).
        #[arg(default_value = "{}")]
        json: String,
    },
    /// Judge messages with a route's scanner chain (or a list of scanners):
    /// one message per line of FILE or stdin (a JSON object line is read for
    /// `text`, `source` and the label field).
    #[command(group(clap::ArgGroup::new("chain").required(true).args(["route", "scanners"])))]
    Scan {
        #[command(flatten)]
        common: Common,
        /// The route whose chain judges (by name; `kennel routes` lists them).
        #[arg(long)]
        route: Option<String>,
        /// Scanners to run in this order, comma-separated.
        #[arg(long, value_delimiter = ',')]
        scanners: Option<Vec<String>>,
        /// One JSON object per input line: verdict, score, scanner, findings.
        #[arg(long)]
        json: bool,
        /// Print detection and false-positive rates of labelled input at the end.
        #[arg(long)]
        summary: bool,
        /// The JSON field holding the label (true/1/attack vs false/0/benign). Default `label`.
        #[arg(long)]
        label_field: Option<String>,
        /// Input file (default: stdin).
        file: Option<PathBuf>,
    },
    /// Post a proactive message to the home channel (through the running bot if there is one).
    Say {
        #[command(flatten)]
        common: Common,
        /// The message.
        text: String,
    },
    /// Guided set-up: asks for the server, token, users, policy and LLM,
    /// checks each against the server, writes kennel.toml and the env file
    /// (both 0600; the token only in the env file), then runs the doctor.
    Init(InitArgs),
    /// Install as a systemd service.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Print a shell completion script (e.g. `kennel completions bash > /etc/bash_completion.d/kennel`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `kennel man | man -l -`.
    Man,
    /// The data file (works while `kennel run` is running).
    Data {
        #[arg(long, default_value = ".kennel", global = true)]
        data: PathBuf,
        #[command(subcommand)]
        action: DataAction,
    },
    /// Scheduled jobs (works while `kennel run` is running).
    Jobs {
        #[arg(long, default_value = ".kennel", global = true)]
        data: PathBuf,
        #[command(subcommand)]
        action: JobsAction,
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

impl Command {
    /// The config file a command reads (`--config`, else ./kennel.toml).
    fn config_path(&self) -> Option<PathBuf> {
        let given = match self {
            Command::Run(c)
            | Command::Chat { common: c, .. }
            | Command::Routes { common: c, .. }
            | Command::Call { common: c, .. }
            | Command::Scan { common: c, .. }
            | Command::Say { common: c, .. } => c.config.clone(),
            Command::Check { config, .. } => config.clone(),
            Command::Doctor { config, .. } => config.clone(),
            _ => None,
        };
        given.or_else(|| Some(PathBuf::from("kennel.toml")))
    }
}

#[derive(clap::Args)]
struct InitArgs {
    /// Take every answer from flags; ask nothing (for scripts).
    #[arg(long)]
    non_interactive: bool,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    /// Config file to write.
    #[arg(long, default_value = "kennel.toml")]
    config: PathBuf,
    /// Mattermost server URL.
    #[arg(long)]
    url: Option<String>,
    /// Bot token (prefer the MATTERMOST_TOKEN variable: flags show in `ps`).
    #[arg(long, env = "MATTERMOST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Who may talk to the bot: usernames or ids, comma-separated (resolved to ids).
    #[arg(long, value_delimiter = ',')]
    allowed_users: Vec<String>,
    #[arg(long, value_parser = ["allowlist", "pairing", "open"], default_value = "allowlist")]
    dm_policy: String,
    #[arg(long, value_parser = ["off", "thread"], default_value = "off")]
    reply_mode: String,
    /// OpenAI-compatible base URL (with /v1); no [llm] section without it.
    #[arg(long)]
    llm_base_url: Option<String>,
    #[arg(long, default_value = "")]
    llm_model: String,
    /// Name of the variable holding the LLM API key.
    #[arg(long, default_value = "")]
    llm_api_key_env: String,
    /// Send one test completion before writing.
    #[arg(long)]
    llm_test: bool,
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Write the systemd unit (Type=notify, reload on SIGHUP, hardened).
    Install {
        /// A user unit (~/.config/systemd/user) instead of a system one.
        #[arg(long)]
        user: bool,
        /// Print the unit instead of writing it.
        #[arg(long)]
        print: bool,
        /// Replace an existing unit.
        #[arg(long)]
        force: bool,
        /// Config file the service reads (default: /etc/kennel or ~/.config/kennel).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Guest directory the service loads.
        #[arg(long)]
        guests: Option<PathBuf>,
        /// The binary the unit runs (default: this one).
        #[arg(long)]
        exe: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum JobsAction {
    /// Every job: config schedules and users' reminders.
    List,
    /// Delete a job.
    Rm { id: String },
    /// Make a job due now.
    Run { id: String },
}

#[derive(Subcommand)]
enum DataAction {
    /// File size, rows, bytes and oldest row of each table.
    Stats,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindOfGuest {
    Tool,
    Agent,
    Scanner,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Rust,
    Python,
    Js,
    C,
    Zig,
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

/// Async worker threads: one per core but one (at least one), unless
/// `TOKIO_WORKER_THREADS` sets them (`None`: tokio reads it). The store
/// writer has a thread of its own, so a worker per core kept more threads
/// busy than there are cores. Measured on 2 cores (`cargo bench -p kennel --bench e2e --
/// --profile 20`), 1 worker instead of 2: echo saturation 3,430 → 3,634
/// replies/s at 0.326 → 0.282 ms host CPU per message (p99 27 → 36 ms),
/// assistant 2,174 → 2,256 replies/s at 0.507 → 0.440 ms, sequential host
/// overhead p50 0.83 → 0.74 ms. A long guest call still yields to others
/// every epoch tick. `kennel run` spawns its event loop onto the workers
/// too, so the main thread only waits: with the loop on the main thread
/// every event was handed from one thread to another, and the echo
/// saturation took 0.306–0.322 ms host CPU per message against
/// 0.284–0.298 ms on the worker (interleaved runs, the VM's fast phases).
fn worker_threads(cores: usize, env_set: bool) -> Option<usize> {
    (!env_set).then(|| cores.saturating_sub(1).max(1))
}

fn main() -> ExitCode {
    kennel::memory::configure();
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Run(_)) {
        "info"
    } else {
        "warn"
    };
    init_logging(cli.log_format, default_level);
    // `init` writes the env file; everything else reads it.
    // `init` writes the env file; every other command reads the one given,
    // or the one its config file names (`env_file`, as `kennel init` writes).
    let env_file = match &cli.command {
        Command::Init(_) => None,
        c => cli
            .env_file
            .clone()
            .or_else(|| kennel::config::env::named_by_config(c.config_path().as_deref())),
    };
    let env = match &env_file {
        Some(path) => match EnvSource::process().with_file(path) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => EnvSource::process(),
    };
    let ctx = Ctx {
        env: Arc::new(env),
        env_file: cli.env_file.clone(),
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = worker_threads(
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::env::var_os("TOKIO_WORKER_THREADS").is_some(),
    ) {
        builder.worker_threads(n);
    }
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli.command, ctx)) {
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

/// What every command may read besides its own arguments.
struct Ctx {
    env: Arc<EnvSource>,
    /// `--env-file` as given.
    env_file: Option<PathBuf>,
}

impl Ctx {
    fn get(&self, k: &str) -> Option<String> {
        self.env.get(k)
    }
}

async fn dispatch(cmd: Command, ctx: Ctx) -> Result<ExitCode> {
    let env = |k: &str| ctx.get(k);
    match cmd {
        Command::Chat {
            common,
            channel,
            user,
            out,
            agent,
        } => {
            let app = Arc::new(App::build_with_agent(common.paths(), &env, agent)?);
            let _guards = app.start_reloaders(ctx.env.clone());
            let opts = kennel::console::ConsoleOptions { channel, user, out };
            kennel::console::run(&app.gateway, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            guests,
            config,
            data,
        } => check(guests, config, data, &env).await,
        Command::New {
            kind,
            name,
            lang,
            dir,
        } => new_guest(kind, &name, lang, &dir),
        Command::Build { dir, deploy } => build_guest(&dir, deploy).await,
        Command::Call { common, tool, json } => call(common, tool, json, &env).await,
        Command::Scan {
            common,
            route,
            scanners,
            json,
            summary,
            label_field,
            file,
        } => {
            let chain = match (route, scanners) {
                (Some(r), _) => Chain::Route(r),
                (None, s) => Chain::Scanners(s.unwrap_or_default()),
            };
            let label_field = label_field.or_else(|| summary.then(|| "label".to_string()));
            let opts = ScanOpts {
                json,
                summary,
                label_field,
                file,
            };
            scan(common, chain, opts, &env).await
        }
        Command::Compile { cache_dir, wasm } => {
            kennel::runtime::compile_to_cache(&cache_dir, &wasm).map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Routes {
            common,
            explain,
            team,
            kind,
        } => routes(common, explain, team, kind, &env),
        Command::Usage { data } => report(&data, "usage", kennel::report::usage).await,
        Command::Data {
            data,
            action: DataAction::Stats,
        } => report(&data, "stats", kennel::report::data_stats).await,
        Command::Pair { data, action } => pair(data, action).await,
        Command::Jobs { data, action } => jobs(data, action).await,
        Command::Run(common) => serve(common, &ctx).await,
        Command::Doctor { config, data } => doctor(config, data, &ctx).await,
        Command::Say { common, text } => say(common, text, &env).await,
        Command::Init(args) => init(args, &ctx).await,
        Command::Service {
            action:
                ServiceAction::Install {
                    user,
                    print,
                    force,
                    config,
                    guests,
                    exe,
                },
        } => service_install(user, print, force, config, guests, exe, &ctx),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "kennel", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `kennel new`: the guest's files, then what to do next.
fn new_guest(
    kind: KindOfGuest,
    name: &str,
    lang: LangArg,
    parent: &std::path::Path,
) -> Result<ExitCode> {
    use kennel::authoring::Lang;
    use kennel::runtime::GuestKind;
    let kind = match kind {
        KindOfGuest::Tool => GuestKind::Tool,
        KindOfGuest::Agent => GuestKind::Agent,
        KindOfGuest::Scanner => GuestKind::Scanner,
    };
    let lang = match lang {
        LangArg::Rust => Lang::Rust,
        LangArg::Python => Lang::Python,
        LangArg::Js => Lang::Js,
        LangArg::C => Lang::C,
        LangArg::Zig => Lang::Zig,
    };
    let dir = kennel::authoring::new_guest(kind, name, lang, parent)?;
    println!(
        "created {} ({kind} in {}); next:\n  cd {}\n  kennel build\n  (README.md shows how to try and deploy it)",
        dir.display(),
        lang.as_str(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `kennel build`: build, check, report, optionally deploy.
async fn build_guest(dir: &std::path::Path, deploy: Option<PathBuf>) -> Result<ExitCode> {
    let opts = kennel::authoring::BuildOptions { deploy };
    let r = kennel::authoring::build_guest(dir, &opts).await?;
    println!(
        "built {} ({}, {}): {}, build {:.1} s{}, compile {:.0} ms",
        r.wasm.display(),
        r.kind,
        r.kind.world(),
        kennel::report::human_bytes(r.size),
        r.build_time.as_secs_f64(),
        if r.componentized {
            ", core module made a component"
        } else {
            ""
        },
        r.compile_time.as_secs_f64() * 1000.0
    );
    if let Some(to) = r.deployed {
        println!("deployed {}", to.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `kennel call`: one tool call, with its HTTP requests listed.
enum Chain {
    Route(String),
    Scanners(Vec<String>),
}

struct ScanOpts {
    json: bool,
    summary: bool,
    label_field: Option<String>,
    file: Option<PathBuf>,
}

/// `kennel scan`: the chain of a route (or named scanners) over each input line.
async fn scan(
    common: Common,
    chain: Chain,
    opts: ScanOpts,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExitCode> {
    use std::io::{BufRead, Write as _};
    let paths = common.paths();
    let config = app::load_config(&paths, env)?;
    let (runtime, _) = app::load_runtime(&paths, env)?;
    runtime.all_ready().await;
    let known = kennel::gateway::known_guests(&runtime);
    let table = kennel::routing::RouteTable::from_config(&config, &known);
    let route = match chain {
        // A route's chain is what `kennel run` would use: the config must be valid.
        Chain::Route(name) => {
            app::validate(&config, &runtime)?;
            table
                .routes
                .iter()
                .find(|r| r.name == name)
                .cloned()
                .with_context(|| {
                    let names: Vec<&str> = table.routes.iter().map(|r| r.name.as_str()).collect();
                    format!("no route named `{name}` (routes: {})", names.join(", "))
                })?
        }
        Chain::Scanners(list) => {
            if let Some(bad) = list.iter().find(|s| !known.scanners.contains(*s)) {
                let have: Vec<&str> = known.scanners.iter().map(String::as_str).collect();
                anyhow::bail!(
                    "no scanner `{bad}` in {} (scanners: {})",
                    paths.guests.display(),
                    have.join(", ")
                );
            }
            let mut r = table.routes.first().cloned().context("no route table")?;
            r.name = "scan".into();
            r.scanners = list;
            r.scan_thresholds = Default::default();
            r.on_error = kennel::config::OnError::Block;
            r
        }
    };
    let reader: Box<dyn BufRead> = match &opts.file {
        Some(f) => Box::new(std::io::BufReader::new(
            std::fs::File::open(f).with_context(|| format!("cannot read {}", f.display()))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let mut summary = kennel::scan::Summary::default();
    let mut out = std::io::stdout().lock();
    for (i, line) in reader.split(b'\n').enumerate() {
        let mut bytes = line.context("cannot read the input")?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        // A stray byte that is not UTF-8 (a log, a binary-ish attachment)
        // must not end the run: the line is judged with U+FFFD in its place.
        let line = match String::from_utf8(bytes) {
            Ok(line) => line,
            Err(e) => {
                eprintln!("warning: line {}: not valid UTF-8, read with U+FFFD", i + 1);
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        let input = match kennel::scan::parse_line(&line, i + 1, opts.label_field.as_deref()) {
            Ok(Some(input)) => input,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        let judged = kennel::scan::judge(&runtime, &route, &input).await;
        summary.add(input.label, &judged);
        let written = if opts.json {
            writeln!(out, "{}", judged.to_json())
        } else if !opts.summary {
            writeln!(out, "{}", judged.to_line(&input.text))
        } else {
            Ok(())
        };
        if reader_gone(written)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if opts.summary {
        reader_gone(write!(out, "{}", summary.report()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the reader of our output has gone (`kennel scan … | head`): the
/// run ends quietly, as a Unix filter does; any other write error is one.
fn reader_gone(written: std::io::Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(e).context("cannot write the output"),
    }
}

async fn call(
    common: Common,
    tool: String,
    json: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExitCode> {
    let paths = common.paths();
    let config = app::load_config(&paths, env)?;
    let runtime = kennel::runtime::Runtime::new(kennel::runtime::RuntimeOptions {
        guest_dir: paths.guests.clone(),
        cache_dir: Some(paths.cache_dir(env)),
    })?;
    runtime.set_secrets(app::secrets(&config)?);
    let file = paths.guests.join(format!("{tool}.wasm"));
    if !file.is_file() {
        anyhow::bail!("no tool `{tool}`: {} does not exist", file.display());
    }
    runtime.load_file(&file)?;
    if let Err(e) = runtime.check_arguments(&tool, &json).await {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(2));
    }
    let requests = kennel::runtime::net::RequestLog::default();
    let out = runtime
        .tool_invoke_traced(&tool, &json, requests.clone())
        .await;
    let list = requests.lock().map(|l| l.clone()).unwrap_or_default();
    for r in &list {
        eprintln!("http: {r}");
    }
    if list.is_empty() {
        eprintln!("http: (no requests)");
    }
    match out {
        Ok(Ok(text)) => {
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(e)) => {
            eprintln!("tool error: {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn check(
    guests: PathBuf,
    config: Option<PathBuf>,
    data: PathBuf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExitCode> {
    let paths = Paths {
        config: config.clone(),
        guests: guests.clone(),
        data,
    };
    let runtime = kennel::runtime::Runtime::new(kennel::runtime::RuntimeOptions {
        guest_dir: guests.clone(),
        cache_dir: Some(paths.cache_dir(env)),
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
                kennel::report::human_bytes(g.size),
                g.version,
                kennel::report::format_ms(
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
    for g in results.iter().flatten() {
        if g.kind == kennel::runtime::GuestKind::Tool
            && let Err(e) = runtime.tool_spec(&g.name).await
        {
            bad += 1;
            println!("INVALID      {}: {e}", g.name);
        }
        if g.net.granted() {
            let hosts: Vec<String> = g.net.allowed_hosts.iter().map(|h| h.to_string()).collect();
            println!(
                "NETWORK      {}: {} ({}; {} KiB responses, {} ms, {} requests/call{})",
                g.name,
                hosts.join(", "),
                g.net.allowed_methods.join(", "),
                g.net.max_response_bytes >> 10,
                g.net.timeout.as_millis(),
                g.net.max_requests,
                if g.net.secrets.is_empty() {
                    String::new()
                } else {
                    format!("; secrets: {}", g.net.secrets.join(", "))
                }
            );
        }
    }
    if config.is_some() {
        bad += check_mcp(&paths, env).await?;
    }
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Starts the config's MCP servers and lists their tools; returns how many failed.
async fn check_mcp(paths: &Paths, env: &dyn Fn(&str) -> Option<String>) -> Result<usize> {
    let config = app::load_config(paths, env)?;
    let hub = app::mcp_hub(&config);
    let mut bad = 0;
    for server in hub.server_names() {
        match hub.tools(&server).await {
            Ok(tools) => {
                for t in tools {
                    let first = t.description.lines().next().unwrap_or("");
                    println!("MCP          {}: {first}", t.name);
                }
            }
            Err(e) => {
                bad += 1;
                println!("INVALID      mcp {server}: {e}");
            }
        }
    }
    Ok(bad)
}

fn routes(
    common: Common,
    explain: Option<String>,
    team: Option<String>,
    kind: KindArg,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExitCode> {
    let paths = common.paths();
    let config = app::load_config(&paths, env)?;
    let (runtime, _) = app::load_runtime(&paths, env)?;
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

/// A read-only report: from the store directly, or from the running bot
/// through its control socket when it holds the store.
async fn report(
    data: &std::path::Path,
    cmd: &str,
    build: fn(&Store) -> Result<String, kennel::store::StoreError>,
) -> Result<ExitCode> {
    let text = match Store::open(data) {
        Ok(store) => build(&store)?,
        Err(kennel::store::StoreError::Locked(_)) => {
            kennel::mattermost::control::request(data, &serde_json::json!({ "cmd": cmd }))
                .await
                .map_err(anyhow::Error::msg)?
        }
        Err(e) => return Err(e.into()),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

async fn serve(common: Common, ctx: &Ctx) -> Result<ExitCode> {
    // Registered now, not when first polled: a SIGTERM during start-up
    // (authentication, catch-up) is kept and drains like any other.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let app = Arc::new(App::build(common.paths(), &|k| ctx.get(k))?);
    let _guards = app.start_reloaders(ctx.env.clone());
    let cfg = app.gateway.settings().config.clone();
    let opts = kennel::mattermost::BotOptions {
        ws: kennel::mattermost::ws::WsOptions {
            idle_timeout: std::time::Duration::from_secs(
                cfg.mattermost.ws_idle_timeout_secs.max(1),
            ),
            ..Default::default()
        },
    };
    let shutdown = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    // On a worker, not on this thread: the event loop, the turns and the
    // replies then share one thread's wake-ups instead of handing every
    // event across threads (see `worker_threads`).
    tokio::spawn(kennel::mattermost::run(app.gateway.clone(), opts, shutdown))
        .await
        .context("the bot's event loop failed")??;
    Ok(ExitCode::SUCCESS)
}

async fn doctor(config: Option<PathBuf>, data: PathBuf, ctx: &Ctx) -> Result<ExitCode> {
    let cfg = kennel::config::Config::load(config.as_deref(), &|k| ctx.get(k))?;
    println!("settings (where each came from):");
    for row in kennel::config::env::provenance(&cfg, &ctx.env) {
        println!("      {:<27} {:<28} {}", row.key, row.shown, row.origin);
    }
    let bindings = bindings(&data).await;
    let checks = kennel::mattermost::doctor::run(&cfg, &bindings).await;
    println!("checks:");
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

async fn say(
    common: Common,
    text: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExitCode> {
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
            let cfg = app::load_config(&common.paths(), env)?;
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

async fn init(a: InitArgs, ctx: &Ctx) -> Result<ExitCode> {
    use kennel::init::{self, Answers, Targets};
    let mut targets = Targets {
        config: a.config.clone(),
        env_file: ctx
            .env_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("kennel.env")),
        force: a.force,
    };
    init::check_targets(&targets)?;
    let env = |k: &str| ctx.get(k);
    let answers = Answers {
        url: a.url.clone().unwrap_or_default(),
        token: a.token.clone().unwrap_or_default(),
        allowed: a.allowed_users.clone(),
        dm_policy: init::parse_policy(&a.dm_policy).unwrap_or_default(),
        reply_mode: init::parse_mode(&a.reply_mode).unwrap_or_default(),
        llm: a
            .llm_base_url
            .clone()
            .map(|base_url| kennel::config::LlmConfig {
                base_url,
                model: a.llm_model.clone(),
                api_key_env: a.llm_api_key_env.clone(),
                ..Default::default()
            }),
        test_llm: a.llm_test,
        env_file: Some(targets.env_file.clone()),
    };
    let (answers, users) = if a.non_interactive {
        let users = init::non_interactive(&answers, &env).await?;
        (answers, users)
    } else {
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            anyhow::bail!(
                "stdin is not a terminal: run `kennel init` in a terminal, or pass --non-interactive with flags"
            );
        }
        init::interactive(&mut init::Terminal, answers, &env).await?
    };
    if let Some(chosen) = &answers.env_file {
        targets.env_file = chosen.clone();
    }
    init::write(&targets, &answers, &users)?;
    println!(
        "wrote {} and {} (0600; the token is only in the env file)",
        targets.config.display(),
        targets.env_file.display()
    );
    println!("checking with `kennel doctor`:");
    let doctor_ctx = Ctx {
        env: Arc::new(EnvSource::process().with_file(&targets.env_file)?),
        env_file: Some(targets.env_file.clone()),
    };
    let code = doctor(
        Some(targets.config.clone()),
        PathBuf::from(".kennel"),
        &doctor_ctx,
    )
    .await?;
    println!(
        "start it: kennel run --config {} --env-file {}\nas a service: kennel service install --config {} --env-file {}",
        targets.config.display(),
        targets.env_file.display(),
        targets.config.display(),
        targets.env_file.display()
    );
    Ok(code)
}

fn service_install(
    user: bool,
    print: bool,
    force: bool,
    config: Option<PathBuf>,
    guests: Option<PathBuf>,
    exe: Option<PathBuf>,
    ctx: &Ctx,
) -> Result<ExitCode> {
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let exe = match exe {
        Some(e) => e,
        None => std::env::current_exe().context("cannot find this binary's path")?,
    };
    let drain = kennel::config::MattermostConfig::default().drain_timeout_secs;
    let opts = kennel::service::UnitOptions {
        exe: absolute(exe),
        user,
        config: config.clone().map(absolute),
        env_file: ctx
            .env_file
            .clone()
            .or_else(|| kennel::config::env::named_by_config(config.as_deref()))
            .map(absolute),
        guests: guests.map(absolute),
        stop_timeout_secs: drain + 15,
    };
    if print {
        print!("{}", kennel::service::unit(&opts));
        return Ok(ExitCode::SUCCESS);
    }
    let path = kennel::service::unit_path(user)?;
    println!("{}", kennel::service::install(&opts, &path, force)?);
    Ok(ExitCode::SUCCESS)
}

async fn jobs(data: PathBuf, action: JobsAction) -> Result<ExitCode> {
    use kennel::mattermost::control;
    let req = match &action {
        JobsAction::List => serde_json::json!({"cmd": "jobs-list"}),
        JobsAction::Rm { id } => serde_json::json!({"cmd": "jobs-rm", "id": id}),
        JobsAction::Run { id } => serde_json::json!({"cmd": "jobs-run", "id": id}),
    };
    let out = match Store::open(&data) {
        Err(kennel::store::StoreError::Locked(_)) => control::request(&data, &req).await,
        Err(e) => return Err(e.into()),
        Ok(store) => match action {
            JobsAction::List => kennel::report::jobs(&store).map_err(|e| e.to_string()),
            JobsAction::Rm { id } => control::jobs_rm(&store, &id).await,
            JobsAction::Run { id } => control::jobs_run(&store, &id).await,
        },
    };
    let text = out.map_err(anyhow::Error::msg)?;
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_async_worker_per_core_but_one_unless_the_environment_says() {
        assert_eq!(super::worker_threads(1, false), Some(1));
        assert_eq!(super::worker_threads(2, false), Some(1));
        assert_eq!(super::worker_threads(8, false), Some(7));
        assert_eq!(super::worker_threads(8, true), None);
    }
}
