import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { APP_STATUS, CHECK_OK, KINDS, makeConfig, SETTINGS, TENANTS } from "../test/fixtures";
import type { SessionQuery } from "./bindings/SessionQuery";
import {
  appStatus,
  assignAccount,
  connectorKinds,
  containPerson,
  containPlan,
  diagnostics,
  endSessions,
  errorCode,
  errorMessage,
  exportSessions,
  findPerson,
  getSettings,
  IpcError,
  isErrorPayload,
  listPolicies,
  listTenants,
  onAppStatus,
  onSessionsChanged,
  openLogFolder,
  policyPreview,
  policyRun,
  querySessions,
  queryUsers,
  reenablePerson,
  refresh,
  removeTenant,
  saveSettings,
  saveTenant,
  sessionFacets,
  sessionRefs,
  setPaused,
  summary,
  testTenant,
  toIpcError,
} from "./ipc";

const QUERY: SessionQuery = {
  search: "alice",
  tenants: ["demo"],
  superuser_only: true,
  sort: "created_at",
  descending: true,
  offset: 200,
  limit: 100,
};

describe("isErrorPayload", () => {
  it("accepts {code, message} with a known code", () => {
    expect(isErrorPayload({ code: "timeout", message: "slow" })).toBe(true);
    expect(isErrorPayload(new IpcError({ code: "config", message: "bad" }, "summary"))).toBe(true);
  });

  it("rejects everything else", () => {
    expect(isErrorPayload(null)).toBe(false);
    expect(isErrorPayload("timeout")).toBe(false);
    expect(isErrorPayload({ code: "timeout" })).toBe(false);
    expect(isErrorPayload({ code: "nope", message: "x" })).toBe(false);
    expect(isErrorPayload({ code: 1, message: "x" })).toBe(false);
  });
});

describe("ipc wrapper", () => {
  it("passes the query as { query } to query_sessions", async () => {
    const handler = vi.fn((_cmd: string, _args?: unknown) => ({
      total: 1,
      offset: 200,
      rows: [],
      version: 3,
    }));
    mockIPC(handler);
    const page = await querySessions(QUERY);
    expect(handler).toHaveBeenCalledWith("query_sessions", { query: QUERY });
    expect(page.version).toBe(3);
  });

  it("calls summary, end_sessions and refresh with the contract's arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "summary") {
        return {
          total: { active_users: 1, active_sessions: 2, superusers_online: 0 },
          tenants: [],
        };
      }
      if (cmd === "end_sessions") return { items: [] };
      return null;
    });
    const s = await summary();
    expect(s.total.active_sessions).toBe(2);
    const targets = [{ tenant: "demo", session_id: "abc" }];
    expect(await endSessions(targets)).toEqual({ items: [] });
    expect(await refresh()).toBeUndefined();
    expect(calls.map(([c]) => c)).toEqual(["summary", "end_sessions", "refresh"]);
    expect(calls[1]?.[1]).toEqual({ targets });
  });

  it("calls the people and policy commands with the contract's arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === "list_policies" ? [] : { result: "not_found" };
    });
    const options = {
      disable: true,
      end_sessions: true,
      revoke_grants: false,
      require_password_change: true,
    };
    const policy = {
      name: "night",
      idle_over: "8h",
      older_than: null,
      tenants: [],
      tags: ["prod"],
      except: [],
      every: null,
    };
    expect(await findPerson("alice@example.org")).toEqual({ result: "not_found" });
    await containPlan("alice@example.org", options);
    await containPerson("alice@example.org", options);
    await reenablePerson("alice@example.org");
    expect(await listPolicies()).toEqual([]);
    await policyPreview(policy);
    await policyRun(policy);
    await assignAccount("chat", "ann2", { to: "person", person: "ann@example.org" });
    expect(calls).toEqual([
      ["find_person", { query: "alice@example.org" }],
      ["contain_plan", { key: "alice@example.org", options }],
      ["contain_person", { key: "alice@example.org", options }],
      ["reenable_person", { key: "alice@example.org" }],
      ["list_policies", {}],
      ["policy_preview", { policy }],
      ["policy_run", { policy }],
      [
        "assign_account",
        { tenant: "chat", user: "ann2", to: { to: "person", person: "ann@example.org" } },
      ],
    ]);
  });

  it("turns a rejected ErrorPayload into an IpcError with the same code and message", async () => {
    mockIPC(() => {
      throw { code: "rate_limited", message: "slow down" };
    });
    const err = await summary().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect(isErrorPayload(err)).toBe(true);
    expect(err).toMatchObject({ code: "rate_limited", message: "slow down", command: "summary" });
  });

  it("normalises string and unknown rejections", async () => {
    mockIPC(() => Promise.reject("command query_sessions not found"));
    await expect(querySessions(QUERY)).rejects.toMatchObject({
      code: "internal",
      message: "command query_sessions not found",
    });
    expect(toIpcError(42, "x").message).toBe("Command x failed");
    expect(errorMessage(new Error("boom"))).toBe("boom");
  });

  it("delivers sessions://changed payloads and unsubscribes", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const cb = vi.fn();
    const unlisten = await onSessionsChanged(cb);
    await emit("sessions://changed", { tenant: "demo", version: 7 });
    expect(cb).toHaveBeenCalledWith({ tenant: "demo", version: 7 });
    unlisten();
    await emit("sessions://changed", { tenant: "demo", version: 8 });
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it("calls the tenant commands with the contract's arguments (camelCase previousName)", async () => {
    const calls: [string, unknown][] = [];
    const saved = TENANTS[1];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      switch (cmd) {
        case "list_tenants":
          return TENANTS;
        case "connector_kinds":
          return KINDS;
        case "app_status":
          return APP_STATUS;
        case "save_tenant":
          return saved;
        case "test_tenant":
          return CHECK_OK;
        default:
          return null;
      }
    });
    expect(await listTenants()).toEqual(TENANTS);
    expect(await connectorKinds()).toEqual(KINDS);
    expect(await appStatus()).toEqual(APP_STATUS);
    const cfg = makeConfig("prod");
    expect(await saveTenant(cfg, null, "old")).toEqual(saved);
    expect(await testTenant(cfg, "tok")).toEqual(CHECK_OK);
    expect(await removeTenant("prod")).toBeUndefined();
    expect(calls).toEqual([
      ["list_tenants", {}],
      ["connector_kinds", {}],
      ["app_status", {}],
      ["save_tenant", { tenant: cfg, secret: null, previousName: "old" }],
      ["test_tenant", { tenant: cfg, secret: "tok" }],
      ["remove_tenant", { name: "prod" }],
    ]);
  });

  it("keeps the message and code of secret_store and of codes it does not know", async () => {
    mockIPC(() => {
      throw { code: "secret_store", message: "keychain locked" };
    });
    const locked = await listTenants().catch((e: unknown) => e);
    expect(isErrorPayload(locked)).toBe(true);
    expect(errorCode(locked)).toBe("secret_store");
    expect(errorMessage(locked)).toBe("keychain locked");

    mockIPC(() => {
      throw { code: "from_the_future", message: "something new" };
    });
    const future = await listTenants().catch((e: unknown) => e);
    expect(future).toBeInstanceOf(IpcError);
    expect(future).toMatchObject({ code: "internal", message: "something new" });
    expect(errorCode(future)).toBe("from_the_future");
    expect(errorMessage({ code: "from_the_future", message: "raw" })).toBe("raw");
  });

  it("calls the console commands with the contract's arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      switch (cmd) {
        case "query_users":
          return { total: 1, sessions: 3, offset: 0, rows: [], version: 2 };
        case "session_facets":
          return { tenants: [{ value: "demo", count: 4 }], session_types: [], login_types: [] };
        case "session_refs":
          return { refs: [{ tenant: "demo", session_id: "s1" }], total: 1 };
        case "export_sessions":
          return { path: "/home/admin/Downloads/vigil-sessions.csv", rows: 12 };
        default:
          return null;
      }
    });
    const users = await queryUsers({
      tenants: ["demo"],
      ip: "10.0.0.0/8",
      sort: "sessions",
      descending: true,
      offset: 0,
      limit: 100,
    });
    expect(users.sessions).toBe(3);
    expect((await sessionFacets()).tenants[0]?.count).toBe(4);
    expect((await sessionRefs({ user: "alice", session_types: ["web"] })).total).toBe(1);
    const result = await exportSessions(QUERY, "csv");
    expect(result.path).toContain("Downloads");
    expect(calls).toEqual([
      [
        "query_users",
        {
          query: {
            tenants: ["demo"],
            ip: "10.0.0.0/8",
            sort: "sessions",
            descending: true,
            offset: 0,
            limit: 100,
          },
        },
      ],
      ["session_facets", {}],
      ["session_refs", { filter: { user: "alice", session_types: ["web"] } }],
      ["export_sessions", { query: QUERY, format: "csv" }],
    ]);
  });

  it("calls the settings, pause and support commands with the contract's arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      switch (cmd) {
        case "get_settings":
          return SETTINGS;
        case "save_settings":
          return (args as { settings: unknown }).settings;
        case "diagnostics":
          return "Vigil 0.1.0";
        default:
          return null;
      }
    });
    expect(await getSettings()).toEqual(SETTINGS);
    const edited = { ...SETTINGS, theme: "dark" as const, history_retention_days: 7 };
    expect(await saveSettings(edited)).toEqual(edited);
    expect(await setPaused(true)).toBeUndefined();
    expect(await diagnostics()).toBe("Vigil 0.1.0");
    expect(await openLogFolder()).toBeUndefined();
    expect(calls).toEqual([
      ["get_settings", {}],
      ["save_settings", { settings: edited }],
      ["set_paused", { paused: true }],
      ["diagnostics", {}],
      ["open_log_folder", {}],
    ]);
  });

  it("calls back on app://status and unsubscribes", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const cb = vi.fn();
    const unlisten = await onAppStatus(cb);
    await emit("app://status");
    expect(cb).toHaveBeenCalledTimes(1);
    unlisten();
    await emit("app://status");
    expect(cb).toHaveBeenCalledTimes(1);
  });
});
