// A keyboard-wedge badge reader types the card's UID as hex digits, faster
// than any person, and presses Enter. This tells the two apart from the
// timing of the keys alone, so a reader works whatever has the focus.

/** Keys closer together than this are machine-typed. */
export const MAX_GAP_MS = 35;
/** The shortest UID a wedge types (4 bytes). */
export const MIN_DIGITS = 8;
/** The longest (10 bytes). */
export const MAX_DIGITS = 20;

export type WedgeResult = { kind: "none" } | { kind: "card"; uid: string };

export class WedgeDetector {
  private digits = "";
  private last = -Infinity;

  /** Feed one key press (`KeyboardEvent.key`) at `time` ms. */
  feed(key: string, time: number): WedgeResult {
    const gap = time - this.last;
    this.last = time;
    if (key === "Enter") {
      const uid = this.digits;
      const quick = gap <= MAX_GAP_MS;
      this.digits = "";
      if (quick && uid.length >= MIN_DIGITS && uid.length <= MAX_DIGITS && uid.length % 2 === 0) {
        return { kind: "card", uid: uid.toUpperCase() };
      }
      return { kind: "none" };
    }
    if (/^[0-9a-fA-F]$/.test(key)) {
      // A slow key starts a new sequence: a person is typing.
      this.digits = gap <= MAX_GAP_MS ? this.digits + key : key;
      if (this.digits.length > MAX_DIGITS) this.digits = "";
    } else {
      this.digits = "";
    }
    return { kind: "none" };
  }
}
