// The sync status, shared by the indicator and the screens that mark
// records "not yet sent".
import type { SyncStatus } from "../bindings";

export const sync = $state<{ status: SyncStatus | null }>({ status: null });

/** Whether a record made at `at` has probably not reached the server yet. */
export function notYetSent(at: number, status: SyncStatus | null): boolean {
  if (!status) return false;
  return status.waiting > 0 && (status.last_sync === null || at > status.last_sync);
}
