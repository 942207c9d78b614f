//! Kennel: a Mattermost host for sandboxed WebAssembly agents, tools and scanners.
//!
//! Layers, top to bottom (nothing points back up):
//! `app`, `init`, `authoring` (assembly, set-up, `kennel new`/`build`) → channels (`mattermost`, `console`) →
//! `gateway` → `policy`, `session`, `routing`, `schedule`, `runtime` →
//! `store`, `config`, `llm`, `report` (read-only texts); `metrics` and
//! `service` (systemd notifications) are leaves every layer may call.

pub mod app;
pub mod authoring;
pub mod config;
pub mod console;
pub mod files;
pub mod gateway;
pub mod init;
pub mod llm;
pub mod mattermost;
pub mod mcp;
pub mod memory;
pub mod metrics;
pub mod policy;
pub mod replace;
pub mod report;
pub mod routing;
pub mod runtime;
pub mod scan;
pub mod schedule;
pub mod service;
pub mod session;
pub mod store;
