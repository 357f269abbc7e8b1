import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { Alert } from "./bindings/Alert";
import type { AlertFilter } from "./bindings/AlertFilter";
import { acknowledgeAlerts, listAlerts, onNewAlert, snoozeRule } from "./ipc";

const ALERT: Alert = {
  rule: "odd_hours",
  rules: ["odd_hours"],
  severity: "medium",
  tenant: "demo",
  username: "alice",
  session_id: "s1",
  ip: null,
  user_agent: null,
  at: "2025-01-01T03:00:00Z",
  message: "alice signed in to demo: outside working hours",
  count: 1,
  suppressed_by: null,
};

describe("alert IPC", () => {
  it("calls the alert commands with the contract's arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === "list_alerts" ? [{ id: 1, alert: ALERT, acknowledged: false }] : null;
    });
    const filter: AlertFilter = { open_only: true, tenant: "demo", search: "x", limit: 10 };
    expect(await listAlerts(filter)).toEqual([{ id: 1, alert: ALERT, acknowledged: false }]);
    await acknowledgeAlerts([1, 2]);
    await snoozeRule("demo", "odd_hours", 0);
    expect(calls).toEqual([
      ["list_alerts", { filter }],
      ["acknowledge_alerts", { ids: [1, 2] }],
      ["snooze_rule", { tenant: "demo", rule: "odd_hours", minutes: 0 }],
    ]);
  });

  it("delivers alerts://new payloads until unsubscribed", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const cb = vi.fn();
    const unlisten = await onNewAlert(cb);
    await emit("alerts://new", ALERT);
    expect(cb).toHaveBeenCalledWith(ALERT);
    unlisten();
    await emit("alerts://new", ALERT);
    expect(cb).toHaveBeenCalledTimes(1);
  });
});
