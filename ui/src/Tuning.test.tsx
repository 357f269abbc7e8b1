import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AlertsFile } from "./ipc/bindings/AlertsFile";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import { ALERTS_FILE, makeRoute } from "./test/fixtures";
import { renderSettings } from "./test/settingsFixture";

function startSettings(opts: { saveAlerts?: (alerts: AlertsFile) => AlertsFile } = {}) {
  let file = structuredClone(ALERTS_FILE);
  const { argsOf } = renderSettings({
    alerts_config: () => file,
    save_alerts_config: (args) => {
      const sent = args?.alerts as AlertsFile;
      file = opts.saveAlerts ? opts.saveAlerts(sent) : structuredClone(sent);
      return file;
    },
    set_route_secret: () => null,
  });
  return { argsOf };
}

const section = () => screen.getByTestId("tuning-section");
const all = (testId: string) => within(section()).queryAllByTestId(testId);
const input = (testId: string, i = 0) => all(testId)[i] as HTMLInputElement;

function type(el: HTMLElement | undefined, value: string) {
  if (!el) throw new Error("no such field");
  fireEvent.change(el, { target: { value } });
}

function ruleBox(item: HTMLElement, rule: string): HTMLInputElement {
  const el = item.querySelector<HTMLInputElement>(`input[data-rule="${rule}"]`);
  if (!el) throw new Error(`no checkbox for ${rule}`);
  return el;
}

async function loaded(): Promise<void> {
  await screen.findByTestId("tuning-save");
}

describe("alert tuning", () => {
  it("shows the stored tuning", async () => {
    startSettings();
    await loaded();
    expect(within(section()).getByRole("heading", { name: "Alert tuning" })).toBeTruthy();
    expect(input("tuning-merge-minutes").value).toBe("10");
    expect(all("tuning-network")).toHaveLength(1);
    expect(input("tuning-network-name").value).toBe("office");
    expect(input("tuning-network-cidrs").value).toBe("203.0.113.0/24");
    expect(input("tuning-network-tags").value).toBe("production");
    expect(all("tuning-exclusion")).toHaveLength(1);
    const exclusion = all("tuning-exclusion")[0] as HTMLElement;
    expect(input("tuning-exclusion-user").value).toBe("breakglass");
    expect(input("tuning-exclusion-reason").value).toBe("break-glass account, checked daily");
    expect(input("tuning-exclusion-until").value).toBe("2030-01-31");
    expect(ruleBox(exclusion, "superuser_sign_in").checked).toBe(true);
    expect(ruleBox(exclusion, "odd_hours").checked).toBe(false);
    // Every rule of the union is offered.
    expect(exclusion.querySelectorAll("input[data-rule]")).toHaveLength(8);
    const scope = all("tuning-scope")[0] as HTMLElement;
    expect(input("tuning-scope-tenants").value).toBe("lab");
    expect(input("tuning-scope-merge_minutes").value).toBe("");
    expect(ruleBox(scope, "odd_hours").checked).toBe(true);
    expect((screen.getByTestId("tuning-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("adds a network, an exclusion and a scope, and saves them with the routes unchanged", async () => {
    const { argsOf } = startSettings();
    await loaded();
    type(input("tuning-merge-minutes"), "30");

    fireEvent.click(screen.getByTestId("tuning-network-add"));
    expect(all("tuning-network")).toHaveLength(2);
    type(input("tuning-network-name", 1), "vpn");
    type(input("tuning-network-cidrs", 1), "198.51.100.0/24, 2001:db8::/32");
    type(input("tuning-network-tenants", 1), "prod");

    fireEvent.click(screen.getByTestId("tuning-exclusion-add"));
    const exclusion = all("tuning-exclusion")[1] as HTMLElement;
    type(input("tuning-exclusion-user", 1), "scanner@example.org");
    fireEvent.click(ruleBox(exclusion, "new_ip"));
    fireEvent.click(ruleBox(exclusion, "odd_hours"));
    type(input("tuning-exclusion-reason", 1), "the vulnerability scanner");
    type(input("tuning-exclusion-until", 1), "2026-12-31");
    type(input("tuning-exclusion-tags", 1), "eu, production");

    fireEvent.click(screen.getByTestId("tuning-scope-add"));
    const scope = all("tuning-scope")[1] as HTMLElement;
    type(input("tuning-scope-tags", 1), "lab");
    type(input("tuning-scope-merge_minutes", 1), "60");
    fireEvent.click(ruleBox(scope, "long_session"));

    fireEvent.click(screen.getByTestId("tuning-save"));
    expect(await screen.findByTestId("tuning-saved")).toBeTruthy();
    expect(argsOf("save_alerts_config")).toEqual([
      {
        alerts: {
          merge_minutes: 30,
          routes: ALERTS_FILE.routes,
          trusted_networks: [
            ...ALERTS_FILE.trusted_networks,
            {
              name: "vpn",
              cidrs: ["198.51.100.0/24", "2001:db8::/32"],
              tenants: ["prod"],
              tags: [],
            },
          ],
          exclusions: [
            ...ALERTS_FILE.exclusions,
            {
              user: "scanner@example.org",
              // In the order the rules are listed, whatever the order of the clicks.
              rules: ["odd_hours", "new_ip"],
              tenants: [],
              tags: ["eu", "production"],
              reason: "the vulnerability scanner",
              until: "2026-12-31",
            },
          ],
          rules: [
            ...ALERTS_FILE.rules,
            { tenants: [], tags: ["lab"], off: ["long_session"], merge_minutes: 60 },
          ],
        },
      },
    ]);
    expect((screen.getByTestId("tuning-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("removes items", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(within(section()).getByTestId("tuning-network-remove"));
    fireEvent.click(within(section()).getByTestId("tuning-exclusion-remove"));
    fireEvent.click(within(section()).getByTestId("tuning-scope-remove"));
    expect(all("tuning-network")).toHaveLength(0);
    fireEvent.click(screen.getByTestId("tuning-save"));
    await screen.findByTestId("tuning-saved");
    expect(argsOf("save_alerts_config")).toEqual([
      {
        alerts: {
          ...ALERTS_FILE,
          trusted_networks: [],
          exclusions: [],
          rules: [],
        },
      },
    ]);
  });

  it("asks for a reason and a real day before asking the back end", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(screen.getByTestId("tuning-exclusion-add"));
    type(input("tuning-exclusion-user", 1), "bob");
    type(input("tuning-exclusion-until", 1), "2026-02-30");
    fireEvent.click(screen.getByTestId("tuning-save"));
    expect(input("tuning-exclusion-reason", 1).getAttribute("aria-invalid")).toBe("true");
    expect(input("tuning-exclusion-until", 1).getAttribute("aria-invalid")).toBe("true");
    expect(section().textContent).toContain("Say why");
    expect(document.activeElement).toBe(input("tuning-exclusion-reason", 1));
    expect(argsOf("save_alerts_config")).toEqual([]);

    type(input("tuning-exclusion-reason", 1), "on leave");
    type(input("tuning-exclusion-until", 1), "");
    fireEvent.click(screen.getByTestId("tuning-save"));
    await screen.findByTestId("tuning-saved");
    const sent = argsOf("save_alerts_config")[0]?.alerts as AlertsFile;
    expect(sent.exclusions.at(-1)).toEqual({
      user: "bob",
      rules: [],
      tenants: [],
      tags: [],
      reason: "on leave",
      until: "",
    });
  });

  it("shows the back end's message and keeps the edits", async () => {
    startSettings({
      saveAlerts: () => {
        throw {
          code: "config",
          message: "trusted network 'vpn': cidrs: 'nope': invalid IP address syntax",
        } satisfies ErrorPayload;
      },
    });
    await loaded();
    fireEvent.click(screen.getByTestId("tuning-network-add"));
    type(input("tuning-network-name", 1), "vpn");
    type(input("tuning-network-cidrs", 1), "nope");
    fireEvent.click(screen.getByTestId("tuning-save"));
    expect((await screen.findByTestId("tuning-error")).textContent).toBe(
      "trusted network 'vpn': cidrs: 'nope': invalid IP address syntax",
    );
    expect(input("tuning-network-cidrs", 1).value).toBe("nope");
    expect((screen.getByTestId("tuning-save") as HTMLButtonElement).disabled).toBe(false);

    fireEvent.click(screen.getByTestId("tuning-revert"));
    expect(all("tuning-network")).toHaveLength(1);
    expect(screen.queryByTestId("tuning-error")).toBeNull();
  });

  it("keeps a route saved meanwhile when the tuning is saved", async () => {
    const { argsOf } = startSettings();
    await loaded();
    type(input("tuning-merge-minutes"), "0");
    // A route is added while the tuning has unsaved edits.
    fireEvent.click(await screen.findByTestId("route-add"));
    fireEvent.change(screen.getByTestId("route-field-name"), { target: { value: "hook" } });
    fireEvent.change(screen.getByTestId("route-field-url"), {
      target: { value: "https://hooks.example/in" },
    });
    fireEvent.click(screen.getByTestId("route-save"));
    await waitFor(() => expect(argsOf("save_alerts_config")).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId("route-form")).toBeNull());
    expect(input("tuning-merge-minutes").value).toBe("0");

    fireEvent.click(screen.getByTestId("tuning-save"));
    await screen.findByTestId("tuning-saved");
    const sent = argsOf("save_alerts_config")[1]?.alerts as AlertsFile;
    expect(sent.merge_minutes).toBe(0);
    expect(sent.routes).toEqual([
      ...ALERTS_FILE.routes,
      makeRoute("hook", { url: "https://hooks.example/in" }),
    ]);
  });
});
