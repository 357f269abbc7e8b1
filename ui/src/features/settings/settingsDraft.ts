// The settings form's model: the draft as typed, its checks, and the back end's errors.
import type { AppSettings } from "../../ipc/bindings/AppSettings";
import type { Severity } from "../../ipc/bindings/Severity";
import type { Theme } from "../../ipc/bindings/Theme";

export type Field = keyof AppSettings;

/** The form's values: numbers as typed, so that a half-typed or wrong value can be shown. */
export type Draft = { [K in Field]: AppSettings[K] extends number ? string : AppSettings[K] };

export type Errors = Partial<Record<Field, string>>;

/** Each field's `data-testid` suffix: `settings-<suffix>`, its error `settings-<suffix>-error`. */
export const TEST_IDS: Record<Field, string> = {
  default_poll_interval_secs: "poll-interval",
  notifications: "notifications",
  notify_min_severity: "min-severity",
  geoip_database: "geoip",
  history_retention_days: "retention",
  theme: "theme",
  start_at_login: "start-at-login",
  keep_running_in_tray: "keep-in-tray",
};

export const FIELDS = Object.keys(TEST_IDS) as Field[];

/** The ranges the back end accepts (crates/core/src/settings.rs); it checks them again. */
export const RANGES = {
  default_poll_interval_secs: { min: 2, max: 86_400, unit: "seconds" },
  history_retention_days: { min: 1, max: 3_650, unit: "days" },
} as const;

export const SEVERITIES: { value: Severity; label: string }[] = [
  { value: "low", label: "Low and above (all alerts)" },
  { value: "medium", label: "Medium and above" },
  { value: "high", label: "High only" },
];

export const THEMES: { value: Theme; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

export function draftOf(s: AppSettings): Draft {
  return {
    ...s,
    default_poll_interval_secs: String(s.default_poll_interval_secs),
    history_retention_days: String(s.history_retention_days),
  };
}

export function settingsOf(d: Draft): AppSettings {
  return {
    ...d,
    default_poll_interval_secs: Number(d.default_poll_interval_secs.trim()),
    history_retention_days: Number(d.history_retention_days.trim()),
  };
}

/** Obvious mistakes, found before asking the back end. */
export function validate(d: Draft): Errors {
  const errors: Errors = {};
  for (const field of ["default_poll_interval_secs", "history_retention_days"] as const) {
    const { min, max, unit } = RANGES[field];
    const text = d[field].trim();
    if (!/^\d+$/.test(text)) errors[field] = `Enter a whole number of ${unit}.`;
    else if (Number(text) < min || Number(text) > max)
      errors[field] = `Must be between ${min} and ${max.toLocaleString("en")} ${unit}.`;
  }
  return errors;
}

/** `history_retention_days: must be …` → the field and the reason; null for other messages. */
export function fieldError(message: string): { field: Field; why: string } | null {
  const colon = message.indexOf(":");
  if (colon < 0) return null;
  const field = message.slice(0, colon).trim();
  if (!(FIELDS as string[]).includes(field)) return null;
  const why = message.slice(colon + 1).trim();
  return { field: field as Field, why: why || message };
}

export function saveErrorHint(code: string | undefined): string | null {
  switch (code) {
    case "config":
      return "Vigil did not change the configuration file; fix it and restart.";
    default:
      return null;
  }
}
