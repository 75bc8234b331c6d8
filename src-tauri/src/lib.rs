//! `lodge-app`: the Tauri 2 shell around `lodge-core` (issue #4 builds it).
//! Until then this crate only re-exports the core so the workspace has the
//! design's shape.

pub use lodge_core as core;
