// Typed wrapper around the Tauri IPC. The rest of the UI never calls `invoke` directly.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ActionKind } from "./bindings/ActionKind";
import type { ActionReport } from "./bindings/ActionReport";
import type { Alert } from "./bindings/Alert";
import type { AlertFilter } from "./bindings/AlertFilter";
import type { AlertsFile } from "./bindings/AlertsFile";
import type { AppSettings } from "./bindings/AppSettings";
import type { AppStatus } from "./bindings/AppStatus";
import type { Assignment } from "./bindings/Assignment";
import type { AuditEntry } from "./bindings/AuditEntry";
import type { AuditFilter } from "./bindings/AuditFilter";
import type { Commands } from "./bindings/Commands";
import type { ContainOptions } from "./bindings/ContainOptions";
import type { ContainPreview } from "./bindings/ContainPreview";
import type { ContainReport } from "./bindings/ContainReport";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { ErrorPayload } from "./bindings/ErrorPayload";
import type { ExportFormat } from "./bindings/ExportFormat";
import type { ExportResult } from "./bindings/ExportResult";
import type { Facets } from "./bindings/Facets";
import type { HistoryEntry } from "./bindings/HistoryEntry";
import type { KindInfo } from "./bindings/KindInfo";
import type { OpenAlert } from "./bindings/OpenAlert";
import type { PeopleConfig } from "./bindings/PeopleConfig";
import type { PersonMatch } from "./bindings/PersonMatch";
import type { PolicyConfig } from "./bindings/PolicyConfig";
import type { PolicyRun } from "./bindings/PolicyRun";
import type { RouteConfig } from "./bindings/RouteConfig";
import type { Rule } from "./bindings/Rule";
import type { Selection } from "./bindings/Selection";
import type { SessionFilter } from "./bindings/SessionFilter";
import type { SessionPage } from "./bindings/SessionPage";
import type { SessionQuery } from "./bindings/SessionQuery";
import type { SessionRef } from "./bindings/SessionRef";
import type { SessionRefs } from "./bindings/SessionRefs";
import type { SessionsChanged } from "./bindings/SessionsChanged";
import type { SharedAuditConfig } from "./bindings/SharedAuditConfig";
import type { SharedAuditView } from "./bindings/SharedAuditView";
import type { SharedEvent } from "./bindings/SharedEvent";
import type { StoredAlert } from "./bindings/StoredAlert";
import type { Summary } from "./bindings/Summary";
import type { TenantCheck } from "./bindings/TenantCheck";
import type { TenantConfig } from "./bindings/TenantConfig";
import type { TenantView } from "./bindings/TenantView";
import type { UserPage } from "./bindings/UserPage";
import type { UserQuery } from "./bindings/UserQuery";
import type { Verified } from "./bindings/Verified";

export const SESSIONS_CHANGED_EVENT = "sessions://changed";
export const ALERTS_NEW_EVENT = "alerts://new";
/** No payload: the pause state or the app's settings changed (also from the tray). */
export const APP_STATUS_EVENT = "app://status";

/**
 * Every `ErrorCode` of the Rust side, exactly: a code added or removed there (and so in
 * the generated union) fails to compile here until this list follows.
 */
const EVERY_ERROR_CODE: Record<ErrorCode, true> = {
  unauthorized: true,
  forbidden: true,
  not_found: true,
  conflict: true,
  rate_limited: true,
  unsupported: true,
  timeout: true,
  unreachable: true,
  server_error: true,
  malformed_response: true,
  limit_exceeded: true,
  invalid_input: true,
  config: true,
  secret_store: true,
  internal: true,
};
const ERROR_CODES: ReadonlySet<string> = new Set<string>(Object.keys(EVERY_ERROR_CODE));

/** True for `{ code, message }` objects as rejected by the Rust commands. */
export function isErrorPayload(value: unknown): value is ErrorPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && ERROR_CODES.has(v.code) && typeof v.message === "string";
}

/** `{ code, message }` with any string code: also codes this UI does not know yet. */
function isErrorLike(value: unknown): value is { code: string; message: string } {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

/** An IPC failure. It is an `Error` and also satisfies `ErrorPayload`. */
export class IpcError extends Error implements ErrorPayload {
  readonly code: ErrorCode;
  /** The code exactly as sent; differs from `code` only for codes unknown to this UI. */
  readonly rawCode: string;
  readonly command: string;

  constructor(payload: ErrorPayload, command: string, rawCode?: string) {
    super(payload.message);
    this.name = "IpcError";
    this.code = payload.code;
    this.rawCode = rawCode ?? payload.code;
    this.command = command;
  }
}

/** The error code of any error as a plain string (unknown codes included), if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof IpcError) return err.rawCode;
  if (isErrorLike(err)) return err.code;
  return undefined;
}

/** Normalises anything a rejected `invoke` may produce into an `IpcError`. */
export function toIpcError(err: unknown, command: string): IpcError {
  if (err instanceof IpcError) return err;
  if (isErrorPayload(err)) return new IpcError(err, command);
  // A code this build does not know (a newer back end): keep the message, degrade the code.
  if (isErrorLike(err))
    return new IpcError({ code: "internal", message: err.message }, command, err.code);
  if (typeof err === "string") return new IpcError({ code: "internal", message: err }, command);
  if (err instanceof Error)
    return new IpcError({ code: "internal", message: err.message }, command);
  return new IpcError({ code: "internal", message: `Command ${command} failed` }, command);
}

/** Human readable message for any error (IPC or not). */
export function errorMessage(err: unknown): string {
  if (isErrorLike(err)) return err.message;
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  return "Unknown error";
}

/**
 * Calls a command with the arguments and answer `Commands` (written from the Rust
 * commands) gives it: a wrapper that disagrees with the Rust side does not compile.
 */
async function call<K extends keyof Commands>(
  command: K,
  ...args: Commands[K]["args"] extends Record<string, never> ? [] : [Commands[K]["args"]]
): Promise<Commands[K]["result"]> {
  try {
    return await invoke<Commands[K]["result"]>(command, args[0]);
  } catch (err) {
    throw toIpcError(err, command);
  }
}

export function querySessions(query: SessionQuery): Promise<SessionPage> {
  return call("query_sessions", { query });
}

/** The per-user view: one row per (tenant, user) over the sessions matching the filter. */
export function queryUsers(query: UserQuery): Promise<UserPage> {
  return call("query_users", { query });
}

/** The values (and their counts) the enumerated column filters offer. */
export function sessionFacets(): Promise<Facets> {
  return call("session_facets");
}

/** "Select all filtered": the matching sessions as action targets (capped) and their total. */
export function sessionRefs(filter: SessionFilter): Promise<SessionRefs> {
  return call("session_refs", { filter });
}

/** Writes every filtered, sorted session to a new file in the Downloads folder. */
export function exportSessions(query: SessionQuery, format: ExportFormat): Promise<ExportResult> {
  return call("export_sessions", { query, format });
}

export function summary(): Promise<Summary> {
  return call("summary");
}

export function endSessions(targets: SessionRef[]): Promise<ActionReport> {
  return call("end_sessions", { targets });
}

/**
 * A user action (`logout`, `disable`, `disable_only`, `enable`) or `end_session`. For user
 * actions each target's `session_id` carries the user id.
 */
export function act(kind: ActionKind, targets: SessionRef[]): Promise<ActionReport> {
  return call("act", { kind, targets });
}

/** Audit log entries matching `filter`, newest first. */
export function auditEntries(filter: AuditFilter): Promise<AuditEntry[]> {
  return call("audit_entries", { filter });
}

/** Past and present sessions of one user (or of everyone when both are null). */
export function sessionHistory(
  tenant: string | null,
  username: string | null,
): Promise<HistoryEntry[]> {
  return call("session_history", { tenant, username });
}

export async function refresh(): Promise<void> {
  await call("refresh");
}

export function listTenants(): Promise<TenantView[]> {
  return call("list_tenants");
}

export function connectorKinds(): Promise<KindInfo[]> {
  return call("connector_kinds");
}

export function appStatus(): Promise<AppStatus> {
  return call("app_status");
}

/** The app's own settings (not a tenant's). */
export function getSettings(): Promise<AppSettings> {
  return call("get_settings");
}

/**
 * Stores and applies the app's settings; resolves to what was stored. A rejected value is
 * `invalid_input` with the message `<field>: <why>` (`field` an `AppSettings` key).
 */
export function saveSettings(settings: AppSettings): Promise<AppSettings> {
  return call("save_settings", { settings });
}

/** Pauses or resumes polling of every tenant. */
export async function setPaused(paused: boolean): Promise<void> {
  await call("set_paused", { paused });
}

/** Support text (versions, platform, tenants' health; no secrets). */
export function diagnostics(): Promise<string> {
  return call("diagnostics");
}

/** Opens the folder of the app's logs in the system file manager. */
export async function openLogFolder(): Promise<void> {
  await call("open_log_folder");
}

/**
 * Adds (`previousName` null) or edits/renames a tenant. `secret: null` on edit keeps the
 * stored secret. Tauri maps the camelCase `previousName` to the Rust `previous_name`.
 */
export function saveTenant(
  tenant: TenantConfig,
  secret: string | null,
  previousName: string | null,
): Promise<TenantView> {
  return call("save_tenant", { tenant, secret, previousName });
}

/** Removes a tenant and its keychain secret. */
export async function removeTenant(name: string): Promise<void> {
  await call("remove_tenant", { name });
}

/** Tests a draft tenant before saving; `secret: null` uses the stored secret. */
export function testTenant(tenant: TenantConfig, secret: string | null): Promise<TenantCheck> {
  return call("test_tenant", { tenant, secret });
}

/**
 * The person `query` names (an e-mail address, user name, display name or person key),
 * with every account they have across the tenants; several people are listed, not guessed.
 */
export function findPerson(query: string): Promise<PersonMatch> {
  return call("find_person", { query });
}

/** The person with this key and what containing them would do, step by step; nothing is sent. */
export function containPlan(key: string, options: ContainOptions): Promise<ContainPreview> {
  return call("contain_plan", { key, options });
}

/**
 * Contains the person everywhere (one audited action). Resolves once later polls have
 * confirmed the steps or a short wait (about 15 s) has passed.
 */
export function containPerson(key: string, options: ContainOptions): Promise<ContainReport> {
  return call("contain_person", { key, options });
}

/** Re-enables the person's accounts everywhere. */
export function reenablePerson(key: string): Promise<ContainReport> {
  return call("reenable_person", { key });
}

/**
 * Puts an account with a person by hand (`person`), makes it its own person (`own`),
 * or back to joining by address (`automatic`); kept in the config file.
 */
export function assignAccount(tenant: string, user: string, to: Assignment): Promise<PeopleConfig> {
  return call("assign_account", { tenant, user, to });
}

/** The session policies of the configuration file. */
export function listPolicies(): Promise<PolicyConfig[]> {
  return call("list_policies");
}

/** A policy's dry run: what it would end now, and what it spares and why. Nothing is sent. */
export function policyPreview(policy: PolicyConfig): Promise<Selection> {
  return call("policy_preview", { policy });
}

/** Runs a policy now: ends what its dry run lists (audited). */
export function policyRun(policy: PolicyConfig): Promise<PolicyRun> {
  return call("policy_run", { policy });
}

/** `[alerts]` of the configuration file: routes and tuning. */
export function alertsConfig(): Promise<AlertsFile> {
  return call("alerts_config");
}

/**
 * Stores the whole `[alerts]` and applies it at once; resolves to what was stored. A
 * rejected file is a `config` error whose message names the route or item and the field.
 */
export function saveAlertsConfig(alerts: AlertsFile): Promise<AlertsFile> {
  return call("save_alerts_config", { alerts });
}

/** Stores a route's keychain secret under its name; `null` (or empty) removes it. */
export async function setRouteSecret(route: string, secret: string | null): Promise<void> {
  await call("set_route_secret", { route, secret: secret === "" ? null : secret });
}

/** The names of the configured routes that have a secret in the keychain. */
export function routesWithSecret(): Promise<string[]> {
  return call("routes_with_secret");
}

/** Sends a test alert on a route now, with its stored secret; rejects with what went wrong. */
export async function testRoute(route: RouteConfig): Promise<void> {
  await call("test_route", { route });
}

/** The team's shared audit store (if any) and how replication to it goes. */
export function sharedAudit(): Promise<SharedAuditView> {
  return call("shared_audit");
}

/**
 * Configures the shared audit store (`config: null` stops sharing). `password: null` keeps
 * the stored one; the connection is tried before anything is kept.
 */
export function saveSharedAudit(
  config: SharedAuditConfig | null,
  password: string | null,
): Promise<SharedAuditView> {
  return call("save_shared_audit", { config, password });
}

/** The whole team's audit events, newest first. */
export function sharedAuditEvents(
  tenant: string | null,
  search: string | null,
): Promise<SharedEvent[]> {
  return call("shared_audit_events", { tenant, search });
}

/** Recomputes the shared audit's hash chain. */
export function verifySharedAudit(): Promise<Verified> {
  return call("verify_shared_audit");
}

/** Subscribes to `sessions://changed`; resolves to the unsubscribe function. */
export function onSessionsChanged(cb: (payload: SessionsChanged) => void): Promise<UnlistenFn> {
  return listen<SessionsChanged>(SESSIONS_CHANGED_EVENT, (event) => cb(event.payload));
}

/** Subscribes to `app://status` (pause state or settings changed); resolves to the unsubscribe function. */
export function onAppStatus(cb: () => void): Promise<UnlistenFn> {
  return listen<null>(APP_STATUS_EVENT, () => cb());
}

/** Stored alerts matching `filter`, newest first. */
export function listAlerts(filter: AlertFilter): Promise<StoredAlert[]> {
  return call("list_alerts", { filter });
}

/** Marks alerts as acknowledged (no longer open). */
export async function acknowledgeAlerts(ids: number[]): Promise<void> {
  await call("acknowledge_alerts", { ids });
}

/** No new alerts of `rule` for `tenant` for `minutes` minutes; 0 ends the snooze. */
export async function snoozeRule(tenant: string, rule: Rule, minutes: number): Promise<void> {
  await call("snooze_rule", { tenant, rule, minutes });
}

/** Subscribes to `alerts://new` (one event per new alert); resolves to the unsubscribe function. */
export function onNewAlert(cb: (payload: Alert) => void): Promise<UnlistenFn> {
  return listen<Alert>(ALERTS_NEW_EVENT, (event) => cb(event.payload));
}

/** Sent when a native notification is clicked: show that alert's session. */
export const ALERTS_OPEN_EVENT = "alerts://open";

export function onOpenAlert(cb: (payload: OpenAlert) => void): Promise<UnlistenFn> {
  return listen<OpenAlert>(ALERTS_OPEN_EVENT, (event) => cb(event.payload));
}
