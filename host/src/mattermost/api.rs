//! Mattermost REST API v4 client.
//!
//! Owns authentication (`Authorization: Bearer`, bot tokens and personal
//! access tokens alike), AppError decoding, and retries: 429 (honouring
//! `Retry-After`; the body is plain text, not an AppError), 5xx, timeouts and
//! connection errors are retried with exponential backoff, so one failed POST
//! never loses a reply. Creates carry a `pending_post_id`, which the server
//! uses to drop duplicates of a retried create. The token is never logged and
//! never part of an error message.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How often a request is tried before giving up.
const ATTEMPTS: u32 = 6;
/// First retry delay; doubles per attempt, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// REST errors. Messages say what to fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("MATTERMOST_URL `{0}` is not a valid server URL: {1}")]
    BadUrl(String, String),
    #[error(
        "cannot reach the Mattermost server at {url}: {reason} (is the server running and the URL right?)"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the Mattermost token was rejected (401 {id}): the token is invalid or revoked, or the bot account is deactivated; create a new bot token and set MATTERMOST_TOKEN"
    )]
    Unauthorized { id: String },
    #[error("Mattermost refused the request (403 {id}): {message}")]
    Forbidden { id: String, message: String },
    #[error("not found on the Mattermost server (404 {id}): {message}")]
    NotFound { id: String, message: String },
    #[error("Mattermost answered {status} {id}: {message}")]
    Status {
        status: u16,
        id: String,
        message: String,
    },
    #[error("Mattermost kept rate limiting (429) after {ATTEMPTS} attempts")]
    RateLimited,
    #[error("unexpected answer from Mattermost: {0}")]
    Decode(String),
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

impl ApiError {
    /// Errors that mean the credentials are bad: stop instead of looping.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ApiError::Unauthorized { .. } | ApiError::Forbidden { .. }
        )
    }
}

/// Most posts `GET /channels/{id}/posts?since=` returns (the server cuts silently).
pub const SINCE_PAGE: usize = 1000;
/// Pages read by one catch-up of one channel (bounds a runaway loop).
const MAX_SINCE_PAGES: usize = 100;

/// A user (only the fields the bot reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub delete_at: i64,
}

/// A custom slash command (the fields the bot sets and reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Command {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    #[serde(default)]
    pub creator_id: String,
    pub team_id: String,
    pub trigger: String,
    /// `P` (POST) or `G`.
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub auto_complete: bool,
    #[serde(default)]
    pub auto_complete_desc: String,
    #[serde(default)]
    pub auto_complete_hint: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub delete_at: i64,
}

/// A channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Channel {
    pub id: String,
    #[serde(default)]
    pub team_id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub last_post_at: u64,
}

/// A team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Team {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: String,
}

/// A post.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Post {
    pub id: String,
    #[serde(default)]
    pub create_at: i64,
    #[serde(default)]
    pub update_at: i64,
    #[serde(default)]
    pub edit_at: i64,
    #[serde(default)]
    pub delete_at: i64,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub root_id: String,
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub props: Value,
    #[serde(default)]
    pub file_ids: Vec<String>,
    #[serde(default)]
    pub metadata: Value,
}

impl Post {
    /// The incoming post this post answers, if it is a kennel reply.
    pub fn reply_to(&self) -> Option<&str> {
        self.props.get("kennel_reply_to").and_then(|v| v.as_str())
    }
}

/// `GET /channels/{id}/posts` result.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PostList {
    #[serde(default)]
    pub order: Vec<String>,
    #[serde(default)]
    pub posts: std::collections::HashMap<String, Post>,
}

/// File metadata.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub mime_type: String,
}

#[derive(Deserialize)]
struct AppError {
    #[serde(default)]
    id: String,
    #[serde(default)]
    message: String,
}

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    site: String,
    token: String,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("site", &self.site)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Normalises a server URL: requires http(s), drops a trailing `/` and `/api/v4`.
pub fn normalise_url(url: &str) -> Result<String, ApiError> {
    let u = url.trim();
    if u.is_empty() {
        return Err(ApiError::BadUrl(
            u.into(),
            "it is empty; set MATTERMOST_URL (e.g. https://mm.example.com)".into(),
        ));
    }
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(ApiError::BadUrl(
            u.into(),
            format!("it has no scheme; use https://{u} (or http:// for a local server)"),
        ));
    }
    let mut s = u.trim_end_matches('/').to_string();
    if let Some(stripped) = s.strip_suffix("/api/v4") {
        s = stripped.to_string();
    }
    let host = s.split("://").nth(1).unwrap_or("");
    if host.is_empty() || host.starts_with('/') {
        return Err(ApiError::BadUrl(u.into(), "it has no host name".into()));
    }
    Ok(s)
}

/// Checks that a Mattermost server answers at `url` (`GET /system/ping`,
/// which needs no token). Returns the normalised URL.
pub async fn ping(url: &str) -> Result<String, ApiError> {
    let site = normalise_url(url)?;
    let unreachable = |reason: String| ApiError::Unreachable {
        url: site.clone(),
        reason,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    let resp = http
        .get(format!("{site}/api/v4/system/ping"))
        .send()
        .await
        .map_err(|e| unreachable(error_chain(&e)))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status.is_success()
        && body["status"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("ok"))
    {
        Ok(site)
    } else {
        Err(unreachable(format!(
            "{status} from /api/v4/system/ping: this does not look like a Mattermost server"
        )))
    }
}

impl Api {
    pub fn new(url: &str, token: &str) -> Result<Api, ApiError> {
        let site = normalise_url(url)?;
        if token.trim().is_empty() {
            return Err(ApiError::BadUrl(
                url.into(),
                "no token: set MATTERMOST_TOKEN to a bot token or personal access token".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::Decode(e.to_string()))?;
        Ok(Api {
            http,
            site,
            token: token.trim().to_string(),
        })
    }

    /// The server's base URL (no trailing slash).
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The `ws://`/`wss://` URL of the WebSocket endpoint.
    pub fn websocket_url(&self) -> String {
        let ws = if let Some(rest) = self.site.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", self.site.trim_start_matches("http://"))
        };
        format!("{ws}/api/v4/websocket")
    }

    /// The value of the `Authorization` header (for the WebSocket upgrade).
    pub(crate) fn auth_header(&self) -> String {
        format!("Bearer {}", self.token)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let bytes = self.call_raw(method, path, body).await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(format!("{path}: {e}")))
    }

    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<bytes::Bytes, ApiError> {
        let body = match body {
            Some(v) => Body::Json(v),
            None => Body::None,
        };
        self.request(method, path, body, None).await
    }

    /// One REST call with retries (429 honouring `Retry-After`, 5xx,
    /// connection errors). A success body over `limit` bytes is refused
    /// while it is read, whatever `Content-Length` claimed.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
        limit: Option<u64>,
    ) -> Result<bytes::Bytes, ApiError> {
        let url = format!("{}/api/v4{path}", self.site);
        let mut backoff = FIRST_BACKOFF;
        let mut last = ApiError::RateLimited;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.token);
            match &body {
                Body::None => {}
                Body::Json(b) => rb = rb.json(b),
                Body::Form(make) => rb = rb.multipart(make()),
            }
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = ApiError::Unreachable {
                        url: self.site.clone(),
                        reason: error_chain(&e),
                    };
                    tracing::warn!(%path, attempt, "Mattermost request failed: {last}");
                    continue;
                }
            };
            let status = resp.status();
            if status.is_success() {
                return match limit {
                    None => resp
                        .bytes()
                        .await
                        .map_err(|e| ApiError::Decode(e.to_string())),
                    Some(limit) => read_capped(resp, limit).await,
                };
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(60)));
                tracing::warn!(%path, attempt, "rate limited by Mattermost (429)");
                if let Some(w) = wait {
                    backoff = w.max(Duration::from_millis(50));
                }
                last = ApiError::RateLimited;
                continue;
            }
            let text = resp.text().await.unwrap_or_default();
            let app: AppError = serde_json::from_str(&text).unwrap_or(AppError {
                id: String::new(),
                message: text.chars().take(200).collect(),
            });
            let err = match status.as_u16() {
                401 => ApiError::Unauthorized { id: app.id },
                403 => ApiError::Forbidden {
                    id: app.id,
                    message: app.message,
                },
                404 => ApiError::NotFound {
                    id: app.id,
                    message: app.message,
                },
                s => ApiError::Status {
                    status: s,
                    id: app.id,
                    message: app.message,
                },
            };
            if status.is_server_error() {
                tracing::warn!(%path, attempt, "Mattermost server error: {err}");
                last = err;
                continue;
            }
            return Err(err);
        }
        Err(last)
    }

    pub async fn me(&self) -> Result<User, ApiError> {
        decode(self.call(Method::GET, "/users/me", None).await?)
    }

    pub async fn user(&self, id: &str) -> Result<User, ApiError> {
        decode(
            self.call(Method::GET, &format!("/users/{id}"), None)
                .await?,
        )
    }

    pub async fn user_by_username(&self, name: &str) -> Result<User, ApiError> {
        decode(
            self.call(Method::GET, &format!("/users/username/{name}"), None)
                .await?,
        )
    }

    pub async fn channel(&self, id: &str) -> Result<Channel, ApiError> {
        decode(
            self.call(Method::GET, &format!("/channels/{id}"), None)
                .await?,
        )
    }

    pub async fn team(&self, id: &str) -> Result<Team, ApiError> {
        decode(
            self.call(Method::GET, &format!("/teams/{id}"), None)
                .await?,
        )
    }

    /// Custom slash commands of a team (`GET /commands?team_id=…&custom_only=true`).
    pub async fn team_commands(&self, team_id: &str) -> Result<Vec<Command>, ApiError> {
        decode(
            self.call(
                Method::GET,
                &format!("/commands?team_id={team_id}&custom_only=true"),
                None,
            )
            .await?,
        )
    }

    /// Creates a slash command (`POST /commands`); the answer carries its token.
    pub async fn create_command(&self, c: &Command) -> Result<Command, ApiError> {
        let body = serde_json::to_value(c).map_err(|e| ApiError::Decode(e.to_string()))?;
        decode(self.call(Method::POST, "/commands", Some(&body)).await?)
    }

    /// Replaces a slash command (`PUT /commands/{id}`).
    pub async fn update_command(&self, c: &Command) -> Result<Command, ApiError> {
        let body = serde_json::to_value(c).map_err(|e| ApiError::Decode(e.to_string()))?;
        decode(
            self.call(Method::PUT, &format!("/commands/{}", c.id), Some(&body))
                .await?,
        )
    }

    pub async fn my_teams(&self) -> Result<Vec<Team>, ApiError> {
        decode(self.call(Method::GET, "/users/me/teams", None).await?)
    }

    pub async fn my_channels(&self, team_id: &str) -> Result<Vec<Channel>, ApiError> {
        decode(
            self.call(
                Method::GET,
                &format!("/users/me/teams/{team_id}/channels"),
                None,
            )
            .await?,
        )
    }

    pub async fn post(&self, id: &str) -> Result<Post, ApiError> {
        decode(
            self.call(Method::GET, &format!("/posts/{id}"), None)
                .await?,
        )
    }

    /// Creates a post. `pending_post_id` makes retries idempotent on the server.
    pub async fn create_post(
        &self,
        channel_id: &str,
        message: &str,
        root_id: Option<&str>,
        props: Value,
        pending_post_id: &str,
    ) -> Result<Post, ApiError> {
        self.create_post_with_files(channel_id, message, root_id, props, pending_post_id, &[])
            .await
    }

    /// Creates a post carrying uploaded files (at most 10 per post).
    pub async fn create_post_with_files(
        &self,
        channel_id: &str,
        message: &str,
        root_id: Option<&str>,
        props: Value,
        pending_post_id: &str,
        file_ids: &[String],
    ) -> Result<Post, ApiError> {
        let mut body = json!({ "channel_id": channel_id, "message": message, "props": props, "pending_post_id": pending_post_id });
        if let Some(r) = root_id {
            body["root_id"] = json!(r);
        }
        if !file_ids.is_empty() {
            body["file_ids"] = json!(file_ids);
        }
        decode(self.call(Method::POST, "/posts", Some(&body)).await?)
    }

    /// Replaces a post's message and props (streaming edits).
    pub async fn patch_post(
        &self,
        id: &str,
        message: &str,
        props: Value,
    ) -> Result<Post, ApiError> {
        decode(
            self.call(
                Method::PUT,
                &format!("/posts/{id}/patch"),
                Some(&json!({ "message": message, "props": props })),
            )
            .await?,
        )
    }

    /// Shows "… is typing" (REST variant; `parent_id` for threads).
    pub async fn typing(
        &self,
        user_id: &str,
        channel_id: &str,
        parent_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let body = json!({ "channel_id": channel_id, "parent_id": parent_id.unwrap_or("") });
        self.call(
            Method::POST,
            &format!("/users/{user_id}/typing"),
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// Posts of a channel with `update_at > since` (newest first in `order`).
    pub async fn posts_since(&self, channel_id: &str, since: u64) -> Result<PostList, ApiError> {
        decode(
            self.call(
                Method::GET,
                &format!("/channels/{channel_id}/posts?since={since}"),
                None,
            )
            .await?,
        )
    }

    /// Every post with `update_at > since`, paging past the server's silent
    /// cap of [`SINCE_PAGE`] posts per call by moving `since` forward.
    pub async fn posts_since_all(
        &self,
        channel_id: &str,
        since: u64,
    ) -> Result<Vec<Post>, ApiError> {
        let mut out: HashMap<String, Post> = HashMap::new();
        let mut since = since;
        for _ in 0..MAX_SINCE_PAGES {
            let page = self.posts_since(channel_id, since).await?;
            let n = page.posts.len();
            let newest = page.posts.values().map(|p| p.update_at.max(0) as u64).max();
            out.extend(page.posts);
            match newest {
                // A full page: there may be more. Step back 1 ms so posts
                // sharing the newest `update_at` are not skipped (duplicates
                // are merged by id).
                Some(t) if n >= SINCE_PAGE && t.saturating_sub(1) > since => since = t - 1,
                _ => break,
            }
        }
        Ok(out.into_values().collect())
    }

    /// Channels of every team (with DMs and groups) the user belongs to.
    pub async fn my_all_channels(&self, user_id: &str) -> Result<Vec<Channel>, ApiError> {
        decode(
            self.call(Method::GET, &format!("/users/{user_id}/channels"), None)
                .await?,
        )
    }

    /// The DM channel between the bot and a user (created if needed).
    pub async fn direct_channel(&self, me: &str, other: &str) -> Result<Channel, ApiError> {
        decode(
            self.call(Method::POST, "/channels/direct", Some(&json!([me, other])))
                .await?,
        )
    }

    pub async fn file_info(&self, id: &str) -> Result<FileInfo, ApiError> {
        decode(
            self.call(Method::GET, &format!("/files/{id}/info"), None)
                .await?,
        )
    }

    /// A file's bytes; more than `limit` bytes is [`ApiError::TooLarge`].
    pub async fn file(&self, id: &str, limit: u64) -> Result<bytes::Bytes, ApiError> {
        self.request(
            Method::GET,
            &format!("/files/{id}"),
            Body::None,
            Some(limit),
        )
        .await
    }

    /// Uploads one file to a channel (`POST /files`, multipart with
    /// `channel_id` before the file part, as the server streams it).
    pub async fn upload_file(
        &self,
        channel_id: &str,
        name: &str,
        mime_type: &str,
        bytes: bytes::Bytes,
    ) -> Result<FileInfo, ApiError> {
        let make = || {
            let part = reqwest::multipart::Part::stream(bytes.clone()).file_name(name.to_string());
            let part = part.mime_str(mime_type).unwrap_or_else(|_| {
                reqwest::multipart::Part::stream(bytes.clone()).file_name(name.to_string())
            });
            reqwest::multipart::Form::new()
                .text("channel_id", channel_id.to_string())
                .part("files", part)
        };
        let raw = self
            .request(Method::POST, "/files", Body::Form(&make), None)
            .await?;
        #[derive(Deserialize)]
        struct Uploaded {
            #[serde(default)]
            file_infos: Vec<FileInfo>,
        }
        let up: Uploaded =
            serde_json::from_slice(&raw).map_err(|e| ApiError::Decode(format!("/files: {e}")))?;
        up.file_infos
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Decode("/files: the server returned no file".into()))
    }

    /// Adds the bot's reaction `emoji` (name without colons) to a post.
    pub async fn add_reaction(
        &self,
        user_id: &str,
        post_id: &str,
        emoji: &str,
    ) -> Result<(), ApiError> {
        let body = json!({ "user_id": user_id, "post_id": post_id, "emoji_name": emoji });
        self.call(Method::POST, "/reactions", Some(&body))
            .await
            .map(|_| ())
    }

    /// Removes the bot's reaction `emoji` from a post.
    pub async fn remove_reaction(
        &self,
        user_id: &str,
        post_id: &str,
        emoji: &str,
    ) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &format!("/users/{user_id}/posts/{post_id}/reactions/{emoji}"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// The thread of a post: its root and every reply.
    pub async fn thread(&self, post_id: &str) -> Result<PostList, ApiError> {
        decode(
            self.call(Method::GET, &format!("/posts/{post_id}/thread"), None)
                .await?,
        )
    }
}

/// A request body.
enum Body<'a> {
    None,
    Json(&'a Value),
    /// Multipart, built again for each attempt (a form is consumed by sending).
    Form(&'a (dyn Fn() -> reqwest::multipart::Form + Sync)),
}

/// Reads a response body, refusing it as soon as it passes `limit` bytes.
async fn read_capped(mut resp: reqwest::Response, limit: u64) -> Result<bytes::Bytes, ApiError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let mut out = bytes::BytesMut::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))?
    {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

fn decode<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::Decode(e.to_string()))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let m = x.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            normalise_url("https://mm.example.com/").ok(),
            Some("https://mm.example.com".into())
        );
        assert_eq!(
            normalise_url("http://127.0.0.1:8065/api/v4/").ok(),
            Some("http://127.0.0.1:8065".into())
        );
        let e = normalise_url("mm.example.com")
            .expect_err("no scheme")
            .to_string();
        assert!(e.contains("https://mm.example.com"), "{e}");
        assert!(normalise_url("").is_err());
        assert!(normalise_url("https://").is_err());
        let api = Api::new("https://mm.example.com", "tok").expect("api");
        assert_eq!(api.websocket_url(), "wss://mm.example.com/api/v4/websocket");
        assert!(!format!("{api:?}").contains("tok\""));
    }
}
