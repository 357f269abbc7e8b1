import type { AlertSettings } from "../ipc/bindings/AlertSettings";
import limits from "../ipc/bindings/limits.json";
import type { WindowLimits } from "../ipc/bindings/WindowLimits";

/**
 * A tenant's alert rule settings when its configuration has no `[tenants.alerts]` table:
 * `AlertSettings::default()` of the core, as its tests write it into
 * `ipc/bindings/limits.json` (one source; the test command fails on drift).
 * Frozen; `alertDefaults()` gives a copy to change.
 */
const core = (limits as WindowLimits).alerts.defaults;
const { max_session_age_hours: age, max_concurrent_sessions: concurrent } = core;
if (age === null || concurrent === null) {
  throw new Error("alertLimits.json: the core's default session limits are off");
}
export const ALERT_DEFAULTS = Object.freeze({
  ...core,
  max_session_age_hours: age,
  max_concurrent_sessions: concurrent,
});

/** A fresh copy of the defaults. */
export function alertDefaults(): AlertSettings {
  return { ...ALERT_DEFAULTS, muted: [] };
}
