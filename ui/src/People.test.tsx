import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { PersonPanel } from "./features/people/PersonPanel";
import type { AuditEntry } from "./ipc/bindings/AuditEntry";
import type { AuditFilter } from "./ipc/bindings/AuditFilter";
import type { ContainItem } from "./ipc/bindings/ContainItem";
import type { ContainOptions } from "./ipc/bindings/ContainOptions";
import type { ContainReport } from "./ipc/bindings/ContainReport";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { Person } from "./ipc/bindings/Person";
import type { PersonAccount } from "./ipc/bindings/PersonAccount";
import type { PersonMatch } from "./ipc/bindings/PersonMatch";
import type { Session } from "./ipc/bindings/Session";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import type { StoredAlert } from "./ipc/bindings/StoredAlert";
import type { UserQuery } from "./ipc/bindings/UserQuery";
import { createQueryClient } from "./lib/queryClient";
import {
  APP_STATUS,
  facetsOf,
  KINDS,
  makeSession,
  pageOf,
  SETTINGS,
  SUMMARY,
  TENANTS,
  usersPageOf,
} from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

const CAPS = {
  list_sessions: true,
  end_session: true,
  end_user_sessions: true,
  disable_user: true,
  enable_user: true,
  superuser_detection: true,
  change_feed: false,
  sign_in_log: false,
  revoke_grants: false,
  require_password_change: false,
};

function account(tenant: string, session: Session, over: Partial<PersonAccount> = {}) {
  return {
    tenant,
    kind: "vigil",
    user: {
      id: session.user_id,
      username: session.username,
      email: session.email,
      display_name: session.display_name,
      first_name: session.first_name,
      last_name: session.last_name,
      department: session.department,
      organisation: session.organisation,
      superuser: session.superuser,
      protected: session.protected,
      disabled: session.disabled,
    },
    linked_by: "email",
    sessions: [session],
    capabilities: CAPS,
    own: false,
    ...over,
  } satisfies PersonAccount;
}

/** alice: one account in demo (one session), one in prod (protected, SuperUser); okta failed. */
const ALICE_DEMO = makeSession(0, {
  tenant: "demo",
  user_id: "u-alice",
  username: "alice",
  email: "Alice@Example.org",
  display_name: "Alice Example",
  ip: "192.0.2.10",
  location: "Berlin, DE",
});
const ALICE_PROD = makeSession(1, {
  tenant: "prod",
  user_id: "u-alice-p",
  username: "alice.e",
  email: "alice@example.org",
  display_name: "Alice Example",
  superuser: true,
  protected: true,
  ip: "198.51.100.7",
});

function alice(over: Partial<Person> = {}): Person {
  return {
    key: "alice@example.org",
    display_name: "Alice Example",
    emails: ["Alice@Example.org"],
    accounts: [
      account("demo", ALICE_DEMO),
      account("prod", ALICE_PROD, { own: true, linked_by: "manual" }),
    ],
    lookup_errors: [
      { tenant: "okta-prod", error: { code: "timeout", message: "the directory did not answer" } },
    ],
    at: "2025-01-01T09:00:00Z",
    history: [
      {
        tenant: "demo",
        session_id: "s-old",
        user_id: "u-alice",
        username: "alice",
        ip: "203.0.113.50",
        user_agent: null,
        created_at: null,
        first_seen: "2024-12-31T08:00:00Z",
        last_seen: "2024-12-31T18:00:00Z",
        ended_at: "2024-12-31T18:00:00Z",
        ended_by: "vigil",
      },
    ],
    actions: [],
    ...over,
  };
}

function item(
  tenant: string,
  username: string,
  step: ContainItem["step"],
  outcome: ContainItem["outcome"],
  effect = "",
): ContainItem {
  return { tenant, user_id: `u-${username}`, username, step, outcome, effect, audit_id: null };
}

/** What contain_plan answers for alice with these options. */
function planFor(o: ContainOptions): ContainReport {
  const items: ContainItem[] = [];
  if (o.disable) {
    items.push(
      item(
        "demo",
        "alice",
        "disable_only",
        { state: "planned" },
        "the account can no longer sign in",
      ),
    );
    items.push(
      item("prod", "alice.e", "disable_only", {
        state: "refused",
        reason: "alice.e is a protected account: it is never disabled",
      }),
    );
  }
  items.push(
    item("demo", "alice", "logout", { state: "planned" }, "force logout ends every session"),
    item("prod", "alice.e", "logout", { state: "planned" }, "force logout ends every session"),
  );
  if (o.revoke_grants) {
    items.push(
      item("demo", "alice", "revoke_grants", {
        state: "not_offered",
        reason: "the Vigil Session API cannot revoke tokens and grants",
      }),
    );
  }
  if (o.require_password_change) {
    items.push(
      item("demo", "alice", "require_password_change", {
        state: "not_offered",
        reason: "the Vigil Session API cannot require a new password",
      }),
    );
  }
  return { person: "alice@example.org", action_id: null, items, unchecked_tenants: ["okta-prod"] };
}

function audit(id: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    action_id: `A${id}`,
    requested_at: `2025-01-0${id}T09:00:00Z`,
    actor: "admin",
    tenant: "demo",
    action: "logout",
    target: "u-alice",
    target_user: "alice",
    state: "confirmed",
    updated_at: "2025-01-01T09:00:01Z",
    http_status: 204,
    result_code: null,
    message: null,
    ...over,
  };
}

type Backend = {
  rows?: Session[];
  find?: (query: string) => PersonMatch;
  contain?: (key: string, options: ContainOptions) => ContainReport;
  alerts?: StoredAlert[];
};

function mockBackend(backend: Backend = {}) {
  const rows = backend.rows ?? [ALICE_DEMO, ALICE_PROD, makeSession(2), makeSession(3)];
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
        case "query_users":
          return usersPageOf(rows, args?.query as UserQuery);
        case "session_facets":
          return facetsOf(rows);
        case "list_alerts":
          return backend.alerts ?? [];
        case "list_tenants":
          return TENANTS;
        case "connector_kinds":
          return KINDS;
        case "get_settings":
          return SETTINGS;
        case "app_status":
          return APP_STATUS;
        case "refresh":
          return null;
        case "find_person": {
          const query = args?.query as string;
          return backend.find ? backend.find(query) : { result: "found", person: alice() };
        }
        case "contain_plan":
          return { person: alice(), plan: planFor(args?.options as ContainOptions) };
        case "contain_person": {
          const key = args?.key as string;
          const options = args?.options as ContainOptions;
          if (backend.contain) return backend.contain(key, options);
          return {
            ...planFor(options),
            action_id: "C1",
            items: planFor(options).items.map((i) =>
              i.outcome.state !== "planned"
                ? i
                : {
                    ...i,
                    outcome:
                      i.tenant === "prod"
                        ? { state: "not_confirmed", reason: "no poll has confirmed it yet" }
                        : { state: "confirmed" },
                  },
            ),
          } satisfies ContainReport;
        }
        case "assign_account":
          return { link: [], unlink: [] };
        case "reenable_person":
          return {
            person: "alice@example.org",
            action_id: "R1",
            items: [
              item("demo", "alice", "enable", { state: "accepted" }),
              item("prod", "alice.e", "enable", { state: "accepted" }),
            ],
            unchecked_tenants: [],
          } satisfies ContainReport;
        case "audit_entries": {
          const f = args?.filter as AuditFilter;
          return f.search === "alice"
            ? [
                audit(1),
                audit(2, { action: "disable_only" }),
                // Another tenant's alice, or another user: not this person's.
                audit(3, { tenant: "staging" }),
                audit(4, { target_user: "alicia" }),
              ]
            : [];
        }
        default:
          throw { code: "internal", message: `unexpected command ${cmd}` } satisfies ErrorPayload;
      }
    },
    { shouldMockEvents: true },
  );
  const argsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args ?? {});
  return { calls, argsOf };
}

function startApp(backend: Backend = {}, hash = "#/sessions") {
  window.history.replaceState(null, "", hash);
  const m = mockBackend(backend);
  render(
    <QueryClientProvider client={createQueryClient({ retry: false })}>
      <App />
    </QueryClientProvider>,
  );
  return m;
}

function startPanel(query: string, backend: Backend = {}) {
  const m = mockBackend(backend);
  let closed = 0;
  render(
    <QueryClientProvider client={createQueryClient({ retry: false })}>
      <PersonPanel
        query={query}
        onClose={() => {
          closed += 1;
        }}
      />
    </QueryClientProvider>,
  );
  return { ...m, closed: () => closed };
}

function sessionRow(id: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(
    `[data-testid="session-row"][data-session-id="${id}"]`,
  );
  if (!el) throw new Error(`row ${id} not rendered`);
  return el;
}

describe("person panel", () => {
  it("opens from a session row and shows the accounts, their sessions and the errors", async () => {
    const { argsOf } = startApp();
    await screen.findAllByTestId("session-row");
    fireEvent.click(within(sessionRow("s0")).getByTestId("open-person"));

    const panel = await screen.findByTestId("person-panel");
    // Opened by the row's address; the row is not selected by the click.
    expect(argsOf("find_person")).toEqual([{ query: "Alice@Example.org" }]);
    expect(sessionRow("s0").getAttribute("aria-selected")).toBe("false");
    await waitFor(() =>
      expect(within(panel).getByTestId("person-key").textContent).toBe("alice@example.org"),
    );
    expect(within(panel).getByTestId("person-name").textContent).toBe("Alice Example");
    expect(within(panel).getByTestId("person-emails").textContent).toBe("Alice@Example.org");

    const accounts = within(panel).getAllByTestId("person-account");
    expect(accounts.map((a) => a.getAttribute("data-tenant"))).toEqual(["demo", "prod"]);
    const [demo, prod] = accounts as [HTMLElement, HTMLElement];
    expect(demo.textContent).toContain("alice");
    expect(demo.textContent).toContain("same e-mail address");
    expect(within(demo).getByTestId("person-session").textContent).toContain("192.0.2.10");
    expect(within(demo).getByTestId("person-session").textContent).toContain("Berlin, DE");
    expect(within(demo).queryByText("SuperUser")).toBeNull();
    expect(prod.textContent).toContain("SuperUser");
    expect(prod.textContent).toContain("protected");
    expect(prod.textContent).toContain("Vigil's own account");
    expect(prod.textContent).toContain("linked by hand");

    const error = within(panel).getByTestId("person-lookup-error");
    expect(error.getAttribute("data-tenant")).toBe("okta-prod");
    expect(error.textContent).toContain(
      "okta-prod could not be searched: the directory did not answer",
    );

    // The audit log is searched by user name; only this person's accounts are listed.
    await waitFor(() => expect(within(panel).getAllByTestId("person-audit-row")).toHaveLength(2));
    // The person's recent sessions, as Vigil saw them end.
    const history = within(panel).getAllByTestId("person-history-row");
    expect(history).toHaveLength(1);
    expect(history[0]?.textContent).toContain("203.0.113.50");
    expect(history[0]?.textContent).toContain("vigil");
    expect(argsOf("audit_entries").map((a) => (a.filter as AuditFilter).search)).toEqual(
      expect.arrayContaining(["alice", "alice.e"]),
    );

    fireEvent.keyDown(panel, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("person-panel")).toBeNull());
  });

  it("lists the candidates of an ambiguous search and opens the one picked", async () => {
    const { argsOf } = startApp({
      find: (q) => {
        if (q === "bob") {
          return {
            result: "ambiguous",
            candidates: [
              {
                key: "bob@a.example",
                display_name: "Bob A",
                usernames: ["bob"],
                tenants: ["demo"],
              },
              {
                key: "bob@b.example",
                display_name: "Bob B",
                usernames: ["bob", "bobb"],
                tenants: ["prod", "staging"],
              },
            ],
          };
        }
        if (q === "bob@b.example") {
          return {
            result: "found",
            person: alice({ key: "bob@b.example", display_name: "Bob B" }),
          };
        }
        return { result: "not_found" };
      },
    });
    await screen.findAllByTestId("session-row");
    fireEvent.change(screen.getByTestId("person-search"), { target: { value: " bob " } });
    fireEvent.click(screen.getByTestId("person-search-go"));

    const panel = await screen.findByTestId("person-panel");
    const candidates = await within(panel).findAllByTestId("person-candidate");
    expect(candidates.map((c) => c.getAttribute("data-key"))).toEqual([
      "bob@a.example",
      "bob@b.example",
    ]);
    expect(candidates[1]?.textContent).toContain("bob, bobb in tenant prod, tenant staging");
    expect(argsOf("find_person")).toEqual([{ query: "bob" }]);

    fireEvent.click(candidates[1] as HTMLElement);
    await waitFor(() =>
      expect(within(panel).getByTestId("person-key").textContent).toBe("bob@b.example"),
    );
    expect(argsOf("find_person").at(-1)).toEqual({ query: "bob@b.example" });
    expect(within(panel).queryByTestId("person-candidate")).toBeNull();

    // Back to the matches.
    fireEvent.click(within(panel).getByText("← Back to the matches"));
    expect(await within(panel).findAllByTestId("person-candidate")).toHaveLength(2);
  });

  it("takes an account out of the person, and links another by hand", async () => {
    const { argsOf } = startPanel("alice@example.org");
    const accounts = await screen.findAllByTestId("person-account");
    // The demo account is joined by address: "Not this person" only.
    const demo = accounts.find((a) => a.dataset.tenant === "demo");
    if (!demo) throw new Error("no demo account");
    expect(within(demo).queryByTestId("account-auto")).toBeNull();
    fireEvent.click(within(demo).getByTestId("account-unlink"));
    await waitFor(() =>
      expect(argsOf("assign_account")).toEqual([
        { tenant: "demo", user: "alice", to: { to: "own" } },
      ]),
    );
    // The prod account was linked by hand: it can go back to automatic.
    const prod = (await screen.findAllByTestId("person-account")).find(
      (a) => a.dataset.tenant === "prod",
    );
    if (!prod) throw new Error("no prod account");
    fireEvent.click(within(prod).getByTestId("account-auto"));
    await waitFor(() => expect(argsOf("assign_account")).toHaveLength(2));
    expect(argsOf("assign_account")[1]).toEqual({
      tenant: "prod",
      user: "alice.e",
      to: { to: "automatic" },
    });
    // Another tenant's account, by name.
    fireEvent.change(screen.getByTestId("link-tenant"), { target: { value: " chat " } });
    fireEvent.change(screen.getByTestId("link-user"), { target: { value: "ali" } });
    fireEvent.click(screen.getByTestId("link-submit"));
    await waitFor(() => expect(argsOf("assign_account")).toHaveLength(3));
    expect(argsOf("assign_account")[2]).toEqual({
      tenant: "chat",
      user: "ali",
      to: { to: "person", person: "alice@example.org" },
    });
  });

  it("says when nobody is found", async () => {
    startPanel("nobody", { find: () => ({ result: "not_found" }) });
    const note = await screen.findByTestId("person-not-found");
    expect(note.textContent).toContain("No person found for “nobody”");
    expect(screen.queryByTestId("contain-person")).toBeNull();
  });

  it("opens from an alert with a user name", async () => {
    const { argsOf } = startApp(
      {
        alerts: [
          {
            id: 7,
            acknowledged: false,
            deliveries: [],
            alert: {
              rule: "superuser_sign_in",
              rules: ["superuser_sign_in"],
              severity: "high",
              tenant: "prod",
              username: "alice.e",
              session_id: "s1",
              ip: "198.51.100.7",
              user_agent: null,
              at: "2025-01-01T09:00:00Z",
              message: "alice.e signed in to prod: a SuperUser signed in",
              count: 1,
              suppressed_by: null,
            },
          },
        ],
      },
      "#/alerts",
    );
    const row = await screen.findByTestId("alert-row");
    fireEvent.click(within(row).getByTestId("alert-person"));
    await screen.findByTestId("person-panel");
    expect(argsOf("find_person")).toEqual([{ query: "alice.e" }]);
    expect(await screen.findAllByTestId("person-account")).toHaveLength(2);
  });
});

describe("contain everywhere", () => {
  it("confirms the plan per tenant, leaves out a step, runs it and shows each item", async () => {
    const { argsOf } = startPanel("alice@example.org");
    fireEvent.click(await screen.findByTestId("contain-person"));

    const dialog = await screen.findByTestId("contain-confirm");
    await waitFor(() =>
      expect(within(dialog).getAllByTestId("contain-plan-item").length).toBeGreaterThan(0),
    );
    expect(argsOf("contain_plan")).toEqual([
      {
        key: "alice@example.org",
        options: {
          disable: true,
          end_sessions: true,
          revoke_grants: true,
          require_password_change: true,
        },
      },
    ]);
    const items = () => within(dialog).getAllByTestId("contain-plan-item");
    const states = () => items().map((i) => `${i.getAttribute("data-step")}:${i.dataset.state}`);
    expect(states()).toEqual([
      "disable_only:planned",
      "logout:planned",
      "revoke_grants:not_offered",
      "require_password_change:not_offered",
      "disable_only:refused",
      "logout:planned",
    ]);
    const tenants = [...dialog.querySelectorAll(".contain-tenant")].map((t) =>
      t.getAttribute("data-tenant"),
    );
    expect(tenants).toEqual(["demo", "prod"]);
    const text = dialog.textContent ?? "";
    expect(text).toContain("the account can no longer sign in"); // a planned step's effect
    expect(text).toContain("the Vigil Session API cannot revoke tokens and grants");
    expect(text).toContain("alice.e is a protected account: it is never disabled");
    expect(within(dialog).getByTestId("contain-unchecked").textContent).toContain(
      "tenant okta-prod",
    );
    expect(text).toContain("Send 3 steps to 2 tenants?");

    // Leaving out the new password asks for the plan again.
    fireEvent.click(within(dialog).getByTestId("contain-opt-password"));
    await waitFor(() => expect(states()).not.toContain("require_password_change:not_offered"));
    expect(argsOf("contain_plan").at(-1)).toEqual({
      key: "alice@example.org",
      options: {
        disable: true,
        end_sessions: true,
        revoke_grants: true,
        require_password_change: false,
      },
    });

    const go = within(dialog).getByTestId("contain-go") as HTMLButtonElement;
    await waitFor(() => expect(go.disabled).toBe(false));
    fireEvent.click(go);

    const result = await screen.findByTestId("contain-result");
    expect(screen.queryByTestId("contain-confirm")).toBeNull();
    expect(argsOf("contain_person")).toEqual([
      {
        key: "alice@example.org",
        options: {
          disable: true,
          end_sessions: true,
          revoke_grants: true,
          require_password_change: false,
        },
      },
    ]);
    expect(result.getAttribute("data-action")).toBe("contain");
    const done = within(result).getAllByTestId("contain-item");
    expect(done.map((i) => `${i.dataset.tenant}:${i.dataset.step}:${i.dataset.state}`)).toEqual([
      "demo:disable_only:confirmed",
      "demo:logout:confirmed",
      "demo:revoke_grants:not_offered",
      "prod:disable_only:refused",
      "prod:logout:not_confirmed",
    ]);
    expect(within(result).getByTestId("contain-summary").textContent).toBe(
      "Contained: 1 item not confirmed, 1 tenant not checked",
    );
    expect(result.textContent).toContain("no poll has confirmed it yet");
    // The panel looks the person up again (by key) to show the new state.
    await waitFor(() =>
      expect(argsOf("find_person").at(-1)).toEqual({ query: "alice@example.org" }),
    );
    expect(argsOf("find_person").length).toBeGreaterThan(1);
  });

  it("says all confirmed, and re-enables after a confirmation (accepted: done)", async () => {
    const { argsOf } = startPanel("alice", {
      contain: (key, options) => ({
        person: key,
        action_id: "C2",
        items: planFor(options)
          .items.filter((i) => i.outcome.state === "planned")
          .map((i) => ({ ...i, outcome: { state: "confirmed" } })),
        unchecked_tenants: [],
      }),
    });
    fireEvent.click(await screen.findByTestId("contain-person"));
    const dialog = await screen.findByTestId("contain-confirm");
    const go = within(dialog).getByTestId("contain-go") as HTMLButtonElement;
    await waitFor(() => expect(go.disabled).toBe(false));
    fireEvent.click(go);
    const result = await screen.findByTestId("contain-result");
    expect(within(result).getByTestId("contain-summary").textContent).toBe(
      "Contained: all confirmed",
    );
    expect(
      within(result)
        .getAllByTestId("contain-item")
        .every((i) => i.dataset.state === "confirmed"),
    ).toBe(true);

    await waitFor(() =>
      expect((screen.getByTestId("reenable-person") as HTMLButtonElement).disabled).toBe(false),
    );
    fireEvent.click(screen.getByTestId("reenable-person"));
    const confirm = await screen.findByTestId("reenable-confirm");
    expect(confirm.textContent).toContain("Re-enable 2 accounts");
    expect(argsOf("reenable_person")).toEqual([]);
    fireEvent.click(within(confirm).getByTestId("reenable-go"));
    await waitFor(() =>
      expect(screen.getByTestId("contain-result").getAttribute("data-action")).toBe("reenable"),
    );
    expect(argsOf("reenable_person")).toEqual([{ key: "alice@example.org" }]);
    const again = screen.getByTestId("contain-result");
    expect(within(again).getByTestId("contain-summary").textContent).toBe(
      "Re-enabled: done (2 items accepted by the tenant)",
    );
    expect(
      within(again)
        .getAllByTestId("contain-item")
        .map((i) => i.dataset.state),
    ).toEqual(["accepted", "accepted"]);
  });

  it("sends nothing when the dialog is cancelled", async () => {
    const { argsOf } = startPanel("alice");
    fireEvent.click(await screen.findByTestId("contain-person"));
    const dialog = await screen.findByTestId("contain-confirm");
    fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("contain-confirm")).toBeNull());
    // Escape closed the dialog, not the panel.
    expect(screen.getByTestId("person-panel")).toBeTruthy();
    expect(argsOf("contain_person")).toEqual([]);
  });
});

describe("users grouped by person", () => {
  it("groups two tenants' rows with the same address under one person", async () => {
    const rows: Session[] = [
      makeSession(0, {
        tenant: "demo",
        user_id: "d-alice",
        username: "alice",
        email: "Alice@Example.org",
      }),
      makeSession(1, {
        tenant: "prod",
        user_id: "p-alice",
        username: "a.example",
        email: " alice@example.org ",
      }),
      makeSession(2, { tenant: "demo", user_id: "d-bob", username: "Bob" }),
      makeSession(3, { tenant: "prod", user_id: "p-bob", username: "bob" }),
      makeSession(4, { tenant: "prod", user_id: "p-carol", username: "Carol@Example.org" }),
      makeSession(5, {
        tenant: "demo",
        user_id: "d-dave",
        username: "dave",
        email: "dave@example.org",
      }),
    ];
    startApp({ rows }, "#/sessions?mode=users");
    await screen.findAllByTestId("user-row");
    expect(screen.queryByTestId("person-groups")).toBeNull();

    fireEvent.click(screen.getByTestId("group-by-person"));
    const groups = await screen.findAllByTestId("person-group");
    const byKey = new Map(groups.map((g) => [g.getAttribute("data-person"), g]));
    expect([...byKey.keys()].sort()).toEqual([
      "alice@example.org",
      "bob",
      "carol@example.org",
      "dave@example.org",
    ]);
    const aliceGroup = byKey.get("alice@example.org") as HTMLElement;
    const aliceRows = within(aliceGroup).getAllByTestId("user-row");
    expect(aliceRows.map((r) => `${r.dataset.tenant}:${r.dataset.username}`).sort()).toEqual([
      "demo:alice",
      "prod:a.example",
    ]);
    expect(within(aliceGroup).getByTestId("person-group-tenants").textContent).toContain(
      "2 accounts in",
    );
    expect(aliceGroup.textContent).toContain("2 tenants");
    // Same user name, no address: one person too.
    const bobGroup = byKey.get("bob") as HTMLElement;
    expect(within(bobGroup).getAllByTestId("user-row")).toHaveLength(2);
    expect(
      within(byKey.get("dave@example.org") as HTMLElement).getAllByTestId("user-row"),
    ).toHaveLength(1);

    // A row still selects; switching the grouping off brings the table back.
    fireEvent.click(aliceRows[0] as HTMLElement);
    await waitFor(() => expect(aliceRows[0]?.getAttribute("aria-selected")).toBe("true"));
    fireEvent.click(screen.getByTestId("group-by-person"));
    await waitFor(() => expect(screen.queryByTestId("person-groups")).toBeNull());
    expect(screen.getAllByTestId("user-row").length).toBe(6);
  });
});
