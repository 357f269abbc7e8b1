import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Alert } from "../../ipc/bindings/Alert";
import type { AlertsFile } from "../../ipc/bindings/AlertsFile";
import { createQueryClient } from "../../lib/queryClient";
import { ALERTS_FILE } from "../../test/fixtures";
import { ExcludeDialog, exclusionFor } from "./ExcludeDialog";

const ALERT: Alert = {
  rule: "odd_hours",
  rules: ["odd_hours", "new_ip"],
  severity: "medium",
  tenant: "acme",
  username: "svc-backup",
  session_id: "s1",
  ip: "203.0.113.9",
  user_agent: null,
  at: "2026-12-07T02:00:00Z",
  message: "svc-backup in tenant acme: outside working hours",
  count: 1,
  suppressed_by: null,
};

function start() {
  const saved: AlertsFile[] = [];
  mockIPC((cmd, payload) => {
    const args = payload as Record<string, unknown> | undefined;
    if (cmd === "alerts_config") return structuredClone(ALERTS_FILE);
    if (cmd === "save_alerts_config") {
      saved.push(args?.alerts as AlertsFile);
      return args?.alerts;
    }
    throw { code: "internal", message: `unexpected command ${cmd}` };
  });
  const onDone = vi.fn();
  render(
    <QueryClientProvider client={createQueryClient({ retry: false })}>
      <ExcludeDialog alert={ALERT} onDone={onDone} onCancel={() => {}} />
    </QueryClientProvider>,
  );
  return { saved, onDone };
}

describe("excluding a user from an alert", () => {
  it("needs a reason, then adds one exclusion for this tenant and these rules, keeping the rest", async () => {
    const { saved, onDone } = start();
    fireEvent.click(screen.getByTestId("exclude-confirm"));
    expect((await screen.findByTestId("exclude-error")).textContent).toMatch(/reason/);
    expect(saved).toHaveLength(0);
    fireEvent.change(screen.getByTestId("exclude-reason"), {
      target: { value: "  the backup job runs at night " },
    });
    fireEvent.change(screen.getByTestId("exclude-until"), { target: { value: "2027-01-31" } });
    fireEvent.click(screen.getByTestId("exclude-confirm"));
    await waitFor(() => expect(saved).toHaveLength(1));
    const file = saved[0];
    expect(file?.routes).toEqual(ALERTS_FILE.routes);
    expect(file?.exclusions.at(-1)).toEqual({
      user: "svc-backup",
      rules: ["odd_hours", "new_ip"],
      tenants: ["acme"],
      tags: [],
      reason: "the backup job runs at night",
      until: "2027-01-31",
    });
    await waitFor(() => expect(onDone).toHaveBeenCalled());
  });

  it("every rule when asked", () => {
    expect(exclusionFor(ALERT, "r", "", true).rules).toEqual([]);
  });
});
