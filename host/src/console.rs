//! The console channel (`kennel chat`): feeds the same gateway pipeline from
//! stdin, so everything but the Mattermost transport can be used and tested
//! without a server.
//!
//! With stdin not a terminal it reads one message per line, prints each reply
//! and exits at EOF (scriptable). With a terminal it shows a prompt. The local
//! operator is trusted: the access gate does not apply here.

use std::io::{IsTerminal, Write};

use tokio::io::AsyncBufReadExt;

use crate::gateway::{Admitted, Gateway, GatewayError, Incoming, OutcomeKind};
use crate::routing::{ChannelInfo, ChannelKind};
use crate::store::now_ms;

/// Runs the console until EOF.
pub async fn run(gateway: &Gateway, channel: &str, user: &str) -> Result<(), GatewayError> {
    let interactive = std::io::stdin().is_terminal();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut n: u64 = 0;
    loop {
        if interactive {
            print!("{user}> ");
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
        n += 1;
        let msg = Incoming {
            post_id: format!("console-{}-{n}", now_ms()),
            text: text.to_string(),
            user_id: user.to_string(),
            user_name: user.to_string(),
            channel: ChannelInfo {
                id: channel.to_string(),
                name: channel.to_string(),
                display_name: channel.to_string(),
                kind: ChannelKind::Console,
                team: None,
            },
            root_id: None,
            attachments: vec![],
            admin: true,
        };
        let mut outcome = gateway.handle(Admitted::console(msg), None).await?;
        if let Some(record) = outcome.record.take() {
            gateway.store().record_turn(record).await?;
        }
        match outcome.kind {
            OutcomeKind::NoRoute => {
                println!("(no route serves channel \"{channel}\"; nothing answered)")
            }
            _ => println!("{}", outcome.text),
        }
        let _ = std::io::stdout().flush();
    }
    Ok(())
}
