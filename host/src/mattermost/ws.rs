//! The Mattermost WebSocket: connect, track `seq`, resume, reconnect.
//!
//! | situation | what the loop does |
//! |---|---|
//! | connect | `GET /api/v4/websocket` with `Authorization: Bearer` on the upgrade |
//! | `hello` with a new `connection_id` (or the first one) | report [`WsMsg::Connected`] with `catch_up = true`: events may be lost, catch up over REST |
//! | event with the expected `seq` | forward it |
//! | event with another `seq` | reconnect and resume; a second gap in a row starts a fresh connection (new id → catch-up) |
//! | connection drops | reconnect with `connection_id` + `sequence_number` (resume: the server replays, no `hello`) |
//! | nothing received for `idle_timeout` (server pings every 60 s) | treat as dead, reconnect |
//! | reconnect | exponential backoff 2 s → 60 s with up to 25 % jitter; reset once a connection delivers frames |
//! | token rejected (401/403 on the upgrade or on `/users/me` before a reconnect) | stop with [`WsFatal`] instead of looping |
//!
//! Pings are answered by tungstenite while the socket is read.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use super::api::Api;

pub const MIN_BACKOFF: Duration = Duration::from_secs(2);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the loop reports to the bot.
#[derive(Debug, Clone)]
pub enum WsMsg {
    /// A (new or resumed) connection is up. `catch_up`: events may have been missed.
    Connected {
        connection_id: String,
        catch_up: bool,
    },
    /// A server event (the whole envelope).
    Event(Value),
    /// The connection dropped; a reconnect follows (with backoff).
    Disconnected,
}

/// Why the loop stopped for good.
#[derive(Debug, thiserror::Error)]
pub enum WsFatal {
    #[error("{0}")]
    Auth(String),
}

/// Tunables (defaults from the protocol; tests shorten the idle timeout).
#[derive(Debug, Clone)]
pub struct WsOptions {
    pub idle_timeout: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            idle_timeout: Duration::from_secs(100),
            min_backoff: MIN_BACKOFF,
            max_backoff: MAX_BACKOFF,
        }
    }
}

/// The next backoff after `current`, and the delay to use now (with jitter).
pub fn next_backoff(current: Duration, max: Duration, jitter: f64) -> (Duration, Duration) {
    let wait = current + current.mul_f64(jitter.clamp(0.0, 1.0) * 0.25);
    ((current * 2).min(max), wait)
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    u16::from_le_bytes(b) as f64 / u16::MAX as f64
}

enum End {
    /// Reconnect (resume if possible) after the backoff.
    Retry,
    /// Reconnect at once (seq gap).
    Gap,
    /// The receiver is gone: stop.
    Closed,
}

/// Runs until the receiver is dropped or the credentials are rejected.
pub async fn run(api: Api, tx: mpsc::Sender<WsMsg>, opts: WsOptions) -> Result<(), WsFatal> {
    let mut conn_id: Option<String> = None;
    let mut expected: u64 = 0;
    let mut gaps = 0u32;
    let mut backoff = opts.min_backoff;
    let mut first = true;
    let mut connected_before = false;
    loop {
        if !first {
            // Before reconnecting, make sure the token still works (a bad token
            // upgrades fine but never authenticates; 401 here stops the loop).
            match api.me().await {
                Err(e) if e.is_auth() => return Err(WsFatal::Auth(e.to_string())),
                _ => {}
            }
        }
        first = false;
        let mut url = api.websocket_url();
        if let Some(id) = &conn_id {
            url = format!("{url}?connection_id={id}&sequence_number={expected}");
        }
        let mut req = match url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => return Err(WsFatal::Auth(format!("bad WebSocket URL {url}: {e}"))),
        };
        match api.auth_header().parse() {
            Ok(v) => {
                req.headers_mut().insert("Authorization", v);
            }
            Err(_) => {
                return Err(WsFatal::Auth(
                    "the token contains characters not allowed in a header".into(),
                ));
            }
        }
        let end = match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => {
                // A fresh connection is logged at its `hello`: only then has the
                // server registered it (a post made before would not reach it).
                // A resume is logged now: the server replays what it missed.
                if conn_id.is_some() {
                    tracing::info!(resume = true, "WebSocket connected");
                }
                if std::mem::replace(&mut connected_before, true) {
                    crate::metrics::get().ws_reconnects.inc();
                }
                let end = session(
                    ws,
                    &tx,
                    &opts,
                    &mut conn_id,
                    &mut expected,
                    &mut gaps,
                    &mut backoff,
                )
                .await;
                let _ = tx.send(WsMsg::Disconnected).await;
                end
            }
            Err(tungstenite::Error::Http(resp)) if matches!(resp.status().as_u16(), 401 | 403) => {
                return Err(WsFatal::Auth(format!(
                    "the WebSocket upgrade was refused with {}: the token is invalid or the bot is deactivated",
                    resp.status()
                )));
            }
            Err(e) => {
                tracing::warn!("WebSocket connect failed: {e}");
                End::Retry
            }
        };
        match end {
            End::Closed => return Ok(()),
            End::Gap => tokio::time::sleep(Duration::from_millis(100)).await,
            End::Retry => {
                let (next, wait) = next_backoff(backoff, opts.max_backoff, jitter());
                tracing::info!(wait_ms = wait.as_millis() as u64, "WebSocket reconnecting");
                tokio::time::sleep(wait).await;
                backoff = next;
            }
        }
        if tx.is_closed() {
            return Ok(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn session<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    tx: &mpsc::Sender<WsMsg>,
    opts: &WsOptions,
    conn_id: &mut Option<String>,
    expected: &mut u64,
    gaps: &mut u32,
    backoff: &mut Duration,
) -> End
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    loop {
        let frame = match tokio::time::timeout(opts.idle_timeout, stream.next()).await {
            Err(_) => {
                tracing::warn!(
                    secs = opts.idle_timeout.as_secs(),
                    "WebSocket silent too long; reconnecting"
                );
                let _ = sink.close().await;
                return End::Retry;
            }
            Ok(None) => return End::Retry,
            Ok(Some(Err(e))) => {
                tracing::warn!("WebSocket error: {e}");
                return End::Retry;
            }
            Ok(Some(Ok(f))) => f,
        };
        // Any frame means the connection works: reset the backoff.
        *backoff = opts.min_backoff;
        let text = match frame {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => return End::Retry,
            Message::Ping(p) => {
                let _ = sink.send(Message::Pong(p)).await;
                continue;
            }
            _ => continue,
        };
        let v: Value = match serde_json::from_str(text.trim()) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("ignoring malformed WebSocket frame: {e}");
                continue;
            }
        };
        if v.get("seq_reply").is_some() || (v.get("status").is_some() && v.get("event").is_none()) {
            continue; // a response to an action of ours
        }
        let Some(event) = v.get("event").and_then(|e| e.as_str()) else {
            tracing::warn!("ignoring WebSocket frame without an event");
            continue;
        };
        let seq = v.get("seq").and_then(|s| s.as_u64());
        if event == "hello" {
            let id = v
                .pointer("/data/connection_id")
                .and_then(|i| i.as_str())
                .unwrap_or("")
                .to_string();
            if conn_id.is_none() {
                tracing::info!(resume = false, "WebSocket connected");
            }
            let catch_up = conn_id.as_deref() != Some(id.as_str());
            if catch_up && conn_id.is_some() {
                tracing::info!(
                    "new WebSocket connection id: events may have been missed, catching up"
                );
            }
            *conn_id = Some(id.clone());
            *expected = seq.unwrap_or(0) + 1;
            *gaps = 0;
            if tx
                .send(WsMsg::Connected {
                    connection_id: id,
                    catch_up,
                })
                .await
                .is_err()
            {
                return End::Closed;
            }
            continue;
        }
        match seq {
            Some(s) if s == *expected => {
                *expected += 1;
                *gaps = 0;
            }
            Some(s) => {
                *gaps += 1;
                tracing::warn!(
                    expected = *expected,
                    got = s,
                    "WebSocket sequence gap; reconnecting"
                );
                if *gaps >= 2 {
                    // Resuming did not help: start fresh (new id → REST catch-up).
                    *conn_id = None;
                    *expected = 0;
                }
                let _ = sink.close().await;
                return End::Gap;
            }
            None => {}
        }
        if tx.send(WsMsg::Event(v)).await.is_err() {
            return End::Closed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_bounded_jitter() {
        let mut b = MIN_BACKOFF;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let (next, wait) = next_backoff(b, MAX_BACKOFF, 1.0);
            assert!(wait >= b && wait <= b.mul_f64(1.25));
            waits.push(b.as_secs());
            b = next;
        }
        assert_eq!(waits, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(next_backoff(MIN_BACKOFF, MAX_BACKOFF, 0.0).1, MIN_BACKOFF);
    }
}
