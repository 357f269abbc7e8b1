import type { AppStatus } from "../ipc/bindings/AppStatus";
import type { KindInfo } from "../ipc/bindings/KindInfo";
import type { Session } from "../ipc/bindings/Session";
import type { SessionPage } from "../ipc/bindings/SessionPage";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import type { Summary } from "../ipc/bindings/Summary";
import type { TenantCheck } from "../ipc/bindings/TenantCheck";
import type { TenantConfig } from "../ipc/bindings/TenantConfig";
import type { TenantView } from "../ipc/bindings/TenantView";

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
    location: null,
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
        capabilities: null,
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
        capabilities: null,
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

export const KINDS: KindInfo[] = [
  {
    kind: "vigil",
    label: "Vigil Session API",
    description: "Any system implementing the Vigil Session API v1.",
    url_hint: "https://idp.example.com/api",
    secret_label: "API token",
    options: [
      { key: "realm", label: "Realm", required: true, help: "The realm to watch." },
      { key: "client_id", label: "Client ID", required: false, help: "" },
    ],
  },
];

export function makeConfig(name: string, over: Partial<TenantConfig> = {}): TenantConfig {
  return {
    name,
    kind: "vigil",
    url: `https://${name}.example.com/api`,
    options: { realm: "main" },
    timezone: "Europe/Berlin",
    hours: null,
    holidays: [],
    poll_interval_secs: 30,
    tags: [],
    ...over,
  };
}

export const TENANTS: TenantView[] = [
  {
    config: makeConfig("demo", { url: "http://127.0.0.1:7777", timezone: null }),
    builtin: true,
    health: SUMMARY.tenants[0]?.health ?? null,
    counts: SUMMARY.tenants[0]?.counts ?? null,
  },
  {
    config: makeConfig("prod", { tags: ["production", "eu"], poll_interval_secs: 15 }),
    builtin: false,
    health: SUMMARY.tenants[1]?.health ?? null,
    counts: SUMMARY.tenants[1]?.counts ?? null,
  },
  {
    config: makeConfig("staging", { tags: [], hours: "mon-fri 08:00-18:00" }),
    builtin: false,
    health: null,
    counts: null,
  },
];

export const APP_STATUS: AppStatus = {
  config_path: "/home/admin/.config/vigil/tenants.toml",
  config_error: null,
  demo_running: true,
};

export const CHECK_OK: TenantCheck = {
  reachable: true,
  authenticated: true,
  latency_ms: 87,
  clock_offset_ms: 1234,
  server_time: "2025-01-01T09:00:01Z",
  timezone: "Europe/Berlin",
  permissions: ["sessions:read", "sessions:delete"],
  capabilities: {
    list_sessions: true,
    end_session: true,
    end_user_sessions: true,
    disable_user: false,
    enable_user: false,
    superuser_detection: true,
    change_feed: false,
    sign_in_log: false,
  },
  error: null,
};
