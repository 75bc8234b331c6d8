// The phone's NFC chip, through the Tauri NFC plugin. On a desktop the
// plugin does not exist; the PC/SC reader, a wedge or typing are used there.
import { isAvailable, scan } from "@tauri-apps/plugin-nfc";

export async function nfcAvailable(): Promise<boolean> {
  try {
    return await isAvailable();
  } catch {
    return false;
  }
}

/** Wait for a card on the phone and return its UID in hex. */
export async function readNfcUid(): Promise<string> {
  const tag = await scan({ type: "tag" }, { keepSessionAlive: false });
  return tag.id.map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}
