// Mattermost's API v4, as far as Vigil uses it, as one OpenAPI-shaped document built from
// Mattermost's own npm packages:
//
// - @mattermost/client: its Client4 is run with a recording `fetch`, so each operation's
//   method, path, query parameters and body are the ones Mattermost's own client sends;
// - @mattermost/types: the answer types of those operations (Client4's declarations name
//   them) as JSON schemas.
//
//   node mattermost.mjs NODE_MODULES OUT.json
//
// Operations are named after the Client4 method. Placeholder ids become path parameters.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [modules, out] = process.argv.slice(2);
const require = createRequire(join(modules, "x.js"));
const { Client4 } = require("@mattermost/client");

const IDS = {
  u0000000000000000000000001: "{user_id}",
  s0000000000000000000000001: "{session_id}",
  somebody: "{username}",
};
// The Client4 calls that stand for what Vigil does, with placeholder arguments.
const CALLS = [
  ["getMe", []],
  ["getProfiles", [0, 200]],
  ["getUser", ["u0000000000000000000000001"]],
  ["getUserByUsername", ["somebody"]],
  ["getSessions", ["u0000000000000000000000001"]],
  ["getUserAudits", ["u0000000000000000000000001", 0, 200]],
  ["revokeSession", ["u0000000000000000000000001", "s0000000000000000000000001"]],
  ["revokeAllSessionsForUser", ["u0000000000000000000000001"]],
  ["updateUserActive", ["u0000000000000000000000001", true]],
];

let recorded = null;
globalThis.fetch = async (url, options) => {
  recorded = { url: String(url), method: (options?.method ?? "GET").toUpperCase(), body: options?.body };
  return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
};
const client = new Client4();
client.setUrl("http://mattermost.invalid");

// ---------------------------------------------------------------- the answer types ---
const typesDir = join(modules, "@mattermost/types/lib");
const schemas = {};
const typeSource = ["users", "sessions", "audits", "teams", "client4"]
  .map((f) => readFileSync(join(typesDir, `${f}.d.ts`), "utf8"))
  .join("\n");
function schemaOf(t) {
  t = t.trim();
  if (t.endsWith("[]")) return { type: "array", items: schemaOf(t.slice(0, -2)) };
  if (t === "string") return { type: "string" };
  if (t === "number") return { type: "integer" };
  if (t === "boolean") return { type: "boolean" };
  if (/^\w+$/.test(t) && !["any", "unknown"].includes(t)) return { $ref: `#/components/schemas/${t}` };
  return {};
}
for (const m of typeSource.matchAll(/^export type (\w+) = \{\n([\s\S]*?)^\};/gm)) {
  const properties = {};
  for (const p of m[2].matchAll(/^ {4}(\w+)\??: (.+);$/gm)) properties[p[1]] = schemaOf(p[2]);
  schemas[m[1]] = { type: "object", properties };
}
// Types referenced but not defined in the files read are left open.
const refs = JSON.stringify(schemas).matchAll(/"#\/components\/schemas\/(\w+)"/g);
for (const [, name] of refs) schemas[name] ??= { type: "object" };

const declared = readFileSync(join(modules, "@mattermost/client/lib/client4.d.ts"), "utf8");
function answerOf(method) {
  const m = declared.match(new RegExp(`^ {4}${method}: \\(.*\\) => Promise<(.+)>;$`, "m"));
  if (!m) throw new Error(`Client4.${method} is not declared`);
  return schemaOf(m[1]);
}

// ------------------------------------------------------------------- the operations ---
const paths = {};
for (const [method, args] of CALLS) {
  recorded = null;
  await client[method](...args);
  if (!recorded) throw new Error(`Client4.${method} sent nothing`);
  const url = new URL(recorded.url);
  let path = url.pathname;
  for (const [id, param] of Object.entries(IDS)) path = path.replaceAll(id, param);
  const op = {
    operationId: method,
    parameters: [...url.searchParams.keys()].map((name) => ({ name, in: "query", schema: {} })),
    responses: { 200: { description: "ok", content: { "application/json": { schema: answerOf(method) } } } },
  };
  if (recorded.body) {
    const body = JSON.parse(recorded.body);
    const properties = Object.fromEntries(
      Object.entries(body).map(([k, v]) => [k, { type: typeof v === "number" ? "integer" : typeof v }]),
    );
    op.requestBody = {
      content: {
        "application/json": { schema: { type: "object", required: Object.keys(body), properties } },
      },
    };
  }
  paths[path] ??= {};
  paths[path][recorded.method.toLowerCase()] = op;
}

writeFileSync(
  out,
  JSON.stringify({
    openapi: "3.0.3",
    info: { title: "Mattermost API v4 (from @mattermost/client and @mattermost/types)", version: "generated" },
    paths,
    components: { schemas },
  }),
);
console.error(`${Object.keys(paths).length} paths, ${Object.keys(schemas).length} schemas`);
