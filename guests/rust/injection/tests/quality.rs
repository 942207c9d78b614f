//! Scanner quality on public corpora (fetched by `tests/corpora/fetch.py`,
//! which `just test` runs first). Runs the same `analyse`/`level` code the
//! wasm component runs, natively, and prints a table. Fails when detection
//! drops or false positives rise past the bounds below.

use std::collections::BTreeMap;
use std::path::PathBuf;

use injection::{Level, analyse, level};

fn load(name: &str) -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/corpora/data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `python3 tests/corpora/fetch.py` (or `just test`, which does)",
            path.display()
        )
    });
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("jsonl row");
            (
                v["corpus"].as_str().unwrap_or("").to_string(),
                v["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn detection_and_false_positive_rates() {
    let attacks = load("attacks.jsonl");
    let benign = load("benign.jsonl");
    assert!(
        attacks.len() > 600 && benign.len() > 200_000,
        "corpora look incomplete"
    );
    let mut hits: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new(); // (total, flagged-or-blocked, blocked)
    for (corpus, text) in &attacks {
        let l = level(&analyse(text), false);
        let e = hits.entry(corpus.clone()).or_default();
        e.0 += 1;
        if l != Level::Allow {
            e.1 += 1;
        }
        if l == Level::Block {
            e.2 += 1;
        }
    }
    let mut fps: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut examples = Vec::new();
    for (corpus, text) in &benign {
        let l = level(&analyse(text), false);
        let e = fps.entry(corpus.clone()).or_default();
        e.0 += 1;
        if l != Level::Allow {
            e.1 += 1;
            if examples.len() < 10 {
                examples.push(text.clone());
            }
        }
    }
    println!(
        "{:<30} {:>7} {:>9} {:>9}",
        "attack corpus", "texts", "detected", "blocked"
    );
    let (mut at, mut ad) = (0, 0);
    for (c, (n, d, b)) in &hits {
        println!(
            "{c:<30} {n:>7} {:>8.1}% {:>8.1}%",
            100.0 * *d as f64 / *n as f64,
            100.0 * *b as f64 / *n as f64
        );
        at += n;
        ad += d;
    }
    let detection = ad as f64 / at as f64;
    println!("{:<30} {at:>7} {:>8.1}%", "all attacks", 100.0 * detection);
    println!("{:<30} {:>7} {:>9}", "benign corpus", "texts", "flagged");
    let (mut bt, mut bf) = (0, 0);
    for (c, (n, f)) in &fps {
        println!("{c:<30} {n:>7} {:>8.3}%", 100.0 * *f as f64 / *n as f64);
        bt += n;
        bf += f;
    }
    let fp = bf as f64 / bt as f64;
    println!("{:<30} {bt:>7} {:>8.3}%", "all benign", 100.0 * fp);
    for e in &examples {
        println!(
            "  false positive: {}",
            e.chars().take(120).collect::<String>()
        );
    }
    let wp = fps
        .get("workplace-hard-negatives")
        .copied()
        .unwrap_or((0, 1));
    assert_eq!(wp.1, 0, "workplace hard negatives must stay clean");
    assert!(
        detection >= MIN_DETECTION,
        "detection {:.1}% below {:.1}%",
        detection * 100.0,
        MIN_DETECTION * 100.0
    );
    assert!(
        fp <= MAX_FALSE_POSITIVES,
        "false positives {:.3}% above {:.3}%",
        fp * 100.0,
        MAX_FALSE_POSITIVES * 100.0
    );
}

/// Bounds checked by the test (set from the measured numbers, with a small margin).
const MIN_DETECTION: f64 = 0.79;
const MAX_FALSE_POSITIVES: f64 = 0.0004;
