import { describe, expect, it } from "vitest";
import type { TenantView } from "../ipc/bindings/TenantView";
import { KINDS, makeConfig } from "../test/fixtures";
import {
  configFromDraft,
  describeCapabilities,
  draftFromConfig,
  emptyDraft,
  formatOffset,
  groupTenants,
  splitList,
  tenantFieldError,
  validateDraft,
} from "./tenants";

const view = (name: string, tags: string[], builtin = false): TenantView => ({
  config: makeConfig(name, { tags }),
  builtin,
  health: null,
  counts: null,
});

describe("groupTenants", () => {
  it("groups by tag, repeats multi-tagged tenants, Untagged then Built-in last", () => {
    const groups = groupTenants([
      view("b", ["prod"]),
      view("a", ["prod", "eu"]),
      view("c", []),
      view("demo", ["prod"], true),
      view("d", [" ", "eu", "eu"]),
    ]);
    expect(groups.map((g) => [g.name, g.tenants.map((t) => t.config.name)])).toEqual([
      ["eu", ["a", "d"]],
      ["prod", ["a", "b"]],
      ["Untagged", ["c"]],
      ["Built-in", ["demo"]],
    ]);
  });

  it("has no groups without tenants", () => {
    expect(groupTenants([])).toEqual([]);
  });
});

describe("drafts", () => {
  const kind = KINDS[0];

  it("round-trips a config", () => {
    const cfg = makeConfig("x", {
      holidays: ["2025-12-25"],
      tags: ["a", "b"],
      hours: "mon-fri 08:00-18:00",
    });
    expect(configFromDraft(draftFromConfig(cfg), kind, "vigil")).toEqual(cfg);
    const withCa = makeConfig("y", { ca_certificate: "/etc/ssl/ca.pem" });
    expect(configFromDraft(draftFromConfig(withCa), kind, "vigil")).toEqual(withCa);
  });

  it("leaves out an empty CA certificate and checks the path is absolute", () => {
    const d = { ...emptyDraft("vigil"), name: "n", url: "http://h", options: { realm: "r" } };
    const opts = { secretTyped: true, secretRequired: true };
    expect(Object.hasOwn(configFromDraft(d, kind, null), "ca_certificate")).toBe(false);
    expect(
      Object.hasOwn(configFromDraft({ ...d, caCertificate: "  " }, kind, null), "ca_certificate"),
    ).toBe(false);
    for (const ok of ["/etc/ca.pem", "C:\\certs\\ca.pem", "d:/ca.pem", "\\\\srv\\share\\ca.pem"]) {
      expect(validateDraft({ ...d, caCertificate: ok }, kind, opts)).toEqual({});
    }
    for (const bad of ["ca.pem", "./ca.pem", "~/ca.pem", "C:ca.pem"]) {
      expect(validateDraft({ ...d, caCertificate: bad }, kind, opts)).toEqual({
        caCertificate: "Give the full path of the PEM file",
      });
    }
  });

  it("finds the field in the back end's tenant errors", () => {
    expect(tenantFieldError("tenant 'x': ca_certificate: /a.pem: no certificate in it")).toEqual({
      field: "caCertificate",
      why: "/a.pem: no certificate in it",
    });
    expect(tenantFieldError("tenant 'x': poll_interval_secs: 0 is outside 1..=86400")).toEqual({
      field: "pollInterval",
      why: "0 is outside 1..=86400",
    });
    expect(tenantFieldError("tenant 'x': options: realm (Realm) is required")).toBeNull();
    expect(tenantFieldError("tenant 'x': constructor: nope")).toBeNull();
    expect(tenantFieldError("no stored secret for tenant 'x': type it to test")).toBeNull();
  });

  it("turns empty text into null / [] and trims lists", () => {
    const d = { ...emptyDraft("vigil"), name: " n ", url: "http://h", tags: "a, ,b,a" };
    expect(configFromDraft(d, kind, null)).toMatchObject({
      name: "n",
      timezone: null,
      hours: null,
      holidays: [],
      tags: ["a", "b"],
      poll_interval_secs: 30,
      options: {},
    });
    expect(splitList(" x ,, y ")).toEqual(["x", "y"]);
  });

  it("validates the obvious and nothing more", () => {
    const good = {
      ...emptyDraft("vigil"),
      name: "acme_1.prod-2",
      url: "https://acme",
      options: { realm: "r" },
    };
    expect(validateDraft(good, kind, { secretTyped: true, secretRequired: true })).toEqual({});
    expect(validateDraft(good, kind, { secretTyped: false, secretRequired: false })).toEqual({});
    const bad = validateDraft(
      { ...good, name: "x".repeat(65), url: "acme", pollInterval: "0", holidays: "2025-02-30" },
      kind,
      { secretTyped: false, secretRequired: true },
    );
    expect(Object.keys(bad).sort()).toEqual(["holidays", "name", "pollInterval", "secret", "url"]);
    expect(
      validateDraft({ ...good, options: {} }, kind, { secretTyped: true, secretRequired: true }),
    ).toHaveProperty("option:realm");
  });
});

describe("check formatting", () => {
  it("formats clock offsets with a sign", () => {
    expect(formatOffset(1234)).toBe("+1.2 s");
    expect(formatOffset(-95_000)).toBe("-95.0 s");
    expect(formatOffset(0)).toBe("+0.0 s");
  });

  it("lists known and unknown capabilities", () => {
    const caps = describeCapabilities({
      list_sessions: true,
      end_session: false,
      end_user_sessions: false,
      disable_user: false,
      enable_user: false,
      superuser_detection: true,
      change_feed: false,
      sign_in_log: false,
      revoke_grants: false,
      require_password_change: false,
      ...{ lock_user: true },
    });
    expect(caps.find((c) => c.key === "end_session")).toEqual({
      key: "end_session",
      label: "End a session",
      can: false,
    });
    expect(caps.find((c) => c.key === "lock_user")).toEqual({
      key: "lock_user",
      label: "lock user",
      can: true,
    });
  });
});
