//! `kennel doctor`: checks the Mattermost set-up step by step and prints a fix
//! for each failure. Read-only: it posts nothing.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::api::{Api, ApiError, normalise_url};
use crate::config::Config;

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    /// How to fix it (failures only).
    pub fix: String,
}

fn pass(name: &'static str, detail: String) -> Check {
    Check {
        name,
        ok: true,
        detail,
        fix: String::new(),
    }
}

fn fail(name: &'static str, detail: String, fix: &str) -> Check {
    Check {
        name,
        ok: false,
        detail,
        fix: fix.to_string(),
    }
}

/// Runs every check that can run (later checks need the earlier ones).
/// `bindings` holds the usernames the running bot bound to ids (lower-case
/// name → id), read from its store; a listed name now held by another
/// account fails the `allowlist` check.
pub async fn run(
    cfg: &Config,
    bindings: &std::collections::BTreeMap<String, String>,
) -> Vec<Check> {
    let mut out = Vec::new();
    match normalise_url(&cfg.mattermost.url) {
        Ok(u) => out.push(pass("url", u)),
        Err(e) => {
            out.push(fail("url", e.to_string(), "set MATTERMOST_URL to the server's address with its scheme, e.g. https://mm.example.com"));
            return out;
        }
    }
    if cfg.mattermost.token.trim().is_empty() {
        out.push(fail("token", "no token configured".into(), "create a bot account (System Console → Integrations → Bot Accounts), then set MATTERMOST_TOKEN"));
        return out;
    }
    let api = match Api::new(&cfg.mattermost.url, &cfg.mattermost.token) {
        Ok(a) => a,
        Err(e) => {
            out.push(fail(
                "token",
                e.to_string(),
                "check MATTERMOST_URL and MATTERMOST_TOKEN",
            ));
            return out;
        }
    };
    let me = match api.me().await {
        Ok(me) => {
            out.push(pass(
                "token",
                format!(
                    "authenticated as @{} ({}){}",
                    me.username,
                    me.id,
                    if me.is_bot {
                        ", a bot account"
                    } else {
                        ", a user account (personal access token)"
                    }
                ),
            ));
            me
        }
        Err(e @ ApiError::Unreachable { .. }) => {
            out.push(fail(
                "server",
                e.to_string(),
                "check that the server is up and reachable from here, and the URL's host and port",
            ));
            return out;
        }
        Err(e) => {
            out.push(fail("token", e.to_string(), "create a new token for the bot and set MATTERMOST_TOKEN; make sure the bot account is enabled"));
            return out;
        }
    };
    out.push(websocket(&api).await);
    match api.my_teams().await {
        Ok(teams) if teams.is_empty() => out.push(fail(
            "teams",
            "the bot is in no team".into(),
            "add the bot to a team (Main Menu → Invite People, or `mmctl team users add`)",
        )),
        Ok(teams) => {
            let mut names = Vec::new();
            for t in &teams {
                let n = api.my_channels(&t.id).await.map(|c| c.len()).unwrap_or(0);
                names.push(format!("{} ({n} channels)", t.name));
            }
            out.push(pass("teams", names.join(", ")));
        }
        Err(e) => out.push(fail(
            "teams",
            e.to_string(),
            "give the bot permission to read its teams",
        )),
    }
    if !cfg.mattermost.home_channel.is_empty() {
        match api.channel(&cfg.mattermost.home_channel).await {
            Ok(c) => out.push(pass("home channel", format!("~{} ({})", c.name, c.id))),
            Err(e) => out.push(fail("home channel", e.to_string(), "set MATTERMOST_HOME_CHANNEL to the id of a channel the bot is a member of (or use /sethome)")),
        }
    }
    if cfg.access.allowed_users.is_empty() && cfg.access.dm_policy != crate::config::DmPolicy::Open
    {
        out.push(fail(
            "access",
            "no allowed users: the bot will answer nobody".into(),
            "set MATTERMOST_ALLOWED_USERS (ids or usernames), or dm_policy = \"pairing\"",
        ));
    } else {
        out.push(pass(
            "access",
            format!(
                "dm_policy = {:?}, {} allowed user(s)",
                cfg.access.dm_policy,
                cfg.access.allowed_users.len()
            ),
        ));
    }
    if let Some(c) = allowlist_bindings(&api, cfg, bindings).await {
        out.push(c);
    }
    let _ = me;
    out
}

/// Listed usernames whose current holder is not the account they were bound to.
async fn allowlist_bindings(
    api: &Api,
    cfg: &Config,
    bindings: &std::collections::BTreeMap<String, String>,
) -> Option<Check> {
    let list = crate::policy::AllowList::from_entries(&cfg.access.allowed_users);
    let mut moved = Vec::new();
    let mut checked = 0;
    for name in &list.names {
        let Some(bound) = bindings.get(name) else {
            continue;
        };
        checked += 1;
        match api.user_by_username(name).await {
            Ok(u) if u.id != *bound => moved.push(format!(
                "@{name} is bound to {bound} but is now held by {}",
                u.id
            )),
            Ok(_) => {}
            Err(ApiError::NotFound { .. }) => {
                moved.push(format!("@{name} (bound to {bound}) no longer exists"))
            }
            Err(_) => {}
        }
    }
    if moved.is_empty() {
        return (checked > 0).then(|| {
            pass(
                "allowlist",
                format!("{checked} listed username(s) still held by their bound accounts"),
            )
        });
    }
    Some(fail(
        "allowlist",
        moved.join("; "),
        "those accounts are denied: list the new account by id if it should be allowed, and remove the name",
    ))
}

async fn websocket(api: &Api) -> Check {
    let url = api.websocket_url();
    let mut req = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => return fail("websocket", e.to_string(), "check MATTERMOST_URL"),
    };
    if let Ok(v) = api.auth_header().parse() {
        req.headers_mut().insert("Authorization", v);
    }
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    {
        Err(_) => fail(
            "websocket",
            format!("{url}: no answer within 10 s"),
            "make sure a proxy in front of Mattermost passes WebSocket upgrades (Upgrade/Connection headers)",
        ),
        Ok(Err(e)) => fail(
            "websocket",
            format!("{url}: {e}"),
            "make sure a proxy in front of Mattermost passes WebSocket upgrades (Upgrade/Connection headers)",
        ),
        Ok(Ok((mut ws, _))) => match tokio::time::timeout(Duration::from_secs(10), ws.next()).await
        {
            Ok(Some(Ok(m))) if m.to_text().is_ok_and(|t| t.contains("\"hello\"")) => {
                pass("websocket", "upgrade and hello OK".into())
            }
            _ => fail(
                "websocket",
                "connected but no hello arrived (the token did not authenticate the socket)".into(),
                "check the token; a proxy must forward the Authorization header on the upgrade",
            ),
        },
    }
}
