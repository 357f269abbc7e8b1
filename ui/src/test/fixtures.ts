import type { Session } from "../ipc/bindings/Session";
import type { SessionPage } from "../ipc/bindings/SessionPage";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import type { Summary } from "../ipc/bindings/Summary";

export function makeSession(i: number, over: Partial<Session> = {}): Session {
  return {
    tenant: i % 2 === 0 ? "demo" : "prod",
    id: `s${i}`,
    user_id: `u${i}`,
    username: `user${i}`,
    display_name: null,
    first_name: "First",
    last_name: `Last${i}`,
    department: "IT",
    organisation: "ACME",
    superuser: i === 1,
    protected: false,
    disabled: false,
    current: false,
    ip: `10.0.0.${i % 250}`,
    user_agent:
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    session_type: "web",
    login_type: "password",
    server_name: "srv1",
    created_at: "2025-01-01T08:00:00Z",
    last_activity_at: "2025-01-01T09:00:00Z",
    expires_at: null,
    idle_timeout_seconds: null,
    ...over,
  };
}

export const SUMMARY: Summary = {
  total: { active_users: 1234, active_sessions: 2013, superusers_online: 7 },
  tenants: [
    {
      health: {
        tenant: "demo",
        kind: "vigil",
        last_poll_at: new Date(Date.now() - 3000).toISOString(),
        latency_ms: 42,
        error: null,
        stale: false,
      },
      counts: { active_users: 1000, active_sessions: 1500, superusers_online: 5 },
    },
    {
      health: {
        tenant: "prod",
        kind: "vigil",
        last_poll_at: null,
        latency_ms: null,
        error: { code: "unreachable", message: "connection refused" },
        stale: true,
      },
      counts: { active_users: 234, active_sessions: 513, superusers_online: 2 },
    },
  ],
};

/** A tiny in-memory stand-in for the Rust side's query_sessions. */
export function pageOf(rows: readonly Session[], q: SessionQuery): SessionPage {
  let list = rows.filter((r) => !q.superuser_only || r.superuser);
  if (q.search) {
    const needle = q.search.toLowerCase();
    list = list.filter((r) => `${r.id} ${r.username} ${r.ip ?? ""}`.toLowerCase().includes(needle));
  }
  return {
    total: list.length,
    offset: q.offset,
    rows: list.slice(q.offset, q.offset + q.limit),
    version: 1,
  };
}
