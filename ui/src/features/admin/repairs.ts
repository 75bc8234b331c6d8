// The repair board's moves: new → in progress → stalled or resolved; a
// resolved ticket only reopens (to new).
import type { RepairState } from "../../bindings";

export const REPAIR_STATES: RepairState[] = ["new", "in-progress", "stalled", "resolved"];

export function nextStates(state: RepairState): RepairState[] {
  switch (state) {
    case "new":
      return ["in-progress", "stalled", "resolved"];
    case "in-progress":
      return ["stalled", "resolved"];
    case "stalled":
      return ["in-progress", "resolved"];
    case "resolved":
      return ["new", "in-progress"];
  }
}
