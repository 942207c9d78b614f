//! Access policy: who may talk to the bot, and pairing codes.
//!
//! One gate for every entry point (DM, mention, thread reply, command, catch-up):
//!
//! | `dm_policy` | user on the allowlist (or approved by pairing) | anyone else, in a DM | anyone else, in a channel |
//! |---|---|---|---|
//! | `open` | allow | allow | allow |
//! | `allowlist` (default) | allow | deny (silently) | deny (silently) |
//! | `pairing` | allow | gets a pairing code, nothing else | deny (silently) |
//!
//! An empty allowlist with `allowlist` or `pairing` denies everyone (deny by
//! default). Usernames on the allowlist only count once the Mattermost layer
//! has resolved them to ids through the API: the `sender_name` of an event is
//! display data (webhooks can override it) and is never trusted.
//!
//! Pairing codes: 8 characters from an unambiguous alphabet, valid 1 hour, at
//! most 3 pending at once, at most one new code per user per 10 minutes (a
//! repeat request gets the same code again). No LLM is involved.
//!
//! Pure logic: no I/O. Callers load and store codes and approvals.

use std::collections::HashSet;

use crate::config::DmPolicy;
use crate::store::PairingCode;

/// Alphabet of pairing codes (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 8;
pub const CODE_TTL_MS: u64 = 60 * 60 * 1000;
pub const MAX_PENDING: usize = 3;
pub const CODE_REPEAT_MS: u64 = 10 * 60 * 1000;

/// The allowlist, split into resolved ids and usernames not (yet) resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    pub ids: HashSet<String>,
    /// Lower-case usernames; matched only against API-verified usernames.
    pub names: HashSet<String>,
}

impl AllowList {
    /// Splits config entries: 26-char ids go to `ids`, the rest are usernames.
    pub fn from_entries(entries: &[String]) -> AllowList {
        let mut l = AllowList::default();
        for e in entries {
            let e = e.trim().trim_start_matches('@');
            if e.is_empty() {
                continue;
            }
            if is_mattermost_id(e) {
                l.ids.insert(e.to_string());
            }
            // An id-shaped entry might also be a username; keep both readings.
            l.names.insert(e.to_ascii_lowercase());
        }
        l
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.names.is_empty()
    }

    /// Whether the user is listed, by id or by an API-verified username.
    pub fn contains(&self, user_id: &str, verified_name: Option<&str>) -> bool {
        self.ids.contains(user_id)
            || verified_name.is_some_and(|n| self.names.contains(&n.to_ascii_lowercase()))
    }
}

/// Mattermost ids: 26 characters of `[a-z0-9]`.
pub fn is_mattermost_id(s: &str) -> bool {
    s.len() == 26
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    /// Offer a pairing code (DMs under `pairing` only).
    OfferPairing,
}

/// Decides access. `listed` = on the allowlist or approved by pairing.
pub fn decide(policy: DmPolicy, listed: bool, is_direct: bool) -> Decision {
    match policy {
        DmPolicy::Open => Decision::Allow,
        _ if listed => Decision::Allow,
        DmPolicy::Pairing if is_direct => Decision::OfferPairing,
        _ => Decision::Deny,
    }
}

/// What to do about a pairing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingAction {
    /// Send this new code (the caller stores it).
    New(PairingCode),
    /// The user asked recently; repeat their pending code (nothing to store).
    Repeat(PairingCode),
    /// Too many codes pending; try later.
    Busy,
}

/// Decides whether `user` gets a new code, the same code again, or none.
pub fn pairing_request(
    pending: &[PairingCode],
    now_ms: u64,
    user_id: &str,
    user_name: &str,
    channel_id: &str,
    random: &mut dyn FnMut(&mut [u8]) -> bool,
) -> PairingAction {
    let live: Vec<&PairingCode> = pending.iter().filter(|c| c.expires_at > now_ms).collect();
    if let Some(mine) = live
        .iter()
        .filter(|c| c.user_id == user_id)
        .max_by_key(|c| c.created_at)
        && now_ms.saturating_sub(mine.created_at) < CODE_REPEAT_MS
    {
        return PairingAction::Repeat((*mine).clone());
    }
    let others = live.iter().filter(|c| c.user_id != user_id).count();
    if others >= MAX_PENDING {
        return PairingAction::Busy;
    }
    let mut bytes = [0u8; CODE_LEN];
    if !random(&mut bytes) {
        // Never hand out a predictable code.
        return PairingAction::Busy;
    }
    let code: String = bytes
        .iter()
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    PairingAction::New(PairingCode {
        code,
        user_id: user_id.to_string(),
        user_name: user_name.to_string(),
        channel_id: channel_id.to_string(),
        created_at: now_ms,
        expires_at: now_ms + CODE_TTL_MS,
    })
}

/// Normalises a code typed by an operator (case, spaces, dashes).
pub fn normalise_code(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Fills a buffer from the OS random source; false (and logged) if it failed.
pub fn os_random(buf: &mut [u8]) -> bool {
    match getrandom::fill(buf) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("OS random source failed ({e}); no pairing code issued");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_table() {
        use Decision::*;
        assert_eq!(decide(DmPolicy::Open, false, false), Allow);
        assert_eq!(decide(DmPolicy::Allowlist, true, false), Allow);
        assert_eq!(decide(DmPolicy::Allowlist, false, true), Deny);
        assert_eq!(decide(DmPolicy::Pairing, false, true), OfferPairing);
        assert_eq!(decide(DmPolicy::Pairing, false, false), Deny);
        assert_eq!(decide(DmPolicy::Pairing, true, false), Allow);
    }

    #[test]
    fn allowlist_ids_and_verified_names() {
        let l = AllowList::from_entries(&[
            "@Alice".into(),
            "abcdefghijklmnopqrstuvwxyz".into(),
            " ".into(),
        ]);
        assert!(l.contains("abcdefghijklmnopqrstuvwxyz", None));
        assert!(l.contains("someid", Some("alice")));
        assert!(!l.contains("someid", None));
        assert!(!l.contains("someid", Some("bob")));
        assert!(AllowList::from_entries(&[]).is_empty());
    }

    #[test]
    fn pairing_limits() {
        let mut n = 0u8;
        let mut rnd = |b: &mut [u8]| {
            for x in b.iter_mut() {
                n = n.wrapping_add(7);
                *x = n;
            }
            true
        };
        let t0 = 1_000_000;
        let PairingAction::New(c1) = pairing_request(&[], t0, "u1", "one", "d1", &mut rnd) else {
            panic!("new")
        };
        assert_eq!(c1.code.len(), CODE_LEN);
        assert_eq!(c1.expires_at, t0 + CODE_TTL_MS);
        // Same user within 10 minutes: same code.
        assert_eq!(
            pairing_request(
                std::slice::from_ref(&c1),
                t0 + 1000,
                "u1",
                "one",
                "d1",
                &mut rnd
            ),
            PairingAction::Repeat(c1.clone())
        );
        // After 10 minutes: a new code.
        assert!(matches!(
            pairing_request(
                std::slice::from_ref(&c1),
                t0 + CODE_REPEAT_MS,
                "u1",
                "one",
                "d1",
                &mut rnd
            ),
            PairingAction::New(_)
        ));
        // Three pending codes of others: busy; once they expire: fine.
        let others: Vec<PairingCode> = (0..3)
            .map(|i| PairingCode {
                user_id: format!("o{i}"),
                ..c1.clone()
            })
            .collect();
        assert_eq!(
            pairing_request(&others, t0 + 1, "u9", "nine", "d9", &mut rnd),
            PairingAction::Busy
        );
        assert!(matches!(
            pairing_request(&others, t0 + CODE_TTL_MS + 1, "u9", "nine", "d9", &mut rnd),
            PairingAction::New(_)
        ));
        assert_eq!(normalise_code(" ab-cd efgh "), "ABCDEFGH");
    }
}
