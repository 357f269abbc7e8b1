import type { ActionReport } from "../ipc/bindings/ActionReport";
import type { Session } from "../ipc/bindings/Session";
import type { SessionRef } from "../ipc/bindings/SessionRef";
import { plural, visible } from "./format";

/**
 * What the UI remembers about a selected session (rows themselves live in Rust). Sessions
 * picked by "select all filtered" arrive as bare refs: their user is not known (null).
 */
export type SelectedSession = Pick<Session, "tenant" | "id" | "current" | "protected"> & {
  user_id: string | null;
  username: string | null;
};

export type Selection = ReadonlyMap<string, SelectedSession>;

export const EMPTY_SELECTION: Selection = new Map();

/** Selection key: tenant + NUL + session id. */
export function sessionKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}

export function toSelected(s: Session): SelectedSession {
  return {
    tenant: s.tenant,
    id: s.id,
    user_id: s.user_id,
    username: s.username,
    current: s.current,
    protected: s.protected,
  };
}

export function selectionFrom(rows: readonly Session[]): Map<string, SelectedSession> {
  const m = new Map<string, SelectedSession>();
  for (const r of rows) m.set(sessionKey(r.tenant, r.id), toSelected(r));
  return m;
}

/** A session known only by its ref (from "select all filtered"). */
export function fromRef(ref: SessionRef): SelectedSession {
  return {
    tenant: ref.tenant,
    id: ref.session_id,
    user_id: null,
    username: null,
    current: false,
    protected: false,
  };
}

export function toRefs(selection: Selection): SessionRef[] {
  return [...selection.values()].map((s) => ({ tenant: s.tenant, session_id: s.id }));
}

export function endButtonLabel(count: number): string {
  return count <= 1 ? "End session" : `End ${plural(count, "session")}`;
}

/** "End 1 session of alice (tenant demo)?" / "End 12 sessions of 7 users in 2 tenants?" */
export function describeEnd(selected: readonly SelectedSession[]): string {
  const n = selected.length;
  const users = new Map<string, SelectedSession>();
  const tenants = new Set<string>();
  let unknownUsers = false;
  for (const s of selected) {
    if (s.user_id === null) unknownUsers = true;
    else users.set(sessionKey(s.tenant, s.user_id), s);
    tenants.add(s.tenant);
  }
  const sessions = plural(n, "session");
  const [onlyUser] = users.values();
  if (!unknownUsers && users.size === 1 && onlyUser) {
    return `End ${sessions} of ${visible(onlyUser.username ?? "")} (tenant ${onlyUser.tenant})?`;
  }
  const [onlyTenant] = tenants;
  const where =
    tenants.size === 1 && onlyTenant
      ? `in tenant ${onlyTenant}`
      : `in ${plural(tenants.size, "tenant")}`;
  if (unknownUsers) return `End ${sessions} ${where}?`;
  return `End ${sessions} of ${plural(users.size, "user")} ${where}?`;
}

export type ActionOutcome = {
  tone: "success" | "warning" | "error";
  title: string;
  failures: string[];
  /** Keys that no longer need to stay selected (ended or already gone). */
  doneKeys: string[];
};

export function summarizeReport(report: ActionReport, selection: Selection): ActionOutcome {
  let ended = 0;
  let gone = 0;
  const failures: string[] = [];
  const doneKeys: string[] = [];
  for (const item of report.items) {
    const key = sessionKey(item.target.tenant, item.target.session_id);
    if (item.ok || item.already_gone) {
      doneKeys.push(key);
      if (item.already_gone) gone += 1;
      else ended += 1;
      continue;
    }
    const who = selection.get(key)?.username ?? item.target.session_id;
    failures.push(`${who} (tenant ${item.target.tenant}): ${item.error?.message ?? "failed"}`);
  }
  const parts: string[] = [];
  if (ended > 0 || (gone === 0 && failures.length === 0))
    parts.push(`Ended ${plural(ended, "session")}`);
  if (gone > 0) parts.push(`${formatGone(gone)}`);
  if (failures.length > 0) parts.push(`failed to end ${plural(failures.length, "session")}`);
  const title = capitalize(parts.join(", "));
  const tone = failures.length === 0 ? "success" : ended + gone > 0 ? "warning" : "error";
  return { tone, title, failures, doneKeys };
}

function formatGone(n: number): string {
  return n === 1 ? "1 was already gone" : `${plural(n, "session")} were already gone`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
