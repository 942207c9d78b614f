//! Test-only scanner. Text containing `TRAP` traps, `LOOP` loops forever,
//! `FLAGME` is flagged, `BLOCKME` is blocked; everything else is allowed.

wit_bindgen::generate!({ path: "../../../wit", world: "scanner", generate_all });

use kennel::guest::types::Finding;

struct Bad;

impl Guest for Bad {
    fn scan(text: String, _source: ScanSource) -> Verdict {
        if text.contains("TRAP") {
            panic!("scanner trap requested");
        }
        if text.contains("LOOP") {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        let finding = |rule: &str| Finding {
            rule: rule.into(),
            score: 50,
            excerpt: text.chars().take(40).collect(),
        };
        if text.contains("FLAGME") {
            return Verdict::Flag(vec![finding("test-flag")]);
        }
        if text.contains("BLOCKME") {
            return Verdict::Block(vec![finding("test-block")]);
        }
        Verdict::Allow
    }
}

export!(Bad);
