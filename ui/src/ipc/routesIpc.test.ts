import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { ALERTS_FILE, makeRoute } from "../test/fixtures";
import type { SharedAuditView } from "./bindings/SharedAuditView";
import type { SharedEvent } from "./bindings/SharedEvent";
import {
  alertsConfig,
  errorCode,
  errorMessage,
  IpcError,
  routesWithSecret,
  saveAlertsConfig,
  saveSharedAudit,
  setRouteSecret,
  sharedAudit,
  sharedAuditEvents,
  testRoute,
  verifySharedAudit,
} from "./ipc";

const VIEW: SharedAuditView = {
  config: { url: "postgres://vigil@audit.example.org/vigil", tls: true, ca_certificate: null },
  status: { sent: 3, pending: 0, last_success: "2025-01-01T09:00:00Z", last_error: null },
};

const EVENT: SharedEvent = {
  seq: 7,
  operator: "alice@ws1",
  db_user: "vigil_operator",
  machine: "ws1",
  action_id: "A1",
  tenant: "demo",
  action: "end_session",
  target: "s1",
  target_user: "bob",
  state: "confirmed",
  at: "2025-01-01T09:00:00Z",
  http_status: 204,
  message: null,
  received_at: "2025-01-01T09:00:02Z",
};

describe("alert route and team audit IPC", () => {
  it("calls the commands by name with the arguments the Rust side reads", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      switch (cmd) {
        case "alerts_config":
        case "save_alerts_config":
          return ALERTS_FILE;
        case "routes_with_secret":
          return ["soc"];
        case "shared_audit":
        case "save_shared_audit":
          return VIEW;
        case "shared_audit_events":
          return [EVENT];
        case "verify_shared_audit":
          return { rows: 12, head: "3f9a0c12deadbeef" };
        default:
          return null;
      }
    });
    const route = makeRoute("soc", { url: "https://siem.example.org/hooks/vigil" });
    const config = VIEW.config;

    expect(await alertsConfig()).toEqual(ALERTS_FILE);
    expect(await saveAlertsConfig(ALERTS_FILE)).toEqual(ALERTS_FILE);
    await setRouteSecret("soc", "k3y");
    await setRouteSecret("soc", null);
    await setRouteSecret("soc", "");
    expect(await routesWithSecret()).toEqual(["soc"]);
    await testRoute(route);
    expect(await sharedAudit()).toEqual(VIEW);
    expect(await saveSharedAudit(config, "pw")).toEqual(VIEW);
    await saveSharedAudit(null, null);
    expect(await sharedAuditEvents("demo", "bob")).toEqual([EVENT]);
    await sharedAuditEvents(null, null);
    expect(await verifySharedAudit()).toEqual({ rows: 12, head: "3f9a0c12deadbeef" });

    expect(calls).toEqual([
      ["alerts_config", {}],
      ["save_alerts_config", { alerts: ALERTS_FILE }],
      ["set_route_secret", { route: "soc", secret: "k3y" }],
      ["set_route_secret", { route: "soc", secret: null }],
      // An empty secret removes it, as null does.
      ["set_route_secret", { route: "soc", secret: null }],
      ["routes_with_secret", {}],
      ["test_route", { route }],
      ["shared_audit", {}],
      ["save_shared_audit", { config, password: "pw" }],
      ["save_shared_audit", { config: null, password: null }],
      ["shared_audit_events", { tenant: "demo", search: "bob" }],
      ["shared_audit_events", { tenant: null, search: null }],
      ["verify_shared_audit", {}],
    ]);
  });

  it("rejects with the back end's message naming the route", async () => {
    mockIPC(() => {
      throw {
        code: "config",
        message: "route 'soc': url: must be https (http only to this machine)",
      };
    });
    const err = await saveAlertsConfig(ALERTS_FILE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect(errorCode(err)).toBe("config");
    expect(errorMessage(err)).toBe("route 'soc': url: must be https (http only to this machine)");
    expect((err as IpcError).command).toBe("save_alerts_config");

    const failed = await testRoute(makeRoute("soc")).catch((e: unknown) => e);
    expect((failed as IpcError).command).toBe("test_route");
  });
});
