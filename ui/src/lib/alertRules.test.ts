import { describe, expect, it } from "vitest";
import type { AlertSettings } from "../ipc/bindings/AlertSettings";
import { ALERT_DEFAULTS, alertDefaults } from "./alertDefaults";
import {
  alertsFromDraft,
  alertsSummary,
  completeAlerts,
  draftFromAlerts,
  sameAlerts,
  validateAlerts,
} from "./alertRules";

describe("alert rule settings", () => {
  it("hands out copies of the defaults, never the constant", () => {
    const a = alertDefaults();
    a.muted.push("new_ip");
    a.digest_over = 99;
    expect(ALERT_DEFAULTS.muted).toEqual([]);
    expect(ALERT_DEFAULTS.digest_over).toBe(5);
    expect(Object.isFrozen(ALERT_DEFAULTS)).toBe(true);
  });

  it("completes partial settings with the defaults and keeps fields it does not know", () => {
    const partial = { new_ip: true, future_rule: 3 } as unknown as Partial<AlertSettings>;
    const full = completeAlerts(partial);
    expect(full).toEqual({ ...ALERT_DEFAULTS, new_ip: true, future_rule: 3 });
    // …and sends them back.
    expect(alertsFromDraft(draftFromAlerts(full), full)).toEqual(full);
    expect(completeAlerts(undefined)).toEqual(ALERT_DEFAULTS);
  });

  it("round-trips settings through the draft, null limits included", () => {
    const s: AlertSettings = {
      ...alertDefaults(),
      max_session_age_hours: null,
      max_concurrent_sessions: 3,
      muted: ["odd_hours", "new_ip"],
    };
    const d = draftFromAlerts(s);
    expect(d.long_sessions).toBe(false);
    expect(d.max_session_age_hours).toBe("168");
    expect(alertsFromDraft(d, s)).toEqual(s);
    expect(sameAlerts(alertsFromDraft(d, s), s)).toBe(true);
    expect(sameAlerts(s, { ...s, muted: ["new_ip", "odd_hours"] })).toBe(false);
    expect(alertsSummary(d)).toBe("Alert rules: 2 changed, 2 muted");
  });

  it("checks only the numbers in use, and keeps the old value of an unused bad one", () => {
    const base = alertDefaults();
    const d = {
      ...draftFromAlerts(base),
      impossible_travel: false,
      max_travel_kmh: "12",
      max_per_minute: " 601 ",
    };
    expect(validateAlerts(d)).toEqual({
      max_per_minute: "Enter a whole number from 1 to 600 alerts.",
    });
    expect(validateAlerts({ ...d, max_per_minute: " 600 " })).toEqual({});
    expect(alertsFromDraft({ ...d, max_per_minute: "600" }, base)).toEqual({
      ...base,
      impossible_travel: false,
      max_per_minute: 600,
    });
  });
});
