// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.
import type { CardRead, StoreChanged, SyncStatus } from "./index";

/** Every event the shell sends, by name, with its payload. */
export type Events = {
  "store-changed": StoreChanged;
  "card-read": CardRead;
  "sync-status": SyncStatus;
};
