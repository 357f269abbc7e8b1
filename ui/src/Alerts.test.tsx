import { QueryClientProvider } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { Alert } from "./ipc/bindings/Alert";
import type { AlertFilter } from "./ipc/bindings/AlertFilter";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { StoredAlert } from "./ipc/bindings/StoredAlert";
import { createQueryClient } from "./lib/queryClient";
import { APP_STATUS, makeSession, pageOf, SETTINGS, SUMMARY } from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

function makeAlert(over: Partial<Alert> = {}): Alert {
  return {
    rule: "superuser_sign_in",
    rules: ["superuser_sign_in"],
    severity: "high",
    tenant: "demo",
    username: "alice",
    session_id: "s2",
    ip: "10.0.0.2",
    user_agent: null,
    at: "2025-01-01T09:00:00Z",
    message: "alice signed in to demo: a SuperUser signed in",
    count: 1,
    suppressed_by: null,
    ...over,
  };
}

const ALERTS: StoredAlert[] = [
  {
    id: 3,
    alert: makeAlert({
      rule: "multiple_networks",
      rules: ["multiple_networks", "odd_hours"],
      severity: "medium",
      tenant: "prod",
      username: "bob",
      session_id: "s7",
      ip: "10.0.0.7",
      at: "2025-01-01T10:00:00Z",
      message: "bob signed in to prod: several networks, outside working hours",
    }),
    acknowledged: false,
    deliveries: [],
  },
  { id: 2, alert: makeAlert(), acknowledged: false, deliveries: [] },
  {
    id: 1,
    alert: makeAlert({
      rule: "tenant_problem",
      rules: ["tenant_problem"],
      severity: "low",
      tenant: "prod",
      username: null,
      session_id: null,
      ip: null,
      at: "2025-01-01T08:00:00Z",
      message: "prod is unreachable",
    }),
    acknowledged: false,
    deliveries: [],
  },
  {
    id: 0,
    alert: makeAlert({ message: "an old one", at: "2025-01-01T07:00:00Z" }),
    acknowledged: true,
    deliveries: [],
  },
];

function startApp(hash = "#/alerts") {
  window.history.replaceState(null, "", hash);
  const rows = Array.from({ length: 40 }, (_, i) => makeSession(i));
  const alerts: StoredAlert[] = structuredClone(ALERTS);
  let nextId = 10;
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
        case "list_alerts": {
          const f = args?.filter as AlertFilter;
          return alerts.filter(
            (a) =>
              (!f.open_only || !a.acknowledged) &&
              (f.tenant === null || a.alert.tenant === f.tenant) &&
              (f.search === null || a.alert.message.includes(f.search)),
          );
        }
        case "acknowledge_alerts": {
          const ids = args?.ids as number[];
          for (const a of alerts) if (ids.includes(a.id)) a.acknowledged = true;
          return null;
        }
        case "snooze_rule":
          return null;
        case "audit_entries":
          return [];
        case "get_settings":
          return SETTINGS;
        case "app_status":
          return APP_STATUS;
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
  const callsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args ?? {});
  /** A new alert, as the Rust side stores and then emits it. */
  const raise = async (alert: Alert) => {
    alerts.unshift({ id: nextId++, alert, acknowledged: false, deliveries: [] });
    await emit("alerts://new", alert);
  };
  return { calls, callsOf, raise };
}

function alertRow(id: number): HTMLElement {
  const el = document.querySelector<HTMLElement>(
    `[data-testid="alert-row"][data-alert-id="${id}"]`,
  );
  if (!el) throw new Error(`alert row ${id} not rendered`);
  return el;
}

const badge = () => screen.queryByTestId("alerts-open-count")?.textContent ?? null;

describe("Alert centre", () => {
  it("shows the number of open alerts on the nav item and opens with Ctrl+4", async () => {
    const { callsOf } = startApp("#/sessions");
    await waitFor(() => expect(badge()).toBe("3"));
    expect(callsOf("list_alerts")[0]?.filter).toEqual({
      open_only: true,
      tenant: null,
      search: null,
      limit: null,
    });
    expect(screen.getByTestId("nav-alerts").contains(screen.getByTestId("alerts-open-count"))).toBe(
      true,
    );
    fireEvent.keyDown(window, { key: "4", ctrlKey: true });
    await screen.findByTestId("alerts-screen");
    expect(window.location.hash).toBe("#/alerts");
    expect(screen.getByTestId("nav-alerts").getAttribute("aria-selected")).toBe("true");
  });

  it("lists the alerts newest first with severity, rules, IP and message", async () => {
    startApp();
    const rows = await screen.findAllByTestId("alert-row");
    expect(rows.map((r) => r.dataset.alertId)).toEqual(["3", "2", "1"]);
    const sev = (id: number) => within(alertRow(id)).getByTestId("alert-severity");
    expect(sev(3).dataset.severity).toBe("medium");
    expect(sev(3).className).toContain("sev-medium");
    expect(sev(2).className).toContain("sev-high");
    expect(sev(1).className).toContain("sev-low");
    const rules = within(alertRow(3))
      .getAllByTestId("alert-rule")
      .map((c) => c.textContent);
    expect(rules).toEqual(["Several networks", "Odd hours"]);
    // The main rule's chip is marked without the page-level `main` class (which would lay it
    // out as the console's main area and clip it).
    const chips = within(alertRow(3)).getAllByTestId("alert-rule");
    expect(chips[0]?.classList.contains("rule-chip-main")).toBe(true);
    expect(chips.some((c) => c.classList.contains("main"))).toBe(false);
    expect(alertRow(3).textContent).toContain("bob");
    expect(alertRow(3).textContent).toContain("10.0.0.7");
    expect(alertRow(3).textContent).toContain("several networks, outside working hours");
    // No session: nothing to show.
    expect(within(alertRow(1)).queryByTestId("alert-show")).toBeNull();
    expect(within(alertRow(2)).getByTestId("alert-show")).toBeTruthy();
  });

  it("filters: All includes acknowledged alerts, tenant and search go to list_alerts", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("alert-row");
    fireEvent.click(screen.getByTestId("alerts-open-only"));
    await waitFor(() => expect(screen.getAllByTestId("alert-row")).toHaveLength(4));
    expect(alertRow(0).dataset.acknowledged).toBe("true");
    fireEvent.change(screen.getByTestId("alerts-tenant"), { target: { value: "prod" } });
    await waitFor(() => expect(screen.getAllByTestId("alert-row")).toHaveLength(2));
    fireEvent.change(screen.getByTestId("alerts-search"), { target: { value: "unreachable" } });
    await waitFor(() => expect(screen.getAllByTestId("alert-row")).toHaveLength(1));
    expect(callsOf("list_alerts").at(-1)?.filter).toMatchObject({
      open_only: false,
      tenant: "prod",
      search: "unreachable",
    });
  });

  it("acknowledges the selected alerts and refreshes the badge", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("alert-row");
    await waitFor(() => expect(badge()).toBe("3"));
    const ack = screen.getByTestId("alerts-ack") as HTMLButtonElement;
    expect(ack.disabled).toBe(true);
    fireEvent.click(within(alertRow(3)).getByTestId("alert-select"));
    fireEvent.click(within(alertRow(1)).getByTestId("alert-select"));
    await waitFor(() => expect(ack.disabled).toBe(false));
    fireEvent.click(ack);
    await waitFor(() => expect(callsOf("acknowledge_alerts")).toHaveLength(1));
    expect(callsOf("acknowledge_alerts")[0]?.ids).toEqual([3, 1]);
    await waitFor(() => expect(badge()).toBe("1"));
    await waitFor(() =>
      expect(screen.getAllByTestId("alert-row").map((r) => r.dataset.alertId)).toEqual(["2"]),
    );
  });

  it("acknowledges one alert from its row", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("alert-row");
    fireEvent.click(within(alertRow(2)).getByTestId("alert-ack"));
    await waitFor(() => expect(callsOf("acknowledge_alerts")).toEqual([{ ids: [2] }]));
    await waitFor(() => expect(badge()).toBe("2"));
  });

  it("snoozes the alert's main rule for its tenant for 60 minutes", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("alert-row");
    fireEvent.click(within(alertRow(3)).getByTestId("alert-snooze"));
    await waitFor(() => expect(callsOf("snooze_rule")).toHaveLength(1));
    expect(callsOf("snooze_rule")[0]).toEqual({
      tenant: "prod",
      rule: "multiple_networks",
      minutes: 60,
    });
    expect(await screen.findByTestId("action-result")).toBeTruthy();
  });

  it("Show session switches to the Sessions view filtered to that session", async () => {
    const { callsOf } = startApp();
    await screen.findAllByTestId("alert-row");
    fireEvent.click(within(alertRow(3)).getByTestId("alert-show"));
    await waitFor(() =>
      expect(screen.getByTestId("nav-sessions").getAttribute("aria-selected")).toBe("true"),
    );
    // The filter is in the URL: a reload shows the same session.
    expect(window.location.hash).toBe("#/sessions?tenant=prod&sid=s7");
    await waitFor(() =>
      expect((screen.getByTestId("filter-session_id") as HTMLInputElement).value).toBe("s7"),
    );
    await waitFor(() =>
      expect((screen.getByTestId("tenant-filter") as HTMLSelectElement).value).toBe("prod"),
    );
    const queries = callsOf("query_sessions").map((a) => a.query as SessionQuery);
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((q) => q.session_id === "s7" && q.tenants?.join() === "prod")).toBe(true);
    const rows = await screen.findAllByTestId("session-row");
    expect(rows.map((r) => r.dataset.sessionId)).toEqual(["s7"]);
  });

  it("shows a toast on alerts://new, refetches the count, and opens the centre on click", async () => {
    const { raise } = startApp("#/sessions");
    await waitFor(() => expect(badge()).toBe("3"));
    expect(screen.queryByTestId("alert-toast")).toBeNull();
    await raise(makeAlert({ username: "carol", message: "carol signed in to demo at 03:12" }));
    const toast = await screen.findByTestId("alert-toast");
    expect(toast.textContent).toContain("carol signed in to demo at 03:12");
    await waitFor(() => expect(badge()).toBe("4"));
    // Non-blocking: the session view stays usable underneath.
    expect(screen.getByTestId("nav-sessions").getAttribute("aria-selected")).toBe("true");
    fireEvent.click(within(toast).getByText(/carol signed in/));
    await screen.findByTestId("alerts-screen");
    expect(screen.queryByTestId("alert-toast")).toBeNull();
  });

  it("stacks at most three toasts", async () => {
    const { raise } = startApp("#/sessions");
    await waitFor(() => expect(badge()).toBe("3"));
    for (let i = 1; i <= 4; i++) await raise(makeAlert({ message: `alert number ${i}` }));
    await waitFor(() => expect(screen.getAllByTestId("alert-toast")).toHaveLength(3));
    const texts = screen.getAllByTestId("alert-toast").map((t) => t.textContent ?? "");
    expect(texts.some((t) => t.includes("alert number 1"))).toBe(false);
    expect(texts.some((t) => t.includes("alert number 4"))).toBe(true);
  });
});
