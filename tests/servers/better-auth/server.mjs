// A real, unmodified Better Auth server for Vigil's connector integration tests.
//
// Plugins: admin() + bearer(); storage: the in-memory adapter (everything is
// lost when the process exits). Listens on 127.0.0.1:$PORT (PORT=0 or unset
// picks a free port) and prints `listening on http://127.0.0.1:PORT` as its
// first stdout line, once it is ready to serve and the bootstrap admins exist.
//
// Environment:
//   PORT                      port to bind on 127.0.0.1 (default 0 = any free one)
//   BETTER_AUTH_SECRET        signing secret (default: 32 random bytes per run)
//   BETTER_AUTH_BOOTSTRAP_ADMINS
//                             optional JSON array of {email, password, name}:
//                             users created with role "admin" at startup via
//                             the admin plugin's server-side auth.api.createUser
//   BETTER_AUTH_IPV6_SUBNET   prefix length Better Auth keeps of an IPv6 client
//                             address (its default is 64, i.e. the address is
//                             masked to its /64); default here 128 = full address
import http from "node:http";
import { randomBytes } from "node:crypto";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { admin, bearer } from "better-auth/plugins";

const HOST = "127.0.0.1";
const port = Number.parseInt(process.env.PORT ?? "0", 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid PORT: ${process.env.PORT}`);
  process.exit(2);
}

let handler = null;
const server = http.createServer((req, res) => {
  if (!handler) {
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("starting\n");
    return;
  }
  handler(req, res);
});

await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(port, HOST, resolve);
});
const origin = `http://${HOST}:${server.address().port}`;

const ipv6Subnet = Number.parseInt(process.env.BETTER_AUTH_IPV6_SUBNET ?? "128", 10);

// The memory adapter keeps one array per model; the admin plugin adds
// user.role/banned/banReason/banExpires and session.impersonatedBy columns,
// which the memory adapter stores as plain object fields.
const db = { user: [], session: [], account: [], verification: [] };

export const auth = betterAuth({
  appName: "Vigil test fixture",
  baseURL: origin, // basePath defaults to /api/auth
  secret: process.env.BETTER_AUTH_SECRET || randomBytes(32).toString("base64url"),
  database: memoryAdapter(db),
  // autoSignIn: false so that signing up creates no session: the seed then
  // signs in explicitly and the session count per user is exact.
  emailAndPassword: { enabled: true, autoSignIn: false },
  plugins: [admin(), bearer()],
  // Only the server's own origin; Vigil is not a browser and sends no Origin.
  trustedOrigins: [origin],
  // The seed script signs in repeatedly in a few milliseconds; the default
  // rules (enabled in production only) would make that depend on NODE_ENV.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  advanced: {
    ipAddress: {
      // Better Auth 1.7 only trusts a *single-value* header unless
      // trustedProxies is set; the seed sends exactly one address.
      ipAddressHeaders: ["x-forwarded-for"],
      ipv6Subnet,
    },
    // CSRF / origin checks are left ON: they only apply when the request
    // carries a Cookie (or Origin/Referer/Sec-Fetch-*) header, which Vigil's
    // bearer-token requests do not.
  },
});

// Bootstrap admins through the admin plugin's public server API (no HTTP
// request / headers => allowed without a session, role may be set).
const admins = JSON.parse(process.env.BETTER_AUTH_BOOTSTRAP_ADMINS || "[]");
for (const a of admins) {
  await auth.api.createUser({
    body: { email: a.email, password: a.password, name: a.name, role: "admin" },
  });
}

handler = toNodeHandler(auth);

const shutdown = () => process.exit(0); // state is in memory only
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

console.log(`listening on ${origin}`);
