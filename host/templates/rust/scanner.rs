//! `{{name}}` scanner: blocks text that carries a secret (a private key or a
//! `password=` assignment) before any agent or model sees it.

wit_bindgen::generate!({ path: "wit", world: "scanner", generate_all });

use kennel::guest::types::Finding;

/// What this scanner blocks: (rule, needle).
const NEEDLES: &[(&str, &str)] = &[
    ("private-key", "BEGIN PRIVATE KEY"),
    ("password", "password="),
];

struct Scanner;

impl Guest for Scanner {
    fn scan(text: String, _source: ScanSource) -> Verdict {
        let found: Vec<Finding> = find(&text)
            .into_iter()
            .map(|(rule, needle)| Finding {
                rule: rule.into(),
                score: 100,
                excerpt: needle.into(),
            })
            .collect();
        if found.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Block(found)
        }
    }
}

export!(Scanner);

/// The rules whose needle occurs in `text`.
pub fn find(text: &str) -> Vec<(&'static str, &'static str)> {
    NEEDLES
        .iter()
        .copied()
        .filter(|(_, needle)| text.contains(needle))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_secrets_only() {
        assert_eq!(super::find("db password=hunter2"), [("password", "password=")]);
        assert!(super::find("what is a password?").is_empty());
    }
}
