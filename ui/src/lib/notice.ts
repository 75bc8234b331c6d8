// What a screen says about the last command, and where it says it.
// `faded`: a success note whose moment has passed. It keeps its place
// (hidden), so that the buttons under it do not move under a finger; the
// next note replaces it.
export type Notice = { kind: "ok" | "error"; text: string; near: string; faded?: boolean };
