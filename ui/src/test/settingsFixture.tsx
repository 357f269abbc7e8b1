import { QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { render } from "@testing-library/react";
import { App } from "../App";
import type { ErrorPayload } from "../ipc/bindings/ErrorPayload";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import { createQueryClient } from "../lib/queryClient";
import { ALERTS_FILE, APP_STATUS, makeSession, pageOf, SETTINGS, SUMMARY } from "./fixtures";

export type CommandArgs = Record<string, unknown> | undefined;

export type Call = { cmd: string; args: CommandArgs };

/** Answers one command from its arguments; throwing rejects the call. */
export type Answer = (args: CommandArgs) => unknown;

/** What the app asks for when it opens on the Settings screen, answered from the fixtures. */
function settingsAnswers(): Record<string, Answer> {
  const rows = Array.from({ length: 4 }, (_, i) => makeSession(i));
  return {
    summary: () => SUMMARY,
    query_sessions: (args) => pageOf(rows, args?.query as SessionQuery),
    list_alerts: () => [],
    app_status: () => APP_STATUS,
    get_settings: () => SETTINGS,
    list_policies: () => [],
    shared_audit: () => ({ config: null, status: null }),
    alerts_config: () => ALERTS_FILE,
    routes_with_secret: () => [],
  };
}

/**
 * Mocks the back end of the Settings screen and renders the app at `hash`. `answers` replace
 * or add commands; any other command is rejected as unexpected. Returns every call made and
 * `argsOf(cmd)`, the arguments of each call of one command.
 */
export function renderSettings(answers: Record<string, Answer> = {}, hash = "#/settings") {
  window.history.replaceState(null, "", hash);
  const table = new Map(Object.entries({ ...settingsAnswers(), ...answers }));
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = payload as CommandArgs;
      calls.push({ cmd, args });
      const answer = table.get(cmd);
      if (!answer) {
        throw { code: "internal", message: `unexpected command ${cmd}` } satisfies ErrorPayload;
      }
      return answer(args);
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
