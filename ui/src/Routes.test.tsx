import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AlertsFile } from "./ipc/bindings/AlertsFile";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { RouteConfig } from "./ipc/bindings/RouteConfig";
import { ALERTS_FILE, makeRoute } from "./test/fixtures";
import { renderSettings } from "./test/settingsFixture";

type Backend = {
  file?: AlertsFile;
  /** Routes with a keychain secret. */
  secrets?: string[];
  /** Answers save_alerts_config instead of storing (throw to reject). */
  saveAlerts?: (alerts: AlertsFile) => AlertsFile;
  setSecret?: (route: string, secret: string | null) => void;
  testRoute?: (route: RouteConfig) => void;
};

function startSettings(backend: Backend = {}) {
  let file = structuredClone(backend.file ?? ALERTS_FILE);
  const secrets = new Set(backend.secrets ?? ["soc"]);
  const { calls, argsOf } = renderSettings({
    alerts_config: () => file,
    save_alerts_config: (args) => {
      const sent = args?.alerts as AlertsFile;
      file = backend.saveAlerts ? backend.saveAlerts(sent) : structuredClone(sent);
      return file;
    },
    routes_with_secret: () => file.routes.filter((r) => secrets.has(r.name)).map((r) => r.name),
    set_route_secret: (args) => {
      const route = args?.route as string;
      const secret = args?.secret as string | null;
      backend.setSecret?.(route, secret);
      if (secret) secrets.add(route);
      else secrets.delete(route);
      return null;
    },
    test_route: (args) => {
      backend.testRoute?.(args?.route as RouteConfig);
      return null;
    },
  });
  const order = () => calls.map((c) => c.cmd).filter((c) => c !== "routes_with_secret");
  return { calls, argsOf, order };
}

function row(name: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid="route-row"][data-route="${name}"]`);
  if (!el) throw new Error(`route row ${name} not rendered`);
  return el;
}

async function loaded(): Promise<void> {
  await screen.findByTestId("route-add");
  await waitFor(() => expect(within(row("soc")).getByTestId("route-secret-state")).toBeTruthy());
}

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

const has = (testId: string) => screen.queryByTestId(testId) !== null;

describe("alert routes", () => {
  it("lists the routes with kind, severity, scope, rate limit, state and secret", async () => {
    startSettings();
    await loaded();
    const section = screen.getByTestId("routes-section");
    expect(within(section).getByRole("heading", { name: "Alert routes" })).toBeTruthy();
    // After the policies.
    const policies = screen.getByTestId("policies-section");
    expect(
      policies.compareDocumentPosition(section) & Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();

    const soc = row("soc").textContent ?? "";
    expect(soc).toContain("Webhook");
    expect(soc).toContain("medium and above");
    expect(soc).toContain("tenants prod");
    expect(soc).toContain("at most 20 messages a minute");
    expect(soc).toContain("enabled");
    expect(soc).toContain("https://siem.example.org/hooks/vigil");
    expect(within(row("soc")).getByTestId("route-secret-state").textContent).toBe(
      "key in keychain",
    );

    const chat = row("chat").textContent ?? "";
    expect(chat).toContain("Slack");
    expect(chat).toContain("high only");
    expect(chat).toContain("tags production");
    expect(within(row("chat")).getByTestId("route-secret-state").textContent).toContain(
      "no secret",
    );
  });

  it("adds a webhook route: the whole [alerts] first, then the signing key", async () => {
    const { argsOf, order } = startSettings();
    await loaded();
    fireEvent.click(screen.getByTestId("route-add"));
    const form = screen.getByTestId("route-form");
    expect(within(form).getByLabelText("Signing key (optional)")).toBe(
      screen.getByTestId("route-secret"),
    );
    expect((screen.getByTestId("route-secret") as HTMLInputElement).type).toBe("password");
    expect(has("route-field-url")).toBe(true);
    expect(has("route-field-smtp_host")).toBe(false);
    expect(has("route-field-host")).toBe(false);

    type("route-field-name", "hook");
    type("route-field-url", "http://127.0.0.1:9000/in");
    type("route-field-tenants", "demo, prod");
    type("route-field-tags", "eu");
    type("route-field-max_per_minute", "5");
    fireEvent.change(screen.getByTestId("route-field-min_severity"), {
      target: { value: "high" },
    });
    type("route-secret", "k3y");
    fireEvent.click(screen.getByTestId("route-save"));

    await waitFor(() => expect(row("hook")).toBeTruthy());
    expect(argsOf("save_alerts_config")).toEqual([
      {
        alerts: {
          ...ALERTS_FILE,
          routes: [
            ...ALERTS_FILE.routes,
            makeRoute("hook", {
              url: "http://127.0.0.1:9000/in",
              tenants: ["demo", "prod"],
              tags: ["eu"],
              max_per_minute: 5,
              min_severity: "high",
            }),
          ],
        },
      },
    ]);
    expect(argsOf("set_route_secret")).toEqual([{ route: "hook", secret: "k3y" }]);
    const saveAt = order().indexOf("save_alerts_config");
    expect(order().indexOf("set_route_secret")).toBe(saveAt + 1);
    expect(has("route-form")).toBe(false);
    await waitFor(() =>
      expect(within(row("hook")).getByTestId("route-secret-state").textContent).toBe(
        "key in keychain",
      ),
    );
    expect(screen.getByTestId("routes-notice").textContent).toContain("Route hook saved");
  });

  it("shows the fields each kind uses and labels the secret by kind", async () => {
    startSettings();
    await loaded();
    fireEvent.click(screen.getByTestId("route-add"));
    const kind = (k: string) =>
      fireEvent.change(screen.getByTestId("route-field-kind"), { target: { value: k } });
    const secretLabel = () => {
      const input = screen.queryByTestId("route-secret");
      return input ? document.querySelector(`label[for="${input.id}"]`)?.textContent : null;
    };

    kind("slack");
    expect(has("route-field-url")).toBe(false);
    expect(has("route-field-ca_certificate")).toBe(false);
    expect(secretLabel()).toBe("Incoming webhook URL");
    kind("teams");
    expect(secretLabel()).toBe("Incoming webhook URL");

    kind("email");
    for (const f of ["smtp_host", "smtp_port", "security", "username", "from", "to"]) {
      expect(has(`route-field-${f}`)).toBe(true);
    }
    expect(has("route-field-ca_certificate")).toBe(true);
    expect(has("route-field-url")).toBe(false);
    expect(secretLabel()).toBe("SMTP password");

    kind("syslog");
    for (const f of ["host", "port", "transport", "format", "facility", "ca_certificate"]) {
      expect(has(`route-field-${f}`)).toBe(true);
    }
    expect(has("route-field-smtp_host")).toBe(false);
    expect(has("route-secret")).toBe(false);
    // Every kind has these.
    for (const f of ["name", "enabled", "min_severity", "tenants", "tags", "max_per_minute"]) {
      expect(has(`route-field-${f}`)).toBe(true);
    }
  });

  it("adds an e-mail route with its recipients, leaving the other kinds' fields empty", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(screen.getByTestId("route-add"));
    type("route-field-name", "mail");
    type("route-field-url", "https://left.over/");
    fireEvent.change(screen.getByTestId("route-field-kind"), { target: { value: "email" } });
    type("route-field-smtp_host", "smtp.example.org");
    type("route-field-smtp_port", "465");
    fireEvent.change(screen.getByTestId("route-field-security"), { target: { value: "tls" } });
    type("route-field-username", "vigil");
    type("route-field-from", "Vigil <vigil@example.org>");
    type("route-field-to", "soc@example.org, , oncall@example.org");
    fireEvent.click(screen.getByTestId("route-save"));

    await waitFor(() => expect(row("mail")).toBeTruthy());
    const sent = argsOf("save_alerts_config")[0]?.alerts as AlertsFile;
    expect(sent.routes.at(-1)).toEqual(
      makeRoute("mail", {
        kind: "email",
        smtp_host: "smtp.example.org",
        smtp_port: 465,
        security: "tls",
        username: "vigil",
        from: "Vigil <vigil@example.org>",
        to: ["soc@example.org", "oncall@example.org"],
      }),
    );
    // No password typed: the keychain is left alone.
    expect(argsOf("set_route_secret")).toEqual([]);
  });

  it("edits a route in place and keeps its stored secret when none is typed", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(within(row("soc")).getByTestId("route-edit"));
    expect((screen.getByTestId("route-field-name") as HTMLInputElement).value).toBe("soc");
    expect((screen.getByTestId("route-field-url") as HTMLInputElement).value).toBe(
      "https://siem.example.org/hooks/vigil",
    );
    expect((screen.getByTestId("route-secret") as HTMLInputElement).value).toBe("");
    fireEvent.click(screen.getByTestId("route-field-enabled"));
    fireEvent.click(screen.getByTestId("route-save"));

    await waitFor(() => expect(has("route-form")).toBe(false));
    const sent = argsOf("save_alerts_config")[0]?.alerts as AlertsFile;
    expect(sent.routes.map((r) => r.name)).toEqual(["soc", "chat"]);
    expect(sent.routes[0]).toEqual({ ...ALERTS_FILE.routes[0], enabled: false });
    expect(argsOf("set_route_secret")).toEqual([]);
    expect(within(row("soc")).getByTestId("route-enabled").textContent).toBe("disabled");
  });

  it("shows the back end's message naming the route and keeps the form open", async () => {
    const { argsOf } = startSettings({
      saveAlerts: () => {
        throw {
          code: "config",
          message: "route 'hook': url: must be https (http only to this machine)",
        } satisfies ErrorPayload;
      },
    });
    await loaded();
    fireEvent.click(screen.getByTestId("route-add"));
    type("route-field-name", "hook");
    type("route-field-url", "http://hooks.example/");
    type("route-secret", "k3y");
    fireEvent.click(screen.getByTestId("route-save"));

    expect((await screen.findByTestId("route-error")).textContent).toBe(
      "route 'hook': url: must be https (http only to this machine)",
    );
    expect(has("route-form")).toBe(true);
    expect(argsOf("set_route_secret")).toEqual([]);
    expect(document.querySelector('[data-route="hook"]')).toBeNull();
  });

  it("checks the form before asking the back end", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(screen.getByTestId("route-add"));
    type("route-field-name", "soc");
    type("route-field-max_per_minute", "0");
    fireEvent.click(screen.getByTestId("route-save"));
    expect(screen.getByTestId("route-field-name").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByTestId("routes-section").textContent).toContain(
      "Another route has this name.",
    );
    expect(screen.getByTestId("route-field-max_per_minute").getAttribute("aria-invalid")).toBe(
      "true",
    );
    expect(screen.getByTestId("route-field-url").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(screen.getByTestId("route-field-name"));

    // A Slack route cannot send without its webhook URL.
    type("route-field-name", "chat2");
    type("route-field-max_per_minute", "20");
    fireEvent.change(screen.getByTestId("route-field-kind"), { target: { value: "slack" } });
    fireEvent.click(screen.getByTestId("route-save"));
    expect(screen.getByTestId("route-secret").getAttribute("aria-invalid")).toBe("true");
    expect(argsOf("save_alerts_config")).toEqual([]);

    type("route-secret", "https://hooks.slack.com/services/T/B/x");
    fireEvent.click(screen.getByTestId("route-save"));
    await waitFor(() => expect(row("chat2")).toBeTruthy());
    const sent = argsOf("save_alerts_config")[0]?.alerts as AlertsFile;
    // The URL is a credential: it goes to the keychain, never into the file.
    expect(sent.routes.at(-1)?.url).toBeNull();
    expect(JSON.stringify(sent)).not.toContain("hooks.slack.com");
    expect(argsOf("set_route_secret")).toEqual([
      { route: "chat2", secret: "https://hooks.slack.com/services/T/B/x" },
    ]);
  });

  it("asks for the secret again to rename a route, then moves it", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(within(row("soc")).getByTestId("route-edit"));
    type("route-field-name", "siem");
    fireEvent.click(screen.getByTestId("route-save"));
    expect(screen.getByTestId("route-secret").getAttribute("aria-invalid")).toBe("true");
    expect(argsOf("save_alerts_config")).toEqual([]);

    type("route-secret", "n3w");
    fireEvent.click(screen.getByTestId("route-save"));
    await waitFor(() => expect(row("siem")).toBeTruthy());
    const sent = argsOf("save_alerts_config")[0]?.alerts as AlertsFile;
    expect(sent.routes.map((r) => r.name)).toEqual(["siem", "chat"]);
    expect(argsOf("set_route_secret")).toEqual([
      { route: "siem", secret: "n3w" },
      { route: "soc", secret: null },
    ]);
  });

  it("removes a route after a confirmation, with its secret", async () => {
    const { argsOf } = startSettings();
    await loaded();
    fireEvent.click(within(row("soc")).getByTestId("route-remove"));
    const dialog = screen.getByTestId("route-remove-confirm");
    expect(dialog.textContent).toContain("Remove route soc");
    fireEvent.click(screen.getByTestId("route-remove-go"));

    await waitFor(() => expect(document.querySelector('[data-route="soc"]')).toBeNull());
    expect(argsOf("save_alerts_config")).toEqual([
      { alerts: { ...ALERTS_FILE, routes: [ALERTS_FILE.routes[1]] } },
    ]);
    expect(argsOf("set_route_secret")).toEqual([{ route: "soc", secret: null }]);
    expect(has("route-remove-confirm")).toBe(false);
    expect(screen.getByTestId("routes-notice").textContent).toContain("Route soc removed");
  });

  it("sends a test alert per row and shows Delivered or the error inline", async () => {
    const { argsOf } = startSettings({
      testRoute: (r) => {
        if (r.kind === "slack") {
          throw {
            code: "secret_store",
            message: `route '${r.name}': no webhook URL in the keychain`,
          } satisfies ErrorPayload;
        }
      },
    });
    await loaded();
    fireEvent.click(within(row("soc")).getByTestId("route-test"));
    expect((await within(row("soc")).findByTestId("route-test-result")).textContent).toBe(
      "Delivered",
    );
    fireEvent.click(within(row("chat")).getByTestId("route-test"));
    const failed = await within(row("chat")).findByTestId("route-test-result");
    expect(failed.textContent).toBe("route 'chat': no webhook URL in the keychain");
    expect(failed.getAttribute("role")).toBe("alert");
    expect(argsOf("test_route")).toEqual([
      { route: ALERTS_FILE.routes[0] },
      { route: ALERTS_FILE.routes[1] },
    ]);
    // The other row's result stays.
    expect(within(row("soc")).getByTestId("route-test-result").textContent).toBe("Delivered");
  });

  it("shows route names from the file as visible text", async () => {
    startSettings({
      file: { ...ALERTS_FILE, routes: [makeRoute("soc\u202egnp", { url: "https://a.example/" })] },
      secrets: [],
    });
    await screen.findByTestId("route-add");
    const el = await screen.findByTestId("route-row");
    expect(el.textContent).toContain("soc\\u{202e}gnp");
    expect(el.textContent).not.toContain("\u202e");
  });
});
