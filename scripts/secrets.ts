// Secrets for local runs, generated once per checkout and kept in the git-ignored .data/ folder.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

export function localSecrets(file = ".data/dev-secrets.json"): { webhookSecret: string; nextAuthSecret: string } {
  const p = path.resolve(file);
  if (fs.existsSync(p)) return JSON.parse(fs.readFileSync(p, "utf8"));
  const secrets = {
    webhookSecret: `whsec_${randomBytes(24).toString("base64url")}`,
    nextAuthSecret: randomBytes(32).toString("base64url"),
  };
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, JSON.stringify(secrets, null, 2));
  return secrets;
}
