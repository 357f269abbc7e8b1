// Auth0's Management API v2, as far as Vigil uses it, as Auth0's own Node SDK (npm `auth0`,
// generated from Auth0's API definition) sends it: its ManagementClient is run with a
// recording `fetch`, each method called with every parameter Vigil may send, and each
// operation's method, path, query parameters and body are written down as an
// OpenAPI-shaped document. No registry package carries Auth0's OpenAPI document itself, so
// the answers are not described: the tests give those.
//
//   node auth0.mjs NODE_MODULES OUT.json
//
// Operations are named after the SDK method.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [modules, out] = process.argv.slice(2);
const require = createRequire(join(modules, "x.js"));
const { ManagementClient } = require("auth0");

const ID = { "user-0001": "{id}", "session-0001": "{id}" };
let recorded = [];
globalThis.fetch = async (url, options) => {
  recorded.push({ url: String(url), method: (options?.method ?? "GET").toUpperCase(), body: options?.body });
  const users = /users(\?|$)/.test(String(url)) ? "[]" : "{}";
  return new Response(users, { status: 200, headers: { "Content-Type": "application/json" } });
};
const m = new ManagementClient({ domain: "tenant.invalid", token: "token" });

const CALLS = [
  ["users.list", () =>
    m.users.list({ page: 0, per_page: 100, include_totals: true, sort: "created_at:1", search_engine: "v3", q: "x" })],
  ["users.listUsersByEmail", () => m.users.listUsersByEmail({ email: "a@example.com" })],
  ["users.update", () => m.users.update("user-0001", { blocked: true })],
  ["users.sessions.list", () => m.users.sessions.list("user-0001", { take: 100, from: "x", include_totals: true })],
  ["users.sessions.delete", () => m.users.sessions.delete("user-0001")],
  ["users.roles.list", () => m.users.roles.list("user-0001", { per_page: 50, page: 0, include_totals: true })],
  ["sessions.delete", () => m.sessions.delete("session-0001")],
  ["sessions.revoke", () => m.sessions.revoke("session-0001")],
  ["users.refreshToken.delete", () => m.users.refreshToken.delete("user-0001")],
];

const paths = {};
for (const [name, call] of CALLS) {
  recorded = [];
  const result = await call();
  // A paginated list is fetched when first read.
  if (result && typeof result[Symbol.asyncIterator] === "function") {
    for await (const _ of result) break;
  }
  if (recorded.length === 0) throw new Error(`auth0 ${name} sent nothing`);
  const r = recorded[0];
  const url = new URL(r.url);
  let path = url.pathname;
  for (const [id, param] of Object.entries(ID)) path = path.replaceAll(encodeURIComponent(id), param);
  const op = {
    operationId: name,
    parameters: [...new Set(url.searchParams.keys())].map((n) => ({ name: n, in: "query", schema: {} })),
    responses: { "2XX": { description: "success" } },
  };
  if (r.body) {
    const body = JSON.parse(r.body);
    const properties = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, { type: typeof v }]));
    op.requestBody = { content: { "application/json": { schema: { type: "object", properties } } } };
  }
  paths[path] ??= {};
  paths[path][r.method.toLowerCase()] = op;
}

writeFileSync(
  out,
  JSON.stringify({
    openapi: "3.0.3",
    info: { title: "Auth0 Management API v2 (as npm auth0 sends it)", version: "generated" },
    paths,
  }),
);
console.error(`${Object.keys(paths).length} paths`);
