//! Test-only tool: `{"mode": …}` selects a misbehaviour so the runtime's
//! limits can be tested. Modes: `ok`, `loop`, `alloc` (1 GiB), `trap`,
//! `print` (16 MiB to stdout), `stderr` (a few lines), `echo` (returns the arguments),
//! `log` (floods the host's `log` import), `big` (returns 1 MiB), `ambient`
//! (tries files, directories, the environment, arguments and a socket, and
//! reports what it got), `scribble` (fills a 2 MiB static buffer and bumps a
//! static counter), `peek` (reports the counter and how many bytes of the
//! buffer are not zero: a fresh instance must see `1` and `0`).

wit_bindgen::generate!({ path: "../../../wit", world: "tool", generate_all });

struct Misbehave;

/// Bigger than the host's keep-resident size, so a reused memory slot is
/// reset both ways (rewritten in place, and released).
const BUF_LEN: usize = 2 << 20;
static mut BUF: [u8; BUF_LEN] = [0; BUF_LEN];
static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Calls of this instance so far (this one included).
fn count_call() -> u32 {
    CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

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
        } else if arguments.contains("\"log\"") {
            let line = "y".repeat(1000);
            for _ in 0..100_000 {
                kennel::guest::log::log(kennel::guest::log::Level::Info, &line);
            }
            Ok("logged".into())
        } else if arguments.contains("\"big\"") {
            Ok("z".repeat(1 << 20))
        } else if arguments.contains("\"ambient\"") {
            let file = std::fs::read_to_string("/etc/passwd").is_ok();
            let dir = std::fs::read_dir("/").map(|d| d.count()).unwrap_or(0);
            let cwd = std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0);
            let env = std::env::vars().count();
            let args = std::env::args().count();
            let socket = std::net::TcpStream::connect("127.0.0.1:9").is_ok();
            let create = std::fs::write("planted.txt", "x").is_ok();
            Ok(format!(
                "{{\"file\":{file},\"dir\":{dir},\"cwd\":{cwd},\"env\":{env},\"args\":{args},\"socket\":{socket},\"create\":{create}}}"
            ))
        } else if arguments.contains("\"scribble\"") {
            count_call();
            let buf = &raw mut BUF;
            // SAFETY: one call runs at a time in an instance (no threads).
            unsafe { std::ptr::write_bytes(buf.cast::<u8>(), 0xAB, BUF_LEN) };
            Ok("scribbled".into())
        } else if arguments.contains("\"peek\"") {
            let calls = count_call();
            let buf = &raw const BUF;
            // SAFETY: as above; the buffer is initialised (zeros or 0xAB).
            let dirty = (0..BUF_LEN)
                .filter(|i| unsafe { std::ptr::read_volatile(buf.cast::<u8>().add(*i)) } != 0)
                .count();
            Ok(format!("{{\"calls\":{calls},\"dirty\":{dirty}}}"))
        } else if arguments.contains("\"stderr\"") {
            eprintln!("hello from stderr");
            Ok("ok".into())
        } else {
            Ok("ok".into())
        }
    }
}

export!(Misbehave);
