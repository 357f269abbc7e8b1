import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { Profiler } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "./App";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { ExportFormat } from "./ipc/bindings/ExportFormat";
import type { Session } from "./ipc/bindings/Session";
import type { SessionFilter } from "./ipc/bindings/SessionFilter";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { SessionRef } from "./ipc/bindings/SessionRef";
import type { Summary } from "./ipc/bindings/Summary";
import type { UserQuery } from "./ipc/bindings/UserQuery";
import { LAYOUT_KEY } from "./lib/layout";
import { createQueryClient } from "./lib/queryClient";
import {
  APP_STATUS,
  facetsOf,
  filterRows,
  makeSession,
  pageOf,
  SETTINGS,
  SUMMARY,
  usersPageOf,
} from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

type Backend = {
  summary?: Summary;
  rows?: Session[];
  /** How many refs session_refs hands back at most (the back end's cap). */
  refsCap?: number;
};

/** 40 sessions of 20 users (two each, from different IPs), half in demo, half in prod. */
function twoPerUser(): Session[] {
  return Array.from({ length: 40 }, (_, i) => {
    const u = i % 20;
    return makeSession(i, {
      tenant: u % 2 === 0 ? "demo" : "prod",
      user_id: `u${u}`,
      username: `user${u}`,
      superuser: u === 1,
      ip: `10.0.${i < 20 ? 0 : 1}.${u}`,
      session_type: i % 3 === 0 ? "api" : "web",
    });
  });
}

function startConsole(backend: Backend = {}, hash = "#/sessions") {
  window.history.replaceState(null, "", hash);
  const rows = backend.rows ?? Array.from({ length: 250 }, (_, i) => makeSession(i));
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      switch (cmd) {
        case "summary":
          return backend.summary ?? SUMMARY;
        case "query_sessions":
          return pageOf(rows, args?.query as SessionQuery);
        case "query_users":
          return usersPageOf(rows, args?.query as UserQuery);
        case "session_facets":
          return facetsOf(rows);
        case "session_refs": {
          const list = filterRows(rows, args?.filter as SessionFilter);
          return {
            refs: list
              .slice(0, backend.refsCap ?? 10_000)
              .map((r) => ({ tenant: r.tenant, session_id: r.id })),
            total: list.length,
          };
        }
        case "export_sessions": {
          const q = args?.query as SessionQuery;
          const format = args?.format as ExportFormat;
          return {
            path: `/home/admin/Downloads/vigil-sessions-20250101-090000.${format}`,
            rows: filterRows(rows, q).length,
          };
        }
        case "end_sessions":
        case "act": {
          const targets = args?.targets as SessionRef[];
          return {
            action_id: "A1",
            items: targets.map((target) => ({
              target,
              ok: true,
              already_gone: false,
              error: null,
            })),
          };
        }
        case "list_alerts":
          return [];
        case "audit_entries":
          return [];
        case "refresh":
          return null;
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
  let commits = 0;
  render(
    <QueryClientProvider client={createQueryClient({ retry: false })}>
      <Profiler id="app" onRender={() => commits++}>
        <App />
      </Profiler>
    </QueryClientProvider>,
  );
  const argsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args ?? {});
  const queries = () => argsOf("query_sessions").map((a) => a.query as SessionQuery);
  const userQueries = () => argsOf("query_users").map((a) => a.query as UserQuery);
  return { calls, argsOf, queries, userQueries, commits: () => commits };
}

function rowIds(): (string | undefined)[] {
  return screen.getAllByTestId("session-row").map((r) => r.dataset.sessionId);
}

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

afterEach(() => {
  window.localStorage.clear();
});

describe("switching views", () => {
  it("comes back to the sessions with their rows and settles (no render loop on remount)", async () => {
    const { queries, commits } = startConsole();
    await waitFor(() => expect(rowIds().length).toBeGreaterThan(0));
    fireEvent.click(screen.getByTestId("nav-audit"));
    await waitFor(() => expect(screen.queryAllByTestId("session-row")).toHaveLength(0));
    fireEvent.click(screen.getByTestId("nav-sessions"));
    await waitFor(() => expect(rowIds().length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 300));
    const settled = queries().length;
    const before = commits();
    await new Promise((r) => setTimeout(r, 300));
    expect(queries().length).toBe(settled);
    // At most a countdown tick; a re-render loop commits hundreds of times.
    expect(commits() - before).toBeLessThan(4);
    expect(rowIds()[0]).toBe("s0");
  });
});

describe("column filters", () => {
  it("put every kind of column filter into the query", async () => {
    const { queries } = startConsole({ rows: twoPerUser() });
    await screen.findAllByTestId("session-row");
    expect(screen.queryByTestId("filter-panel")).toBeNull();
    fireEvent.click(screen.getByTestId("toggle-filters"));
    expect(screen.getByTestId("toggle-filters").getAttribute("aria-expanded")).toBe("true");

    // Labelled inputs: found by their visible label.
    fireEvent.change(screen.getByLabelText("User name"), { target: { value: " user1 " } });
    type("filter-protected", "no");
    type("filter-created_from", "2025-01-01T07:30");
    fireEvent.click(screen.getByTestId("filter-session_types"));
    const web = screen
      .getAllByTestId("filter-session_types-option")
      .find((o) => o.dataset.value === "web") as HTMLInputElement;
    expect(web.closest("label")?.textContent).toContain("web");
    fireEvent.click(web);

    await waitFor(() =>
      expect(queries().at(-1)).toMatchObject({
        username: "user1",
        protected: false,
        session_types: ["web"],
        created_from: new Date("2025-01-01T07:30").toISOString().replace(".000Z", "Z"),
      }),
    );
    // "user1" is a substring of user1 and user10…user19; only web sessions remain.
    await waitFor(() => expect(rowIds().length).toBeGreaterThan(0));
    expect(screen.getByTestId("toggle-filters").textContent).toBe("Filters (4)");
    // The filtered columns say so in their header.
    expect(screen.getByTestId("header-username").className).toContain("filtered");
    expect(screen.getByTestId("header-session_type").className).toContain("filtered");
    expect(screen.getByTestId("header-ip").className).not.toContain("filtered");
    expect(screen.getByTestId("row-count").textContent).toMatch(/ of 2,013 sessions$/);

    fireEvent.click(screen.getByTestId("clear-filters"));
    expect((screen.getByLabelText("User name") as HTMLInputElement).value).toBe("");
    expect(window.location.hash).toBe("#/sessions");
    await waitFor(() => expect(screen.getByTestId("row-count").textContent).toBe("40 sessions"));
    expect(screen.getByTestId("toggle-filters").textContent).toBe("Filters");
  });

  it("filters by a CIDR network and shows the back end's message under the IP field", async () => {
    const { queries } = startConsole({ rows: twoPerUser() });
    await screen.findAllByTestId("session-row");
    fireEvent.click(screen.getByTestId("toggle-filters"));
    type("filter-ip", "10.0.1.0/24");
    await waitFor(() => expect(queries().at(-1)?.ip).toBe("10.0.1.0/24"));
    await waitFor(() => expect(rowIds()).toHaveLength(20));
    expect(rowIds().every((id) => Number(id?.slice(1)) >= 20)).toBe(true);

    type("filter-ip", "10.0.0.0/99");
    const error = await screen.findByTestId("filter-ip-error");
    expect(error.textContent).toContain('invalid CIDR network "10.0.0.0/99"');
    const input = screen.getByTestId("filter-ip");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe(error.id);
    expect(screen.getByTestId("filter-error-state").textContent).toContain("not valid");

    type("filter-ip", "10.0.0.");
    await waitFor(() => expect(screen.queryByTestId("filter-ip-error")).toBeNull());
    await waitFor(() => expect(rowIds()).toHaveLength(20));
  });

  it("offers the tenants from the facets and filters by any of them", async () => {
    const { queries } = startConsole({ rows: twoPerUser() });
    await screen.findAllByTestId("session-row");
    fireEvent.click(screen.getByTestId("toggle-filters"));
    fireEvent.click(screen.getByTestId("filter-tenants"));
    const options = await screen.findAllByTestId("filter-tenants-option");
    expect(options.map((o) => o.dataset.value)).toEqual(["demo", "prod"]);
    fireEvent.click(options[1] as HTMLElement);
    await waitFor(() => expect(queries().at(-1)?.tenants).toEqual(["prod"]));
    await waitFor(() =>
      expect(screen.getByTestId("row-count").textContent).toBe("20 of 513 sessions"),
    );
    expect((screen.getByTestId("tenant-filter") as HTMLSelectElement).value).toBe("prod");
  });
});

describe("sorting", () => {
  it("toggles the direction on the same header and starts new columns in their first direction", async () => {
    const { queries } = startConsole();
    await screen.findAllByTestId("session-row");
    expect(screen.getByTestId("header-last_activity_at").getAttribute("aria-sort")).toBe(
      "descending",
    );
    fireEvent.click(screen.getByTestId("sort-ip"));
    await waitFor(() => expect(queries().at(-1)).toMatchObject({ sort: "ip", descending: false }));
    expect(screen.getByTestId("header-ip").getAttribute("aria-sort")).toBe("ascending");
    expect(screen.getByTestId("header-last_activity_at").getAttribute("aria-sort")).toBeNull();
    fireEvent.click(screen.getByTestId("sort-ip"));
    await waitFor(() => expect(queries().at(-1)).toMatchObject({ sort: "ip", descending: true }));
    expect(window.location.hash).toContain("sort=ip&desc=1");
    // Login time starts newest first.
    fireEvent.click(screen.getByTestId("sort-created_at"));
    await waitFor(() =>
      expect(queries().at(-1)).toMatchObject({ sort: "created_at", descending: true }),
    );
  });

  it("groups by tenant with a visible separator where the tenant changes", async () => {
    startConsole({ rows: twoPerUser() });
    await screen.findAllByTestId("session-row");
    expect(document.querySelectorAll("[data-group-start]")).toHaveLength(0);
    fireEvent.click(screen.getByTestId("sort-tenant"));
    await waitFor(() =>
      expect(
        [...document.querySelectorAll<HTMLElement>("[data-group-start]")].map(
          (r) => r.dataset.groupStart,
        ),
      ).toEqual(["demo", "prod"]),
    );
  });
});

describe("column chooser and saved layout", () => {
  it("restores hidden columns, order, widths and sort from localStorage", async () => {
    window.localStorage.setItem(
      LAYOUT_KEY,
      JSON.stringify({
        order: ["ip", "username", "tenant"],
        hidden: ["department", "organisation"],
        sizing: { username: 260 },
        sort: { sort: "username", descending: false },
      }),
    );
    const { queries } = startConsole();
    await screen.findAllByTestId("session-row");
    expect(queries()[0]).toMatchObject({ sort: "username", descending: false });
    expect(screen.queryByTestId("header-department")).toBeNull();
    expect(screen.queryByTestId("header-organisation")).toBeNull();
    const headers = [...document.querySelectorAll<HTMLElement>("[data-testid^=header-]")].map(
      (h) => h.dataset.testid,
    );
    expect(headers.slice(0, 3)).toEqual(["header-ip", "header-username", "header-tenant"]);
    expect(screen.getByTestId("header-username").style.width).toBe("260px");
  });

  it("shows a chosen column, resizes by keyboard, saves it all, and resets", async () => {
    startConsole();
    await screen.findAllByTestId("session-row");
    expect(screen.queryByTestId("header-server_name")).toBeNull();
    fireEvent.click(screen.getByTestId("column-chooser"));
    fireEvent.click(screen.getByTestId("column-toggle-server_name"));
    expect(await screen.findByTestId("header-server_name")).toBeTruthy();
    expect(
      within(screen.getAllByTestId("session-row")[0] as HTMLElement).getByText("srv1"),
    ).toBeTruthy();

    const resizer = screen.getByTestId("resize-tenant");
    expect(resizer.getAttribute("aria-label")).toBe("Resize Tenant column");
    fireEvent.keyDown(resizer, { key: "ArrowRight" });
    fireEvent.keyDown(resizer, { key: "ArrowRight" });
    await waitFor(() => expect(screen.getByTestId("header-tenant").style.width).toBe("142px"));

    await waitFor(() => {
      const saved = JSON.parse(window.localStorage.getItem(LAYOUT_KEY) ?? "{}");
      expect(saved.hidden).not.toContain("server_name");
      expect(saved.sizing).toEqual({ tenant: 142 });
    });

    fireEvent.click(screen.getByTestId("reset-layout"));
    await waitFor(() => expect(screen.queryByTestId("header-server_name")).toBeNull());
    expect(screen.getByTestId("header-tenant").style.width).toBe("110px");
    await waitFor(() =>
      expect(JSON.parse(window.localStorage.getItem(LAYOUT_KEY) ?? "{}").sizing).toEqual({}),
    );
  });
});

describe("the Users view", () => {
  it("switches with U, shows one row per user and expands a row to its sessions", async () => {
    const { userQueries, queries } = startConsole({ rows: twoPerUser() });
    await screen.findAllByTestId("session-row");
    fireEvent.keyDown(window, { key: "u" });
    const users = await screen.findAllByTestId("user-row");
    expect(window.location.hash).toBe("#/sessions?mode=users");
    expect(screen.getByTestId("mode-users").getAttribute("aria-pressed")).toBe("true");
    expect(userQueries().at(-1)).toMatchObject({ sort: "last_login", descending: true });
    expect(screen.getByTestId("row-count").textContent).toBe("20 users · 40 sessions");
    const user1 = users.find((u) => u.dataset.username === "user1") as HTMLElement;
    expect(within(user1).getByText("SUPER")).toBeTruthy();
    expect(within(user1).getByTestId("user-sessions-count").textContent).toBe("2");

    fireEvent.click(within(user1).getByTestId("expand-user"));
    expect(user1.getAttribute("aria-expanded")).toBe("true");
    const panel = await screen.findByTestId("user-sessions");
    await waitFor(() =>
      expect(
        within(panel)
          .getAllByTestId("user-session-row")
          .map((r) => r.dataset.sessionId),
      ).toEqual(["s1", "s21"]),
    );
    expect(queries().at(-1)).toMatchObject({ tenants: ["prod"], user_id: "u1" });
    fireEvent.click(within(user1).getByTestId("expand-user"));
    await waitFor(() => expect(screen.queryByTestId("user-sessions")).toBeNull());

    fireEvent.keyDown(window, { key: "u" });
    await screen.findAllByTestId("session-row");
    expect(window.location.hash).toBe("#/sessions");
  });

  it("acts on user rows: Force logout sends one user-id target per user", async () => {
    const { argsOf } = startConsole({ rows: twoPerUser() }, "#/sessions?mode=users");
    const users = await screen.findAllByTestId("user-row");
    const [a, b] = users as [HTMLElement, HTMLElement];
    fireEvent.click(a);
    fireEvent.click(b, { ctrlKey: true });
    await waitFor(() =>
      expect(screen.getByTestId("selection-count").textContent).toContain("2 users selected"),
    );
    expect(b.getAttribute("aria-selected")).toBe("true");
    expect(screen.queryByTestId("end-sessions")).toBeNull();
    fireEvent.click(screen.getByTestId("action-logout"));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Force logout 2 users");
    expect(dialog.textContent).toContain("end their 4 sessions");
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(argsOf("act")).toHaveLength(1));
    expect(argsOf("act")[0]).toEqual({
      kind: "logout",
      targets: [
        { tenant: a.dataset.tenant, session_id: a.dataset.userId },
        { tenant: b.dataset.tenant, session_id: b.dataset.userId },
      ],
    });
  });
});

describe("select all filtered", () => {
  it("selects through session_refs with the current filter and ends them all", async () => {
    const { argsOf } = startConsole();
    await screen.findAllByTestId("session-row");
    type("search", "user1");
    await waitFor(() => expect(screen.getByTestId("row-count").textContent).toMatch(/^111 of/));
    fireEvent.click(screen.getByTestId("select-all-filtered"));
    await waitFor(() =>
      expect(screen.getByTestId("selection-count").textContent).toContain("111 sessions selected"),
    );
    expect(argsOf("session_refs")).toEqual([
      { filter: { search: "user1", superuser_only: false } },
    ]);
    // No paging through query_sessions to select.
    expect(argsOf("query_sessions").every((a) => (a.query as SessionQuery).limit <= 100)).toBe(
      true,
    );
    expect((screen.getByTestId("select-all-checkbox") as HTMLInputElement).checked).toBe(true);

    fireEvent.click(screen.getByTestId("end-sessions"));
    expect(screen.getByTestId("confirm-dialog").textContent).toContain(
      "End 111 sessions in 2 tenants?",
    );
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(argsOf("end_sessions")).toHaveLength(1));
    expect(argsOf("end_sessions")[0]?.targets).toHaveLength(111);
  });

  it("says so when more sessions match than one action takes", async () => {
    startConsole({ refsCap: 100 });
    await screen.findAllByTestId("session-row");
    fireEvent.keyDown(window, { key: "a", ctrlKey: true });
    await waitFor(() =>
      expect(screen.getByTestId("selection-count").textContent).toContain(
        "100 sessions selected (of 250 filtered)",
      ),
    );
    expect(screen.getByTestId("action-result").textContent).toContain(
      "Selected the first 100 of 250 sessions",
    );
  });
});

describe("export", () => {
  it("exports the filtered, sorted rows and shows where the file went", async () => {
    const { argsOf } = startConsole();
    await screen.findAllByTestId("session-row");
    fireEvent.click(screen.getByTestId("card-superusers"));
    await waitFor(() => expect(screen.getByTestId("row-count").textContent).toMatch(/^1 of/));
    fireEvent.click(screen.getByTestId("export-csv"));
    const toast = await screen.findByTestId("export-toast");
    expect(toast.getAttribute("role")).toBe("status");
    expect(toast.textContent).toContain("Exported 1 session as CSV");
    expect(within(toast).getByTestId("export-path").textContent).toBe(
      "/home/admin/Downloads/vigil-sessions-20250101-090000.csv",
    );
    expect(argsOf("export_sessions")).toEqual([
      {
        query: {
          superuser_only: true,
          sort: "last_activity_at",
          descending: true,
          offset: 0,
          limit: 10_000,
        },
        format: "csv",
      },
    ]);
    fireEvent.click(screen.getByTestId("export-json"));
    await waitFor(() => expect(screen.getAllByTestId("export-toast")).toHaveLength(2));
    expect(argsOf("export_sessions")[1]?.format).toBe("json");
  });
});

describe("state in the URL hash", () => {
  it("starts from the hash: view, search, column filters and sort", async () => {
    const { userQueries } = startConsole(
      { rows: twoPerUser() },
      "#/sessions?mode=users&q=user&ip=10.0.0.0%2F16&type=web&usort=sessions&udesc=1",
    );
    await screen.findAllByTestId("user-row");
    expect(userQueries()[0]).toMatchObject({
      search: "user",
      ip: "10.0.0.0/16",
      session_types: ["web"],
      sort: "sessions",
      descending: true,
    });
    expect((screen.getByTestId("search") as HTMLInputElement).value).toBe("user");
    // Column filters in the URL open the panel so they can be seen.
    expect((screen.getByTestId("filter-ip") as HTMLInputElement).value).toBe("10.0.0.0/16");
    expect(screen.getByTestId("user-header-sessions").getAttribute("aria-sort")).toBe("descending");
  });

  it("writes what is typed back into the hash, without a history entry per keystroke", async () => {
    startConsole();
    await screen.findAllByTestId("session-row");
    const before = window.history.length;
    type("search", "user4");
    type("search", "user42");
    fireEvent.click(screen.getByTestId("superuser-toggle"));
    expect(window.location.hash).toBe("#/sessions?q=user42&su=1");
    expect(window.history.length).toBe(before);
  });
});

describe("freshness", () => {
  it("dims the rows of a tenant whose last poll failed and says why", async () => {
    startConsole();
    await screen.findAllByTestId("session-row");
    const prod = document.querySelector<HTMLElement>(
      '[data-testid=session-row][data-tenant="prod"]',
    );
    const demo = document.querySelector<HTMLElement>(
      '[data-testid=session-row][data-tenant="demo"]',
    );
    await waitFor(() => expect(prod?.dataset.stale).toBe("true"));
    expect(prod?.className).toContain("stale");
    expect(
      within(prod as HTMLElement)
        .getByTestId("stale-marker")
        .getAttribute("title"),
    ).toContain("connection refused");
    expect(demo?.dataset.stale).toBeUndefined();
    expect(within(demo as HTMLElement).queryByTestId("stale-marker")).toBeNull();
  });
});

describe("sign-in-log tenants", () => {
  it("marks the sessions of a tenant without a live session list", async () => {
    const [demo, prod] = SUMMARY.tenants;
    if (!demo || !prod) throw new Error("fixture");
    const caps = {
      list_sessions: false,
      end_session: false,
      end_user_sessions: true,
      disable_user: true,
      enable_user: true,
      superuser_detection: true,
      change_feed: false,
      sign_in_log: true,
      revoke_grants: false,
      require_password_change: false,
    };
    startConsole({
      summary: {
        ...SUMMARY,
        tenants: [demo, { ...prod, health: { ...prod.health, capabilities: caps } }],
      },
    });
    await screen.findAllByTestId("session-row");
    const prodRow = document.querySelector<HTMLElement>(
      '[data-testid=session-row][data-tenant="prod"]',
    );
    const demoRow = document.querySelector<HTMLElement>(
      '[data-testid=session-row][data-tenant="demo"]',
    );
    await waitFor(() =>
      expect(
        within(prodRow as HTMLElement)
          .getByTestId("log-marker")
          .getAttribute("title"),
      ).toContain("sign-in log"),
    );
    expect(within(demoRow as HTMLElement).queryByTestId("log-marker")).toBeNull();
  });
});

describe("capabilities", () => {
  it("leaves out sessions of a tenant that cannot end one session, and says why", async () => {
    const [demo, prod] = SUMMARY.tenants;
    if (!demo || !prod) throw new Error("fixture");
    const caps = {
      list_sessions: false,
      end_session: false,
      end_user_sessions: true,
      disable_user: true,
      enable_user: true,
      superuser_detection: true,
      change_feed: false,
      sign_in_log: true,
      revoke_grants: false,
      require_password_change: false,
    };
    const { calls } = startConsole({
      summary: {
        ...SUMMARY,
        tenants: [demo, { ...prod, health: { ...prod.health, capabilities: caps } }],
      },
    });
    await screen.findAllByTestId("session-row");
    const rowOf = (id: string) =>
      document.querySelector(`[data-testid=session-row][data-session-id="${id}"]`) as HTMLElement;
    // Capabilities arrive with the summary; wait until the prod rows show them.
    await waitFor(() => expect(within(rowOf("s1")).getByTestId("log-marker")).toBeTruthy());
    fireEvent.click(rowOf("s2"));
    fireEvent.click(rowOf("s1"), { ctrlKey: true });
    await waitFor(() => expect(rowOf("s1").getAttribute("aria-selected")).toBe("true"));
    fireEvent.click(screen.getByTestId("end-sessions"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("1 session of prod left out");
    expect(dialog.textContent).toContain("Force logout");
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "end_sessions")).toBe(true));
    const end = calls.find((c) => c.cmd === "end_sessions");
    expect(end?.args?.targets).toEqual([{ tenant: "demo", session_id: "s2" }]);
  });
});

describe("cards", () => {
  it("filter per tenant, switch to users, and open the alert centre", async () => {
    const { queries } = startConsole();
    await screen.findAllByTestId("session-row");
    const cards = screen.getAllByTestId("tenant-card");
    expect(cards.map((c) => c.dataset.tenant)).toEqual(["demo", "prod"]);
    expect(cards[0]?.textContent).toContain("1,000 users");
    fireEvent.click(cards[0] as HTMLElement);
    await waitFor(() => expect(queries().at(-1)?.tenants).toEqual(["demo"]));
    expect(cards[0]?.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(screen.getByTestId("card-active-users"));
    await screen.findAllByTestId("user-row");
    fireEvent.click(screen.getByTestId("card-open-alerts"));
    await screen.findByTestId("alerts-screen");
  });
});

describe("help overlay", () => {
  it("opens with ? and from the rail, lists the shortcuts, and closes with Escape", async () => {
    startConsole();
    await screen.findAllByTestId("session-row");
    expect(screen.queryByTestId("help-overlay")).toBeNull();
    fireEvent.keyDown(window, { key: "?" });
    const help = screen.getByTestId("help-overlay");
    expect(help.getAttribute("role")).toBe("dialog");
    expect(help.textContent).toContain("Switch between the Sessions and the Users view");
    expect(help.textContent).toContain("Select all filtered rows");
    expect(help.contains(document.activeElement)).toBe(true);
    // While it is open, console keys do nothing.
    fireEvent.keyDown(window, { key: "u" });
    expect(screen.queryByTestId("user-row")).toBeNull();
    fireEvent.keyDown(help, { key: "Escape" });
    expect(screen.queryByTestId("help-overlay")).toBeNull();
    // Typing ? into the search is just text.
    const search = screen.getByTestId("search");
    fireEvent.keyDown(search, { key: "?" });
    expect(screen.queryByTestId("help-overlay")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Keyboard shortcuts" }));
    expect(screen.getByTestId("help-overlay")).toBeTruthy();
  });
});
