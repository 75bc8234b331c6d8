// The UI's house: a folder per desk under src/features, each with its
// screens, logic and tests; shared code in src/lib and src/components; the
// shell in src/app. Imports flow shared → features → app: a feature never
// reaches into another, and shared code never into a feature.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(process.cwd(), "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "bindings" ? [] : sources(p);
    return /\.(ts|svelte)$/.test(f) ? [p] : [];
  });
}

/** Where each relative import of a file points, as a path under src/. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)].map((m) => relative(src, resolve(dirname(file), m[1])));
}

const featureOf = (path: string) => (path.startsWith("features/") ? path.split("/")[1] : null);

describe("the UI's house", () => {
  const files = sources(src).map((f) => ({ path: relative(src, f), targets: imports(f) }));

  it("has a folder per desk", () => {
    const features = readdirSync(join(src, "features")).sort();
    expect(features).toEqual(["admin", "key-desk", "kiosk", "reception", "roll-call", "setup", "staff", "worker"]);
  });

  it("keeps each feature out of the others' files", () => {
    const crossings = files.flatMap(({ path, targets }) => {
      const mine = featureOf(path);
      return mine ? targets.filter((t) => featureOf(t) !== null && featureOf(t) !== mine).map((t) => `${path} → ${t}`) : [];
    });
    expect(crossings).toEqual([]);
  });

  it("keeps shared code free of features and of the shell", () => {
    const upward = files
      .filter(({ path }) => path.startsWith("lib/") || path.startsWith("components/"))
      .flatMap(({ path, targets }) => targets.filter((t) => t.startsWith("features/") || t.startsWith("app/")).map((t) => `${path} → ${t}`));
    expect(upward).toEqual([]);
  });
});
