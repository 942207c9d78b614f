//! Test-only tool: `{"mode": …}` selects a misbehaviour so the runtime's
//! limits can be tested. Modes: `ok`, `loop`, `alloc` (1 GiB), `trap`,
//! `print` (16 MiB to stdout), `stderr` (a few lines), `echo` (returns the arguments).

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

struct Misbehave;

impl Guest for Misbehave {
    fn describe() -> ToolSpec {
        ToolSpec {
            name: "misbehave".into(),
            description: "test guest".into(),
            parameters: "{}".into(),
        }
    }

    fn invoke(arguments: String) -> Result<String, String> {
        if arguments.contains("\"loop\"") {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        } else if arguments.contains("\"alloc\"") {
            let v: Vec<u8> = vec![1u8; 1 << 30];
            Ok(format!("allocated {}", std::hint::black_box(&v).len()))
        } else if arguments.contains("\"trap\"") {
            panic!("deliberate trap");
        } else if arguments.contains("\"print\"") {
            let line = "x".repeat(1023);
            for _ in 0..(16 * 1024) {
                println!("{line}");
            }
            Ok("printed".into())
        } else if arguments.contains("\"echo\"") {
            // Returns its arguments verbatim (tests of tool-output scanning).
            Ok(arguments)
        } else if arguments.contains("\"stderr\"") {
            eprintln!("hello from stderr");
            Ok("ok".into())
        } else {
            Ok("ok".into())
        }
    }
}

export!(Misbehave);
