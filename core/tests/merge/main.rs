//! Replicas of one site merging through `automerge::sync` messages: offline
//! edits that break invariants together become the same conflict on every
//! replica; things follow the physical rule; purged guests stay purged.

mod announcements;
mod convergence;
mod replicas;
mod roll_calls;
mod scenarios;
