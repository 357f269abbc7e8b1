import type { AlertSettings } from "../ipc/bindings/AlertSettings";
import type { Rule } from "../ipc/bindings/Rule";

/**
 * A tenant's alert rule settings when its configuration has no `[tenants.alerts]` table.
 * Mirrors `AlertSettings::default()` in crates/core/src/alerts.rs: change both together.
 * Frozen; `alertDefaults()` gives a copy to change.
 */
export const ALERT_DEFAULTS = Object.freeze({
  superuser_sign_in: true,
  odd_hours: true,
  multiple_networks: true,
  new_ip: false,
  tenant_problems: true,
  impossible_travel: true,
  max_travel_kmh: 900,
  max_session_age_hours: 24 * 7,
  max_concurrent_sessions: 10,
  alert_on_existing: false,
  muted: [] as Rule[],
  digest_over: 5,
  max_per_minute: 10,
} satisfies AlertSettings);

/** A fresh copy of the defaults. */
export function alertDefaults(): AlertSettings {
  return { ...ALERT_DEFAULTS, muted: [] };
}
