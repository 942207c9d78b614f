//! Message text rules: is the bot addressed, stripping the mention, and
//! splitting long replies to the server's limit.
//!
//! | rule | behaviour |
//! |---|---|
//! | mention | `mentions` contains the bot id, or `@username` at a word boundary (case-insensitive, not followed by a username character: `@kennelbot2` is not `@kennelbot`) |
//! | `@channel` `@all` `@here` | count only with `channel_wide_mentions = true` (the server lists the bot as mentioned for them) |
//! | split | ≤ 16383 runes per post; cut at a paragraph, else a line, else a word; never inside a code fence (it is closed and reopened); parts numbered `(i/n)` |
//!
//! Pure functions; no I/O.

/// Mattermost's default maximum message length, in runes (code points).
pub const MAX_RUNES: usize = 16383;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Byte ranges of `@username` mentions at word boundaries.
pub fn find_mentions(text: &str, username: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    if username.is_empty() {
        return out;
    }
    let lower = text.to_ascii_lowercase();
    let needle = format!("@{}", username.to_ascii_lowercase());
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        from = end;
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'));
        let rest = &lower[end..];
        let mut chars = rest.chars();
        let after_ok = match chars.next() {
            None => true,
            // "@bot." at the end of a sentence still mentions the bot; "@bot.x" does not.
            Some('.') | Some('-') | Some('_') => chars.next().is_none_or(|c| !is_name_char(c)),
            Some(c) => !is_name_char(c),
        };
        if before_ok && after_ok {
            out.push(start..end);
        }
    }
    out
}

/// Whether a channel/group post addresses the bot.
pub fn is_addressed(
    text: &str,
    mentions: &[String],
    my_id: &str,
    username: &str,
    channel_wide: bool,
) -> bool {
    if !find_mentions(text, username).is_empty() {
        return true;
    }
    let wide = ["channel", "all", "here"]
        .iter()
        .any(|w| !find_mentions(text, w).is_empty());
    if wide {
        return channel_wide;
    }
    // Listed by the server for another reason (mention keys, first name).
    mentions.iter().any(|m| m == my_id)
}

/// Decodes the `mentions` field: a JSON string holding an array of ids.
pub fn parse_mentions(field: Option<&serde_json::Value>) -> Vec<String> {
    match field {
        Some(serde_json::Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Removes `@username` mentions and tidies the whitespace around them.
pub fn strip_mention(text: &str, username: &str) -> String {
    let ranges = find_mentions(text, username);
    if ranges.is_empty() {
        return text.trim().to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in ranges {
        out.push_str(&text[last..r.start]);
        last = r.end;
        // Drop a ':' or ',' right after the mention ("@bot: hi").
        if let Some(c) = text[last..].chars().next()
            && (c == ':' || c == ',')
        {
            last += 1;
        }
    }
    out.push_str(&text[last..]);
    let collapsed: Vec<&str> = out.split(' ').filter(|s| !s.is_empty()).collect();
    collapsed.join(" ").trim().to_string()
}

/// Splits a reply into posts of at most `max` runes (numbered when split).
pub fn split(text: &str, max: usize) -> Vec<String> {
    split_limited(text, max, usize::MAX)
}

/// The post that stands for an answer sent as the file `file`: its first
/// paragraphs (about 1,500 characters) and a line that names the file.
pub fn summary(text: &str, file: &str) -> String {
    const HEAD: usize = 1500;
    let total = text.chars().count();
    let head: String = text.chars().take(HEAD).collect();
    let head = match head.rfind("\n\n") {
        Some(i) if i > HEAD / 3 => &head[..i],
        _ => head.as_str(),
    };
    let mut head = head.trim_end().to_string();
    if open_fence(&head).is_some() {
        head.push_str("\n```");
    }
    format!("{head}\n\n_(The full answer, {total} characters, is attached as `{file}`.)_")
}

/// Like [`split`], but never more than `max_parts` posts: the rest of the
/// text is cut and the last post says so. `max` must leave room for the
/// closers and the note (≥ 200; the server's limit is 16383).
pub fn split_limited(text: &str, max: usize, max_parts: usize) -> Vec<String> {
    if text.chars().count() <= max {
        return vec![text.to_string()];
    }
    let mut parts = split_raw(text, max);
    let max_parts = max_parts.max(1);
    if parts.len() > max_parts {
        parts.truncate(max_parts);
        let note =
            format!("\n\n_(The answer was cut here: it was longer than {max_parts} posts.)_");
        if let Some(last) = parts.last_mut() {
            let room = max.saturating_sub(64 + note.chars().count());
            if last.chars().count() > room {
                *last = last.chars().take(room).collect();
            }
            if let Some(fence) = open_fence(last) {
                let _ = fence;
                last.push_str("\n```");
            }
            last.push_str(&note);
        }
    }
    let n = parts.len();
    if n == 1 {
        return parts;
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("{p}\n({}/{n})", i + 1))
        .collect()
}

fn split_raw(text: &str, max: usize) -> Vec<String> {
    // Room for "\n```" closers, a reopened fence line and " (i/n)".
    let budget = max.saturating_sub(64).max(16);
    let mut parts: Vec<String> = Vec::new();
    let mut rest: &str = text;
    let mut reopen: Option<String> = None;
    while !rest.is_empty() {
        let prefix = reopen.take().map(|f| format!("{f}\n")).unwrap_or_default();
        let room = budget.saturating_sub(prefix.chars().count()).max(8);
        let (head, tail) = if rest.chars().count() <= room {
            (rest, "")
        } else {
            rest.split_at(cut_point(rest, room))
        };
        let mut part = format!("{prefix}{head}");
        if let Some(fence) = open_fence(&part)
            && !tail.is_empty()
        {
            if !part.ends_with('\n') {
                part.push('\n');
            }
            part.push_str("```");
            reopen = Some(fence);
        }
        parts.push(part.trim_end().to_string());
        rest = tail.trim_start_matches('\n');
    }
    parts
}

/// Byte index to cut `s` so the head has at most `room` runes: the last
/// paragraph break, else line break, else space, else a hard cut.
fn cut_point(s: &str, room: usize) -> usize {
    let limit = s
        .char_indices()
        .nth(room)
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let window = &s[..limit];
    let min = limit / 3; // do not cut absurdly early
    for sep in ["\n\n", "\n", " "] {
        if let Some(i) = window.rfind(sep)
            && i > min
        {
            return i + sep.len();
        }
    }
    limit
}

/// What reopens a fence: the backticks and a short language tag only, never
/// the rest of the opening line (which may be arbitrarily long).
fn fence_marker(line: &str) -> String {
    let info = line.trim_start_matches('`');
    let lang: String = info
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.' | '#'))
        .take(20)
        .collect();
    format!("```{lang}")
}

/// The opening fence (e.g. "```rust") if `s` ends inside a code block.
fn open_fence(s: &str) -> Option<String> {
    let mut open: Option<String> = None;
    for line in s.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            open = match open {
                Some(_) => None,
                None => Some(fence_marker(t)),
            };
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_at_word_boundaries_only() {
        assert_eq!(find_mentions("hi @KennelBot how", "kennelbot").len(), 1);
        assert!(find_mentions("hi @kennelbot2", "kennelbot").is_empty());
        assert!(find_mentions("hi @kennelbot_x", "kennelbot").is_empty());
        assert!(find_mentions("mail me@kennelbot", "kennelbot").is_empty());
        assert_eq!(find_mentions("thanks @kennelbot.", "kennelbot").len(), 1);
        assert!(find_mentions("@kennelbot.team", "kennelbot").is_empty());
        assert_eq!(find_mentions("(@kennelbot)", "kennelbot").len(), 1);
    }

    #[test]
    fn addressing_rules() {
        let me = "botid".to_string();
        assert!(is_addressed(
            "@kennelbot hi",
            &[],
            "botid",
            "kennelbot",
            false
        ));
        assert!(!is_addressed(
            "@kennelbot2 hi",
            &[],
            "botid",
            "kennelbot",
            false
        ));
        assert!(is_addressed(
            "hey bot",
            std::slice::from_ref(&me),
            "botid",
            "kennelbot",
            false
        ));
        assert!(!is_addressed(
            "@channel standup!",
            std::slice::from_ref(&me),
            "botid",
            "kennelbot",
            false
        ));
        assert!(is_addressed(
            "@here standup!",
            std::slice::from_ref(&me),
            "botid",
            "kennelbot",
            true
        ));
        assert!(!is_addressed(
            "plain text",
            &[],
            "botid",
            "kennelbot",
            false
        ));
        assert_eq!(
            parse_mentions(Some(&serde_json::json!("[\"a\",\"b\"]"))),
            vec!["a", "b"]
        );
        assert!(parse_mentions(Some(&serde_json::json!("not json"))).is_empty());
    }

    #[test]
    fn strips_the_mention() {
        assert_eq!(
            strip_mention("@kennelbot: what is 2+2?", "kennelbot"),
            "what is 2+2?"
        );
        assert_eq!(
            strip_mention("hey @KennelBot, /reset", "kennelbot"),
            "hey /reset"
        );
        assert_eq!(
            strip_mention("@kennelbot /sethome", "kennelbot"),
            "/sethome"
        );
        assert_eq!(
            strip_mention("ask @kennelbot2 instead", "kennelbot"),
            "ask @kennelbot2 instead"
        );
    }

    #[test]
    fn splits_long_text_with_fences_and_numbers() {
        assert_eq!(split("short", MAX_RUNES), vec!["short"]);
        let para = "word ".repeat(1000);
        let text = format!("{para}\n\n{para}\n\n{para}\n\n{para}");
        let parts = split(&text, MAX_RUNES);
        assert!(parts.len() >= 2);
        for (i, p) in parts.iter().enumerate() {
            assert!(p.chars().count() <= MAX_RUNES, "part {i} too long");
            assert!(p.ends_with(&format!("({}/{})", i + 1, parts.len())));
        }
        // Multi-byte text is counted in runes, not bytes.
        let emoji = "é".repeat(40_000);
        for p in split(&emoji, MAX_RUNES) {
            assert!(p.chars().count() <= MAX_RUNES);
        }
        // A long code block is closed and reopened across parts.
        let code = format!("intro\n```rust\n{}```\noutro", "let x = 1;\n".repeat(3000));
        let parts = split(&code, MAX_RUNES);
        assert!(parts.len() >= 2);
        for p in &parts {
            assert_eq!(
                p.matches("```").count() % 2,
                0,
                "unbalanced fence in part: {}",
                &p[p.len().saturating_sub(80)..]
            );
            assert!(p.chars().count() <= MAX_RUNES);
        }
        assert!(parts[1].starts_with("```rust\n"));
        // No content is lost.
        let joined: String = parts
            .iter()
            .map(|p| p.replace("```rust\n", "").replace("```", ""))
            .collect();
        assert_eq!(joined.matches("let x = 1;").count(), 3000);
    }

    #[test]
    fn a_huge_fenced_line_makes_few_posts() {
        // 20,000 characters on the opening fence line itself, then inside the block.
        let text = format!("```{}\n{}\n```", "x".repeat(20_000), "y".repeat(20_000));
        let parts = split(&text, MAX_RUNES);
        assert!(parts.len() <= 3, "{} parts", parts.len());
        for p in &parts {
            assert!(p.chars().count() <= MAX_RUNES);
        }
        let one_line = format!("```\n{}\n```", "z".repeat(20_000));
        assert!(split(&one_line, MAX_RUNES).len() <= 3);
    }

    #[test]
    fn parts_are_capped_with_a_note() {
        let text = "word ".repeat(40_000); // 200,000 characters
        let parts = split_limited(&text, MAX_RUNES, 8);
        assert_eq!(parts.len(), 8);
        assert!(parts[7].contains("longer than 8 posts"));
        assert!(parts[7].ends_with("(8/8)"));
        for p in &parts {
            assert!(p.chars().count() <= MAX_RUNES);
        }
        let fenced = format!("```rust\n{}", "let x = 1;\n".repeat(20_000));
        let parts = split_limited(&fenced, MAX_RUNES, 2);
        assert_eq!(parts.len(), 2);
        assert!(
            parts[1].contains("```\n\n_(The answer was cut"),
            "{}",
            &parts[1][parts[1].len() - 200..]
        );
    }

    proptest::proptest! {
        // `just fuzz` raises PROPTEST_CASES.
        #[test]
        fn split_never_panics_and_respects_the_limits(
            text in "(```[a-z]{0,30}\n|[a-zé ]{0,80}\n{0,2}|x{0,300}){0,16}",
            max in 200usize..1000,
            parts in 1usize..12,
        ) {
            let out = split_limited(&text, max, parts);
            proptest::prop_assert!(out.len() <= parts.max(1));
            for p in &out {
                proptest::prop_assert!(p.chars().count() <= max, "{} > {max}", p.chars().count());
            }
        }

        #[test]
        fn mention_helpers_never_panic(text in "\\PC{0,200}", name in "[a-z@.]{0,12}") {
            let _ = strip_mention(&text, &name);
            let _ = is_addressed(&text, &[], "id", &name, true);
        }
    }
}
