// What a screen says about the last command, and where it says it.
export type Notice = { kind: "ok" | "error"; text: string; near: string };
