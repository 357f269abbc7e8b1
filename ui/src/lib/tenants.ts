import type { Capabilities } from "../ipc/bindings/Capabilities";
import type { ConnectorKind } from "../ipc/bindings/ConnectorKind";
import type { KindInfo } from "../ipc/bindings/KindInfo";
import type { TenantConfig } from "../ipc/bindings/TenantConfig";
import type { TenantView } from "../ipc/bindings/TenantView";

export const BUILTIN_GROUP = "Built-in";
export const UNTAGGED_GROUP = "Untagged";
export const DEFAULT_POLL_SECS = 30;
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Clock offsets beyond this make session times and expiries misleading. */
export const CLOCK_WARN_MS = 60_000;

export type TenantGroup = { name: string; tenants: TenantView[] };

const byName = (a: TenantView, b: TenantView) => a.config.name.localeCompare(b.config.name);

/**
 * Groups tenants by tag, tags alphabetically; a tenant with several tags appears under each,
 * untagged ones under "Untagged", built-in ones only under "Built-in" (last).
 */
export function groupTenants(tenants: readonly TenantView[]): TenantGroup[] {
  const tagged = new Map<string, TenantView[]>();
  const untagged: TenantView[] = [];
  const builtin: TenantView[] = [];
  for (const t of tenants) {
    if (t.builtin) {
      builtin.push(t);
      continue;
    }
    const tags = [...new Set(t.config.tags.map((x) => x.trim()).filter(Boolean))];
    if (tags.length === 0) untagged.push(t);
    for (const tag of tags) {
      const list = tagged.get(tag) ?? [];
      list.push(t);
      tagged.set(tag, list);
    }
  }
  const groups: TenantGroup[] = [...tagged.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => ({ name, tenants: list.sort(byName) }));
  if (untagged.length > 0) groups.push({ name: UNTAGGED_GROUP, tenants: untagged.sort(byName) });
  if (builtin.length > 0) groups.push({ name: BUILTIN_GROUP, tenants: builtin.sort(byName) });
  return groups;
}

/** "a, b,,c " → ["a", "b", "c"] (trimmed, no empties, no duplicates). */
export function splitList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
}

/** The form's editable state. Every field is text, as typed; the secret is never in here. */
export type TenantDraft = {
  kind: ConnectorKind | "";
  name: string;
  url: string;
  options: Record<string, string>;
  timezone: string;
  hours: string;
  holidays: string;
  pollInterval: string;
  tags: string;
  /** Path of a PEM file of extra CA certificates; empty: the system's roots only. */
  caCertificate: string;
  /** Consent to plain http:// to a non-loopback host; used only while the URL is one. */
  allowPlainHttp: boolean;
};

export function emptyDraft(kind: ConnectorKind | ""): TenantDraft {
  return {
    kind,
    name: "",
    url: "",
    options: {},
    timezone: "",
    hours: "",
    holidays: "",
    pollInterval: String(DEFAULT_POLL_SECS),
    tags: "",
    caCertificate: "",
    allowPlainHttp: false,
  };
}

export function draftFromConfig(c: TenantConfig): TenantDraft {
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.options)) if (v !== undefined) options[k] = v;
  return {
    kind: c.kind,
    name: c.name,
    url: c.url,
    options,
    timezone: c.timezone ?? "",
    hours: c.hours ?? "",
    holidays: c.holidays.join(", "),
    pollInterval: String(c.poll_interval_secs),
    tags: c.tags.join(", "),
    caCertificate: c.ca_certificate ?? "",
    allowPlainHttp: c.allow_plain_http === true,
  };
}

export type DraftField =
  | "kind"
  | "name"
  | "url"
  | "secret"
  | "timezone"
  | "hours"
  | "holidays"
  | "pollInterval"
  | "caCertificate"
  | `option:${string}`;

export type DraftErrors = Partial<Record<DraftField, string>>;

/** The form field of each `TenantConfig` field the back end names in its errors. */
const SERVER_FIELDS = new Map<string, DraftField>([
  ["name", "name"],
  ["url", "url"],
  ["timezone", "timezone"],
  ["hours", "hours"],
  ["holidays", "holidays"],
  ["poll_interval_secs", "pollInterval"],
  ["ca_certificate", "caCertificate"],
]);

/**
 * The field an `invalid_input` message from the back end is about, if it names one the form
 * shows: `tenant '<name>': <field>: <why>` gives the field and `<why>`.
 */
export function tenantFieldError(message: string): { field: DraftField; why: string } | null {
  const m = /^tenant '[^']*': ([a-z_]+): ([\s\S]+)$/.exec(message.trim());
  const field = m?.[1] === undefined ? undefined : SERVER_FIELDS.get(m[1]);
  if (!m?.[2] || !field) return null;
  return { field, why: m[2].trim() };
}

/**
 * Whether the URL is plain `http://` to a host that is not loopback (`localhost`, 127.0.0.0/8,
 * `::1`), which the back end refuses unless the tenant allows plain HTTP. As the back end
 * judges it; an unparsable URL is not one.
 */
export function isPlainHttpToRemote(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:") return false;
  const host = parsed.hostname.toLowerCase();
  if (host === "localhost" || host === "[::1]") return false;
  return !/^127\.\d+\.\d+\.\d+$/.test(host);
}

/** An absolute path on Unix (`/…`) or Windows (`C:\…`, `C:/…`, `\\server\share`). */
export function isAbsolutePath(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path);
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Client-side checks for obvious mistakes only; the Rust side is the authority.
 * `secretRequired`: adding a tenant needs a secret, editing does not.
 */
export function validateDraft(
  d: TenantDraft,
  kind: KindInfo | undefined,
  opts: { secretTyped: boolean; secretRequired: boolean },
): DraftErrors {
  const e: DraftErrors = {};
  if (!d.kind) e.kind = "Choose the kind of system.";
  const name = d.name.trim();
  if (!name) e.name = "Enter a name.";
  else if (!NAME_PATTERN.test(name))
    e.name = "Use 1–64 letters, digits, dots, dashes or underscores (no spaces).";
  const url = d.url.trim();
  if (!url) e.url = "Enter the URL.";
  else if (!/^https?:\/\/\S+$/i.test(url)) e.url = "The URL must start with https:// or http://.";
  for (const f of kind?.options ?? []) {
    if (f.required && !(d.options[f.key] ?? "").trim()) e[`option:${f.key}`] = `Enter ${f.label}.`;
  }
  const ca = d.caCertificate.trim();
  if (ca && !isAbsolutePath(ca)) e.caCertificate = "Give the full path of the PEM file";
  if (opts.secretRequired && !opts.secretTyped)
    e.secret = `Enter the ${kind?.secret_label ?? "secret"}.`;
  const bad = splitList(d.holidays).filter((h) => !isDate(h));
  if (bad.length > 0) e.holidays = `Not a date (YYYY-MM-DD): ${bad.join(", ")}`;
  const poll = d.pollInterval.trim();
  if (!/^\d+$/.test(poll) || Number(poll) < 1)
    e.pollInterval = "Enter a whole number of seconds (at least 1).";
  return e;
}

/** The config to send. Options are limited to the chosen kind's fields when the kind changed. */
export function configFromDraft(
  d: TenantDraft,
  kind: KindInfo | undefined,
  originalKind: ConnectorKind | null,
): TenantConfig {
  const known = new Set((kind?.options ?? []).map((f) => f.key));
  const options: { [key in string]?: string } = {};
  for (const [k, v] of Object.entries(d.options)) {
    const value = v.trim();
    if (value && (known.has(k) || d.kind === originalKind)) options[k] = value;
  }
  const config: TenantConfig = {
    name: d.name.trim(),
    kind: (d.kind || kind?.kind) as ConnectorKind,
    url: d.url.trim(),
    options,
    timezone: d.timezone.trim() || null,
    hours: d.hours.trim() || null,
    holidays: splitList(d.holidays),
    poll_interval_secs: Number(d.pollInterval.trim()) || DEFAULT_POLL_SECS,
    tags: splitList(d.tags),
  };
  // Left out when empty rather than sent as "": the back end would check "" as a path.
  const ca = d.caCertificate.trim();
  if (ca) config.ca_certificate = ca;
  // Only while the checkbox is shown: consent given for another URL does not carry over.
  if (d.allowPlainHttp && isPlainHttpToRemote(config.url)) config.allow_plain_http = true;
  return config;
}

/** Server clock offset: "+1.2 s", "-75.0 s". */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  return `${sign}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

const CAPABILITY_LABELS: Record<keyof Capabilities, string> = {
  list_sessions: "List all active sessions",
  end_session: "End a session",
  end_user_sessions: "End all sessions of a user",
  disable_user: "Disable a user",
  enable_user: "Enable a user",
  superuser_detection: "Detect SuperUsers",
  change_feed: "Incremental polling (change feed)",
  sign_in_log: "Sessions from the sign-in log (may lag)",
  revoke_grants: "Revoke tokens and grants",
  require_password_change: "Require a new password",
};

/** Every capability as label + yes/no, including ones added after this UI was built. */
export function describeCapabilities(
  c: Capabilities,
): { key: string; label: string; can: boolean }[] {
  return Object.entries(c)
    .filter((entry): entry is [string, boolean] => typeof entry[1] === "boolean")
    .map(([key, can]) => ({
      key,
      label: CAPABILITY_LABELS[key as keyof Capabilities] ?? key.replaceAll("_", " "),
      can,
    }));
}

/** Timezone names for the datalist, when the runtime can list them. */
export function timeZoneNames(): string[] {
  const intl = Intl as { supportedValuesOf?: (key: "timeZone") => string[] };
  try {
    return typeof intl.supportedValuesOf === "function" ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}
