import { QueryClientProvider } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { AlertSettings } from "./ipc/bindings/AlertSettings";
import type { AppSettings } from "./ipc/bindings/AppSettings";
import type { AppStatus } from "./ipc/bindings/AppStatus";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { TenantCheck } from "./ipc/bindings/TenantCheck";
import type { TenantConfig } from "./ipc/bindings/TenantConfig";
import type { TenantView } from "./ipc/bindings/TenantView";
import { createQueryClient } from "./lib/queryClient";
import {
  APP_STATUS,
  CHECK_OK,
  KINDS,
  makeConfig,
  makeSession,
  pageOf,
  SETTINGS,
  SUMMARY,
  TENANTS,
} from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

type Backend = {
  status?: AppStatus;
  settings?: AppSettings;
  tenants?: TenantView[];
  saveTenant?: (args: Record<string, unknown>) => unknown;
  testTenant?: (args: Record<string, unknown>) => TenantCheck;
};

function startApp(backend: Backend = {}, hash = "#/tenants") {
  window.history.replaceState(null, "", hash);
  const rows = Array.from({ length: 40 }, (_, i) => makeSession(i));
  let tenants: TenantView[] = structuredClone(backend.tenants ?? TENANTS);
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      switch (cmd) {
        case "summary":
          return SUMMARY;
        case "query_sessions": {
          const q = args?.query as SessionQuery;
          return pageOf(
            rows.filter((r) => !q.tenants?.length || q.tenants.includes(r.tenant)),
            q,
          );
        }
        case "list_tenants":
          return tenants;
        case "connector_kinds":
          return KINDS;
        case "app_status":
          return backend.status ?? APP_STATUS;
        case "get_settings":
          return backend.settings ?? SETTINGS;
        case "save_tenant": {
          if (backend.saveTenant) return backend.saveTenant(args ?? {});
          const config = args?.tenant as TenantConfig;
          const view: TenantView = { config, builtin: false, health: null, counts: null };
          tenants = [...tenants.filter((t) => t.config.name !== args?.previousName), view];
          return view;
        }
        case "remove_tenant":
          tenants = tenants.filter((t) => t.config.name !== args?.name);
          return null;
        case "test_tenant":
          return backend.testTenant ? backend.testTenant(args ?? {}) : CHECK_OK;
        case "refresh":
          return null;
        default:
          throw { code: "internal", message: `unexpected command ${cmd}` } satisfies ErrorPayload;
      }
    },
    { shouldMockEvents: true },
  );
  const client = createQueryClient({ retry: false });
  render(
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>,
  );
  const callsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd);
  return { calls, callsOf };
}

function input(testId: string): HTMLInputElement {
  return screen.getByTestId(testId) as HTMLInputElement;
}

function type(testId: string, value: string) {
  fireEvent.change(input(testId), { target: { value } });
}

/** The first rendered row of a tenant (a tenant with several tags has one row per tag). */
async function tenantRow(name: string): Promise<HTMLElement> {
  await screen.findAllByTestId("tenant-row");
  const el = document.querySelector<HTMLElement>(
    `[data-testid="tenant-row"][data-tenant="${name}"]`,
  );
  if (!el) throw new Error(`tenant row ${name} not rendered`);
  return el;
}

async function openAddForm(): Promise<HTMLElement> {
  await screen.findAllByTestId("tenant-row");
  fireEvent.click(screen.getByTestId("add-tenant"));
  const form = await screen.findByTestId("tenant-form");
  // The kinds are loaded: the kind's option fields are rendered.
  await within(form).findByTestId("tenant-option-realm");
  return form;
}

describe("Tenants screen", () => {
  it("lists the tenants grouped by tag, the built-in one last, with the config path", async () => {
    startApp();
    await screen.findAllByTestId("tenant-row");
    const groups = screen.getAllByTestId("tenant-group");
    expect(groups.map((g) => g.dataset.group)).toEqual([
      "eu",
      "production",
      "Untagged",
      "Built-in",
    ]);
    const names = (g: HTMLElement) =>
      within(g)
        .getAllByTestId("tenant-row")
        .map((r) => r.dataset.tenant);
    // A tenant with two tags appears under each.
    expect(names(groups[0] as HTMLElement)).toEqual(["prod"]);
    expect(names(groups[1] as HTMLElement)).toEqual(["prod"]);
    expect(names(groups[2] as HTMLElement)).toEqual(["staging"]);
    expect(names(groups[3] as HTMLElement)).toEqual(["demo"]);

    const demo = await tenantRow("demo");
    expect(within(demo).getByText("built-in")).toBeTruthy();
    expect(within(demo).queryByTestId("tenant-edit")).toBeNull();
    expect(within(demo).queryByTestId("tenant-remove")).toBeNull();
    expect(demo.textContent).toMatch(/polled \d+ s ago · 42 ms/);

    const prod = await tenantRow("prod");
    expect(prod.textContent).toContain("Vigil Session API");
    expect(prod.textContent).toContain("https://prod.example.com/api");
    expect(prod.textContent).toContain("Europe/Berlin");
    expect(prod.textContent).toContain("every 15 s");
    expect(prod.textContent).toContain("connection refused");
    expect(prod.textContent).toContain("stale");
    expect(prod.textContent).toContain("513 sessions · 234 users");
    // Whole words, not clipped abbreviations: the kind, the interval, the SuperUsers.
    expect(within(prod).getByTestId("tenant-row-kind").textContent).toBe("Vigil Session API");
    expect(within(prod).getByTestId("tenant-interval").textContent).toBe("every 15 s");
    expect(within(prod).getByTestId("tenant-superusers").textContent).toBe("2 SuperUsers online");
    expect(within(demo).getByTestId("tenant-superusers").textContent).toBe("5 SuperUsers online");
    expect(within(prod).getByTestId("tenant-edit")).toBeTruthy();
    expect(within(prod).getByTestId("tenant-remove")).toBeTruthy();

    expect((await screen.findByTestId("config-path")).textContent).toBe(APP_STATUS.config_path);
    expect(screen.queryByTestId("config-error")).toBeNull();
  });

  it("switches views from the rail and with Ctrl+1 / Ctrl+2, keeping the view in the hash", async () => {
    startApp({}, "");
    await screen.findByTestId("search");
    expect(window.location.hash).toBe("#/sessions");
    fireEvent.click(screen.getByTestId("nav-tenants"));
    await screen.findByTestId("tenants-screen");
    expect(window.location.hash).toBe("#/tenants");
    expect(screen.getByTestId("nav-tenants").getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(window, { key: "1", ctrlKey: true });
    await screen.findByTestId("search");
    expect(window.location.hash).toBe("#/sessions");
    fireEvent.keyDown(window, { key: "2", metaKey: true });
    await screen.findByTestId("tenants-screen");
    expect(window.location.hash).toBe("#/tenants");
  });

  it("adds a tenant with the typed secret and clears the secret afterwards", async () => {
    const { callsOf } = startApp();
    const form = await openAddForm();
    expect(input("tenant-kind").value).toBe("vigil");
    expect(form.textContent).toContain("Any system implementing the Vigil Session API v1.");
    expect(input("tenant-url").placeholder).toBe("https://idp.example.com/api");
    expect(input("tenant-secret").type).toBe("password");
    expect(input("tenant-poll-interval").value).toBe("30");
    expect(within(form).getByText("API token")).toBeTruthy();

    type("tenant-name", "acme-prod");
    type("tenant-url", " https://acme.example.com/api ");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "s3cret-token");
    type("tenant-timezone", "Europe/Vienna");
    type("tenant-hours", "mon-fri 08:00-18:00");
    type("tenant-holidays", "2025-12-25, 2025-12-26");
    type("tenant-poll-interval", "60");
    type("tenant-tags", "production, eu, ");
    const secret = input("tenant-secret");
    fireEvent.click(screen.getByTestId("tenant-save"));

    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(1));
    expect(callsOf("save_tenant")[0]?.args).toEqual({
      tenant: {
        name: "acme-prod",
        kind: "vigil",
        url: "https://acme.example.com/api",
        options: { realm: "staff" },
        timezone: "Europe/Vienna",
        hours: "mon-fri 08:00-18:00",
        holidays: ["2025-12-25", "2025-12-26"],
        poll_interval_secs: 60,
        tags: ["production", "eu"],
      },
      secret: "s3cret-token",
      previousName: null,
    });
    await waitFor(() => expect(screen.queryByTestId("tenant-form")).toBeNull());
    expect(secret.value).toBe("");
    expect((await screen.findByTestId("action-result")).textContent).toContain(
      "Added tenant acme-prod",
    );
    // The list is reloaded and shows the new tenant.
    await waitFor(() => expect(document.querySelector('[data-tenant="acme-prod"]')).not.toBeNull());
    // Reopening the form starts with an empty secret.
    fireEvent.click(screen.getByTestId("add-tenant"));
    expect(input("tenant-secret").value).toBe("");
  });

  it("catches obvious mistakes before calling Rust", async () => {
    const { callsOf } = startApp();
    const form = await openAddForm();
    type("tenant-name", "has space");
    type("tenant-url", "ftp://x");
    type("tenant-holidays", "2025-13-01");
    fireEvent.click(screen.getByTestId("tenant-save"));
    const errors = await within(form).findAllByTestId("tenant-field-error");
    const text = errors.map((e) => e.textContent).join(" | ");
    expect(text).toContain("no spaces");
    expect(text).toContain("https:// or http://");
    expect(text).toContain("Enter Realm");
    expect(text).toContain("Enter the API token");
    expect(text).toContain("2025-13-01");
    expect(callsOf("save_tenant")).toHaveLength(0);
    expect(input("tenant-name").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(input("tenant-name"));
  });

  it("edits with an empty secret: sends secret null and the previous name", async () => {
    const { callsOf } = startApp();
    fireEvent.click(within(await tenantRow("prod")).getByTestId("tenant-edit"));
    const form = await screen.findByTestId("tenant-form");
    await waitFor(() => expect(input("tenant-name").value).toBe("prod"));
    expect(input("tenant-option-realm").value).toBe("main");
    expect(input("tenant-tags").value).toBe("production, eu");
    expect(input("tenant-secret").value).toBe("");
    expect(form.textContent).toContain("Leave empty to keep the stored secret");

    type("tenant-name", "prod-eu");
    type("tenant-poll-interval", "20");
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(1));
    const args = callsOf("save_tenant")[0]?.args;
    expect(args?.secret).toBeNull();
    expect(args?.previousName).toBe("prod");
    expect(args?.tenant).toEqual(
      makeConfig("prod-eu", {
        url: "https://prod.example.com/api",
        tags: ["production", "eu"],
        poll_interval_secs: 20,
      }),
    );
    await waitFor(() => expect(screen.queryByTestId("tenant-form")).toBeNull());
    expect(screen.getByTestId("action-result").textContent).toContain(
      "Renamed tenant prod to prod-eu",
    );
  });

  it("tests the draft connection and shows what works", async () => {
    const { callsOf } = startApp();
    const form = await openAddForm();
    type("tenant-name", "acme");
    type("tenant-url", "https://acme.example.com");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
    fireEvent.click(screen.getByTestId("tenant-form-test"));

    const check = await within(form).findByText(/Reachable/);
    const panel = check.closest("[data-testid=tenant-check]") as HTMLElement;
    await waitFor(() => expect(panel.textContent).toContain("87 ms"));
    expect(callsOf("test_tenant")[0]?.args).toEqual({
      tenant: makeConfig("acme", {
        url: "https://acme.example.com",
        options: { realm: "staff" },
        timezone: null,
      }),
      secret: "tok",
    });
    expect(within(panel).getByTestId("check-reachable").textContent).toContain("✓");
    expect(within(panel).getByTestId("check-authenticated").textContent).toContain("✓");
    expect(within(panel).getByTestId("check-offset").textContent).toContain("+1.2 s");
    expect(within(panel).getByTestId("check-offset").className).not.toContain("warn");
    expect(within(panel).getByTestId("check-timezone").textContent).toContain("Europe/Berlin");
    expect(
      within(panel)
        .getAllByTestId("check-permission")
        .map((c) => c.textContent),
    ).toEqual(["sessions:read", "sessions:delete"]);
    const caps = within(panel).getAllByTestId("check-capability");
    expect(caps.find((c) => c.dataset.capability === "end_session")?.dataset.can).toBe("true");
    expect(caps.find((c) => c.dataset.capability === "disable_user")?.dataset.can).toBe("false");
    // Nothing was saved.
    expect(callsOf("save_tenant")).toHaveLength(0);
  });

  it("tests a saved tenant from its row with the stored secret and warns about clock skew", async () => {
    const { callsOf } = startApp({
      testTenant: () => ({
        ...CHECK_OK,
        authenticated: false,
        clock_offset_ms: -95_000,
        permissions: [],
        capabilities: null,
        error: { code: "unauthorized", message: "token expired" },
      }),
    });
    fireEvent.click(within(await tenantRow("staging")).getByTestId("tenant-test"));
    const panel = await within(await tenantRow("staging")).findByTestId("tenant-check");
    await waitFor(() => expect(panel.textContent).toContain("token expired"));
    expect(callsOf("test_tenant")[0]?.args).toEqual({
      tenant: TENANTS[2]?.config,
      secret: null,
    });
    expect(within(panel).getByTestId("check-reachable").textContent).toContain("✓");
    expect(within(panel).getByTestId("check-authenticated").textContent).toContain("✗");
    const offset = within(panel).getByTestId("check-offset");
    expect(offset.textContent).toContain("-95.0 s");
    expect(offset.className).toContain("warn");
  });

  it("shows the Rust side's save error under the form and keeps the form open", async () => {
    startApp({
      saveTenant: () => {
        throw {
          code: "secret_store",
          message: "the system keychain is locked",
        };
      },
    });
    await openAddForm();
    type("tenant-name", "acme");
    type("tenant-url", "https://acme.example.com");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
    fireEvent.click(screen.getByTestId("tenant-save"));
    const error = await screen.findByTestId("tenant-form-error");
    expect(error.textContent).toContain("the system keychain is locked");
    expect(error.textContent).toContain("unlock it");
    expect(screen.getByTestId("tenant-form")).toBeTruthy();
    // The user can retry without typing the secret again.
    expect(input("tenant-secret").value).toBe("tok");
  });

  it("shows a conflict from save_tenant verbatim", async () => {
    startApp({
      saveTenant: () => {
        throw { code: "conflict", message: "a tenant named prod exists" } satisfies ErrorPayload;
      },
    });
    await openAddForm();
    type("tenant-name", "prod");
    type("tenant-url", "https://p.example.com");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
    fireEvent.click(screen.getByTestId("tenant-save"));
    expect((await screen.findByTestId("tenant-form-error")).textContent).toContain(
      "a tenant named prod exists",
    );
  });

  it("Escape cancels the form without saving", async () => {
    const { callsOf } = startApp();
    const form = await openAddForm();
    expect(form.contains(document.activeElement)).toBe(true);
    type("tenant-secret", "tok");
    fireEvent.keyDown(input("tenant-name"), { key: "Escape" });
    expect(screen.queryByTestId("tenant-form")).toBeNull();
    expect(callsOf("save_tenant")).toHaveLength(0);
  });

  it("removes a tenant after a confirmation that names it", async () => {
    const { callsOf } = startApp();
    fireEvent.click(within(await tenantRow("staging")).getByTestId("tenant-remove"));
    const dialog = await screen.findByRole("dialog");
    expect(dialog.textContent).toContain("Remove tenant staging?");
    expect(dialog.textContent).toContain("keychain");
    expect(callsOf("remove_tenant")).toHaveLength(0);
    fireEvent.click(screen.getByTestId("tenant-remove-confirm"));
    await waitFor(() => expect(callsOf("remove_tenant")).toHaveLength(1));
    expect(callsOf("remove_tenant")[0]?.args).toEqual({ name: "staging" });
    await waitFor(() =>
      expect(
        document.querySelector('[data-testid="tenant-row"][data-tenant="staging"]'),
      ).toBeNull(),
    );
    expect(screen.getByTestId("action-result").textContent).toContain("Removed tenant staging");
  });

  it("shows the configuration error banner", async () => {
    startApp({
      status: {
        ...APP_STATUS,
        config_error: { code: "config", message: "line 4: unknown key `urll`" },
      },
    });
    const banner = await screen.findByTestId("config-error");
    expect(banner.textContent).toContain("line 4: unknown key `urll`");
    expect(banner.textContent).toContain("Vigil did not change the file; fix it and restart");
  });

  it("reloads the tenants on sessions://changed", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("tenant-row");
    const before = callsOf("list_tenants").length;
    await emit("sessions://changed", { tenant: "prod", version: 9 });
    await waitFor(() => expect(callsOf("list_tenants").length).toBeGreaterThan(before));
  });
});

describe("Session view tenant filter", () => {
  const queries = (c: Call[]) =>
    c.filter((x) => x.cmd === "query_sessions").map((x) => x.args?.query as SessionQuery);
  const cardValue = (id: string) =>
    within(screen.getByTestId(id)).getByTestId("card-value").textContent;

  it("puts the chosen tenant into query_sessions and shows its counts", async () => {
    const { calls } = startApp({}, "#/sessions");
    await screen.findAllByTestId("session-row");
    expect(queries(calls).every((q) => q.tenants === undefined)).toBe(true);
    const filter = (await screen.findByTestId("tenant-filter")) as HTMLSelectElement;
    await waitFor(() => expect(filter.options.length).toBe(3));
    expect(filter.value).toBe("");
    expect(filter.options[0]?.textContent).toBe("All tenants");

    fireEvent.change(filter, { target: { value: "prod" } });
    await waitFor(() => expect(queries(calls).at(-1)?.tenants).toEqual(["prod"]));
    await waitFor(() =>
      expect(screen.getByTestId("row-count").textContent).toBe("20 of 513 sessions"),
    );
    const tenants = screen.getAllByTestId("session-row").map((r) => r.dataset.tenant);
    expect(new Set(tenants)).toEqual(new Set(["prod"]));
    expect(cardValue("card-active-users")).toBe("234");
    expect(cardValue("card-active-sessions")).toBe("513");
    expect(cardValue("card-superusers")).toBe("2");

    fireEvent.change(filter, { target: { value: "" } });
    await waitFor(() => expect(screen.getByTestId("row-count").textContent).toBe("40 sessions"));
    expect(cardValue("card-active-users")).toBe("1,234");
  });

  it("selects a tenant from the status bar", async () => {
    const { calls } = startApp({}, "#/sessions");
    await screen.findAllByTestId("session-row");
    const demo = screen
      .getAllByTestId("tenant-status")
      .find((s) => s.dataset.tenant === "demo") as HTMLElement;
    fireEvent.click(demo);
    await waitFor(() => expect(queries(calls).at(-1)?.tenants).toEqual(["demo"]));
    expect((screen.getByTestId("tenant-filter") as HTMLSelectElement).value).toBe("demo");
    expect(demo.getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(cardValue("card-active-sessions")).toBe("1,500"));
  });

  it("opens a tenant's sessions from the Tenants screen", async () => {
    const { calls } = startApp();
    const prod = await tenantRow("prod");
    fireEvent.click(within(prod).getByText("513 sessions"));
    await screen.findByTestId("search");
    expect(window.location.hash).toBe("#/sessions?tenant=prod");
    await waitFor(() => expect(queries(calls).at(-1)?.tenants).toEqual(["prod"]));
  });

  it("starts a new tenant's poll interval at the default from the settings", async () => {
    startApp({ settings: { ...SETTINGS, default_poll_interval_secs: 120 } });
    await openAddForm();
    await waitFor(() => expect(input("tenant-poll-interval").value).toBe("120"));
    fireEvent.click(screen.getByText("Cancel"));

    // Editing keeps the tenant's own interval.
    fireEvent.click(within(await tenantRow("prod")).getByTestId("tenant-edit"));
    await screen.findByTestId("tenant-form");
    expect(input("tenant-poll-interval").value).toBe("15");
  });
});

describe("Tenant alert rules", () => {
  /** AlertSettings::default() on the Rust side, spelled out. */
  const DEFAULTS: AlertSettings = {
    superuser_sign_in: true,
    odd_hours: true,
    multiple_networks: true,
    new_ip: false,
    tenant_problems: true,
    impossible_travel: true,
    max_travel_kmh: 900,
    max_session_age_hours: 168,
    max_concurrent_sessions: 10,
    alert_on_existing: false,
    muted: [],
    digest_over: 5,
    max_per_minute: 10,
  };
  const TOGGLES = [
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
  const NUMBERS = [
    "max-travel-kmh",
    "max-session-age-hours",
    "max-concurrent-sessions",
    "digest-over",
    "max-per-minute",
  ];

  /** prod with its own alert settings, one rule muted. */
  const PROD_ALERTS: AlertSettings = {
    ...DEFAULTS,
    new_ip: true,
    max_concurrent_sessions: null,
    digest_over: 20,
    muted: ["long_session"],
  };
  const withProdAlerts = (): TenantView[] =>
    TENANTS.map((t) =>
      t.config.name === "prod" ? { ...t, config: { ...t.config, alerts: PROD_ALERTS } } : t,
    );

  const section = () => screen.getByTestId("alerts-section") as HTMLDetailsElement;
  const summary = () => screen.getByTestId("alerts-summary").textContent;
  const openSection = () => {
    fireEvent.click(screen.getByTestId("alerts-summary"));
    expect(section().open).toBe(true);
  };
  const checked = (name: string) => input(`alerts-${name}`).checked;
  const values = () => NUMBERS.map((n) => input(`alerts-${n}`).value);

  async function openNewTenant() {
    await openAddForm();
    type("tenant-name", "acme");
    type("tenant-url", "https://acme.example.com");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
  }

  async function editProd() {
    fireEvent.click(within(await tenantRow("prod")).getByTestId("tenant-edit"));
    await screen.findByTestId("tenant-form");
    await waitFor(() => expect(input("tenant-name").value).toBe("prod"));
  }

  async function savedTenant(callsOf: (cmd: string) => Call[]): Promise<TenantConfig> {
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId("tenant-form")).toBeNull());
    return callsOf("save_tenant")[0]?.args?.tenant as TenantConfig;
  }

  it("starts closed, with the defaults, every control labelled", async () => {
    startApp();
    await openAddForm();
    expect(section().open).toBe(false);
    expect(summary()).toBe("Alert rules: defaults");
    expect(TOGGLES.filter(checked)).toEqual([
      "superuser_sign_in",
      "odd_hours",
      "multiple_networks",
      "impossible_travel",
      "tenant_problems",
      "long_sessions",
      "too_many_sessions",
    ]);
    expect(values()).toEqual(["900", "168", "10", "5", "10"]);
    openSection();
    for (const id of [...TOGGLES, ...NUMBERS].map((n) => `alerts-${n}`)) {
      const el = input(id);
      expect(el.labels?.length, id).toBe(1);
      const described = (el.getAttribute("aria-describedby") ?? "").split(" ");
      expect(
        described.every((d) => d && document.getElementById(d)),
        id,
      ).toBe(true);
    }
    expect(screen.getByLabelText("Impossible travel").getAttribute("aria-describedby")).toBe(
      `${input("alerts-impossible_travel").id}-help`,
    );
    expect(screen.getByTestId("alerts-reset").textContent).toBe("Reset to defaults");
  });

  it("sends exactly the changed rules, the rest at their defaults", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    openSection();
    fireEvent.click(input("alerts-odd_hours"));
    type("alerts-max-session-age-hours", "72");
    expect(summary()).toBe("Alert rules: 2 changed");
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual({ ...DEFAULTS, odd_hours: false, max_session_age_hours: 72 });
  });

  it("switching a limited rule off sends null and ignores its number", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    openSection();
    type("alerts-max-concurrent-sessions", "0");
    fireEvent.click(input("alerts-too_many_sessions"));
    expect(input("alerts-max-concurrent-sessions").disabled).toBe(true);
    fireEvent.click(input("alerts-long_sessions"));
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual({
      ...DEFAULTS,
      max_session_age_hours: null,
      max_concurrent_sessions: null,
    });
  });

  it("leaves alerts out when the section was not changed", async () => {
    const { callsOf } = startApp();
    await editProd();
    type("tenant-poll-interval", "20");
    // Changed and changed back is no change.
    openSection();
    fireEvent.click(input("alerts-new_ip"));
    fireEvent.click(input("alerts-new_ip"));
    type("alerts-digest-over", "6");
    type("alerts-digest-over", "5");
    expect(summary()).toBe("Alert rules: defaults");
    const tenant = await savedTenant(callsOf);
    expect(tenant.poll_interval_secs).toBe(20);
    expect(Object.hasOwn(tenant, "alerts")).toBe(false);
  });

  it("shows a tenant's own alert settings and sends them back unchanged, muted rules too", async () => {
    const { callsOf } = startApp({ tenants: withProdAlerts() });
    await editProd();
    expect(section().open).toBe(false);
    expect(summary()).toBe("Alert rules: 3 changed, 1 muted");
    openSection();
    expect(checked("new_ip")).toBe(true);
    expect(checked("too_many_sessions")).toBe(false);
    expect(checked("long_sessions")).toBe(true);
    expect(input("alerts-max-concurrent-sessions").disabled).toBe(true);
    expect(values()).toEqual(["900", "168", "10", "20", "10"]);
    expect(screen.getByTestId("alerts-muted-long_session").textContent).toContain("Muted");
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual(PROD_ALERTS);
  });

  it("edits a tenant's own settings, keeping its muted rules", async () => {
    const { callsOf } = startApp({ tenants: withProdAlerts() });
    await editProd();
    openSection();
    fireEvent.click(input("alerts-too_many_sessions"));
    expect(input("alerts-max-concurrent-sessions").disabled).toBe(false);
    type("alerts-max-concurrent-sessions", "4");
    type("alerts-max-per-minute", "30");
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual({
      ...PROD_ALERTS,
      max_concurrent_sessions: 4,
      max_per_minute: 30,
    });
  });

  it("shows a number out of range under its field and does not save", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    openSection();
    type("alerts-max-travel-kmh", "50");
    type("alerts-digest-over", "1001");
    type("alerts-max-per-minute", "2.5");
    // Closed again: saving opens it to show the mistakes.
    fireEvent.click(screen.getByTestId("alerts-summary"));
    expect(section().open).toBe(false);
    fireEvent.click(screen.getByTestId("tenant-save"));

    const travel = await screen.findByTestId("alerts-max-travel-kmh-error");
    expect(section().open).toBe(true);
    expect(travel.getAttribute("role")).toBe("alert");
    expect(travel.textContent).toBe("Enter a whole number from 100 to 5,000 km/h.");
    expect(screen.getByTestId("alerts-digest-over-error").textContent).toContain("1 to 1,000");
    expect(screen.getByTestId("alerts-max-per-minute-error").textContent).toContain("1 to 600");
    const field = input("alerts-max-travel-kmh");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toContain(travel.id);
    expect(document.activeElement).toBe(field);
    expect(callsOf("save_tenant")).toHaveLength(0);

    // Fixing a field clears its message; the others still block saving.
    type("alerts-max-travel-kmh", "1000");
    expect(screen.queryByTestId("alerts-max-travel-kmh-error")).toBeNull();
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(document.activeElement).toBe(input("alerts-digest-over")));
    expect(callsOf("save_tenant")).toHaveLength(0);
    expect(callsOf("test_tenant")).toHaveLength(0);

    type("alerts-digest-over", "1000");
    type("alerts-max-per-minute", "600");
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual({
      ...DEFAULTS,
      max_travel_kmh: 1000,
      digest_over: 1000,
      max_per_minute: 600,
    });
  });

  it("Reset restores the defaults; a new tenant then sends none", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    openSection();
    fireEvent.click(input("alerts-superuser_sign_in"));
    fireEvent.click(input("alerts-alert_on_existing"));
    fireEvent.click(input("alerts-long_sessions"));
    type("alerts-max-travel-kmh", "7");
    fireEvent.click(screen.getByTestId("tenant-save"));
    await screen.findByTestId("alerts-max-travel-kmh-error");
    expect(summary()).toBe("Alert rules: 4 changed");

    fireEvent.click(screen.getByTestId("alerts-reset"));
    expect(summary()).toBe("Alert rules: defaults");
    expect(screen.queryByTestId("alerts-max-travel-kmh-error")).toBeNull();
    expect(checked("superuser_sign_in")).toBe(true);
    expect(checked("alert_on_existing")).toBe(false);
    expect(checked("long_sessions")).toBe(true);
    expect(values()).toEqual(["900", "168", "10", "5", "10"]);
    const tenant = await savedTenant(callsOf);
    expect(Object.hasOwn(tenant, "alerts")).toBe(false);
  });

  it("Reset on a tenant with its own settings sends the defaults, muted rules kept", async () => {
    const { callsOf } = startApp({ tenants: withProdAlerts() });
    await editProd();
    openSection();
    fireEvent.click(screen.getByTestId("alerts-reset"));
    expect(summary()).toBe("Alert rules: defaults, 1 muted");
    const tenant = await savedTenant(callsOf);
    expect(tenant.alerts).toEqual({ ...DEFAULTS, muted: ["long_session"] });
  });
});

describe("Tenant CA certificate", () => {
  const CA = "/etc/vigil/corp-ca.pem";
  const withProdCa = (): TenantView[] =>
    TENANTS.map((t) =>
      t.config.name === "prod" ? { ...t, config: { ...t.config, ca_certificate: CA } } : t,
    );

  async function openNewTenant() {
    const form = await openAddForm();
    type("tenant-name", "acme");
    type("tenant-url", "https://acme.example.com");
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
    return form;
  }

  async function editProd() {
    fireEvent.click(within(await tenantRow("prod")).getByTestId("tenant-edit"));
    await screen.findByTestId("tenant-form");
    await waitFor(() => expect(input("tenant-name").value).toBe("prod"));
  }

  async function savedTenant(callsOf: (cmd: string) => Call[]): Promise<TenantConfig> {
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId("tenant-form")).toBeNull());
    return callsOf("save_tenant")[0]?.args?.tenant as TenantConfig;
  }

  /** The error shown under a field, if any. */
  const fieldError = (testId: string) => {
    const ids = (input(testId).getAttribute("aria-describedby") ?? "").split(" ");
    return ids.map((id) => document.getElementById(id)).find((el) => el?.dataset.testid)
      ?.textContent;
  };

  it("is labelled, explained and empty for a new tenant; the typed path is sent", async () => {
    const { callsOf } = startApp();
    const form = await openNewTenant();
    const ca = within(form).getByLabelText("CA certificate (PEM file)");
    expect(ca).toBe(input("tenant-ca-certificate"));
    expect(input("tenant-ca-certificate").value).toBe("");
    expect(form.textContent).toContain(
      "Only for a tenant whose certificate comes from a private CA. Full path of a PEM file; the system's trusted roots are always used.",
    );
    type("tenant-ca-certificate", ` ${CA} `);
    const tenant = await savedTenant(callsOf);
    expect(tenant.ca_certificate).toBe(CA);
  });

  it("leaves ca_certificate out when the field is empty", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    type("tenant-ca-certificate", "   ");
    const tenant = await savedTenant(callsOf);
    expect(Object.hasOwn(tenant, "ca_certificate")).toBe(false);
  });

  it("shows an existing tenant's file, sends it back, and drops it when cleared", async () => {
    const { callsOf } = startApp({ tenants: withProdCa() });
    await editProd();
    expect(input("tenant-ca-certificate").value).toBe(CA);
    expect((await savedTenant(callsOf)).ca_certificate).toBe(CA);

    await editProd();
    type("tenant-ca-certificate", "");
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(2));
    const cleared = callsOf("save_tenant")[1]?.args?.tenant as TenantConfig;
    expect(Object.hasOwn(cleared, "ca_certificate")).toBe(false);
  });

  it("asks for a full path before calling Rust; Windows paths are full paths", async () => {
    const { callsOf } = startApp();
    await openNewTenant();
    type("tenant-ca-certificate", "certs/ca.pem");
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() =>
      expect(fieldError("tenant-ca-certificate")).toBe("Give the full path of the PEM file"),
    );
    expect(input("tenant-ca-certificate").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(input("tenant-ca-certificate"));
    fireEvent.click(screen.getByTestId("tenant-form-test"));
    expect(callsOf("save_tenant")).toHaveLength(0);
    expect(callsOf("test_tenant")).toHaveLength(0);

    type("tenant-ca-certificate", "C:\\Certs\\corp-ca.pem");
    expect(fieldError("tenant-ca-certificate")).toBeUndefined();
    expect((await savedTenant(callsOf)).ca_certificate).toBe("C:\\Certs\\corp-ca.pem");
  });

  it("shows the back end's ca_certificate error under the field and keeps the form open", async () => {
    const { callsOf } = startApp({
      saveTenant: () => {
        throw {
          code: "invalid_input",
          message: `tenant 'acme': ca_certificate: ${CA}: not PEM certificates (no certificate found)`,
        } satisfies ErrorPayload;
      },
    });
    await openNewTenant();
    type("tenant-ca-certificate", CA);
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() =>
      expect(fieldError("tenant-ca-certificate")).toBe(
        `${CA}: not PEM certificates (no certificate found)`,
      ),
    );
    expect(callsOf("save_tenant")).toHaveLength(1);
    expect(input("tenant-ca-certificate").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(input("tenant-ca-certificate"));
    expect(screen.queryByTestId("tenant-form-error")).toBeNull();
    expect(screen.getByTestId("tenant-form")).toBeTruthy();
    expect(input("tenant-secret").value).toBe("tok");
    // Editing the path clears the error.
    type("tenant-ca-certificate", "/etc/vigil/other.pem");
    expect(fieldError("tenant-ca-certificate")).toBeUndefined();
  });

  it("shows the same error from Test connection under the field", async () => {
    startApp({
      testTenant: () => {
        throw {
          code: "invalid_input",
          message: `tenant 'acme': ca_certificate: ${CA}: No such file or directory (os error 2)`,
        } satisfies ErrorPayload;
      },
    });
    await openNewTenant();
    type("tenant-ca-certificate", CA);
    fireEvent.click(screen.getByTestId("tenant-form-test"));
    await waitFor(() =>
      expect(fieldError("tenant-ca-certificate")).toBe(
        `${CA}: No such file or directory (os error 2)`,
      ),
    );
    await waitFor(() => expect(screen.queryByTestId("tenant-check")).toBeNull());
  });
});

describe("Tenant plain HTTP", () => {
  const LAN = "http://sessions.lan";
  const withProdPlainHttp = (): TenantView[] =>
    TENANTS.map((t) =>
      t.config.name === "prod"
        ? { ...t, config: { ...t.config, url: LAN, allow_plain_http: true } }
        : t,
    );

  async function openNewTenant(url: string) {
    const form = await openAddForm();
    type("tenant-name", "acme");
    type("tenant-url", url);
    type("tenant-option-realm", "staff");
    type("tenant-secret", "tok");
    return form;
  }

  async function savedTenant(callsOf: (cmd: string) => Call[]): Promise<TenantConfig> {
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(callsOf("save_tenant")).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId("tenant-form")).toBeNull());
    return callsOf("save_tenant")[0]?.args?.tenant as TenantConfig;
  }

  const checkbox = () => screen.queryByTestId("tenant-allow-plain-http") as HTMLInputElement | null;
  const warning = () => screen.queryByTestId("tenant-plain-http-warning");

  it("is offered only for plain http:// to a host that is not loopback", async () => {
    startApp();
    const form = await openNewTenant(LAN);
    expect(checkbox()).toBe(
      within(form).getByLabelText(
        "Allow plain HTTP (the credential crosses the network unencrypted)",
      ),
    );
    expect(checkbox()?.checked).toBe(false);
    for (const url of [
      "https://sessions.lan",
      "http://127.0.0.1:8080",
      "http://localhost:8080",
      "http://[::1]:8080",
    ]) {
      type("tenant-url", url);
      expect(checkbox()).toBeNull();
    }
    type("tenant-url", "http://10.0.0.5:8080");
    expect(checkbox()).not.toBeNull();
  });

  it("warns when checked and sends allow_plain_http: true", async () => {
    const { callsOf } = startApp();
    await openNewTenant(LAN);
    expect(warning()).toBeNull();
    fireEvent.click(screen.getByTestId("tenant-allow-plain-http"));
    expect(checkbox()?.checked).toBe(true);
    expect(warning()?.textContent).toContain(
      "Anyone on the network path to this host can read the admin credential.",
    );
    expect(checkbox()?.getAttribute("aria-describedby")).toBe(warning()?.id);
    const tenant = await savedTenant(callsOf);
    expect(tenant.url).toBe(LAN);
    expect(tenant.allow_plain_http).toBe(true);
  });

  it("leaves allow_plain_http out when unchecked", async () => {
    const { callsOf } = startApp();
    await openNewTenant(LAN);
    const tenant = await savedTenant(callsOf);
    expect(Object.hasOwn(tenant, "allow_plain_http")).toBe(false);
  });

  it("leaves allow_plain_http out once the URL no longer needs it", async () => {
    const { callsOf } = startApp();
    await openNewTenant(LAN);
    fireEvent.click(screen.getByTestId("tenant-allow-plain-http"));
    type("tenant-url", "https://sessions.lan");
    expect(checkbox()).toBeNull();
    expect(warning()).toBeNull();
    const tenant = await savedTenant(callsOf);
    expect(Object.hasOwn(tenant, "allow_plain_http")).toBe(false);
  });

  it("shows an existing tenant's consent checked and sends it back", async () => {
    const { callsOf } = startApp({ tenants: withProdPlainHttp() });
    fireEvent.click(within(await tenantRow("prod")).getByTestId("tenant-edit"));
    await screen.findByTestId("tenant-form");
    await waitFor(() => expect(input("tenant-name").value).toBe("prod"));
    expect(checkbox()?.checked).toBe(true);
    expect(warning()).not.toBeNull();
    expect((await savedTenant(callsOf)).allow_plain_http).toBe(true);
  });

  it("shows the back end's refusal under the URL", async () => {
    const message = `tenant 'acme': url: refusing plain http:// to a non-loopback host in "${LAN}": use https:// (or allow plain HTTP for this tenant explicitly)`;
    startApp({
      saveTenant: () => {
        throw { code: "invalid_input", message } satisfies ErrorPayload;
      },
    });
    await openNewTenant(LAN);
    fireEvent.click(screen.getByTestId("tenant-save"));
    await waitFor(() => expect(input("tenant-url").getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByTestId("tenant-field-error").textContent).toContain(
      "refusing plain http:// to a non-loopback host",
    );
    // Giving consent clears the error.
    fireEvent.click(screen.getByTestId("tenant-allow-plain-http"));
    expect(input("tenant-url").getAttribute("aria-invalid")).toBe("false");
  });
});
