//! The console channel (`kennel chat`): feeds the same gateway pipeline from
//! stdin, so everything but the Mattermost transport can be used and tested
//! without a server.
//!
//! With stdin not a terminal it reads one message per line, prints each reply
//! and exits at EOF (scriptable). With a terminal it shows a prompt. The local
//! operator is trusted: the access gate does not apply here. `/attach PATH`
//! adds a file to the next message (read with the same caps as Mattermost
//! files); reply files are written to `--out DIR`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use tokio::io::AsyncBufReadExt;

use crate::gateway::{
    Admitted, Attachment, Gateway, GatewayError, Incoming, OutcomeKind, ReplyFile,
};
use crate::routing::{ChannelInfo, ChannelKind};
use crate::store::now_ms;

/// What `kennel chat` was started with.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Channel name the console pretends to be (routes match on it).
    pub channel: String,
    pub user: String,
    /// Where reply files are written; `None` lists them only.
    pub out: Option<PathBuf>,
}

/// Runs the console until EOF.
pub async fn run(gateway: &Gateway, opts: &ConsoleOptions) -> Result<(), GatewayError> {
    let interactive = std::io::stdin().is_terminal();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut n: u64 = 0;
    let mut pending: Vec<Attachment> = Vec::new();
    loop {
        if interactive {
            print!("{}> ", opts.user);
            let _ = std::io::stdout().flush();
        }
        let line = match lines.next_line().await {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                tracing::error!("cannot read stdin: {e}");
                break;
            }
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if let Some(path) = text.strip_prefix("/attach ") {
            match attach(gateway, Path::new(path.trim())).await {
                Ok(a) => {
                    println!("(attached {} to your next message)", a.name);
                    pending.push(a);
                }
                Err(e) => println!("(cannot attach {}: {e})", path.trim()),
            }
            continue;
        }
        n += 1;
        let msg = Incoming {
            post_id: format!("console-{}-{n}", now_ms()),
            text: text.to_string(),
            user_id: opts.user.clone(),
            user_name: opts.user.clone(),
            channel: ChannelInfo {
                id: opts.channel.clone(),
                name: opts.channel.clone(),
                display_name: opts.channel.clone(),
                kind: ChannelKind::Console,
                team: None,
            },
            root_id: None,
            attachments: std::mem::take(&mut pending),
            thread: Vec::new(),
            admin: true,
        };
        let mut outcome = gateway.handle(Admitted::console(msg), None).await?;
        if let Some(record) = outcome.record.take() {
            gateway.store().record_turn(record).await?;
        }
        match outcome.kind {
            OutcomeKind::NoRoute => println!(
                "(no route serves channel \"{}\"; nothing answered)",
                opts.channel
            ),
            _ => println!("{}", outcome.text),
        }
        for f in &outcome.files {
            println!("{}", save(opts.out.as_deref(), f));
        }
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

/// Reads a local file as an attachment, with the `[files]` caps.
async fn attach(gateway: &Gateway, path: &Path) -> Result<Attachment, String> {
    let files = gateway.settings().config.files.clone();
    let meta = tokio::fs::metadata(path).await.map_err(|e| e.to_string())?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mime = crate::files::mime_for(&name);
    if meta.len() > files.max_file_bytes() {
        return Ok(Attachment::skipped(
            &name,
            mime,
            meta.len(),
            &format!("not read (over the {} MiB file limit)", files.max_file_mb),
        ));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
    Ok(Attachment::read(&name, mime, bytes, files.max_text_chars).await)
}

/// Writes a reply file into `out` (never outside it); the line to print.
fn save(out: Option<&Path>, f: &ReplyFile) -> String {
    let Some(dir) = out else {
        return format!(
            "[file {} ({}, {} bytes) — start with --out DIR to save files]",
            f.name,
            f.mime_type,
            f.bytes.len()
        );
    };
    let path = dir.join(&f.name);
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &f.bytes));
    match written {
        Ok(()) => format!("[file saved: {} ({} bytes)]", path.display(), f.bytes.len()),
        Err(e) => format!("[file {} not saved: {e}]", f.name),
    }
}
