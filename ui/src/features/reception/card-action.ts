// What a badge card read means at reception: admit the chosen guest with
// it, take it back from the guest who has it, or hold it until the
// receptionist picks a guest.
import type { CardRead, Visit, VisitId } from "../../bindings";
import { refusalWords } from "../../lib/refusal";

export type CardAction =
  | { kind: "admit"; visit: VisitId; card: number }
  | { kind: "release"; visit: Visit; card: number }
  | { kind: "hold"; card: number }
  | { kind: "problem"; message: string };

export function cardAction(read: CardRead, selected: VisitId | null, guestsIn: Visit[]): CardAction {
  if (!read.card) return { kind: "problem", message: read.problem ? refusalWords(read.problem) : "" };
  const number = read.card.number;
  if (selected) return { kind: "admit", visit: selected, card: number };
  const holder = guestsIn.find((v) => v.state.state === "admitted" && v.state.card === number);
  if (holder) return { kind: "release", visit: holder, card: number };
  return { kind: "hold", card: number };
}
