//! Feedback reactions (table `feedback`): one vote per user and bot post,
//! 👍 or 👎, with the route and agent that wrote the post. A later vote by
//! the same user on the same post replaces the earlier one; removing the
//! reaction removes the vote.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Store, db, decode, encode};

/// (bot post id, user id) → [`Vote`].
pub(super) const FEEDBACK: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("feedback");

/// One user's vote on one bot post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub route: String,
    pub agent: String,
    pub up: bool,
    pub at: u64,
}

impl Store {
    /// Records (or replaces) a user's vote on a bot post.
    pub async fn feedback_set(&self, post_id: &str, user_id: &str, vote: Vote) -> Result<()> {
        let (post_id, user_id) = (post_id.to_string(), user_id.to_string());
        self.writer
            .write(move |tx| {
                let bytes = encode(&vote)?;
                let mut t = tx.open_table(FEEDBACK).map_err(db)?;
                t.insert((post_id.as_str(), user_id.as_str()), bytes.as_slice())
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    /// Removes a user's vote on a post if it is `up` (the reaction removed
    /// is the one recorded); true when one was removed.
    pub async fn feedback_remove(&self, post_id: &str, user_id: &str, up: bool) -> Result<bool> {
        let (post_id, user_id) = (post_id.to_string(), user_id.to_string());
        self.writer
            .write(move |tx| {
                let mut t = tx.open_table(FEEDBACK).map_err(db)?;
                let key = (post_id.as_str(), user_id.as_str());
                let same = match t.get(key).map_err(db)? {
                    Some(v) => decode::<Vote>(v.value())?.up == up,
                    None => false,
                };
                if same {
                    t.remove(key).map_err(db)?;
                }
                Ok(same)
            })
            .await
    }

    /// Every vote.
    pub fn feedback_votes(&self) -> Result<Vec<Vote>> {
        self.read(|tx| {
            let t = tx.open_table(FEEDBACK).map_err(db)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(db)? {
                let (_, v) = row.map_err(db)?;
                out.push(decode(v.value())?);
            }
            Ok(out)
        })
    }
}
