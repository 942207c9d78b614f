//! Routing: which route (agent, tools, scanners, context, reply options)
//! serves a channel. First match wins.
//!
//! | `channel =` | matches |
//! |---|---|
//! | `"*"` | every channel |
//! | `"dm"` | direct messages (and the console) |
//! | `"group"` | group messages |
//! | a name (`"dev"`, `"#dev"`, `"~dev"`) | the channel with that name (or display name) |
//! | a 26-character id | the channel with that id |
//!
//! `team = "…"` additionally requires the channel's team name. With no
//! `[[route]]` at all, one built-in route sends everything to `echo` with
//! every loaded tool and scanner. Owns no I/O.

use crate::config::{Config, ContextStrategy, KnownGuests, OnError, ReplyMode};

/// Kind of conversation, as the router sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Direct,
    Group,
    Public,
    Private,
    Console,
}

impl ChannelKind {
    /// From Mattermost's channel type letter (`D`, `G`, `O`, `P`).
    pub fn from_mattermost(t: &str) -> ChannelKind {
        match t {
            "D" => ChannelKind::Direct,
            "G" => ChannelKind::Group,
            "P" => ChannelKind::Private,
            _ => ChannelKind::Public,
        }
    }
    /// Direct messages and the console are always addressed to the bot.
    pub fn is_direct(self) -> bool {
        matches!(self, ChannelKind::Direct | ChannelKind::Console)
    }
}

/// What the router needs to know about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub kind: ChannelKind,
    pub team: Option<String>,
}

/// A resolved route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// 1-based position in the config (0 for the built-in default).
    pub index: usize,
    /// Line of the rule in the config file (0 for the built-in default).
    pub line: usize,
    pub name: String,
    pub channel: String,
    pub team: Option<String>,
    pub agent: String,
    pub tools: Vec<String>,
    pub scanners: Vec<String>,
    /// Per scanner and source, scores that replace a scanner's own judgement.
    pub scan_thresholds: crate::config::ScanThresholds,
    pub context: ContextStrategy,
    pub max_turns: usize,
    pub max_chars: usize,
    pub reply_mode: Option<ReplyMode>,
    pub require_mention: Option<bool>,
    pub system_prompt: String,
    pub model: Option<String>,
    pub on_error: OnError,
    /// Answer posts made by bots and webhooks (default `false`: they are ignored).
    pub allow_bots: bool,
    /// The agent may use its `NAME.toml` network grant (default `false`).
    pub agent_network: bool,
    /// Whether the agent gets files' bytes (`full`) or their text only.
    pub attachments: crate::config::AttachmentAccess,
    /// Overrides `[llm] vision`.
    pub vision: Option<bool>,
}

impl Route {
    /// Whether the route grants a tool: by exact name, or an MCP tool
    /// `SERVER.TOOL` through `SERVER.*`.
    pub fn grants_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| {
            t == name
                || t.strip_suffix(".*").is_some_and(|server| {
                    name.strip_prefix(server)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|tool| !tool.is_empty())
                })
        })
    }
}

/// The ordered route table.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Builds the table from config; with no routes, the built-in default.
    pub fn from_config(cfg: &Config, guests: &KnownGuests) -> RouteTable {
        if cfg.routes.is_empty() {
            let (max_turns, max_chars) = ContextStrategy::Lean.budget();
            return RouteTable {
                routes: vec![Route {
                    index: 0,
                    line: 0,
                    name: "default".into(),
                    channel: "*".into(),
                    team: None,
                    agent: cfg.agent_override.clone().unwrap_or_else(|| "echo".into()),
                    tools: guests.tools.iter().cloned().collect(),
                    scanners: guests.scanners.iter().cloned().collect(),
                    scan_thresholds: Default::default(),
                    context: ContextStrategy::Lean,
                    max_turns,
                    max_chars,
                    reply_mode: None,
                    require_mention: None,
                    system_prompt: String::new(),
                    model: None,
                    on_error: OnError::Block,
                    allow_bots: false,
                    agent_network: false,
                    attachments: Default::default(),
                    vision: None,
                }],
            };
        }
        let routes = cfg
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (t, c) = r.context.budget();
                let channel = r.channel.get_ref().trim().to_string();
                Route {
                    index: i + 1,
                    line: cfg.line_of(r.channel.span().start),
                    name: r.name.clone().unwrap_or_else(|| channel.clone()),
                    channel,
                    team: r.team.clone(),
                    agent: cfg
                        .agent_override
                        .clone()
                        .unwrap_or_else(|| r.agent.get_ref().clone()),
                    tools: r.tools.iter().map(|t| t.get_ref().clone()).collect(),
                    scanners: r.scanners.iter().map(|s| s.get_ref().clone()).collect(),
                    scan_thresholds: r.scan_thresholds.clone(),
                    context: r.context,
                    max_turns: r.max_turns.unwrap_or(t),
                    max_chars: r.max_chars.unwrap_or(c),
                    reply_mode: r.reply_mode,
                    require_mention: r.require_mention,
                    system_prompt: r.system_prompt.clone(),
                    model: r.model.clone(),
                    on_error: r.on_error,
                    allow_bots: r.allow_bots,
                    agent_network: r.agent_network,
                    attachments: r.attachments,
                    vision: r.vision,
                }
            })
            .collect();
        RouteTable { routes }
    }

    /// The first route matching the channel.
    pub fn resolve(&self, ch: &ChannelInfo) -> Option<&Route> {
        self.routes.iter().find(|r| check(r, ch).is_ok())
    }

    /// One line per rule up to the match, saying why each did or did not match.
    pub fn explain(&self, ch: &ChannelInfo) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.routes {
            let at = if r.line > 0 {
                format!("route #{} (line {})", r.index, r.line)
            } else {
                "built-in default route".to_string()
            };
            match check(r, ch) {
                Ok(why) => {
                    out.push(format!(
                        "{at} channel=\"{}\": MATCH — {why} → agent {}",
                        r.channel, r.agent
                    ));
                    return out;
                }
                Err(why) => out.push(format!("{at} channel=\"{}\": no — {why}", r.channel)),
            }
        }
        out.push("no route matches: messages here are not answered".into());
        out
    }
}

/// Ok(reason it matches) or Err(reason it does not).
fn check(r: &Route, ch: &ChannelInfo) -> Result<String, String> {
    if let Some(team) = &r.team {
        match &ch.team {
            Some(t) if t.eq_ignore_ascii_case(team) => {}
            Some(t) => return Err(format!("team is \"{t}\", rule needs \"{team}\"")),
            None => return Err(format!("channel has no team, rule needs \"{team}\"")),
        }
    }
    let m = r.channel.trim_start_matches(['#', '~']);
    match m {
        "*" => Ok("\"*\" matches every channel".into()),
        "dm" => {
            if ch.kind.is_direct() {
                Ok("it is a direct message".into())
            } else {
                Err(format!("it is not a direct message ({:?})", ch.kind))
            }
        }
        "group" => {
            if ch.kind == ChannelKind::Group {
                Ok("it is a group message".into())
            } else {
                Err(format!("it is not a group message ({:?})", ch.kind))
            }
        }
        m if m == ch.id => Ok(format!("channel id is {m}")),
        m if m.eq_ignore_ascii_case(&ch.name) => Ok(format!("channel name is \"{}\"", ch.name)),
        m if !ch.display_name.is_empty() && m.eq_ignore_ascii_case(&ch.display_name) => {
            Ok(format!("channel display name is \"{}\"", ch.display_name))
        }
        _ => Err(format!("channel is \"{}\" (id {})", ch.name, ch.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> RouteTable {
        let cfg = Config::parse(text).expect("parse");
        RouteTable::from_config(&cfg, &KnownGuests::default())
    }

    fn ch(name: &str, kind: ChannelKind, team: Option<&str>) -> ChannelInfo {
        ChannelInfo {
            id: format!("{name:a<26}").chars().take(26).collect(),
            name: name.into(),
            display_name: String::new(),
            kind,
            team: team.map(String::from),
        }
    }

    const ROUTES: &str = r#"
[[route]]
channel = "dev"
agent = "coder"

[[route]]
channel = "abcdefghijklmnopqrstuvwxyz"
agent = "byid"

[[route]]
channel = "ops"
team = "eng"
agent = "opsbot"

[[route]]
channel = "dm"
agent = "private"

[[route]]
channel = "group"
agent = "groupie"

[[route]]
channel = "*"
agent = "default"
"#;

    #[test]
    fn each_match_kind_and_precedence() {
        let t = table(ROUTES);
        let agent = |c: &ChannelInfo| t.resolve(c).map(|r| r.agent.clone()).unwrap_or_default();
        assert_eq!(agent(&ch("dev", ChannelKind::Public, Some("eng"))), "coder");
        let mut by_id = ch("whatever", ChannelKind::Private, None);
        by_id.id = "abcdefghijklmnopqrstuvwxyz".into();
        assert_eq!(agent(&by_id), "byid");
        assert_eq!(
            agent(&ch("ops", ChannelKind::Public, Some("eng"))),
            "opsbot"
        );
        assert_eq!(
            agent(&ch("ops", ChannelKind::Public, Some("sales"))),
            "default"
        );
        assert_eq!(agent(&ch("x__y", ChannelKind::Direct, None)), "private");
        assert_eq!(agent(&ch("console", ChannelKind::Console, None)), "private");
        assert_eq!(agent(&ch("abc", ChannelKind::Group, None)), "groupie");
        assert_eq!(
            agent(&ch("random", ChannelKind::Public, Some("eng"))),
            "default"
        );
    }

    #[test]
    fn explain_says_why() {
        let t = table(ROUTES);
        let lines = t.explain(&ch("ops", ChannelKind::Public, Some("sales")));
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert!(
            lines[2].contains("team is \"sales\", rule needs \"eng\""),
            "{lines:?}"
        );
        assert!(
            lines[5].contains("MATCH") && lines[5].contains("agent default"),
            "{lines:?}"
        );
        assert!(lines[0].contains("line 3"), "{lines:?}");
    }

    #[test]
    fn no_routes_means_builtin_default() {
        let cfg = Config::parse("").expect("parse");
        let guests = KnownGuests {
            tools: ["calc".to_string()].into_iter().collect(),
            scanners: ["injection".to_string()].into_iter().collect(),
            ..Default::default()
        };
        let t = RouteTable::from_config(&cfg, &guests);
        let r = t
            .resolve(&ch("anything", ChannelKind::Public, None))
            .expect("default");
        assert_eq!(
            (r.agent.as_str(), r.tools.clone(), r.scanners.clone()),
            (
                "echo",
                vec!["calc".to_string()],
                vec!["injection".to_string()]
            )
        );
    }

    #[test]
    fn unmatched_channel_has_no_route() {
        let t = table("[[route]]\nchannel = \"dev\"\nagent = \"a\"\n");
        assert!(
            t.resolve(&ch("random", ChannelKind::Public, None))
                .is_none()
        );
        assert!(
            t.explain(&ch("random", ChannelKind::Public, None))
                .last()
                .is_some_and(|l| l.contains("no route"))
        );
    }
}
