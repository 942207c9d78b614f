//! The Mattermost channel: REST API v4 client ([`api`]), WebSocket loop
//! ([`ws`]), text rules ([`text`]), the bot that feeds the gateway ([`bot`]),
//! the control socket of a running bot ([`control`]) and `kennel doctor`
//! ([`doctor`]). Knows nothing about agents or wasm: it hands the gateway
//! channel-neutral messages and posts what comes back.

pub mod api;
pub mod bot;
pub mod control;
pub mod doctor;
pub mod files;
pub mod text;
pub mod ws;

pub use bot::{BotError, BotOptions, run};
