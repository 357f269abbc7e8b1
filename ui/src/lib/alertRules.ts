import type { AlertSettings } from "../ipc/bindings/AlertSettings";
import limits from "../ipc/bindings/limits.json";
import type { Rule } from "../ipc/bindings/Rule";
import type { WindowLimits } from "../ipc/bindings/WindowLimits";
import { ALERT_DEFAULTS, alertDefaults } from "./alertDefaults";

/**
 * The on/off controls of the alert rules section. `long_sessions` and `too_many_sessions`
 * have no flag of their own in AlertSettings: off means their limit is null.
 */
export type AlertToggle =
  | "superuser_sign_in"
  | "odd_hours"
  | "multiple_networks"
  | "impossible_travel"
  | "new_ip"
  | "tenant_problems"
  | "long_sessions"
  | "too_many_sessions"
  | "alert_on_existing";

export type AlertNumber =
  | "max_travel_kmh"
  | "max_session_age_hours"
  | "max_concurrent_sessions"
  | "digest_over"
  | "max_per_minute";

/** The section's editable state: numbers as typed, so a half-typed value can be shown. */
export type AlertsDraft = Record<AlertToggle, boolean> &
  Record<AlertNumber, string> & {
    /** Not edited in the window; kept as the tenant had it. */
    muted: Rule[];
  };

export type AlertErrors = Partial<Record<AlertNumber, string>>;

/** What each number counts, for the messages. */
const UNITS: Record<AlertNumber, string> = {
  max_travel_kmh: "km/h",
  max_session_age_hours: "hours",
  max_concurrent_sessions: "sessions",
  digest_over: "alerts",
  max_per_minute: "alerts",
};

/** The core's range for a number (`RANGES` in crates/core/src/alerts.rs, written into
 * `ipc/bindings/limits.json` by its tests). */
function rangeOf(field: AlertNumber): { min: number; max: number } {
  const r = (limits as WindowLimits).alerts.ranges.find((x) => x.field === field);
  if (!r) throw new Error(`no range for ${field} in limits.json`);
  return { min: r.min, max: r.max };
}

/** Accepted ranges (whole numbers) and what is counted, for the messages. */
export const ALERT_RANGES: Record<AlertNumber, { min: number; max: number; unit: string }> = {
  max_travel_kmh: { ...rangeOf("max_travel_kmh"), unit: UNITS.max_travel_kmh },
  max_session_age_hours: { ...rangeOf("max_session_age_hours"), unit: UNITS.max_session_age_hours },
  max_concurrent_sessions: {
    ...rangeOf("max_concurrent_sessions"),
    unit: UNITS.max_concurrent_sessions,
  },
  digest_over: { ...rangeOf("digest_over"), unit: UNITS.digest_over },
  max_per_minute: { ...rangeOf("max_per_minute"), unit: UNITS.max_per_minute },
};

/** The rule whose switch a number belongs to: while it is off the number is unused. */
export const NUMBER_RULE: Partial<Record<AlertNumber, AlertToggle>> = {
  max_travel_kmh: "impossible_travel",
  max_session_age_hours: "long_sessions",
  max_concurrent_sessions: "too_many_sessions",
};

/** The rule a switch turns on and off (for the muted list); alert_on_existing is none. */
export const TOGGLE_RULE: Partial<Record<AlertToggle, Rule>> = {
  superuser_sign_in: "superuser_sign_in",
  odd_hours: "odd_hours",
  multiple_networks: "multiple_networks",
  impossible_travel: "impossible_travel",
  new_ip: "new_ip",
  tenant_problems: "tenant_problem",
  long_sessions: "long_session",
  too_many_sessions: "too_many_sessions",
};

const TOGGLES: AlertToggle[] = [
  "superuser_sign_in",
  "odd_hours",
  "multiple_networks",
  "impossible_travel",
  "new_ip",
  "tenant_problems",
  "long_sessions",
  "too_many_sessions",
  "alert_on_existing",
];

const NUMBERS = Object.keys(ALERT_RANGES) as AlertNumber[];

/**
 * A tenant's settings as sent by the back end, completed with the defaults (a back end
 * older or newer than this window may leave a field out).
 */
export function completeAlerts(s: Partial<AlertSettings> | null | undefined): AlertSettings {
  const out: AlertSettings = alertDefaults();
  if (!s) return out;
  // Fields this window does not know are kept too, and sent back unchanged.
  for (const [k, v] of Object.entries(s)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  out.muted = [...(s.muted ?? [])];
  return out;
}

export function draftFromAlerts(s: AlertSettings): AlertsDraft {
  const age = s.max_session_age_hours;
  const concurrent = s.max_concurrent_sessions;
  return {
    superuser_sign_in: s.superuser_sign_in,
    odd_hours: s.odd_hours,
    multiple_networks: s.multiple_networks,
    impossible_travel: s.impossible_travel,
    new_ip: s.new_ip,
    tenant_problems: s.tenant_problems,
    long_sessions: age !== null,
    too_many_sessions: concurrent !== null,
    alert_on_existing: s.alert_on_existing,
    max_travel_kmh: String(s.max_travel_kmh),
    // An unused limit shows the default, ready for when the rule is switched on.
    max_session_age_hours: String(age ?? ALERT_DEFAULTS.max_session_age_hours),
    max_concurrent_sessions: String(concurrent ?? ALERT_DEFAULTS.max_concurrent_sessions),
    digest_over: String(s.digest_over),
    max_per_minute: String(s.max_per_minute),
    muted: [...s.muted],
  };
}

/** Whether a number is in use: its rule (if it has one) is on. */
export function numberInUse(d: AlertsDraft, n: AlertNumber): boolean {
  const rule = NUMBER_RULE[n];
  return rule === undefined || d[rule];
}

/** The typed whole number, else NaN. */
function whole(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

/** The typed number when it is a whole number in range, else null. */
function parsed(d: AlertsDraft, n: AlertNumber): number | null {
  const v = whole(d[n]);
  const { min, max } = ALERT_RANGES[n];
  return v >= min && v <= max ? v : null;
}

/** Range checks of the numbers in use; the back end is the authority. */
export function validateAlerts(d: AlertsDraft): AlertErrors {
  const errors: AlertErrors = {};
  for (const n of NUMBERS) {
    if (!numberInUse(d, n) || parsed(d, n) !== null) continue;
    const { min, max, unit } = ALERT_RANGES[n];
    errors[n] = `Enter a whole number from ${min} to ${max.toLocaleString("en")} ${unit}.`;
  }
  return errors;
}

/**
 * The settings to send. A number whose rule is off and that is not valid falls back to
 * `base` (what the tenant had), so switching a rule off never sends a half-typed value.
 */
export function alertsFromDraft(d: AlertsDraft, base: AlertSettings): AlertSettings {
  const num = (n: AlertNumber, fallback: number) => parsed(d, n) ?? fallback;
  return {
    ...base,
    superuser_sign_in: d.superuser_sign_in,
    odd_hours: d.odd_hours,
    multiple_networks: d.multiple_networks,
    new_ip: d.new_ip,
    tenant_problems: d.tenant_problems,
    impossible_travel: d.impossible_travel,
    max_travel_kmh: num("max_travel_kmh", base.max_travel_kmh),
    max_session_age_hours: d.long_sessions
      ? num(
          "max_session_age_hours",
          base.max_session_age_hours ?? ALERT_DEFAULTS.max_session_age_hours,
        )
      : null,
    max_concurrent_sessions: d.too_many_sessions
      ? num(
          "max_concurrent_sessions",
          base.max_concurrent_sessions ?? ALERT_DEFAULTS.max_concurrent_sessions,
        )
      : null,
    alert_on_existing: d.alert_on_existing,
    muted: [...d.muted],
    digest_over: num("digest_over", base.digest_over),
    max_per_minute: num("max_per_minute", base.max_per_minute),
  };
}

export function sameAlerts(a: AlertSettings, b: AlertSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof AlertSettings>;
  for (const k of keys) {
    if (k === "muted") {
      if (a.muted.length !== b.muted.length || a.muted.some((r, i) => r !== b.muted[i]))
        return false;
    } else if (a[k] !== b[k]) return false;
  }
  return true;
}

/** How many controls differ from the defaults (a number only while its rule is on). */
export function changedFromDefaults(d: AlertsDraft): number {
  const defaults = draftFromAlerts(ALERT_DEFAULTS);
  let changed = TOGGLES.filter((t) => d[t] !== defaults[t]).length;
  for (const n of NUMBERS) {
    if (numberInUse(d, n) && whole(d[n]) !== whole(defaults[n])) changed += 1;
  }
  return changed;
}

/** The section's summary line: "Alert rules: defaults", "Alert rules: 2 changed, 1 muted". */
export function alertsSummary(d: AlertsDraft): string {
  const changed = changedFromDefaults(d);
  const parts = [changed === 0 ? "defaults" : `${changed} changed`];
  if (d.muted.length > 0) parts.push(`${d.muted.length} muted`);
  return `Alert rules: ${parts.join(", ")}`;
}
