// The import-direction rules of .dependency-cruiser.cjs bite: the real config, run by the real
// depcruise CLI over a small throwaway tree that breaks each rule once (through relative paths
// and through the "@/" alias, as the app imports), reports exactly those breaks and nothing in
// the files that follow the rules.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
let dir: string;

const files: Record<string, string> = {
  "tsconfig.json": JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@/*": ["./*"] }, module: "esnext", moduleResolution: "bundler" } }),
  "app/page.ts": `import { rule } from "@/lib/rule";\nexport const page = rule;\n`,
  "app/actions.ts": `export async function doAction() {}\n`,
  "components/bad-form.ts": `import { doAction } from "@/app/actions";\nexport const form = doAction;\n`,
  "components/good-form.ts": `import { rule } from "../lib/rule";\nexport const form = rule;\n`,
  "lib/rule.ts": `import { table } from "../db/schema";\nexport const rule = table;\n`,
  "lib/bad-ui.ts": `import { form } from "../components/good-form";\nexport const ui = form;\n`,
  "lib/bad-route.ts": `import { page } from "@/app/page";\nexport const route = page;\n`,
  "lib/cycle-a.ts": `import { b } from "./cycle-b";\nexport const a = () => b;\n`,
  "lib/cycle-b.ts": `import { a } from "./cycle-a";\nexport const b = () => a;\n`,
  "lib/types-a.ts": `import type { B } from "./types-b";\nexport type A = { b?: B };\nexport const useA = 1;\n`,
  "lib/types-b.ts": `import { useA } from "./types-a";\nexport type B = number;\nexport const useB = useA;\n`,
  "db/schema.ts": `export const table = "t";\n`,
  "db/bad-seed.ts": `import { rule } from "../lib/rule";\nexport const seed = rule;\n`,
};

type Violation = { from: string; to: string; rule: { name: string } };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "creditloop-imports-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("import-direction rules (.dependency-cruiser.cjs)", () => {
  it("report every forbidden import in a fixture tree, and only those", () => {
    const depcruise = (...extra: string[]) =>
      spawnSync(
        path.join(root, "node_modules/.bin/depcruise"),
        ["app", "components", "lib", "db", "--config", path.join(root, ".dependency-cruiser.cjs"), ...extra],
        { cwd: dir, encoding: "utf8", timeout: 60_000 },
      );
    // As `npm run check:imports` runs it: the errors fail the check.
    const check = depcruise();
    expect(check.status, check.stdout + check.stderr).not.toBe(0);
    expect(check.stdout).toMatch(/components-not-to-app/);
    const r = depcruise("--output-type", "json");
    const violations = (JSON.parse(r.stdout).summary.violations as Violation[]).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(violations).toEqual(
      [
        "components-not-to-app: components/bad-form.ts → app/actions.ts",
        "db-not-to-lib: db/bad-seed.ts → lib/rule.ts",
        "lib-not-to-app-or-components: lib/bad-route.ts → app/page.ts",
        "lib-not-to-app-or-components: lib/bad-ui.ts → components/good-form.ts",
        // A cycle is reported once; the type-only one (types-a ↔ types-b) is allowed.
        "no-circular: lib/cycle-a.ts → lib/cycle-b.ts",
      ].sort(),
    );
  }, 60_000);
});
