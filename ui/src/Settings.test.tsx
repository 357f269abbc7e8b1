import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import type { AppSettings } from "./ipc/bindings/AppSettings";
import type { ErrorPayload } from "./ipc/bindings/ErrorPayload";
import type { SessionQuery } from "./ipc/bindings/SessionQuery";
import { createQueryClient } from "./lib/queryClient";
import { APP_STATUS, makeSession, pageOf, SUMMARY } from "./test/fixtures";

type Call = { cmd: string; args: Record<string, unknown> | undefined };

/** Stored settings that differ from the defaults in every field. */
const STORED: AppSettings = {
  default_poll_interval_secs: 45,
  notifications: true,
  notify_min_severity: "medium",
  geoip_database: "/opt/geo/GeoLite2-City.mmdb",
  history_retention_days: 60,
  theme: "system",
  start_at_login: true,
  keep_running_in_tray: false,
};

const DIAGNOSTICS = "Vigil 0.1.0 (vigil)\nplatform: linux x86_64\ntenants: 2\n";

type Backend = {
  settings?: AppSettings;
  getSettings?: () => unknown;
  /** Answers save_settings (default: stores and returns what was sent). */
  saveSettings?: (settings: AppSettings) => unknown;
  openLogFolder?: () => unknown;
};

function startApp(backend: Backend = {}, hash = "#/settings") {
  window.history.replaceState(null, "", hash);
  const rows = Array.from({ length: 10 }, (_, i) => makeSession(i));
  let stored = structuredClone(backend.settings ?? STORED);
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
        case "list_alerts":
          return [];
        case "app_status":
          return APP_STATUS;
        case "get_settings":
          return backend.getSettings ? backend.getSettings() : stored;
        case "save_settings": {
          const sent = args?.settings as AppSettings;
          if (backend.saveSettings) return backend.saveSettings(sent);
          stored = { ...sent, geoip_database: sent.geoip_database.trim() };
          return stored;
        }
        case "list_policies":
          return [];
        case "diagnostics":
          return DIAGNOSTICS;
        case "open_log_folder":
          return backend.openLogFolder ? backend.openLogFolder() : null;
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

function el<T extends HTMLElement = HTMLInputElement>(testId: string): T {
  return screen.getByTestId(testId) as T;
}

/** The form is shown with the stored settings. */
async function loaded(): Promise<void> {
  await screen.findByTestId("settings-poll-interval");
}

function type(testId: string, value: string) {
  fireEvent.change(el(testId), { target: { value } });
}

function button(testId: string): HTMLButtonElement {
  return el<HTMLButtonElement>(testId);
}

/** Replaces `navigator.clipboard` for one test. */
function mockClipboard(writeText: ((text: string) => Promise<void>) | undefined) {
  Object.defineProperty(navigator, "clipboard", {
    configurable: true,
    value: writeText ? { writeText } : undefined,
  });
}

afterEach(() => {
  delete document.documentElement.dataset.theme;
  localStorage.clear();
  Reflect.deleteProperty(navigator, "clipboard");
});

describe("Settings screen", () => {
  it("opens from the rail and shows the stored settings", async () => {
    startApp({}, "#/sessions");
    await screen.findByTestId("search");
    const tabs = screen.getAllByRole("tab").map((t) => t.dataset.testid);
    expect(tabs.at(-1)).toBe("nav-settings");
    fireEvent.click(el("nav-settings"));
    await loaded();
    expect(window.location.hash).toBe("#/settings");
    expect(el("nav-settings").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("heading", { level: 2, name: "Settings" })).toBeTruthy();

    // Every field has a label tied to it.
    expect(screen.getByLabelText("Default poll interval (seconds)")).toBe(
      el("settings-poll-interval"),
    );
    expect(el("settings-poll-interval").value).toBe("45");
    expect(screen.getByLabelText("Keep session history (days)")).toBe(el("settings-retention"));
    expect(el("settings-retention").value).toBe("60");
    expect(screen.getByLabelText("GeoIP database")).toBe(el("settings-geoip"));
    expect(el("settings-geoip").value).toBe("/opt/geo/GeoLite2-City.mmdb");
    expect(screen.getByLabelText("Notify about new alerts")).toBe(el("settings-notifications"));
    expect(el("settings-notifications").checked).toBe(true);
    expect(el<HTMLSelectElement>("settings-min-severity").value).toBe("medium");
    expect(screen.getByLabelText("Theme")).toBe(el("settings-theme"));
    expect(el<HTMLSelectElement>("settings-theme").value).toBe("system");
    expect(el("settings-start-at-login").checked).toBe(true);
    expect(el("settings-keep-in-tray").checked).toBe(false);

    // The hints say what the fields do.
    const hint = (testId: string) =>
      (el(testId).getAttribute("aria-describedby") ?? "")
        .split(" ")
        .map((id) => document.getElementById(id)?.textContent ?? "")
        .join(" ");
    expect(hint("settings-poll-interval")).toContain("Offered for new tenants");
    expect(hint("settings-retention")).toContain("audit log is never pruned");
    expect(hint("settings-geoip")).toContain("impossible-travel");
    expect(hint("settings-start-at-login")).toContain("starts hidden in the tray");
    expect(hint("settings-keep-in-tray")).toContain("Quit is in the tray menu");

    expect(button("settings-save").disabled).toBe(true);
    expect(button("settings-revert").disabled).toBe(true);
    expect((await screen.findByTestId("settings-log-dir")).textContent).toBe(APP_STATUS.log_dir);
  });

  it("disables the severity while notifications are off", async () => {
    startApp();
    await loaded();
    expect(el<HTMLSelectElement>("settings-min-severity").disabled).toBe(false);
    fireEvent.click(el("settings-notifications"));
    expect(el<HTMLSelectElement>("settings-min-severity").disabled).toBe(true);
    expect(button("settings-save").disabled).toBe(false);
    fireEvent.click(el("settings-notifications"));
    // Back to what is stored: nothing to save.
    expect(button("settings-save").disabled).toBe(true);
  });

  it("saves exactly the edited settings and shows what was stored", async () => {
    const { argsOf } = startApp();
    await loaded();
    type("settings-poll-interval", "90");
    type("settings-retention", "30");
    type("settings-geoip", "  /data/GeoIP2-City.mmdb ");
    fireEvent.change(el("settings-min-severity"), { target: { value: "high" } });
    fireEvent.click(el("settings-keep-in-tray"));
    expect(button("settings-save").disabled).toBe(false);
    fireEvent.click(button("settings-save"));

    await screen.findByTestId("settings-saved");
    expect(argsOf("save_settings")).toEqual([
      {
        settings: {
          ...STORED,
          default_poll_interval_secs: 90,
          history_retention_days: 30,
          geoip_database: "  /data/GeoIP2-City.mmdb ",
          notify_min_severity: "high",
          keep_running_in_tray: true,
        },
      },
    ]);
    // The form shows the stored (trimmed) values, with nothing left to save.
    expect(el("settings-geoip").value).toBe("/data/GeoIP2-City.mmdb");
    expect(el("settings-retention").value).toBe("30");
    expect(button("settings-save").disabled).toBe(true);
    expect(button("settings-revert").disabled).toBe(true);
  });

  it("shows the back end's invalid_input under its field and keeps the input", async () => {
    const { argsOf } = startApp({
      saveSettings: (s) => {
        throw {
          code: "invalid_input",
          message: `geoip_database: ${s.geoip_database}: No such file or directory (os error 2)`,
        } satisfies ErrorPayload;
      },
    });
    await loaded();
    type("settings-geoip", "/x.mmdb");
    fireEvent.click(button("settings-save"));

    const error = await screen.findByTestId("settings-geoip-error");
    expect(error.textContent).toBe("/x.mmdb: No such file or directory (os error 2)");
    expect(error.getAttribute("role")).toBe("alert");
    const geoip = el("settings-geoip");
    expect(geoip.value).toBe("/x.mmdb");
    expect(geoip.getAttribute("aria-invalid")).toBe("true");
    expect(geoip.getAttribute("aria-describedby")).toContain(error.id);
    expect(document.activeElement).toBe(geoip);
    expect(screen.queryByTestId("settings-error")).toBeNull();
    expect(screen.queryByTestId("settings-saved")).toBeNull();
    expect(argsOf("save_settings")).toHaveLength(1);

    // Editing the field clears its error.
    type("settings-geoip", "");
    expect(screen.queryByTestId("settings-geoip-error")).toBeNull();
  });

  it("puts a range error from the back end under the retention field", async () => {
    startApp({
      saveSettings: () => {
        throw {
          code: "invalid_input",
          message: "history_retention_days: must be between 1 and 3650 days, not 3000",
        } satisfies ErrorPayload;
      },
    });
    await loaded();
    type("settings-retention", "3000");
    fireEvent.click(button("settings-save"));
    expect((await screen.findByTestId("settings-retention-error")).textContent).toBe(
      "must be between 1 and 3650 days, not 3000",
    );
    expect(el("settings-retention").value).toBe("3000");
  });

  it("catches obvious range mistakes before calling the back end", async () => {
    const { argsOf } = startApp();
    await loaded();
    type("settings-retention", "0");
    type("settings-poll-interval", "abc");
    fireEvent.click(button("settings-save"));
    expect((await screen.findByTestId("settings-retention-error")).textContent).toContain(
      "between 1 and 3,650 days",
    );
    expect(el("settings-poll-interval-error").textContent).toContain("whole number of seconds");
    expect(document.activeElement).toBe(el("settings-poll-interval"));
    expect(argsOf("save_settings")).toHaveLength(0);
  });

  it("shows other save errors in a banner and rereads the settings", async () => {
    const { argsOf } = startApp({
      saveSettings: () => {
        throw {
          code: "internal",
          message:
            "other settings saved, but start at login could not be changed: permission denied",
        } satisfies ErrorPayload;
      },
    });
    await loaded();
    const reads = argsOf("get_settings").length;
    fireEvent.click(el("settings-start-at-login"));
    fireEvent.click(button("settings-save"));
    const banner = await screen.findByTestId("settings-error");
    expect(banner.textContent).toContain("start at login could not be changed: permission denied");
    expect(banner.getAttribute("role")).toBe("alert");
    await waitFor(() => expect(argsOf("get_settings").length).toBeGreaterThan(reads));
    expect(screen.queryByTestId("settings-saved")).toBeNull();
  });

  it("reverts the edits to the stored settings", async () => {
    startApp();
    await loaded();
    type("settings-retention", "7");
    fireEvent.click(el("settings-notifications"));
    fireEvent.click(button("settings-revert"));
    expect(el("settings-retention").value).toBe("60");
    expect(el("settings-notifications").checked).toBe(true);
    expect(button("settings-save").disabled).toBe(true);
  });

  it("applies the theme while choosing, keeps it when saved, and System removes it", async () => {
    const { argsOf } = startApp();
    await loaded();
    const root = document.documentElement;
    expect(root.dataset.theme).toBeUndefined();

    fireEvent.change(el("settings-theme"), { target: { value: "dark" } });
    expect(root.dataset.theme).toBe("dark");
    fireEvent.change(el("settings-theme"), { target: { value: "light" } });
    expect(root.dataset.theme).toBe("light");
    fireEvent.click(button("settings-save"));
    await screen.findByTestId("settings-saved");
    expect(argsOf("save_settings")[0]).toEqual({ settings: { ...STORED, theme: "light" } });
    expect(root.dataset.theme).toBe("light");

    fireEvent.change(el("settings-theme"), { target: { value: "system" } });
    expect(root.hasAttribute("data-theme")).toBe(false);
    fireEvent.click(button("settings-save"));
    await waitFor(() => expect(argsOf("save_settings")).toHaveLength(2));
    await waitFor(() => expect(button("settings-save").disabled).toBe(true));
    expect(root.hasAttribute("data-theme")).toBe(false);
  });

  it("applies the stored theme at start, and drops an unsaved one when leaving", async () => {
    startApp({ settings: { ...STORED, theme: "dark" } }, "#/sessions");
    const root = document.documentElement;
    await waitFor(() => expect(root.dataset.theme).toBe("dark"));

    fireEvent.click(el("nav-settings"));
    await loaded();
    fireEvent.change(el("settings-theme"), { target: { value: "light" } });
    expect(root.dataset.theme).toBe("light");
    fireEvent.click(el("nav-sessions"));
    await screen.findByTestId("search");
    expect(root.dataset.theme).toBe("dark");
  });

  it("copies the diagnostics to the clipboard", async () => {
    const writeText = vi.fn((_text: string) => Promise.resolve());
    mockClipboard(writeText);
    const { argsOf } = startApp();
    await loaded();
    fireEvent.click(button("settings-copy-diagnostics"));
    expect((await screen.findByTestId("settings-diagnostics-copied")).textContent).toBe("Copied");
    expect(argsOf("diagnostics")).toHaveLength(1);
    expect(writeText).toHaveBeenCalledWith(DIAGNOSTICS);
    expect(screen.queryByTestId("settings-diagnostics-text")).toBeNull();
  });

  it("shows the diagnostics selected for copying by hand when the clipboard fails", async () => {
    mockClipboard(() => Promise.reject(new DOMException("denied", "NotAllowedError")));
    startApp();
    await loaded();
    fireEvent.click(button("settings-copy-diagnostics"));
    const text = await screen.findByTestId<HTMLTextAreaElement>("settings-diagnostics-text");
    expect(text.value).toBe(DIAGNOSTICS);
    expect(text.readOnly).toBe(true);
    expect(screen.getByLabelText("Diagnostics")).toBe(text);
    // Focus and selection come from an effect after the text appears.
    await waitFor(() => expect(document.activeElement).toBe(text));
    expect(text.selectionStart).toBe(0);
    expect(text.selectionEnd).toBe(DIAGNOSTICS.length);
    expect(screen.queryByTestId("settings-diagnostics-copied")).toBeNull();
  });

  it("falls back to the text when there is no clipboard at all", async () => {
    mockClipboard(undefined);
    startApp();
    await loaded();
    fireEvent.click(button("settings-copy-diagnostics"));
    expect(
      (await screen.findByTestId<HTMLTextAreaElement>("settings-diagnostics-text")).value,
    ).toBe(DIAGNOSTICS);
  });

  it("opens the log folder and shows why it could not", async () => {
    let fail = false;
    const { argsOf } = startApp({
      openLogFolder: () => {
        if (fail) throw { code: "internal", message: "xdg-open: not found" } satisfies ErrorPayload;
        return null;
      },
    });
    await loaded();
    fireEvent.click(button("settings-open-logs"));
    await waitFor(() => expect(argsOf("open_log_folder")).toHaveLength(1));
    await waitFor(() => expect(button("settings-open-logs").disabled).toBe(false));
    expect(screen.queryByTestId("settings-open-logs-error")).toBeNull();

    fail = true;
    fireEvent.click(button("settings-open-logs"));
    const error = await screen.findByTestId("settings-open-logs-error");
    expect(error.textContent).toContain("xdg-open: not found");
    expect(error.getAttribute("role")).toBe("alert");
  });

  it("says so when the settings cannot be read", async () => {
    startApp({
      getSettings: () => {
        throw { code: "config", message: "config.toml: bad TOML" } satisfies ErrorPayload;
      },
    });
    const error = await screen.findByTestId("settings-load-error");
    expect(error.textContent).toContain("config.toml: bad TOML");
    expect(screen.queryByTestId("settings-save")).toBeNull();
    // Support still works without the settings.
    expect(screen.getByTestId("settings-copy-diagnostics")).toBeTruthy();
  });
});
