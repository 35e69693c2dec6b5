// Cuts the part of GitHub's OpenAPI descriptions the suite checks answers
// and payloads against: the hook routes of @octokit/openapi and the ping
// and push payloads of @octokit/openapi-webhooks, with every component
// they reference.  Loading the 13 MB originals in each test file would be
// slow.  Usage: node spec.mjs OUTDIR
import { readFileSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const load = (p) => JSON.parse(readFileSync(require.resolve(p), "utf8"));

// Copies the components reachable from `roots` into `out.components`.
function closure(doc, roots, out) {
  const seen = new Set();
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== "object") return;
    const ref = v.$ref;
    if (typeof ref === "string" && ref.startsWith("#/components/")) {
      const [kind, name] = ref.slice(13).split("/");
      if (!seen.has(ref)) {
        seen.add(ref);
        const c = doc.components?.[kind]?.[name];
        if (c === undefined) throw new Error(`dangling ${ref}`);
        ((out.components[kind] ??= {})[name] = c);
        walk(c);
      }
    }
    Object.values(v).forEach(walk);
  };
  walk(roots);
  for (const kind of Object.keys(out.components)) {
    const sorted = {};
    for (const k of Object.keys(out.components[kind]).sort())
      sorted[k] = out.components[kind][k];
    out.components[kind] = sorted;
  }
  return out;
}

function hooks() {
  const doc = load("@octokit/openapi/generated/api.github.com.json");
  const paths = {};
  for (const p of Object.keys(doc.paths).sort())
    if (/^\/(orgs\/\{org\}|repos\/\{owner\}\/\{repo\})\/hooks(\/|$)/.test(p))
      paths[p] = doc.paths[p];
  const version = require("@octokit/openapi/package.json").version;
  return closure(doc, paths, {
    openapi: doc.openapi,
    info: {
      ...doc.info,
      version: `${doc.info.version} (@octokit/openapi ${version}, hooks)`,
    },
    paths,
    components: {},
  });
}

function payloads() {
  const doc = load("@octokit/openapi-webhooks/generated/api.github.com.json");
  const webhooks = { ping: doc.webhooks.ping, push: doc.webhooks.push };
  const version = require("@octokit/openapi-webhooks/package.json").version;
  return closure(doc, webhooks, {
    openapi: doc.openapi,
    info: {
      ...doc.info,
      version: `${doc.info.version} (@octokit/openapi-webhooks ${version})`,
    },
    webhooks,
    components: {},
  });
}

const dir = process.argv[2];
if (!dir) throw new Error("usage: node spec.mjs OUTDIR");
mkdirSync(dir, { recursive: true });
for (const [name, doc] of [
  ["github-hooks.openapi.json", hooks()],
  ["github-webhook-payloads.openapi.json", payloads()],
]) {
  const tmp = join(dir, `.${name}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(doc) + "\n");
  renameSync(tmp, join(dir, name));
}
