//! Kennel: a Mattermost host for sandboxed WebAssembly agents, tools and scanners.
//!
//! Layers, top to bottom (nothing points back up):
//! `cli` → channels (`mattermost`, `console`) → `gateway` → `policy`,
//! `session`, `routing`, `runtime` → `store`, `config`, `llm`.

pub mod config;
pub mod runtime;
pub mod store;
