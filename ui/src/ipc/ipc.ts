// Typed wrapper around the Tauri IPC. The rest of the UI never calls `invoke` directly.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ActionReport } from "./bindings/ActionReport";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { ErrorPayload } from "./bindings/ErrorPayload";
import type { SessionPage } from "./bindings/SessionPage";
import type { SessionQuery } from "./bindings/SessionQuery";
import type { SessionRef } from "./bindings/SessionRef";
import type { SessionsChanged } from "./bindings/SessionsChanged";
import type { Summary } from "./bindings/Summary";

export const SESSIONS_CHANGED_EVENT = "sessions://changed";

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "rate_limited",
  "timeout",
  "unreachable",
  "server_error",
  "malformed_response",
  "invalid_input",
  "config",
  "internal",
]);

/** True for `{ code, message }` objects as rejected by the Rust commands. */
export function isErrorPayload(value: unknown): value is ErrorPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && ERROR_CODES.has(v.code) && typeof v.message === "string";
}

/** An IPC failure. It is an `Error` and also satisfies `ErrorPayload`. */
export class IpcError extends Error implements ErrorPayload {
  readonly code: ErrorCode;
  readonly command: string;

  constructor(payload: ErrorPayload, command: string) {
    super(payload.message);
    this.name = "IpcError";
    this.code = payload.code;
    this.command = command;
  }
}

/** Normalises anything a rejected `invoke` may produce into an `IpcError`. */
export function toIpcError(err: unknown, command: string): IpcError {
  if (err instanceof IpcError) return err;
  if (isErrorPayload(err)) return new IpcError(err, command);
  if (typeof err === "string") return new IpcError({ code: "internal", message: err }, command);
  if (err instanceof Error)
    return new IpcError({ code: "internal", message: err.message }, command);
  return new IpcError({ code: "internal", message: `Command ${command} failed` }, command);
}

/** Human readable message for any error (IPC or not). */
export function errorMessage(err: unknown): string {
  if (isErrorPayload(err)) return err.message;
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  return "Unknown error";
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw toIpcError(err, command);
  }
}

export function querySessions(query: SessionQuery): Promise<SessionPage> {
  return call<SessionPage>("query_sessions", { query });
}

export function summary(): Promise<Summary> {
  return call<Summary>("summary");
}

export function endSessions(targets: SessionRef[]): Promise<ActionReport> {
  return call<ActionReport>("end_sessions", { targets });
}

export async function refresh(): Promise<void> {
  await call<null>("refresh");
}

/** Subscribes to `sessions://changed`; resolves to the unsubscribe function. */
export function onSessionsChanged(cb: (payload: SessionsChanged) => void): Promise<UnlistenFn> {
  return listen<SessionsChanged>(SESSIONS_CHANGED_EVENT, (event) => cb(event.payload));
}
