//! WebSocket events other than `posted`: edits (`post_edited`) and
//! reactions on the bot's posts (`reaction_added` / `reaction_removed`,
//! recorded as feedback). Each is handled off the event loop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Bot, Source, lock};
use crate::config::EditMode;
use crate::mattermost::api::Post;
use crate::store::{Durable, InboxState, Vote, now_ms};

/// How old (by its `create_at`) a post not yet recorded may be for an edit
/// of it to be kept for its answer.
const EARLY_EDIT_MS: u64 = 60_000;

/// Edits of posts not yet recorded kept at once.
const MAX_EARLY_EDITS: usize = 256;

/// Edited texts of posts not answered yet, by post id, taken when their
/// turn starts. An *early* edit (its post not recorded yet) carries the
/// time it arrived: at most [`MAX_EARLY_EDITS`] are kept, and when they
/// are all taken, those older than [`EARLY_EDIT_MS`] make room (their post
/// never arrived, e.g. it was deleted before a catch-up found it), so edits
/// of posts the host never records cannot fill the map for good.
#[derive(Default)]
pub(super) struct Edits {
    texts: HashMap<String, (String, Option<Instant>)>,
}

impl Edits {
    /// The new text of a recorded post still waiting for its turn.
    pub(super) fn set(&mut self, post: &str, text: &str) {
        self.texts
            .insert(post.to_string(), (text.to_string(), None));
    }

    /// The new text of a post not recorded yet; `false` when it cannot be kept.
    pub(super) fn set_early(&mut self, post: &str, text: &str, now: Instant) -> bool {
        if !self.texts.contains_key(post) && self.early() >= MAX_EARLY_EDITS {
            let stale = Duration::from_millis(EARLY_EDIT_MS);
            self.texts
                .retain(|_, (_, at)| at.is_none_or(|t| now.saturating_duration_since(t) < stale));
            if self.early() >= MAX_EARLY_EDITS {
                return false;
            }
        }
        self.texts
            .insert(post.to_string(), (text.to_string(), Some(now)));
        true
    }

    /// Takes the text for the post's turn.
    pub(super) fn take(&mut self, post: &str) -> Option<String> {
        self.texts.remove(post).map(|(text, _)| text)
    }

    /// Drops what is kept for a post (it was finished).
    pub(super) fn forget(&mut self, post: &str) {
        self.texts.remove(post);
    }

    fn early(&self) -> usize {
        self.texts.values().filter(|(_, at)| at.is_some()).count()
    }
}

/// The vote a reaction stands for: 👍 is up, 👎 is down, others are no vote.
fn vote_of(emoji: &str) -> Option<bool> {
    match emoji {
        "+1" | "thumbsup" => Some(true),
        "-1" | "thumbsdown" => Some(false),
        _ => None,
    }
}

/// The JSON object held as a string in `data[key]` (how the server sends posts and reactions).
fn embedded<T: serde::de::DeserializeOwned>(data: &Value, key: &str) -> Option<T> {
    let raw = data.get(key)?.as_str()?;
    match serde_json::from_str(raw) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!("ignoring an event with an undecodable {key}: {e}");
            None
        }
    }
}

#[derive(serde::Deserialize)]
struct Reaction {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    post_id: String,
    #[serde(default)]
    emoji_name: String,
}

impl Bot {
    /// A post was edited: before its answer, the answer uses the new text;
    /// after it, `edit_mode = "reanswer"` answers the new text again.
    pub(super) fn on_edited(self: &Arc<Self>, data: &Value) {
        let Some(post) = embedded::<Post>(data, "post") else {
            return;
        };
        if post.user_id == self.me.id || !post.kind.is_empty() || post.delete_at > 0 {
            return;
        }
        let bot = self.clone();
        tokio::spawn(async move { bot.edited(post).await });
    }

    async fn edited(self: Arc<Self>, post: Post) {
        // A post recorded a moment ago may not be committed yet.
        let _ = self.recorded(&post.id).await;
        let entry = match self.store().inbox_get(&post.id) {
            Ok(Some(e)) => e,
            Ok(None) => return self.edited_before_recorded(post),
            Err(e) => {
                tracing::error!(post = %post.id, "cannot read the inbox for an edit: {e}");
                return;
            }
        };
        match entry.state {
            InboxState::Received => {
                tracing::info!(post = %post.id, "post edited before its answer; answering the new text");
                lock(&self.edits).set(&post.id, &post.message);
            }
            InboxState::Replied | InboxState::Skipped if self.answer_again(&entry, &post) => {
                // Claimed before the row turns `received`: the retry task must not take it too.
                if lock(&self.in_flight)
                    .insert(post.id.clone(), Durable::Done)
                    .is_some()
                {
                    return;
                }
                match self.store().inbox_reopen(&post.id).await {
                    Ok(Some(_)) => {
                        tracing::info!(post = %post.id, "finished post edited; answering it");
                        self.arrive(post, None, Source::Retry);
                    }
                    Ok(None) => {
                        lock(&self.in_flight).remove(&post.id);
                    }
                    Err(e) => {
                        lock(&self.in_flight).remove(&post.id);
                        tracing::error!(post = %post.id, "cannot reopen the edited post: {e}");
                    }
                }
            }
            _ => {}
        }
    }

    /// An edit of a post the host has not recorded yet: its `posted` event
    /// may still wait behind another post in the channel's queue. The new
    /// text is kept for the answer (which takes it from `edits`; finishing
    /// the post drops it). Only for recent posts, and at most
    /// [`MAX_EARLY_EDITS`] at once (see [`Edits`]).
    fn edited_before_recorded(&self, post: Post) {
        let age = now_ms().saturating_sub(post.create_at.max(0) as u64);
        if age > EARLY_EDIT_MS {
            return;
        }
        if !lock(&self.edits).set_early(&post.id, &post.message, Instant::now()) {
            tracing::warn!(post = %post.id, "too many edits of posts not recorded yet; this one is not kept");
            return;
        }
        // Recorded and finished in the meantime: the edit came too late for
        // that answer and must not stick to a later one.
        if let Ok(Some(e)) = self.store().inbox_get(&post.id)
            && e.state != InboxState::Received
        {
            lock(&self.edits).forget(&post.id);
            return;
        }
        tracing::info!(post = %post.id, "post edited before it was recorded; answering the new text");
    }

    /// Whether an edit of a finished post is answered: an answered post
    /// under `edit_mode = "reanswer"`, and a post skipped as not addressed
    /// (the edit may add the mention; admission checks again). Only edits
    /// made after the post was finished count.
    fn answer_again(&self, entry: &crate::store::InboxEntry, post: &Post) -> bool {
        let later = post.edit_at.max(0) as u64 > entry.at;
        let mode = self.gateway.settings().config.mattermost.edit_mode;
        later
            && match entry.state {
                InboxState::Replied => mode == EditMode::Reanswer,
                InboxState::Skipped => entry.reason == super::NOT_ADDRESSED,
                _ => false,
            }
    }

    /// A reaction changed: 👍/👎 on one of the bot's posts is feedback for
    /// the route and agent that serve its channel.
    pub(super) fn on_reaction(self: &Arc<Self>, data: &Value, added: bool) {
        let Some(r) = embedded::<Reaction>(data, "reaction") else {
            return;
        };
        let Some(up) = vote_of(&r.emoji_name) else {
            return;
        };
        if r.user_id == self.me.id || r.user_id.is_empty() || r.post_id.is_empty() {
            return;
        }
        let bot = self.clone();
        tokio::spawn(async move { bot.feedback(r, up, added).await });
    }

    async fn feedback(self: Arc<Self>, r: Reaction, up: bool, added: bool) {
        let stored = if added {
            let post = match self.api.post(&r.post_id).await {
                Ok(p) if p.user_id == self.me.id => p,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(post = %r.post_id, "cannot read a reacted post: {e}");
                    return;
                }
            };
            let route = match self.channel_info(&post.channel_id, None).await {
                Ok(info) => self.gateway.route_for(&info),
                Err(e) => {
                    tracing::warn!(post = %r.post_id, "cannot look up the reacted post's channel: {e}");
                    return;
                }
            };
            let (route, agent) = route
                .map(|r| (r.name, r.agent))
                .unwrap_or_else(|| ("(none)".into(), String::new()));
            let vote = Vote {
                route,
                agent,
                up,
                at: now_ms(),
            };
            self.store()
                .feedback_set(&r.post_id, &r.user_id, vote)
                .await
        } else {
            self.store()
                .feedback_remove(&r.post_id, &r.user_id, up)
                .await
                .map(|_| ())
        };
        match stored {
            Ok(()) => {
                tracing::info!(post = %r.post_id, user = %r.user_id, up, added, "feedback recorded")
            }
            Err(e) => tracing::error!(post = %r.post_id, "cannot record feedback: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Early edits are capped; when the cap is reached, those older than
    /// the window make room, fresh ones never do, and edits of recorded
    /// posts neither count nor expire.
    #[test]
    fn early_edits_are_capped_and_stale_ones_make_room() {
        let t0 = Instant::now();
        let mut e = Edits::default();
        e.set("recorded", "kept");
        for i in 0..MAX_EARLY_EDITS {
            assert!(e.set_early(&format!("p{i}"), "x", t0), "{i}");
        }
        let soon = t0 + Duration::from_millis(EARLY_EDIT_MS / 2);
        assert!(!e.set_early("one-more", "x", soon), "full of fresh ones");
        assert!(e.set_early("p7", "newer", soon), "a known post is updated");
        let late = t0 + Duration::from_millis(EARLY_EDIT_MS + 1);
        assert!(e.set_early("after", "y", late), "stale ones made room");
        assert_eq!(
            e.early(),
            2,
            "only p7 (updated later) and the new one are left"
        );
        assert_eq!(e.take("p7").as_deref(), Some("newer"));
        assert_eq!(e.take("p0"), None, "expired");
        assert_eq!(e.take("recorded").as_deref(), Some("kept"));
        e.forget("after");
        assert_eq!(e.take("after"), None);
    }
}
