import { QueryClientProvider } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { ActionReport } from "./ipc/bindings/ActionReport";
import type { AuditEntry } from "./ipc/bindings/AuditEntry";
import type { AuditFilter } from "./ipc/bindings/AuditFilter";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { HistoryEntry } from "./ipc/bindings/HistoryEntry";
import type { Session } from "./ipc/bindings/Session";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { SessionRef } from "./ipc/bindings/SessionRef";
import { createQueryClient } from "./lib/queryClient";
import { APP_STATUS, makeSession, pageOf, SETTINGS, SUMMARY } from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

type Backend = {
  rows?: Session[];
  audit?: (filter: AuditFilter) => AuditEntry[];
  history?: HistoryEntry[];
};

function okReport(actionId: string, targets: SessionRef[]): ActionReport {
  return {
    action_id: actionId,
    items: targets.map((target, i) => ({
      target,
      ok: true,
      already_gone: false,
      error: null,
      audit_id: i + 1,
    })),
  };
}

function audit(id: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    action_id: "A1",
    requested_at: "2025-01-01T09:00:00Z",
    actor: "admin",
    tenant: "demo",
    action: "end_session",
    target: `s${id}`,
    target_user: `user${id}`,
    state: "accepted",
    updated_at: "2025-01-01T09:00:01Z",
    http_status: 202,
    result_code: null,
    message: null,
    ...over,
  };
}

function startApp(backend: Backend = {}) {
  const rows = backend.rows ?? Array.from({ length: 20 }, (_, i) => makeSession(i));
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      switch (cmd) {
        case "summary":
          return SUMMARY;
        case "query_sessions":
          return pageOf(rows, args?.query as SessionQuery);
        case "end_sessions":
          return okReport("A1", args?.targets as SessionRef[]);
        case "act":
          return okReport("A2", args?.targets as SessionRef[]);
        case "audit_entries":
          return backend.audit ? backend.audit(args?.filter as AuditFilter) : [];
        case "session_history":
          return backend.history ?? [];
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
  const client = createQueryClient({ retry: false });
  render(
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>,
  );
  const callsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd);
  const filters = () =>
    callsOf("audit_entries").map((c) => (c.args as { filter: AuditFilter }).filter);
  return { calls, callsOf, filters };
}

function row(id: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(
    `[data-testid="session-row"][data-session-id="${id}"]`,
  );
  if (!el) throw new Error(`row ${id} not rendered`);
  return el;
}

/** alice has two sessions, bob one, root (protected) one; all in tenant demo. */
const USERS: Session[] = [
  makeSession(0, { user_id: "u-alice", username: "alice" }),
  makeSession(2, { user_id: "u-alice", username: "alice" }),
  makeSession(4, { user_id: "u-bob", username: "bob" }),
  makeSession(6, { user_id: "u-root", username: "root", protected: true }),
];

async function select(...ids: string[]) {
  await screen.findAllByTestId("session-row");
  ids.forEach((id, i) => {
    fireEvent.click(row(id), { ctrlKey: i > 0 });
  });
  await waitFor(() => {
    for (const id of ids) expect(row(id).getAttribute("aria-selected")).toBe("true");
  });
}

describe("action lifecycle", () => {
  it("moves the banner from accepted to confirmed as the audit log changes", async () => {
    let state: AuditEntry["state"] = "accepted";
    const { callsOf } = startApp({
      audit: (f) => (f.action_id === "A1" ? [audit(2, { state }), audit(4, { state })] : []),
    });
    await select("s2", "s4");
    fireEvent.click(screen.getByTestId("end-sessions"), { ctrlKey: true });

    await waitFor(() =>
      expect(screen.getByTestId("action-lifecycle").textContent).toBe("2 accepted · confirming…"),
    );
    expect(screen.getByTestId("action-result").textContent).toContain("Ended 2 sessions");
    const filter = callsOf("audit_entries").at(-1)?.args?.filter as AuditFilter;
    expect(filter.action_id).toBe("A1");

    state = "confirmed";
    await emit("sessions://changed", { tenant: "demo", version: 2 });
    await waitFor(() =>
      expect(screen.getByTestId("action-lifecycle").textContent).toBe("2 confirmed"),
    );
  });

  it("lists items that reappeared or failed with their message", async () => {
    let settled = false;
    startApp({
      audit: () =>
        settled
          ? [
              audit(2, { state: "confirmed" }),
              audit(4, { state: "reappeared", message: "session still listed" }),
            ]
          : [audit(2), audit(4)],
    });
    await select("s2", "s4");
    fireEvent.click(screen.getByTestId("end-sessions"), { ctrlKey: true });
    await screen.findByText("2 accepted · confirming…");
    settled = true;
    // No event needed: accepted items are re-read every 2 s.
    await waitFor(
      () =>
        expect(screen.getByTestId("action-lifecycle").textContent).toBe(
          "1 confirmed · 1 reappeared",
        ),
      { timeout: 3_500 },
    );
    expect(screen.getByTestId("action-lifecycle-problems").textContent).toContain(
      "user4 (tenant demo): reappeared – session still listed",
    );
  });
});

describe("user actions", () => {
  it("Force logout sends act(logout) with one user-id target per user", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s0", "s2", "s4");
    fireEvent.click(screen.getByTestId("action-logout"));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain(
      "Force logout 2 users (alice, bob in tenant demo) and end their 3 sessions?",
    );
    expect(callsOf("act")).toHaveLength(0);
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(callsOf("act")).toHaveLength(1));
    expect(callsOf("act")[0]?.args).toEqual({
      kind: "logout",
      targets: [
        { tenant: "demo", session_id: "u-alice" },
        { tenant: "demo", session_id: "u-bob" },
      ],
    });
    await waitFor(() =>
      expect(screen.getByTestId("action-result").textContent).toContain("Logged out 2 users"),
    );
  });

  it("End & Disable disables the others and only signs out protected accounts", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s0", "s2", "s6");
    fireEvent.click(screen.getByTestId("action-disable"));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain(
      "Disable 1 account (alice in tenant demo) and end their 2 sessions?",
    );
    expect(within(dialog).getByTestId("plan-protected-note").textContent).toBe(
      "Protected account root in tenant demo will not be disabled: it is only signed out (force logout).",
    );
    expect(screen.getByTestId("confirm-end").textContent).toBe(
      "Disable 1 account, sign out 1 protected",
    );
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(callsOf("act")).toHaveLength(2));
    expect(callsOf("act").map((c) => c.args)).toEqual([
      { kind: "disable", targets: [{ tenant: "demo", session_id: "u-alice" }] },
      { kind: "logout", targets: [{ tenant: "demo", session_id: "u-root" }] },
    ]);
    await waitFor(() =>
      expect(screen.getByTestId("action-result").textContent).toContain(
        "Disabled 1 account, signed out 1 protected account",
      ),
    );
    expect(screen.getByTestId("action-result").textContent).toContain(
      "Not disabled (protected): root in tenant demo.",
    );
  });

  it("offers to end the sessions when only protected accounts are selected", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s6");
    // Ctrl+click would skip the confirmation, but the dialog offers another action: it asks.
    fireEvent.click(screen.getByTestId("action-disable"), { ctrlKey: true });
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain(
      "root in tenant demo is a protected account: it will not be disabled. End its 1 session instead?",
    );
    expect(dialog.textContent).not.toContain("No account can be disabled");
    const confirm = screen.getByTestId("confirm-end") as HTMLButtonElement;
    expect(confirm.textContent).toBe("Force logout root");
    expect(confirm.disabled).toBe(false);
    expect(callsOf("act")).toHaveLength(0);
    fireEvent.click(confirm);
    await waitFor(() => expect(callsOf("act")).toHaveLength(1));
    expect(callsOf("act")[0]?.args).toEqual({
      kind: "logout",
      targets: [{ tenant: "demo", session_id: "u-root" }],
    });
    await waitFor(() =>
      expect(screen.getByTestId("action-result").textContent).toContain("Logged out 1 user"),
    );
    expect(screen.getByTestId("action-result").textContent).toContain(
      "Not disabled (protected): root in tenant demo.",
    );
  });

  it("Contain of protected accounts only offers a force logout too", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s6");
    fireEvent.click(screen.getByTestId("action-contain"));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Contain user");
    expect(dialog.textContent).toContain("root in tenant demo is a protected account");
    expect(screen.getByTestId("confirm-end").textContent).toBe("Force logout root");
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(callsOf("act")).toHaveLength(0);
  });

  it("Contain signs everyone out, then disables the non-protected users", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s4", "s6");
    fireEvent.click(screen.getByTestId("action-contain"));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Contain 1 user (bob in tenant demo)");
    expect(dialog.textContent).toContain(
      "Protected account root in tenant demo will not be disabled",
    );
    fireEvent.click(screen.getByTestId("confirm-end"));
    await waitFor(() => expect(callsOf("act")).toHaveLength(2));
    const bob = { tenant: "demo", session_id: "u-bob" };
    const root = { tenant: "demo", session_id: "u-root" };
    expect(callsOf("act").map((c) => c.args)).toEqual([
      { kind: "logout", targets: [bob, root] },
      { kind: "disable_only", targets: [bob] },
    ]);
    await waitFor(() =>
      expect(screen.getByTestId("action-result").textContent).toContain(
        "Contained (signed out everywhere and disabled) 1 account, signed out 1 protected account",
      ),
    );
  });

  it("Ctrl+click on Re-enable skips the dialog", async () => {
    const { callsOf } = startApp({ rows: USERS });
    await select("s6");
    fireEvent.click(screen.getByTestId("action-enable"), { metaKey: true });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    await waitFor(() => expect(callsOf("act")).toHaveLength(1));
    expect(callsOf("act")[0]?.args).toEqual({
      kind: "enable",
      targets: [{ tenant: "demo", session_id: "u-root" }],
    });
  });
});

describe("login history", () => {
  it("opens for exactly one user and lists the history entries", async () => {
    const ua =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const base: HistoryEntry = {
      tenant: "demo",
      session_id: "h1",
      user_id: "u-alice",
      username: "alice",
      ip: "10.1.1.1",
      user_agent: ua,
      created_at: null,
      first_seen: "2025-01-01T08:00:00Z",
      last_seen: "2025-01-01T09:00:00Z",
      ended_at: null,
      ended_by: null,
    };
    const { callsOf } = startApp({
      rows: USERS,
      history: [
        base,
        { ...base, session_id: "h2", ended_at: "2025-01-01T10:00:00Z", ended_by: "vigil" },
        { ...base, session_id: "h3", ended_at: "2025-01-01T10:00:00Z", ended_by: "expired" },
        { ...base, session_id: "h4", ended_at: "2025-01-01T10:00:00Z", ended_by: "ended" },
      ],
    });
    await select("s0", "s4");
    const button = screen.getByTestId("action-history") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.click(row("s4"), { ctrlKey: true });
    await waitFor(() => expect(button.disabled).toBe(false));
    fireEvent.click(button);

    const panel = screen.getByTestId("history-panel");
    const rows = await within(panel).findAllByTestId("history-row");
    expect(rows).toHaveLength(4);
    expect(callsOf("session_history")[0]?.args).toEqual({ tenant: "demo", username: "alice" });
    expect(rows[0]?.textContent).toContain("10.1.1.1");
    expect(rows[0]?.textContent).toContain("Safari · macOS");
    expect(rows.map((r) => r.lastElementChild?.textContent)).toEqual([
      "active",
      "ended by Vigil",
      "expired",
      "signed out / ended elsewhere",
    ]);
    fireEvent.keyDown(panel, { key: "Escape" });
    expect(screen.queryByTestId("history-panel")).toBeNull();
  });
});

describe("audit screen", () => {
  it("renders the entries and sends the search text as filter.search", async () => {
    const { callsOf, filters } = startApp({
      audit: (f) =>
        [
          audit(1, { state: "confirmed", target_user: "alice" }),
          audit(2, { state: "failed", target_user: "bob", message: "forbidden", http_status: 403 }),
        ].filter((e) => !f.search || (e.target_user ?? "").includes(f.search)),
    });
    await screen.findAllByTestId("session-row");
    fireEvent.keyDown(window, { key: "3", ctrlKey: true });
    await waitFor(() => expect(window.location.hash).toBe("#/audit"));
    expect(screen.getByTestId("nav-audit").getAttribute("aria-selected")).toBe("true");

    const rows = await screen.findAllByTestId("audit-row");
    expect(rows).toHaveLength(2);
    expect(rows[1]?.textContent).toContain("bob");
    expect(rows[1]?.textContent).toContain("403");
    expect(rows[1]?.textContent).toContain("forbidden");
    const badge = within(rows[1] as HTMLElement).getByTestId("audit-state");
    expect(badge.className).toContain("state-failed");
    const first = callsOf("audit_entries")[0]?.args?.filter as AuditFilter;
    expect(first.search).toBeNull();
    expect(first.since).not.toBeNull();

    fireEvent.change(screen.getByTestId("audit-search"), { target: { value: "bob" } });
    await waitFor(() => expect(filters().some((f) => f.search === "bob")).toBe(true));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(1));

    fireEvent.change(screen.getByTestId("audit-since"), { target: { value: "all" } });
    await waitFor(() => expect(filters().at(-1)?.since).toBeNull());

    // Live: an event re-reads the list.
    const before = callsOf("audit_entries").length;
    await emit("sessions://changed", { tenant: "demo", version: 3 });
    await waitFor(() => expect(callsOf("audit_entries").length).toBeGreaterThan(before));
  });
});
