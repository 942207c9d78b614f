//! Sessions: which conversation a message belongs to, and where its reply goes.
//!
//! | conversation | base key |
//! |---|---|
//! | direct message | `dm:{channel}` |
//! | console | `console:{channel}:{user}` |
//! | thread | `thread:{channel}:{root}` (+ `:{user}` with `group_sessions_per_user`) |
//! | channel/group root post | `chan:{channel}` (+ `:{user}` with `group_sessions_per_user`) |
//!
//! The stored session id is `{base}#{generation}`; `/reset` bumps the
//! generation so the old transcript stays stored but unused. This module owns
//! the key rules only; bytes live in `store`.

use crate::config::ReplyMode;
use crate::routing::ChannelKind;

/// The base session key of a message (no generation).
pub fn base_key(
    kind: ChannelKind,
    channel_id: &str,
    root_id: Option<&str>,
    user_id: &str,
    per_user: bool,
) -> String {
    let suffix = |k: String| {
        if per_user {
            format!("{k}:{user_id}")
        } else {
            k
        }
    };
    match kind {
        // A thread inside a DM is still the same two people: one session.
        ChannelKind::Direct => format!("dm:{channel_id}"),
        ChannelKind::Console => format!("console:{channel_id}:{user_id}"),
        _ => match root_id {
            Some(root) if !root.is_empty() => suffix(format!("thread:{channel_id}:{root}")),
            _ => suffix(format!("chan:{channel_id}")),
        },
    }
}

/// The session id for a base key and generation.
pub fn session_id(base: &str, generation: u64) -> String {
    format!("{base}#{generation}")
}

/// The `root_id` for a reply: a post already in a thread is always answered
/// in that thread (the root, never a reply); otherwise `thread` mode starts a
/// thread under the post and `off` answers flat.
pub fn reply_root(mode: ReplyMode, post_id: &str, root_id: Option<&str>) -> Option<String> {
    match root_id {
        Some(r) if !r.is_empty() => Some(r.to_string()),
        _ => match mode {
            ReplyMode::Thread => Some(post_id.to_string()),
            ReplyMode::Off => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_rules() {
        assert_eq!(
            base_key(ChannelKind::Direct, "d1", None, "u1", true),
            "dm:d1"
        );
        assert_eq!(
            base_key(ChannelKind::Direct, "d1", Some("r"), "u1", true),
            "dm:d1"
        );
        assert_eq!(
            base_key(ChannelKind::Public, "c1", None, "u1", true),
            "chan:c1:u1"
        );
        assert_eq!(
            base_key(ChannelKind::Public, "c1", None, "u1", false),
            "chan:c1"
        );
        assert_eq!(
            base_key(ChannelKind::Private, "c1", Some("r1"), "u1", true),
            "thread:c1:r1:u1"
        );
        assert_eq!(
            base_key(ChannelKind::Group, "g1", Some("r1"), "u1", false),
            "thread:g1:r1"
        );
        assert_eq!(
            base_key(ChannelKind::Public, "c1", Some(""), "u1", false),
            "chan:c1"
        );
        assert_eq!(
            base_key(ChannelKind::Console, "console", None, "me", true),
            "console:console:me"
        );
        assert_eq!(session_id("dm:d1", 2), "dm:d1#2");
    }

    #[test]
    fn reply_root_keeps_threads() {
        assert_eq!(reply_root(ReplyMode::Off, "p", None), None);
        assert_eq!(reply_root(ReplyMode::Thread, "p", None), Some("p".into()));
        assert_eq!(
            reply_root(ReplyMode::Off, "p", Some("root")),
            Some("root".into())
        );
        assert_eq!(
            reply_root(ReplyMode::Thread, "p", Some("root")),
            Some("root".into())
        );
        assert_eq!(
            reply_root(ReplyMode::Thread, "p", Some("")),
            Some("p".into())
        );
    }
}
