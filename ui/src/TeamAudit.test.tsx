import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { SharedAuditConfig } from "./ipc/bindings/SharedAuditConfig";
import type { SharedAuditView } from "./ipc/bindings/SharedAuditView";
import type { SharedEvent } from "./ipc/bindings/SharedEvent";
import { renderSettings } from "./test/settingsFixture";

const CONFIG: SharedAuditConfig = {
  url: "postgres://vigil_operator@audit.example.org:5432/vigil",
  tls: true,
  ca_certificate: "/etc/ssl/audit-ca.pem",
};

function event(seq: number, over: Partial<SharedEvent> = {}): SharedEvent {
  return {
    seq,
    operator: "alice@ws1",
    db_user: "vigil_operator",
    machine: "ws1",
    action_id: `A${seq}`,
    tenant: "demo",
    action: "end_session",
    target: `s${seq}`,
    target_user: "bob",
    state: "confirmed",
    at: new Date(Date.now() - seq * 60_000).toISOString(),
    http_status: 204,
    message: null,
    received_at: new Date().toISOString(),
    ...over,
  };
}

const EVENTS: SharedEvent[] = [
  event(3, {
    operator: "carol@ws2",
    db_user: "vigil_carol",
    machine: "ws2",
    tenant: "prod",
    action: "disable",
    target: "u9",
    target_user: "mallory",
    state: "failed",
    http_status: 403,
    message: "forbidden\u202e",
  }),
  event(2),
  // Older than the default range (24 hours).
  event(1, { at: "2020-01-01T00:00:00Z", target: "s-old" }),
];

type Backend = {
  view?: SharedAuditView;
  saveShared?: (config: SharedAuditConfig | null, password: string | null) => SharedAuditView;
  events?: () => SharedEvent[];
  verify?: () => unknown;
};

function startApp(backend: Backend = {}, hash = "#/settings") {
  let view: SharedAuditView = structuredClone(backend.view ?? { config: null, status: null });
  const { argsOf } = renderSettings(
    {
      audit_entries: () => [],
      shared_audit: () => view,
      save_shared_audit: (args) => {
        const config = args?.config as SharedAuditConfig | null;
        const password = args?.password as string | null;
        view = backend.saveShared ? backend.saveShared(config, password) : { config, status: null };
        return view;
      },
      shared_audit_events: () => (backend.events ? backend.events() : EVENTS),
      verify_shared_audit: () =>
        backend.verify ? backend.verify() : { rows: 3, head: "3f9a0c12deadbeefcafe" },
    },
    hash,
  );
  return { argsOf };
}

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("team audit settings", () => {
  it("says nothing is shared, and starts sharing with the typed password", async () => {
    const { argsOf } = startApp({
      saveShared: (config) => ({
        config,
        status: { sent: 0, pending: 4, last_success: null, last_error: null },
      }),
    });
    const status = await screen.findByTestId("shared-audit-status");
    expect(status.textContent).toContain("Not shared");
    const section = screen.getByTestId("shared-audit-section");
    expect(within(section).getByRole("heading", { name: "Team audit" })).toBeTruthy();
    expect(screen.queryByTestId("shared-audit-stop")).toBeNull();
    expect((screen.getByTestId("shared-audit-password") as HTMLInputElement).type).toBe("password");

    // A URL is needed before anything is sent.
    fireEvent.click(screen.getByTestId("shared-audit-save"));
    expect(screen.getByTestId("shared-audit-url").getAttribute("aria-invalid")).toBe("true");
    expect(argsOf("save_shared_audit")).toEqual([]);

    type("shared-audit-url", " postgres://vigil_operator@db.example.org/vigil ");
    fireEvent.click(screen.getByTestId("shared-audit-tls"));
    type("shared-audit-password", "s3cret");
    fireEvent.click(screen.getByTestId("shared-audit-save"));

    expect((await screen.findByTestId("shared-audit-saved")).textContent).toContain("saved");
    expect(argsOf("save_shared_audit")).toEqual([
      {
        config: {
          url: "postgres://vigil_operator@db.example.org/vigil",
          tls: false,
          ca_certificate: null,
        },
        password: "s3cret",
      },
    ]);
    expect((screen.getByTestId("shared-audit-password") as HTMLInputElement).value).toBe("");
    const shown = screen.getByTestId("shared-audit-status").textContent ?? "";
    expect(shown).toContain("postgres://vigil_operator@db.example.org/vigil");
    expect(screen.getByTestId("shared-audit-tls-state").textContent).toContain("off");
    expect(shown).toContain("4 events waiting to be sent");
    expect(shown).toContain("last success never");
  });

  it("shows the store, TLS and replication, with its last error prominently", async () => {
    startApp({
      view: {
        config: CONFIG,
        status: {
          sent: 0,
          pending: 12,
          last_success: "2025-01-01T09:00:00Z",
          last_error: "connection refused (os error 111)",
        },
      },
    });
    const error = await screen.findByTestId("shared-audit-last-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.textContent).toContain("connection refused (os error 111)");
    expect(screen.getByTestId("shared-audit-store").textContent).toBe(CONFIG.url);
    expect(screen.getByTestId("shared-audit-tls-state").textContent).toContain("on");
    expect(screen.getByTestId("shared-audit-tls-state").textContent).toContain(
      "/etc/ssl/audit-ca.pem",
    );
    expect(screen.getByTestId("shared-audit-replication").textContent).toContain(
      "12 events waiting",
    );
    // The form starts from what is stored; the password is never shown.
    expect((screen.getByTestId("shared-audit-url") as HTMLInputElement).value).toBe(CONFIG.url);
    expect((screen.getByTestId("shared-audit-tls") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId("shared-audit-password") as HTMLInputElement).value).toBe("");
  });

  it("keeps the stored password when none is typed, and shows the back end's error", async () => {
    const { argsOf } = startApp({
      view: { config: CONFIG, status: null },
      saveShared: () => {
        throw {
          code: "unreachable",
          message: "shared audit: could not connect to audit2.example.org:5432",
        } satisfies ErrorPayload;
      },
    });
    await screen.findByTestId("shared-audit-stop");
    type("shared-audit-url", "postgres://vigil_operator@audit2.example.org/vigil");
    fireEvent.click(screen.getByTestId("shared-audit-save"));
    expect((await screen.findByTestId("shared-audit-error")).textContent).toBe(
      "shared audit: could not connect to audit2.example.org:5432",
    );
    expect(argsOf("save_shared_audit")).toEqual([
      {
        config: { ...CONFIG, url: "postgres://vigil_operator@audit2.example.org/vigil" },
        password: null,
      },
    ]);
    // Nothing was kept: the status still shows the stored store.
    expect(screen.getByTestId("shared-audit-store").textContent).toBe(CONFIG.url);
  });

  it("stops sharing after a confirmation", async () => {
    const { argsOf } = startApp({ view: { config: CONFIG, status: null } });
    fireEvent.click(await screen.findByTestId("shared-audit-stop"));
    fireEvent.click(screen.getByTestId("shared-audit-stop-go"));
    await waitFor(() =>
      expect(screen.getByTestId("shared-audit-status").textContent).toContain("Not shared"),
    );
    expect(argsOf("save_shared_audit")).toEqual([{ config: null, password: null }]);
    expect(screen.queryByTestId("shared-audit-stop")).toBeNull();
  });
});

describe("the audit screen's whole team view", () => {
  it("points to Settings when no store is configured", async () => {
    const { argsOf } = startApp({}, "#/audit");
    await screen.findByTestId("audit-empty");
    expect(argsOf("shared_audit")).toEqual([]);
    fireEvent.click(screen.getByTestId("audit-scope-team"));
    expect(screen.getByTestId("audit-scope-team").getAttribute("aria-pressed")).toBe("true");
    const pointer = await screen.findByTestId("audit-team-unconfigured");
    expect(pointer.textContent).toContain("Settings → Team audit");
    expect(argsOf("shared_audit_events")).toEqual([]);
    expect(screen.queryByTestId("audit-export-csv")).toBeNull();

    fireEvent.click(screen.getByTestId("audit-open-settings"));
    await waitFor(() => expect(window.location.hash).toBe("#/settings"));
    expect(await screen.findByTestId("shared-audit-section")).toBeTruthy();
  });

  it("lists the team's events with the filters passed through", async () => {
    const { argsOf } = startApp({ view: { config: CONFIG, status: null } }, "#/audit");
    await screen.findByTestId("audit-empty");
    fireEvent.click(screen.getByTestId("audit-scope-team"));
    await waitFor(() => expect(screen.getAllByTestId("audit-team-row")).toHaveLength(2));
    expect(argsOf("shared_audit_events")).toEqual([{ tenant: null, search: null }]);
    // The default range (24 hours) leaves the old event out.
    expect(screen.getByTestId("audit-count").textContent).toBe("2 events");
    expect(document.body.textContent).not.toContain("s-old");

    const first = screen.getAllByTestId("audit-team-row")[0] as HTMLElement;
    const cells = [...first.querySelectorAll("td")].map((td) => td.textContent);
    expect(cells[1]).toContain("carol@ws2");
    expect(within(first).getByTestId("audit-db-user").textContent).toContain("vigil_carol");
    expect(cells[2]).toBe("ws2");
    expect(cells[3]).toBe("prod");
    expect(cells[4]).toBe("End & Disable");
    expect(cells[5]).toContain("mallory");
    expect(cells[5]).toContain("u9");
    expect(cells[6]).toBe("failed");
    expect(cells[7]).toContain("HTTP 403");
    expect(cells[7]).toContain("forbidden\\u{202e}");

    fireEvent.change(screen.getByTestId("audit-tenant"), { target: { value: "prod" } });
    fireEvent.change(screen.getByTestId("audit-search"), { target: { value: "mallory" } });
    await waitFor(() =>
      expect(argsOf("shared_audit_events").at(-1)).toEqual({ tenant: "prod", search: "mallory" }),
    );

    fireEvent.change(screen.getByTestId("audit-since"), { target: { value: "all" } });
    await waitFor(() => expect(screen.getAllByTestId("audit-team-row")).toHaveLength(3));

    // Back to this machine's log.
    fireEvent.click(screen.getByTestId("audit-scope-local"));
    expect(screen.queryAllByTestId("audit-team-row")).toHaveLength(0);
    expect(screen.getByTestId("audit-export-csv")).toBeTruthy();
  });

  it("verifies the chain and shows rows and head, or the error", async () => {
    let broken = false;
    startApp(
      {
        view: { config: CONFIG, status: null },
        verify: () => {
          if (broken) {
            throw {
              code: "server_error",
              message: "shared audit: the chain breaks at seq 2 (row changed or removed)",
            } satisfies ErrorPayload;
          }
          return { rows: 1204, head: "3f9a0c12deadbeefcafe" };
        },
      },
      "#/audit",
    );
    fireEvent.click(await screen.findByTestId("audit-scope-team"));
    fireEvent.click(await screen.findByTestId("audit-verify"));
    const result = await screen.findByTestId("audit-verify-result");
    expect(result.textContent).toBe("Intact: 1,204 rows (head 3f9a0c12…)");
    expect(result.getAttribute("title")).toContain("3f9a0c12deadbeefcafe");

    broken = true;
    fireEvent.click(screen.getByTestId("audit-verify"));
    await waitFor(() =>
      expect(screen.getByTestId("audit-verify-result").textContent).toBe(
        "shared audit: the chain breaks at seq 2 (row changed or removed)",
      ),
    );
    expect(screen.getByTestId("audit-verify-result").getAttribute("role")).toBe("alert");
  });

  it("shows why the team's events could not be read", async () => {
    startApp(
      {
        view: { config: CONFIG, status: null },
        events: () => {
          throw {
            code: "unreachable",
            message: "shared audit: connection refused",
          } satisfies ErrorPayload;
        },
      },
      "#/audit",
    );
    fireEvent.click(await screen.findByTestId("audit-scope-team"));
    expect((await screen.findByTestId("audit-team-error")).textContent).toContain(
      "shared audit: connection refused",
    );
  });
});
