//! `classifier`: a learned prompt-injection scanner (hashed word and
//! character n-grams plus a multilingual concept channel, a linear model,
//! scored over windows of the text).
//!
//! Owns turning the model's score into a verdict for one text and source;
//! the features and the model live in [`model`], the model file is
//! `model.bin` (written by `just train-scanner`, embedded at build time).
//! Must not keep state between calls or look at anything but its input.

pub mod model;

#[cfg(all(feature = "corpus", not(target_family = "wasm")))]
pub mod corpus;

wit_bindgen::generate!({ path: "../../../wit", world: "scanner", generate_all });

use std::sync::OnceLock;

use kennel::guest::types::Finding;
use model::{Model, Source};

/// The shipped model (`just train-scanner` writes it).
pub const MODEL: &[u8] = include_bytes!("../model.bin");

/// The embedded model, read in place (the weights are not copied) once per
/// instance.
pub fn shipped() -> Result<&'static Model<'static>, String> {
    static M: OnceLock<Result<Model<'static>, String>> = OnceLock::new();
    M.get_or_init(|| Model::from_bytes(MODEL).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// A verdict without the WIT types (what the quality test uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub level: Level,
    pub score: u32,
    pub excerpt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Allow,
    Flag,
    Block,
}

/// Judges one text with `model` and the model's thresholds for `source`.
pub fn judge(model: &Model, text: &str, source: Source) -> Judgement {
    let text = model::reading(text);
    let (raw, start) = model.raw(&text, source);
    let score = model::percent(raw);
    let t = model.thresholds[source as usize];
    let level = if score >= t.block {
        Level::Block
    } else if score >= t.flag {
        Level::Flag
    } else {
        Level::Allow
    };
    Judgement {
        level,
        score,
        // The start of the highest-scoring window, at most 80 characters.
        excerpt: text[start..]
            .chars()
            .take(80)
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

struct Classifier;

impl Guest for Classifier {
    fn scan(text: String, source: ScanSource) -> Verdict {
        let source = match source {
            ScanSource::UserMessage => Source::UserMessage,
            ScanSource::ToolOutput => Source::ToolOutput,
            ScanSource::Attachment => Source::Attachment,
            ScanSource::ThreadContext => Source::ThreadContext,
        };
        let model = match shipped() {
            Ok(m) => m,
            // A broken build must not pass everything: block, saying why.
            Err(e) => {
                return Verdict::Block(vec![Finding {
                    rule: "classifier-model-invalid".into(),
                    score: 100,
                    excerpt: e,
                }]);
            }
        };
        let j = judge(model, &text, source);
        let findings = vec![Finding {
            rule: "learned-injection".into(),
            score: j.score,
            excerpt: j.excerpt,
        }];
        match j.level {
            Level::Block => Verdict::Block(findings),
            Level::Flag => Verdict::Flag(findings),
            Level::Allow => Verdict::Allow,
        }
    }
}

export!(Classifier);
