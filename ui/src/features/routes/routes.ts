// The alert route form's model: the draft as typed, its checks, and the route it makes.
import type { RouteConfig } from "../../ipc/bindings/RouteConfig";
import type { RouteKind } from "../../ipc/bindings/RouteKind";
import type { Severity } from "../../ipc/bindings/Severity";
import type { SmtpSecurity } from "../../ipc/bindings/SmtpSecurity";
import type { SyslogFormat } from "../../ipc/bindings/SyslogFormat";
import type { SyslogTransport } from "../../ipc/bindings/SyslogTransport";
import { plural } from "../../lib/format";
import { splitList } from "../policies/policies";

export const KINDS: { value: RouteKind; label: string }[] = [
  { value: "webhook", label: "Webhook" },
  { value: "slack", label: "Slack" },
  { value: "teams", label: "Microsoft Teams" },
  { value: "email", label: "E-mail (SMTP)" },
  { value: "syslog", label: "Syslog" },
];

export function kindLabel(kind: RouteKind): string {
  return KINDS.find((k) => k.value === kind)?.label ?? kind;
}

export const MIN_SEVERITIES: { value: Severity; label: string }[] = [
  { value: "low", label: "Low and above (all alerts)" },
  { value: "medium", label: "Medium and above" },
  { value: "high", label: "High only" },
];

const SEVERITY_TEXT: Record<Severity, string> = {
  low: "all severities",
  medium: "medium and above",
  high: "high only",
};

export const SECURITIES: { value: SmtpSecurity; label: string }[] = [
  { value: "starttls", label: "STARTTLS (port 587)" },
  { value: "tls", label: "TLS (port 465)" },
  { value: "none", label: "None (a relay on this machine only)" },
];

export const TRANSPORTS: { value: SyslogTransport; label: string }[] = [
  { value: "tcp", label: "TCP" },
  { value: "tls", label: "TLS" },
  { value: "udp", label: "UDP" },
];

export const FORMATS: { value: SyslogFormat; label: string }[] = [
  { value: "cef", label: "CEF (ArcSight Common Event Format)" },
  { value: "json", label: "JSON" },
];

export const FACILITIES = [
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
  "auth",
  "authpriv",
  "security",
  "user",
  "kern",
] as const;

/** The text fields of the form (numbers and lists as typed). */
export type TextField =
  | "name"
  | "tenants"
  | "tags"
  | "max_per_minute"
  | "url"
  | "smtp_host"
  | "smtp_port"
  | "username"
  | "from"
  | "to"
  | "host"
  | "port"
  | "ca_certificate";

export type RouteDraft = Record<TextField, string> & {
  kind: RouteKind;
  enabled: boolean;
  min_severity: Severity;
  security: SmtpSecurity;
  transport: SyslogTransport;
  format: SyslogFormat;
  facility: string;
};

export type RouteField = keyof RouteDraft;

/** Errors by field; `secret` is the keychain secret's input. */
export type RouteErrors = Partial<Record<RouteField | "secret", string>>;

/** The fields each kind uses besides name, enabled, severity, scope and rate limit. */
export const KIND_FIELDS: Record<RouteKind, readonly RouteField[]> = {
  webhook: ["url", "ca_certificate"],
  slack: [],
  teams: [],
  email: ["smtp_host", "smtp_port", "security", "username", "from", "to", "ca_certificate"],
  syslog: ["host", "port", "transport", "format", "facility", "ca_certificate"],
};

/** What the keychain secret of a kind is (null: the kind has none). */
export function secretLabel(kind: RouteKind): string | null {
  switch (kind) {
    case "webhook":
      return "Signing key (optional)";
    case "slack":
    case "teams":
      return "Incoming webhook URL";
    case "email":
      return "SMTP password";
    case "syslog":
      return null;
  }
}

/** Whether the route cannot send without its secret. */
export function secretNeeded(kind: RouteKind): boolean {
  return kind === "slack" || kind === "teams";
}

/** A new route as the back end's `RouteConfig::default()` has it. */
export function newRoute(): RouteConfig {
  return {
    name: "",
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
  };
}

export function draftOf(r: RouteConfig): RouteDraft {
  return {
    name: r.name,
    kind: r.kind,
    enabled: r.enabled,
    min_severity: r.min_severity,
    tenants: r.tenants.join(", "),
    tags: r.tags.join(", "),
    max_per_minute: String(r.max_per_minute),
    url: r.url ?? "",
    smtp_host: r.smtp_host ?? "",
    smtp_port: r.smtp_port === null ? "" : String(r.smtp_port),
    security: r.security,
    username: r.username ?? "",
    from: r.from ?? "",
    to: r.to.join(", "),
    host: r.host ?? "",
    port: r.port === null ? "" : String(r.port),
    transport: r.transport,
    format: r.format,
    facility: r.facility,
    ca_certificate: r.ca_certificate ?? "",
  };
}

function whole(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

function port(text: string): number | null {
  const v = whole(text);
  return v >= 1 && v <= 65_535 ? v : null;
}

/**
 * What is wrong with the draft before asking the back end, which checks everything again
 * (addresses, URLs, names).
 */
export function validateRoute(d: RouteDraft, otherNames: readonly string[]): RouteErrors {
  const errors: RouteErrors = {};
  const name = d.name.trim();
  if (name === "") errors.name = "Give the route a name.";
  else if (name.length > 64) errors.name = "At most 64 characters.";
  else if (otherNames.includes(name)) errors.name = "Another route has this name.";
  const rate = whole(d.max_per_minute);
  if (!(rate >= 1 && rate <= 600)) errors.max_per_minute = "A whole number from 1 to 600.";
  const used = KIND_FIELDS[d.kind];
  if (d.kind === "webhook" && d.url.trim() === "") errors.url = "The URL to POST alerts to.";
  if (used.includes("smtp_host") && d.smtp_host.trim() === "")
    errors.smtp_host = "The SMTP server.";
  if (used.includes("from") && d.from.trim() === "") errors.from = "The sender's address.";
  if (used.includes("to") && splitList(d.to).length === 0) errors.to = "At least one recipient.";
  if (used.includes("host") && d.host.trim() === "") errors.host = "The collector's host.";
  for (const f of ["smtp_port", "port"] as const) {
    if (used.includes(f) && d[f].trim() !== "" && port(d[f]) === null)
      errors[f] = "A port from 1 to 65535, or empty for the default.";
  }
  return errors;
}

/** The route the draft describes; fields its kind does not use are left empty. */
export function routeOf(d: RouteDraft, base: RouteConfig): RouteConfig {
  const used = KIND_FIELDS[d.kind];
  const text = (f: TextField): string | null => {
    const v = d[f].trim();
    return used.includes(f) && v !== "" ? v : null;
  };
  return {
    ...base,
    name: d.name.trim(),
    kind: d.kind,
    enabled: d.enabled,
    min_severity: d.min_severity,
    tenants: splitList(d.tenants),
    tags: splitList(d.tags),
    max_per_minute: whole(d.max_per_minute),
    url: text("url"),
    smtp_host: text("smtp_host"),
    smtp_port: used.includes("smtp_port") ? port(d.smtp_port) : null,
    security: used.includes("security") ? d.security : base.security,
    username: text("username"),
    from: text("from"),
    to: used.includes("to") ? splitList(d.to) : [],
    host: text("host"),
    port: used.includes("port") ? port(d.port) : null,
    transport: used.includes("transport") ? d.transport : base.transport,
    format: used.includes("format") ? d.format : base.format,
    facility: used.includes("facility") ? d.facility : base.facility,
    // Slack and Teams do not show it: what the file has stays.
    ca_certificate: used.includes("ca_certificate") ? text("ca_certificate") : base.ca_certificate,
  };
}

/** "tenants prod, staging · tags eu" or "every tenant". */
export function describeScope(r: Pick<RouteConfig, "tenants" | "tags">): string {
  const parts: string[] = [];
  if (r.tenants.length > 0) parts.push(`tenants ${r.tenants.join(", ")}`);
  if (r.tags.length > 0) parts.push(`tags ${r.tags.join(", ")}`);
  return parts.length > 0 ? parts.join(" · ") : "every tenant";
}

export function describeSeverity(s: Severity): string {
  return SEVERITY_TEXT[s] ?? s;
}

/** "at most 20 a minute". */
export function describeRate(n: number): string {
  return `at most ${plural(n, "message")} a minute`;
}

/** Where the route sends, in a few words (no secret: Slack and Teams keep theirs in the keychain). */
export function describeTarget(r: RouteConfig): string {
  switch (r.kind) {
    case "webhook":
      return r.url ?? "";
    case "slack":
    case "teams":
      return "the incoming webhook in the keychain";
    case "email":
      return r.to.length > 0 ? `to ${r.to.join(", ")} via ${r.smtp_host ?? "?"}` : "";
    case "syslog":
      return `${r.host ?? "?"}${r.port !== null ? `:${r.port}` : ""} (${r.transport.toUpperCase()}, ${r.format.toUpperCase()}, ${r.facility})`;
  }
}
