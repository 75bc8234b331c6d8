// System notifications through Tauri's notification plugin: a new
// announcement or emergency, and a phone's end-of-day reminder. The banner
// in the page is what every device shows; the notification is extra, and
// where the system has none (a desktop without a notification daemon, a
// browser) it is skipped without a fuss.
import { isPermissionGranted, requestPermission, sendNotification } from "@tauri-apps/plugin-notification";

const NOTIFIED = "lodge.notified";

/** Ids already raised as a notification on this device (kept across restarts). */
function notified(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(NOTIFIED) ?? "[]") as string[]);
  } catch {
    return new Set();
  }
}

/** Raise a notification, once per `id` on this device. */
export async function notifyOnce(id: string, title: string, body: string): Promise<void> {
  const seen = notified();
  if (seen.has(id)) return;
  seen.add(id);
  // The last few hundred are enough to never repeat one.
  localStorage.setItem(NOTIFIED, JSON.stringify([...seen].slice(-300)));
  try {
    let granted = await isPermissionGranted();
    if (!granted) granted = (await requestPermission()) === "granted";
    if (granted) sendNotification({ title, body });
  } catch (e) {
    console.warn("no system notification:", e);
  }
}
