import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { PolicyConfig } from "./ipc/bindings/PolicyConfig";
import type { PolicyItem } from "./ipc/bindings/PolicyItem";
import type { PolicyRun } from "./ipc/bindings/PolicyRun";
import type { Selection } from "./ipc/bindings/Selection";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import { createQueryClient } from "./lib/queryClient";
import { APP_STATUS, makeSession, pageOf, SETTINGS, SUMMARY } from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

const NIGHT: PolicyConfig = {
  name: "night",
  idle_over: "8h",
  older_than: null,
  tenants: ["prod"],
  tags: [],
  except: ["alice"],
  every: "1h",
};

function policyItem(id: string, username: string, reason: string): PolicyItem {
  return {
    tenant: id.startsWith("p") ? "prod" : "demo",
    session_id: id,
    user_id: `u-${username}`,
    username,
    created_at: "2025-01-01T08:00:00Z",
    last_activity_at: "2025-01-01T09:00:00Z",
    reason,
  };
}

function selectionOf(policy: PolicyConfig): Selection {
  return {
    policy: policy.name,
    at: "2025-01-02T09:00:00Z",
    tenants: ["demo", "prod"],
    end: [policyItem("d1", "bob", "idle 9h 12m"), policyItem("p2", "carol", "idle 8h 1m, 31d old")],
    spared: [policyItem("p3", "alice", "idle 10h; on the policy's exception list")],
  };
}

function startSettings(opts: { policies?: PolicyConfig[] } = {}) {
  window.history.replaceState(null, "", "#/settings");
  const calls: Call[] = [];
  const rows = Array.from({ length: 4 }, (_, i) => makeSession(i));
  mockIPC(
    (cmd, payload) => {
      const args = payload as Record<string, unknown> | undefined;
      calls.push({ cmd, args });
      switch (cmd) {
        case "summary":
          return SUMMARY;
        case "query_sessions":
          return pageOf(rows, args?.query as SessionQuery);
        case "list_alerts":
          return [];
        case "app_status":
          return APP_STATUS;
        case "get_settings":
          return SETTINGS;
        case "list_policies":
          return opts.policies ?? [NIGHT];
        case "policy_preview": {
          const policy = args?.policy as PolicyConfig;
          if (policy.idle_over === "8x") {
            throw {
              code: "invalid_input",
              message: `policy 'ad hoc': "8x" is not a span like 30m, 8h or 30d`,
            } satisfies ErrorPayload;
          }
          return selectionOf(policy);
        }
        case "policy_run": {
          const selection = selectionOf(args?.policy as PolicyConfig);
          return {
            selection,
            report: {
              action_id: "P1",
              items: [
                {
                  target: { tenant: "demo", session_id: "d1" },
                  ok: true,
                  already_gone: false,
                  error: null,
                  audit_id: 1,
                },
                {
                  target: { tenant: "prod", session_id: "p2" },
                  ok: false,
                  already_gone: false,
                  error: { code: "forbidden", message: "not allowed" },
                  audit_id: 2,
                },
              ],
            },
          } satisfies PolicyRun;
        }
        default:
          throw { code: "internal", message: `unexpected command ${cmd}` } satisfies ErrorPayload;
      }
    },
    { shouldMockEvents: true },
  );
  render(
    <QueryClientProvider client={createQueryClient({ retry: false })}>
      <App />
    </QueryClientProvider>,
  );
  const argsOf = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args ?? {});
  return { calls, argsOf };
}

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

const TYPED: PolicyConfig = {
  name: "ad hoc",
  idle_over: "8h",
  older_than: "30d",
  tenants: ["demo", "prod"],
  tags: [],
  except: ["alice", "bob@x.org"],
  every: null,
};

describe("session policies", () => {
  it("dry-runs the typed policy and lists what would end and what is spared", async () => {
    const { argsOf } = startSettings();
    const section = await screen.findByTestId("policies-section");
    type("policy-idle-over", " 8h ");
    type("policy-older-than", "30d");
    type("policy-tenants", "demo, prod,");
    type("policy-tags", " ");
    type("policy-except", "alice , bob@x.org");
    fireEvent.click(within(section).getByTestId("policy-dry-run"));

    const ends = await within(section).findAllByTestId("policy-end-item");
    expect(argsOf("policy_preview")).toEqual([{ policy: TYPED }]);
    expect(ends.map((e) => e.getAttribute("data-session-id"))).toEqual(["d1", "p2"]);
    expect(ends[0]?.textContent).toContain("bob");
    expect(ends[0]?.textContent).toContain("idle 9h 12m");
    const spared = within(section).getAllByTestId("policy-spared-item");
    expect(spared).toHaveLength(1);
    expect(spared[0]?.textContent).toContain("on the policy's exception list");
    expect(within(section).getByTestId("policy-selection-summary").textContent).toContain(
      "would end 2 sessions, spares 1 session",
    );
    expect(argsOf("policy_run")).toEqual([]);
  });

  it("runs after a confirmation stating the exact count, and says how many ended", async () => {
    const { argsOf } = startSettings();
    const section = await screen.findByTestId("policies-section");
    type("policy-idle-over", "8h");
    type("policy-older-than", "30d");
    type("policy-tenants", "demo,prod");
    type("policy-except", "alice,bob@x.org");
    fireEvent.click(within(section).getByTestId("policy-run"));

    const dialog = await screen.findByTestId("policy-run-confirm");
    expect(dialog.textContent).toContain("End exactly 2 sessions now?");
    expect(argsOf("policy_preview")).toEqual([{ policy: TYPED }]);
    expect(argsOf("policy_run")).toEqual([]);
    fireEvent.click(within(dialog).getByTestId("policy-run-go"));

    const result = await screen.findByTestId("policy-run-result");
    expect(argsOf("policy_run")).toEqual([{ policy: TYPED }]);
    expect(result.textContent).toContain("ad hoc: ended 1 session, 1 failed");
    expect(result.textContent).toContain("not allowed");
  });

  it("lists the config file's policies with a dry run each", async () => {
    const { argsOf } = startSettings();
    const item = await screen.findByTestId("config-policy");
    expect(item.getAttribute("data-name")).toBe("night");
    expect(item.textContent).toContain(
      "idle over 8h · tenants prod · except alice · runs every 1h",
    );
    fireEvent.click(within(item).getByTestId("config-policy-dry-run"));
    await screen.findAllByTestId("policy-end-item");
    expect(argsOf("policy_preview")).toEqual([{ policy: NIGHT }]);
  });

  it("asks for a span before asking the back end, and shows the back end's message", async () => {
    const { argsOf } = startSettings({ policies: [] });
    const section = await screen.findByTestId("policies-section");
    await within(section).findByTestId("config-policies-empty");
    fireEvent.click(within(section).getByTestId("policy-dry-run"));
    expect((await screen.findByTestId("policy-error")).textContent).toContain(
      "Say which sessions to end",
    );
    expect(argsOf("policy_preview")).toEqual([]);

    type("policy-idle-over", "8x");
    fireEvent.click(within(section).getByTestId("policy-dry-run"));
    await waitFor(() =>
      expect(screen.getByTestId("policy-error").textContent).toContain(
        `"8x" is not a span like 30m, 8h or 30d`,
      ),
    );
    expect(screen.queryByTestId("policy-selection")).toBeNull();
  });
});
