// The desktop's camera in the webview: frames go to Rust (rxing) to be
// decoded, about four a second, until a code is found or the person stops.
// On a phone the barcode-scanner plugin does the whole job.
import type { ReadCode } from "../bindings";

let stream: MediaStream | null = null;
let stopped = false;

export function stopCamera(): void {
  stopped = true;
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
}

async function phoneScan(): Promise<string | null> {
  if (!/Android|iPhone|iPad/.test(navigator.userAgent)) return null;
  const { scan } = await import("@tauri-apps/plugin-barcode-scanner");
  return (await scan({ windowed: false })).content;
}

/** Scan with the camera; resolves with the code's text. */
export async function scanFromCamera(video: HTMLVideoElement, decode: (image: string) => Promise<ReadCode | null>): Promise<string> {
  const phone = await phoneScan();
  if (phone) return phone;
  stopped = false;
  stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement("canvas");
  try {
    while (!stopped) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d")?.drawImage(video, 0, 0);
      const found = await decode(canvas.toDataURL("image/jpeg", 0.85));
      if (found) return found.text;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error("stopped");
  } finally {
    stopCamera();
  }
}

/** A picked photo as a data URL. */
export function readFile(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
