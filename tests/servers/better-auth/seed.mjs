// Seeds a freshly started Better Auth fixture server through its HTTP API,
// verifies what it recorded, and writes WORKDIR/env and WORKDIR/fixture.json.
//
// Environment (set by start.sh):
//   BETTER_AUTH_URL        http://127.0.0.1:PORT/api/auth
//   SEED_WORKDIR           where env and fixture.json go
//   SEED_ADMIN_PASSWORD    password of the bootstrap admins (created by server.mjs)
//   SEED_USER_PASSWORD     password given to the users signed up here
//   BETTER_AUTH_PID        pid of the server, copied into WORKDIR/env
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const need = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`seed: ${k} is not set`);
  return v;
};
const BASE = need("BETTER_AUTH_URL").replace(/\/+$/, "");
const WORKDIR = need("SEED_WORKDIR");
const ADMIN_PASSWORD = need("SEED_ADMIN_PASSWORD");
const USER_PASSWORD = need("SEED_USER_PASSWORD");
const PID = need("BETTER_AUTH_PID");

// Admins are created with role "admin" by server.mjs (BETTER_AUTH_BOOTSTRAP_ADMINS);
// the others sign up over HTTP and get the default role "user".
const USERS = [
  { key: "admin", email: "admin@example.org", name: "Admin Example", role: "admin" },
  { key: "ops", email: "ops@example.org", name: "Ops Example", role: "admin" },
  { key: "alice", email: "alice@example.org", name: "Alice Example", role: "user" },
  { key: "bob", email: "bob@example.org", name: "Bob Example", role: "user" },
  { key: "carol", email: "carol@example.org", name: "Carol Example", role: "user" },
  { key: "mallory", email: "mallory@example.org", name: "Mallory Example", role: "user" },
];

// One entry per sign-in, in order. Every IP and User-Agent is distinct.
// IPs come from the documentation ranges (RFC 5737 / RFC 3849).
const SIGN_INS = [
  { user: "admin", ip: "203.0.113.10", ua: "Vigil-Fixture-Admin/1.0 (+seed)" },
  { user: "alice", ip: "198.51.100.21", ua: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" },
  { user: "alice", ip: "2001:db8::42", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1" },
  { user: "bob", ip: "198.51.100.30", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36" },
  { user: "carol", ip: "192.0.2.41", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15" },
  { user: "carol", ip: "192.0.2.42", ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36" },
  { user: "carol", ip: "2001:db8:1::7", ua: "carol-cli/2.3.1 (linux; x86_64)" },
  { user: "ops", ip: "203.0.113.50", ua: "Ops-Console/4.2 (fixture)" },
  { user: "mallory", ip: "203.0.113.66", ua: "curl/8.5.0" },
];

// Canonical text of an IP for comparison: Better Auth stores IPv6 fully
// expanded ("2001:0db8:0000:…:0042"); the WHATWG URL parser compresses it.
const canonIp = (ip) => (ip.includes(":") ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip);

async function call(method, p, { body, token, headers = {} } = {}) {
  // Node's fetch (undici) sends `Sec-Fetch-Mode: cors`, which makes Better
  // Auth's CSRF check demand a trusted Origin on sign-in/sign-up (403
  // MISSING_OR_NULL_ORIGIN otherwise). Send the server's own origin, which
  // is trusted. (curl / reqwest send no Sec-Fetch-* and need no Origin.)
  const h = { accept: "application/json", origin: new URL(BASE).origin, ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(`${BASE}${p}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new Error(`seed: ${method} ${p} -> HTTP ${res.status}: ${text}`);
  return { res, json };
}

const fail = (msg) => {
  throw new Error(`seed: verification failed: ${msg}`);
};

// 1. Sign up the non-admin users (autoSignIn is off: no session yet).
for (const u of USERS.filter((u) => u.role !== "admin")) {
  await call("POST", "/sign-up/email", {
    body: { email: u.email, password: USER_PASSWORD, name: u.name },
    headers: { "x-forwarded-for": "192.0.2.200", "user-agent": "Vigil-Fixture-Seed/1.0 (sign-up)" },
  });
}

// 2. Sign in, each time from a distinct IP with a distinct User-Agent.
const tokens = {}; // raw session token -> sign-in entry (kept in memory only)
let adminToken = null;
let adminSignedToken = null;
for (const s of SIGN_INS) {
  const u = USERS.find((x) => x.key === s.user);
  const { res, json } = await call("POST", "/sign-in/email", {
    body: { email: u.email, password: u.role === "admin" ? ADMIN_PASSWORD : USER_PASSWORD },
    headers: { "x-forwarded-for": s.ip, "user-agent": s.ua },
  });
  if (!json?.token) fail(`sign-in of ${u.email} returned no token`);
  tokens[json.token] = s;
  u.id = json.user.id;
  if (s.user === "admin") {
    adminToken = json.token;
    adminSignedToken = res.headers.get("set-auth-token");
  }
}

// 3. Verify with the admin's bearer token.
const { json: listed } = await call("GET", "/admin/list-users?limit=100", { token: adminToken });
if (listed.total !== USERS.length) fail(`list-users total ${listed.total}, expected ${USERS.length}`);
const fixtureUsers = [];
let total = 0;
for (const u of USERS) {
  const remote = listed.users.find((x) => x.email === u.email);
  if (!remote) fail(`${u.email} missing from list-users`);
  if (remote.role !== u.role) fail(`${u.email} has role ${remote.role}, expected ${u.role}`);
  if (remote.name !== u.name) fail(`${u.email} has name ${remote.name}, expected ${u.name}`);
  u.id = remote.id;
  const { json } = await call("POST", "/admin/list-user-sessions", { token: adminToken, body: { userId: u.id } });
  const expected = SIGN_INS.filter((s) => s.user === u.key);
  if (json.sessions.length !== expected.length) {
    fail(`${u.email} has ${json.sessions.length} sessions, expected ${expected.length}`);
  }
  const sessions = [];
  for (const sess of json.sessions) {
    const s = tokens[sess.token];
    if (!s || s.user !== u.key) fail(`${u.email} has a session not created by the seed: ${sess.id}`);
    if (!sess.ipAddress) fail(`session ${sess.id} of ${u.email} has no ipAddress recorded`);
    if (canonIp(sess.ipAddress) !== canonIp(s.ip)) {
      fail(`session ${sess.id} of ${u.email}: ipAddress ${sess.ipAddress}, sent ${s.ip}`);
    }
    if (sess.userAgent !== s.ua) fail(`session ${sess.id} of ${u.email}: userAgent ${sess.userAgent}, sent ${s.ua}`);
    sessions.push({
      id: sess.id,
      ip: sess.ipAddress, // as Better Auth recorded (and returns) it
      sentIp: s.ip, // the X-Forwarded-For value the seed sent
      ua: sess.userAgent,
      createdAt: sess.createdAt,
      expiresAt: sess.expiresAt,
      isAdminToken: sess.token === adminToken,
    });
  }
  total += sessions.length;
  fixtureUsers.push({ id: u.id, email: u.email, name: u.name, role: u.role, sessions });
}
if (total !== SIGN_INS.length) fail(`total sessions ${total}, expected ${SIGN_INS.length}`);

// 4. Write the outputs (atomically: tests may poll for them).
const writeAtomic = (file, data) => {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
};
const version = JSON.parse(
  readFileSync(new URL("./node_modules/better-auth/package.json", import.meta.url), "utf8"),
).version;
writeAtomic(
  path.join(WORKDIR, "fixture.json"),
  JSON.stringify({ betterAuthVersion: version, url: BASE, users: fixtureUsers }, null, 2) + "\n",
);
writeAtomic(
  path.join(WORKDIR, "env"),
  [
    `BETTER_AUTH_URL=${BASE}`,
    `BETTER_AUTH_ADMIN_TOKEN=${adminToken}`,
    `BETTER_AUTH_ADMIN_SIGNED_TOKEN=${adminSignedToken ?? ""}`,
    `BETTER_AUTH_ADMIN_EMAIL=admin@example.org`,
    `BETTER_AUTH_ADMIN_PASSWORD=${ADMIN_PASSWORD}`,
    `BETTER_AUTH_USER_PASSWORD=${USER_PASSWORD}`,
    `BETTER_AUTH_PID=${PID}`,
    `BETTER_AUTH_EXPECTED_SESSIONS=${total}`,
    `BETTER_AUTH_VERSION=${version}`,
    "",
  ].join("\n"),
);
console.log(`seeded ${fixtureUsers.length} users, ${total} sessions`);
