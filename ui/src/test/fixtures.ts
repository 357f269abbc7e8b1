import type { AlertsFile } from "../ipc/bindings/AlertsFile";
import type { AppSettings } from "../ipc/bindings/AppSettings";
import type { AppStatus } from "../ipc/bindings/AppStatus";
import type { ErrorPayload } from "../ipc/bindings/ErrorPayload";
import type { Facets } from "../ipc/bindings/Facets";
import type { FacetValue } from "../ipc/bindings/FacetValue";
import type { KindInfo } from "../ipc/bindings/KindInfo";
import type { RouteConfig } from "../ipc/bindings/RouteConfig";
import type { Session } from "../ipc/bindings/Session";
import type { SessionFilter } from "../ipc/bindings/SessionFilter";
import type { SessionPage } from "../ipc/bindings/SessionPage";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import type { Summary } from "../ipc/bindings/Summary";
import type { TenantCheck } from "../ipc/bindings/TenantCheck";
import type { TenantConfig } from "../ipc/bindings/TenantConfig";
import type { TenantSummary } from "../ipc/bindings/TenantSummary";
import type { TenantView } from "../ipc/bindings/TenantView";
import type { UserPage } from "../ipc/bindings/UserPage";
import type { UserQuery } from "../ipc/bindings/UserQuery";
import type { UserRow } from "../ipc/bindings/UserRow";

export function makeSession(i: number, over: Partial<Session> = {}): Session {
  return {
    tenant: i % 2 === 0 ? "demo" : "prod",
    id: `s${i}`,
    user_id: `u${i}`,
    username: `user${i}`,
    email: null,
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
    location: null,
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

function ipv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d+$/.test(p) || v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** The IP filter as the Rust side reads it (IPv4 only here): address, CIDR or partial address. */
function ipMatcher(raw: string): (ip: string | null) => boolean {
  if (raw.includes("/")) {
    const [addr = "", bits = ""] = raw.split("/");
    const base = ipv4(addr);
    const len = Number(bits);
    if (base === null || !/^\d+$/.test(bits) || len > 32) {
      throw {
        code: "invalid_input",
        message: `invalid CIDR network "${raw}" (expected e.g. 10.0.0.0/8 or 2001:db8::/32)`,
      } satisfies ErrorPayload;
    }
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return (ip) => {
      const v = ip === null ? null : ipv4(ip);
      return v !== null && (v & mask) >>> 0 === (base & mask) >>> 0;
    };
  }
  if (!/^[0-9a-fA-F.:]+$/.test(raw)) {
    throw {
      code: "invalid_input",
      message: `invalid IP filter "${raw}" (expected an address, a CIDR network or part of an address)`,
    } satisfies ErrorPayload;
  }
  return (ip) => ip?.includes(raw) ?? false;
}

const SORT_FIELD: Partial<Record<string, (s: Session) => string>> = {
  tenant: (s) => s.tenant,
  username: (s) => s.username,
  ip: (s) => s.ip ?? "",
  created_at: (s) => s.created_at ?? "",
  last_activity_at: (s) => s.last_activity_at ?? "",
  id: (s) => s.id,
};

/** A small in-memory stand-in for the Rust side's session filter (the fields the tests use). */
/** `n` tenants named t0001…, of which those in `failing` fail and those in `stale` are stale. */
export function manyTenants(
  n: number,
  failing: readonly number[] = [],
  stale: readonly number[] = [],
): TenantSummary[] {
  return Array.from({ length: n }, (_, i) => {
    const tenant = `t${String(i + 1).padStart(4, "0")}`;
    const fails = failing.includes(i + 1);
    return {
      health: {
        tenant,
        kind: "vigil",
        last_poll_at: new Date(Date.now() - 5000).toISOString(),
        latency_ms: 12,
        error: fails ? { code: "unauthorized", message: `401 from ${tenant}` } : null,
        stale: fails || stale.includes(i + 1),
        capabilities: null,
      },
      counts: {
        active_users: i % 50,
        active_sessions: 100,
        superusers_online: i % 97 === 0 ? 1 : 0,
      },
    };
  });
}

export function filterRows(rows: readonly Session[], q: SessionFilter): Session[] {
  let list = rows.filter((r) => !q.superuser_only || r.superuser);
  if (q.tenants?.length) list = list.filter((r) => q.tenants?.includes(r.tenant));
  if (q.search) {
    const needle = q.search.toLowerCase();
    list = list.filter((r) => `${r.id} ${r.username} ${r.ip ?? ""}`.toLowerCase().includes(needle));
  }
  if (q.user) list = list.filter((r) => r.username === q.user);
  if (q.user_id) list = list.filter((r) => r.user_id === q.user_id);
  if (q.username) {
    const needle = q.username.toLowerCase();
    list = list.filter((r) => r.username.toLowerCase().includes(needle));
  }
  if (q.session_id) list = list.filter((r) => r.id.includes(q.session_id ?? ""));
  if (q.session_types?.length)
    list = list.filter((r) => q.session_types?.includes(r.session_type ?? ""));
  if (q.current !== undefined) list = list.filter((r) => r.current === q.current);
  if (q.ip) {
    const match = ipMatcher(q.ip);
    list = list.filter((r) => match(r.ip));
  }
  return list;
}

function sorted(list: Session[], sort: string, descending: boolean): Session[] {
  const get = SORT_FIELD[sort];
  if (!get) return list;
  // Stable both ways: equal keys keep their order.
  const dir = descending ? -1 : 1;
  return [...list].sort((a, b) => dir * get(a).localeCompare(get(b)));
}

/** A tiny in-memory stand-in for the Rust side's query_sessions. */
export function pageOf(rows: readonly Session[], q: SessionQuery): SessionPage {
  const list = sorted(filterRows(rows, q), q.sort, q.descending);
  return {
    total: list.length,
    offset: q.offset,
    rows: list.slice(q.offset, q.offset + q.limit),
    version: 1,
  };
}

/** A tiny in-memory stand-in for the Rust side's query_users (sorted by user name). */
export function usersPageOf(rows: readonly Session[], q: UserQuery): UserPage {
  const list = filterRows(rows, q);
  const users = new Map<string, UserRow>();
  for (const s of list) {
    const key = `${s.tenant}\u0000${s.user_id}`;
    const u = users.get(key);
    if (u) {
      u.sessions += 1;
      if ((s.created_at ?? "") > (u.last_login ?? "")) {
        u.last_login = s.created_at;
        u.last_ip = s.ip;
      }
      continue;
    }
    users.set(key, {
      tenant: s.tenant,
      user_id: s.user_id,
      username: s.username,
      email: s.email,
      display_name: s.display_name,
      department: s.department,
      organisation: s.organisation,
      superuser: s.superuser,
      protected: s.protected,
      disabled: s.disabled,
      current: s.current,
      sessions: 1,
      ips: 1,
      last_login: s.created_at,
      last_ip: s.ip,
      last_activity_at: s.last_activity_at,
    });
  }
  for (const u of users.values()) {
    u.ips = new Set(
      list.filter((s) => s.tenant === u.tenant && s.user_id === u.user_id).map((s) => s.ip),
    ).size;
  }
  let all = [...users.values()].sort((a, b) => a.username.localeCompare(b.username));
  if (q.sort === "sessions") all = all.sort((a, b) => a.sessions - b.sessions);
  if (q.descending) all.reverse();
  return {
    total: all.length,
    sessions: list.length,
    offset: q.offset,
    rows: all.slice(q.offset, q.offset + q.limit),
    version: 1,
  };
}

/** What session_facets answers for these rows. */
export function facetsOf(rows: readonly Session[]): Facets {
  const count = (get: (s: Session) => string | null): FacetValue[] => {
    const m = new Map<string, number>();
    for (const r of rows) {
      const v = get(r);
      if (v !== null) m.set(v, (m.get(v) ?? 0) + 1);
    }
    return [...m].map(([value, n]) => ({ value, count: n }));
  };
  return {
    tenants: count((s) => s.tenant),
    session_types: count((s) => s.session_type),
    login_types: count((s) => s.login_type),
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
    logout_effect: "ends every session of the user",
    revoke_effect: "",
    password_effect: "",
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
  paused: false,
  log_dir: "/home/admin/.local/state/vigil/logs",
};

/** The back end's defaults. */
export const SETTINGS: AppSettings = {
  default_poll_interval_secs: 30,
  notifications: true,
  notify_min_severity: "low",
  geoip_database: "",
  history_retention_days: 90,
  theme: "system",
  start_at_login: false,
  keep_running_in_tray: true,
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
    revoke_grants: false,
    require_password_change: false,
  },
  error: null,
};

/** A route as the back end sends it: its defaults, a webhook unless `over` says otherwise. */
export function makeRoute(name: string, over: Partial<RouteConfig> = {}): RouteConfig {
  return {
    name,
    kind: "webhook",
    enabled: true,
    min_severity: "medium",
    tenants: [],
    tags: [],
    max_per_minute: 20,
    url: null,
    smtp_host: null,
    smtp_port: null,
    security: "starttls",
    username: null,
    from: null,
    to: [],
    host: null,
    port: null,
    transport: "tcp",
    format: "cef",
    facility: "local0",
    ca_certificate: null,
    ...over,
  };
}

/** `[alerts]` with one route of each part: a webhook, a Slack route, and some tuning. */
export const ALERTS_FILE: AlertsFile = {
  merge_minutes: 10,
  routes: [
    makeRoute("soc", { url: "https://siem.example.org/hooks/vigil", tenants: ["prod"] }),
    makeRoute("chat", { kind: "slack", min_severity: "high", tags: ["production"] }),
  ],
  trusted_networks: [
    { name: "office", cidrs: ["203.0.113.0/24"], tenants: [], tags: ["production"] },
  ],
  exclusions: [
    {
      user: "breakglass",
      rules: ["superuser_sign_in"],
      tenants: [],
      tags: [],
      reason: "break-glass account, checked daily",
      until: "2030-01-31",
    },
  ],
  rules: [{ tenants: ["lab"], tags: [], off: ["odd_hours"], merge_minutes: null }],
};
