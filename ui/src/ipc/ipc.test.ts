import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { APP_STATUS, CHECK_OK, KINDS, makeConfig, TENANTS } from "../test/fixtures";
import type { SessionQuery } from "./bindings/SessionQuery";
import {
  appStatus,
  connectorKinds,
  endSessions,
  errorCode,
  errorMessage,
  IpcError,
  isErrorPayload,
  listTenants,
  onSessionsChanged,
  querySessions,
  refresh,
  removeTenant,
  saveTenant,
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
});
