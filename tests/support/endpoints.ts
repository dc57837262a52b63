// Finds every public entry point in the code, so the access-matrix and bad-input tests cover
// what exists rather than a hand-kept list: exports of "use server" modules (server actions) and
// HTTP-method exports of app/**/route.ts (route handlers). Inline "use server" functions inside
// other modules cannot be enumerated this way and are reported so a test can refuse them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCANNED = ["app", "lib", "components"];
const SOURCE = /\.(ts|tsx|js|jsx|mjs)$/;
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (SOURCE.test(name) && !/\.test\.[jt]sx?$/.test(name)) out.push(full);
  }
  return out;
}

const sourceFiles = () => SCANNED.flatMap((d) => walk(path.join(ROOT, d)));
const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join("/");

/** Leading comments and whitespace removed, so a file's first statement can be read. */
function stripPreamble(src: string): string {
  return src.replace(/^(?:\s+|\/\/[^\n]*\n?|\/\*[\s\S]*?\*\/)*/, "");
}

/** A "use server" directive as a statement of its own (comments removed first). */
const USE_SERVER = /^\s*["']use server["'];?\s*$/m;
const withoutComments = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/[^\n]*/g, "$1");

export function serverActionModules(): string[] {
  return sourceFiles().filter((f) => /^["']use server["']/.test(stripPreamble(readFileSync(f, "utf8"))));
}

/** Files with a "use server" directive that is not the module's first statement. */
export function inlineServerActionFiles(): string[] {
  return sourceFiles()
    .filter((f) => {
      const src = readFileSync(f, "utf8");
      return USE_SERVER.test(withoutComments(src)) && !/^["']use server["']/.test(stripPreamble(src));
    })
    .map(rel);
}

type RouteFn = (req: Request, ctx: unknown) => Promise<Response>;

export type Discovered = {
  actions: Map<string, { file: string; fn: (input: unknown) => Promise<unknown> }>;
  routes: Map<string, { file: string; fn: RouteFn }>;
  duplicateActionNames: string[];
};

/** Imports every "use server" module and every route module; keys are `name` and `METHOD /path`. */
export async function discoverEndpoints(): Promise<Discovered> {
  const actions: Discovered["actions"] = new Map();
  const duplicateActionNames: string[] = [];
  for (const file of serverActionModules()) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== "function") continue;
      if (actions.has(name)) duplicateActionNames.push(name);
      actions.set(name, { file: rel(file), fn: value as (input: unknown) => Promise<unknown> });
    }
  }
  const routes: Discovered["routes"] = new Map();
  for (const file of walk(path.join(ROOT, "app")).filter((f) => /\/route\.(ts|tsx|js|mjs)$/.test(f))) {
    const mod = (await import(file)) as Record<string, unknown>;
    const urlPath = "/" + path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep).filter((s) => !/^\(.*\)$/.test(s)).join("/");
    for (const method of HTTP_METHODS) {
      if (typeof mod[method] === "function") routes.set(`${method} ${urlPath}`, { file: rel(file), fn: mod[method] as RouteFn });
    }
  }
  return { actions, routes, duplicateActionNames };
}
