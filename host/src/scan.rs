//! `kennel scan`: runs a route's scanner chain (or a list of scanners) over
//! messages read line by line, through the same runtime and chain code as a
//! live route, and prints each verdict — or, with labels, detection and
//! false-positive rates.
//!
//! Owns reading the input format and formatting verdicts; it loads nothing
//! itself (the caller hands it a runtime and a route) and writes nothing
//! but its output.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::gateway::{ChainVerdict, scan_chain};
use crate::routing::Route;
use crate::runtime::{Runtime, types};

/// Bad input lines and labels.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error("line {line}: {message}")]
    Input { line: usize, message: String },
}

/// One message to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    pub source: types::ScanSource,
    /// `Some(true)` for an attack, `Some(false)` for a benign text (from the label field).
    pub label: Option<bool>,
}

/// Reads one input line: a JSON object is read for `text` (and optional
/// `source` and the label field), anything else is one plain-text message.
/// `None` for a blank line.
pub fn parse_line(
    line: &str,
    n: usize,
    label_field: Option<&str>,
) -> Result<Option<Input>, ScanError> {
    let bad = |message: String| ScanError::Input { line: n, message };
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(trimmed) else {
        return Ok(Some(Input {
            text: line.to_string(),
            source: types::ScanSource::UserMessage,
            label: None,
        }));
    };
    let text = obj
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a JSON line needs a string field `text`".into()))?
        .to_string();
    let source = match obj.get("source").and_then(Value::as_str) {
        None => types::ScanSource::UserMessage,
        Some(s) => source_named(s).ok_or_else(|| {
            bad(format!(
                "unknown source `{s}` (user-message, attachment, tool-output, thread-context)"
            ))
        })?,
    };
    let label = match label_field {
        None => None,
        Some(f) => Some(label_of(obj.get(f)).ok_or_else(|| {
            bad(format!(
                "label field `{f}` must be true/false, 1/0, or attack/injection/malicious vs benign/safe"
            ))
        })?),
    };
    Ok(Some(Input {
        text,
        source,
        label,
    }))
}

fn source_named(s: &str) -> Option<types::ScanSource> {
    Some(match s.replace('_', "-").as_str() {
        "user-message" | "user" => types::ScanSource::UserMessage,
        "attachment" => types::ScanSource::Attachment,
        "tool-output" | "tool" => types::ScanSource::ToolOutput,
        "thread-context" | "thread" => types::ScanSource::ThreadContext,
        _ => return None,
    })
}

fn label_of(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().and_then(|n| match n {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "attack" | "injection" | "malicious" | "jailbreak" | "positive" => {
                Some(true)
            }
            "0" | "false" | "benign" | "safe" | "negative" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A verdict as `kennel scan` reports it.
#[derive(Debug, Clone)]
pub struct Judged {
    /// `allow`, `flag` or `block`.
    pub verdict: &'static str,
    /// Highest finding score (0 when allowed).
    pub score: u32,
    /// The blocking scanner, or the first that flagged.
    pub scanner: Option<String>,
    /// (scanner, finding) in chain order.
    pub findings: Vec<(String, types::Finding)>,
}

impl Judged {
    fn of(v: ChainVerdict) -> Judged {
        let (verdict, findings): (&'static str, Vec<(String, types::Finding)>) = match v {
            ChainVerdict::Allow => ("allow", Vec::new()),
            ChainVerdict::Flag(flags) => (
                "flag",
                flags
                    .into_iter()
                    .flat_map(|f| {
                        let s = f.scanner;
                        f.findings.into_iter().map(move |x| (s.clone(), x))
                    })
                    .collect(),
            ),
            ChainVerdict::Block { scanner, findings } => (
                "block",
                findings.into_iter().map(|x| (scanner.clone(), x)).collect(),
            ),
        };
        Judged {
            verdict,
            score: findings.iter().map(|(_, f)| f.score).max().unwrap_or(0),
            scanner: findings.first().map(|(s, _)| s.clone()),
            findings,
        }
    }

    /// One JSON object: `verdict`, `score`, `scanner`, `findings`.
    pub fn to_json(&self) -> Value {
        json!({
            "verdict": self.verdict,
            "score": self.score,
            "scanner": self.scanner,
            "findings": self.findings.iter().map(|(s, f)| json!({
                "scanner": s, "rule": f.rule, "score": f.score, "excerpt": f.excerpt,
            })).collect::<Vec<_>>(),
        })
    }

    /// One line: verdict, scanner, score, findings, and the text's start.
    pub fn to_line(&self, text: &str) -> String {
        let mut out = format!("{:<5}", self.verdict.to_ascii_uppercase());
        if let Some(s) = &self.scanner {
            let _ = write!(out, " {s} score {}", self.score);
        }
        for (_, f) in &self.findings {
            let _ = write!(out, " [{} {}: {:?}]", f.rule, f.score, f.excerpt);
        }
        let start: String = text.chars().take(60).collect();
        let more = if text.chars().count() > 60 { "…" } else { "" };
        let _ = write!(out, " | {}{more}", start.replace('\n', " "));
        out
    }
}

/// Judges one message with the route's chain.
pub async fn judge(rt: &Runtime, route: &Route, input: &Input) -> Judged {
    Judged::of(scan_chain(rt, route, &input.text, input.source).await)
}

/// Counts for `--summary`: attacks caught and benign texts stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub attacks: u64,
    /// Attacks flagged or blocked.
    pub detected: u64,
    /// Attacks blocked.
    pub blocked: u64,
    pub benign: u64,
    /// Benign texts flagged or blocked.
    pub false_positives: u64,
    /// Benign texts blocked.
    pub benign_blocked: u64,
    pub unlabelled: u64,
}

impl Summary {
    /// Counts one verdict: flag and block both count as caught; blocks also
    /// on their own.
    pub fn add(&mut self, label: Option<bool>, j: &Judged) {
        let caught = u64::from(j.verdict != "allow");
        let blocked = u64::from(j.verdict == "block");
        match label {
            Some(true) => {
                self.attacks += 1;
                self.detected += caught;
                self.blocked += blocked;
            }
            Some(false) => {
                self.benign += 1;
                self.false_positives += caught;
                self.benign_blocked += blocked;
            }
            None => self.unlabelled += 1,
        }
    }

    pub fn report(&self) -> String {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                "-".to_string()
            } else {
                format!("{:.1} %", 100.0 * a as f64 / b as f64)
            }
        };
        format!(
            "attacks  {:>6}  detected        {:>6}  ({})  blocked {:>6}  ({})\n\
             benign   {:>6}  false positives {:>6}  ({})  blocked {:>6}  ({})\n",
            self.attacks,
            self.detected,
            pct(self.detected, self.attacks),
            self.blocked,
            pct(self.blocked, self.attacks),
            self.benign,
            self.false_positives,
            pct(self.false_positives, self.benign),
            self.benign_blocked,
            pct(self.benign_blocked, self.benign),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_objects_or_plain_text() {
        let i = parse_line("hello there", 1, None).unwrap().unwrap();
        assert_eq!((i.text.as_str(), i.label), ("hello there", None));
        let i = parse_line(
            r#"{"text":"x","source":"tool-output","label":"attack"}"#,
            2,
            Some("label"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(i.source, types::ScanSource::ToolOutput);
        assert_eq!(i.label, Some(true));
        assert_eq!(parse_line("   ", 3, None), Ok(None));
        // A JSON array or string is plain text; an object without text is an error.
        assert_eq!(parse_line("[1,2]", 4, None).unwrap().unwrap().text, "[1,2]");
        assert!(parse_line(r#"{"body":"x"}"#, 5, None).is_err());
        assert!(parse_line(r#"{"text":"x","source":"email"}"#, 6, None).is_err());
        assert!(parse_line(r#"{"text":"x","label":"maybe"}"#, 7, Some("label")).is_err());
        assert_eq!(
            parse_line(r#"{"text":"x","is_attack":0}"#, 8, Some("is_attack"))
                .unwrap()
                .unwrap()
                .label,
            Some(false)
        );
    }

    #[test]
    fn rates_count_flags_and_blocks_as_caught() {
        let judged = |v: &'static str| Judged {
            verdict: v,
            score: 0,
            scanner: None,
            findings: vec![],
        };
        let mut s = Summary::default();
        s.add(Some(true), &judged("block"));
        s.add(Some(true), &judged("flag"));
        s.add(Some(true), &judged("allow"));
        s.add(Some(false), &judged("allow"));
        s.add(Some(false), &judged("flag"));
        s.add(None, &judged("allow"));
        assert_eq!(
            s,
            Summary {
                attacks: 3,
                detected: 2,
                blocked: 1,
                benign: 2,
                false_positives: 1,
                benign_blocked: 0,
                unlabelled: 1
            }
        );
        let r = s.report();
        assert!(r.contains("(66.7 %)  blocked      1  (33.3 %)"), "{r}");
        assert!(r.contains("(50.0 %)  blocked      0  (0.0 %)"), "{r}");
    }
}
