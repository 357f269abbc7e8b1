import { QueryClientProvider } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { Session } from "./ipc/bindings/Session";
import type { SessionFilter } from "./ipc/bindings/SessionFilter";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { SessionRef } from "./ipc/bindings/SessionRef";
import type { UserQuery } from "./ipc/bindings/UserQuery";
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
  rows?: Session[];
  querySessions?: (q: SessionQuery) => unknown;
  endSessions?: (targets: SessionRef[]) => unknown;
  /** Polling starts paused. */
  paused?: boolean;
};

function startApp(backend: Backend = {}) {
  const rows = backend.rows ?? Array.from({ length: 250 }, (_, i) => makeSession(i));
  const calls: Call[] = [];
  let paused = backend.paused ?? false;
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      switch (cmd) {
        case "summary":
          return SUMMARY;
        case "query_sessions": {
          const q = args?.query as SessionQuery;
          return backend.querySessions ? backend.querySessions(q) : pageOf(rows, q);
        }
        case "end_sessions": {
          const targets = args?.targets as SessionRef[];
          if (backend.endSessions) return backend.endSessions(targets);
          return {
            action_id: "A1",
            items: targets.map((target, i) => ({
              target,
              ok: true,
              already_gone: false,
              error: null,
              audit_id: i + 1,
            })),
          };
        }
        case "query_users":
          return usersPageOf(rows, args?.query as UserQuery);
        case "session_facets":
          return facetsOf(rows);
        case "session_refs": {
          const list = filterRows(rows, args?.filter as SessionFilter);
          return {
            refs: list.slice(0, 10_000).map((r) => ({ tenant: r.tenant, session_id: r.id })),
            total: list.length,
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
          return { ...APP_STATUS, paused };
        case "set_paused":
          paused = args?.paused as boolean;
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
  const queries = () =>
    calls.filter((c) => c.cmd === "query_sessions").map((c) => c.args?.query as SessionQuery);
  return { calls, queries, client };
}

async function rowsShown() {
  return screen.findAllByTestId("session-row");
}

function row(id: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(
    `[data-testid="session-row"][data-session-id="${id}"]`,
  );
  if (!el) throw new Error(`row ${id} not rendered`);
  return el;
}

function cardValue(testId: string): string | null {
  return within(screen.getByTestId(testId)).getByTestId("card-value").textContent;
}

describe("App", () => {
  it("shows the summary totals in the cards and tenant health in the status bar", async () => {
    startApp();
    await waitFor(() => expect(cardValue("card-active-users")).toBe("1,234"));
    expect(cardValue("card-active-sessions")).toBe("2,013");
    expect(cardValue("card-superusers")).toBe("7");

    const statuses = screen.getAllByTestId("tenant-status");
    expect(statuses.map((s) => s.dataset.tenant)).toEqual(["demo", "prod"]);
    expect(statuses[0]?.textContent).toMatch(/vigil.*polled \d+ s ago · 42 ms/);
    expect(statuses[1]?.textContent).toContain("connection refused");
    expect(statuses[1]?.textContent).toContain("stale");
  });

  it("renders only the visible window of rows fetched by page", async () => {
    const { queries } = startApp();
    const rows = await rowsShown();
    expect(screen.getByTestId("row-count").textContent).toBe("250 sessions");
    // 600 px viewport / 32 px rows + overscan: far fewer than 250 rows in the DOM.
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]?.dataset.sessionId).toBe("s0");
    expect(rows[0]?.dataset.tenant).toBe("demo");
    expect(rows[0]?.getAttribute("aria-selected")).toBe("false");
    // user1 is a superuser, the UA is parsed, names fall back to first + last.
    expect(within(row("s1")).getByText("SUPER")).toBeTruthy();
    expect(within(row("s0")).getByText("Chrome · Windows")).toBeTruthy();
    expect(within(row("s0")).getByText("First Last0")).toBeTruthy();
    for (const q of queries()) {
      expect(q.offset % 100).toBe(0);
      expect(q.limit).toBe(100);
      expect(q).toMatchObject({
        sort: "last_activity_at",
        descending: true,
        superuser_only: false,
      });
    }
  });

  it("sends the search text with the query after typing", async () => {
    const { queries } = startApp();
    await rowsShown();
    fireEvent.change(screen.getByTestId("search"), { target: { value: "user12" } });
    await waitFor(() => expect(queries().some((q) => q.search === "user12")).toBe(true));
    await waitFor(() =>
      expect(screen.getByTestId("row-count").textContent).toBe("11 of 2,013 sessions"),
    );
    const ids = screen.getAllByTestId("session-row").map((r) => r.dataset.sessionId);
    expect(ids).toContain("s12");
    expect(ids).toContain("s125");
    expect(ids).not.toContain("s0");
  });

  it("sorts server-side when a column header is clicked", async () => {
    const { queries } = startApp();
    await rowsShown();
    fireEvent.click(screen.getByTestId("sort-username"));
    await waitFor(() =>
      expect(queries().at(-1)).toMatchObject({ sort: "username", descending: false }),
    );
    fireEvent.click(screen.getByTestId("sort-username"));
    await waitFor(() =>
      expect(queries().at(-1)).toMatchObject({ sort: "username", descending: true }),
    );
    const header = screen.getByTestId("header-username");
    expect(header.getAttribute("aria-sort")).toBe("descending");
  });

  it("ends the selected session after confirmation", async () => {
    const { calls } = startApp();
    await rowsShown();
    const endButton = screen.getByTestId("end-sessions") as HTMLButtonElement;
    expect(endButton.disabled).toBe(true);

    fireEvent.click(row("s2"));
    await waitFor(() => expect(row("s2").getAttribute("aria-selected")).toBe("true"));
    expect(endButton.textContent).toBe("End session");
    fireEvent.click(endButton);

    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(dialog.textContent).toContain("End 1 session of user2 (tenant demo)?");
    expect(calls.some((c) => c.cmd === "end_sessions")).toBe(false);

    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() =>
      expect(screen.getByTestId("action-result").textContent).toContain("Ended 1 session"),
    );
    const end = calls.filter((c) => c.cmd === "end_sessions");
    expect(end).toHaveLength(1);
    expect(end[0]?.args?.targets).toEqual([{ tenant: "demo", session_id: "s2" }]);
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    // Ended sessions leave the selection.
    await waitFor(() => expect(endButton.disabled).toBe(true));
  });

  it("Escape in the dialog cancels without ending anything", async () => {
    const { calls } = startApp();
    await rowsShown();
    fireEvent.click(row("s0"));
    fireEvent.keyDown(window, { key: "Delete" });
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.contains(document.activeElement)).toBe(true);
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(calls.some((c) => c.cmd === "end_sessions")).toBe(false);
    expect(row("s0").getAttribute("aria-selected")).toBe("true");
  });

  it("Ctrl+click on End skips the dialog and ends every selected session", async () => {
    const { calls } = startApp({
      endSessions: (targets) => ({
        items: targets.map((target) =>
          target.session_id === "s3"
            ? {
                target,
                ok: false,
                already_gone: false,
                error: { code: "forbidden", message: "protected user" },
              }
            : { target, ok: true, already_gone: false, error: null },
        ),
      }),
    });
    await rowsShown();
    fireEvent.click(row("s1"));
    fireEvent.click(row("s3"), { ctrlKey: true });
    await waitFor(() =>
      expect(screen.getByTestId("end-sessions").textContent).toBe("End 2 sessions"),
    );

    fireEvent.click(screen.getByTestId("end-sessions"), { ctrlKey: true });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    await waitFor(() => expect(calls.some((c) => c.cmd === "end_sessions")).toBe(true));
    const targets = calls.find((c) => c.cmd === "end_sessions")?.args?.targets as SessionRef[];
    expect(targets).toHaveLength(2);
    expect(targets).toEqual(
      expect.arrayContaining([
        { tenant: "prod", session_id: "s1" },
        { tenant: "prod", session_id: "s3" },
      ]),
    );
    const result = await screen.findByText(/failed to end 1 session/);
    expect(result.closest("[data-testid=action-result]")?.textContent).toContain(
      "user3 (tenant prod): protected user",
    );
    // The failed one stays selected, the ended one does not.
    await waitFor(() => expect(screen.getByTestId("end-sessions").textContent).toBe("End session"));
    expect(row("s3").getAttribute("aria-selected")).toBe("true");
  });

  it("Shift+click selects a range and Ctrl+A selects all filtered sessions", async () => {
    startApp();
    await rowsShown();
    fireEvent.click(row("s2"));
    fireEvent.click(row("s6"), { shiftKey: true });
    await waitFor(() =>
      expect(screen.getByTestId("end-sessions").textContent).toBe("End 5 sessions"),
    );
    fireEvent.click(screen.getByTestId("end-sessions"));
    expect(screen.getByTestId("confirm-dialog").textContent).toContain(
      "End 5 sessions of 5 users in 2 tenants?",
    );
    fireEvent.click(screen.getByText("Cancel"));

    fireEvent.keyDown(window, { key: "a", ctrlKey: true });
    await waitFor(() =>
      expect(screen.getByTestId("end-sessions").textContent).toBe("End 250 sessions"),
    );
  });

  it("moves the focus with the arrow keys and toggles selection with Space", async () => {
    startApp();
    await rowsShown();
    const grid = screen.getByRole("grid");
    grid.focus();
    fireEvent.keyDown(grid, { key: "ArrowDown" });
    fireEvent.keyDown(grid, { key: "ArrowDown" });
    await waitFor(() => expect(grid.getAttribute("aria-activedescendant")).toBe("session-row-1"));
    fireEvent.keyDown(grid, { key: " " });
    await waitFor(() => expect(row("s1").getAttribute("aria-selected")).toBe("true"));
    fireEvent.keyDown(grid, { key: "ArrowUp" });
    fireEvent.keyDown(grid, { key: " " });
    await waitFor(() => expect(row("s0").getAttribute("aria-selected")).toBe("true"));
    expect(row("s1").getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(grid, { key: "Enter" });
    await waitFor(() => expect(row("s1").getAttribute("aria-selected")).toBe("false"));
  });

  it("shows an IPC error with its message", async () => {
    startApp({
      querySessions: () => {
        throw { code: "unreachable", message: "tenant demo is unreachable" } satisfies ErrorPayload;
      },
    });
    const state = await screen.findByTestId("error-state");
    expect(state.textContent).toContain("tenant demo is unreachable");
    expect(state.textContent).toContain("Check the network connection");
  });

  it("shows the empty state and clears filters", async () => {
    const { queries } = startApp();
    await rowsShown();
    fireEvent.change(screen.getByTestId("search"), { target: { value: "nobody" } });
    const empty = await screen.findByTestId("empty-state", {}, { timeout: 3000 });
    expect(empty.textContent).toContain("No sessions match your filters");
    expect(queries().some((q) => q.search === "nobody")).toBe(true);
    fireEvent.click(within(empty).getByText("Clear filters"));
    await waitFor(() => expect(screen.getByTestId("row-count").textContent).toBe("250 sessions"), {
      timeout: 3000,
    });
    await rowsShown();
    expect((screen.getByTestId("search") as HTMLInputElement).value).toBe("");
  });

  it("says there are no active sessions when nothing is filtered", async () => {
    startApp({ rows: [] });
    const empty = await screen.findByTestId("empty-state");
    expect(empty.textContent).toContain("No active sessions");
  });

  it("toggles the SuperUsers filter from the card", async () => {
    const { queries } = startApp();
    await rowsShown();
    fireEvent.click(screen.getByTestId("card-superusers"));
    await waitFor(() => expect(queries().at(-1)?.superuser_only).toBe(true));
    await waitFor(() =>
      expect(screen.getByTestId("row-count").textContent).toBe("1 of 2,013 sessions"),
    );
    expect(screen.getByTestId("card-superusers").getAttribute("aria-pressed")).toBe("true");
  });

  it("refreshes on the button and on F5, and refetches on sessions://changed", async () => {
    const { calls } = startApp();
    await rowsShown();
    const count = (cmd: string) => calls.filter((c) => c.cmd === cmd).length;
    fireEvent.click(screen.getByTestId("refresh"));
    await waitFor(() => expect(count("refresh")).toBe(1));
    await waitFor(() =>
      expect((screen.getByTestId("refresh") as HTMLButtonElement).disabled).toBe(false),
    );
    fireEvent.keyDown(window, { key: "F5" });
    await waitFor(() => expect(count("refresh")).toBe(2));

    // The listener was registered on mount; an event invalidates the cached queries.
    const before = count("summary");
    await emit("sessions://changed", { tenant: "demo", version: 2 });
    await waitFor(() => expect(count("summary")).toBeGreaterThan(before));
  });

  it("pauses polling from the header and shows the paused bar until resumed", async () => {
    const { calls } = startApp();
    await rowsShown();
    const pause = await screen.findByTestId("pause-polling");
    expect(screen.queryByTestId("polling-paused")).toBeNull();
    // A drawn icon, not a font glyph (⏸ is missing on many Linux desktops).
    expect(pause.querySelector("svg[data-icon=pause][aria-hidden=true]")).not.toBeNull();
    expect(pause.textContent?.trim()).toBe("Pause");
    fireEvent.click(pause);
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "set_paused").map((c) => c.args)).toEqual([
        { paused: true },
      ]),
    );
    // The status is read again: the bar replaces the Pause button.
    const bar = await screen.findByTestId("polling-paused");
    expect(bar.textContent).toContain("Polling paused");
    expect(screen.queryByTestId("pause-polling")).toBeNull();
  });

  it("shows the paused bar when polling is paused and Resume resumes", async () => {
    const { calls } = startApp({ paused: true });
    const bar = await screen.findByTestId("polling-paused");
    expect(bar.textContent).toContain("Polling paused");
    expect(screen.queryByTestId("pause-polling")).toBeNull();
    const resume = within(bar).getByTestId("resume-polling");
    expect(resume.querySelector("svg[data-icon=play]")).not.toBeNull();
    expect(resume.textContent?.trim()).toBe("Resume");
    fireEvent.click(resume);
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "set_paused").map((c) => c.args)).toEqual([
        { paused: false },
      ]),
    );
    await screen.findByTestId("pause-polling");
    expect(screen.queryByTestId("polling-paused")).toBeNull();
  });

  it("reads the status again on app://status (paused from the tray)", async () => {
    const { calls } = startApp();
    await screen.findByTestId("pause-polling");
    const before = calls.filter((c) => c.cmd === "app_status").length;
    const settingsBefore = calls.filter((c) => c.cmd === "get_settings").length;
    await emit("app://status");
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "app_status").length).toBeGreaterThan(before),
    );
    expect(calls.filter((c) => c.cmd === "get_settings").length).toBeGreaterThan(settingsBefore);
  });

  it("opens the session of a clicked notification, or the alert centre", async () => {
    startApp();
    await screen.findByTestId("pause-polling");
    fireEvent.click(screen.getByTestId("nav-audit"));
    await emit("alerts://open", { tenant: "prod", session_id: "s-42" });
    await waitFor(() => expect(window.location.hash).toContain("sid=s-42"));
    expect(window.location.hash).toMatch(/^#\/sessions\?/);
    expect(window.location.hash).toContain("tenant=prod");
    await emit("alerts://open", { tenant: "prod", session_id: null });
    await waitFor(() => expect(window.location.hash).toBe("#/alerts"));
  });
});
