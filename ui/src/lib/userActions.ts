import type { ActionKind } from "../ipc/bindings/ActionKind";
import type { ActionReport } from "../ipc/bindings/ActionReport";
import type { SessionRef } from "../ipc/bindings/SessionRef";
import type { UserRow } from "../ipc/bindings/UserRow";
import { plural, visible } from "./format";
import { type SelectedSession, sessionKey } from "./selection";

/** The user actions offered on the selection; `contain` is the incident playbook
 * (force logout, then disable), two audited actions in a row. */
export type UserActionKind = Extract<ActionKind, "logout" | "disable" | "enable"> | "contain";

/** One distinct user (tenant + user id) of the selection. */
export type SelectedUser = {
  tenant: string;
  user_id: string;
  username: string;
  protected: boolean;
  /** Selected sessions of this user. */
  sessions: number;
};

/** Selection key of a user: tenant + NUL + user id. */
export function userKey(tenant: string, userId: string): string {
  return sessionKey(tenant, userId);
}

/** What the selection keeps of a row of the Users view. */
export function toSelectedUser(u: UserRow): SelectedUser {
  return {
    tenant: u.tenant,
    user_id: u.user_id,
    username: u.username,
    protected: u.protected,
    sessions: u.sessions,
  };
}

/** The distinct users of the selected sessions, in selection order. */
export function usersOf(selected: Iterable<SelectedSession>): SelectedUser[] {
  const users = new Map<string, SelectedUser>();
  for (const s of selected) {
    if (s.user_id === null) continue; // a bare ref: its user is resolved elsewhere
    const key = userKey(s.tenant, s.user_id);
    const u = users.get(key);
    if (u) {
      u.sessions += 1;
      u.protected ||= s.protected;
    } else {
      users.set(key, {
        tenant: s.tenant,
        user_id: s.user_id,
        username: s.username ?? s.user_id,
        protected: s.protected,
        sessions: 1,
      });
    }
  }
  return [...users.values()];
}

/** `act` targets: one per user, `session_id` carrying the user id. */
export function userRefs(users: readonly SelectedUser[]): SessionRef[] {
  return users.map((u) => ({ tenant: u.tenant, session_id: u.user_id }));
}

const MAX_NAMES = 6;

/** "alice, bob in tenant demo; carol in tenant prod" (long lists are shortened). */
export function namesByTenant(users: readonly SelectedUser[]): string {
  const byTenant = new Map<string, string[]>();
  let shown = 0;
  for (const u of users) {
    if (shown >= MAX_NAMES) break;
    const list = byTenant.get(u.tenant) ?? [];
    list.push(visible(u.username));
    byTenant.set(u.tenant, list);
    shown += 1;
  }
  const text = [...byTenant].map(([t, names]) => `${names.join(", ")} in tenant ${t}`).join("; ");
  return users.length > shown ? `${text}; and ${users.length - shown} more` : text;
}

export type UserActionPlan = {
  kind: UserActionKind;
  /** The action the admin asked for: `kind` unless the plan offers something else instead
   * (End & Disable or Contain of protected accounts only: a force logout of them). */
  requested: UserActionKind;
  /** Users the action is sent for. */
  users: SelectedUser[];
  /** Protected accounts of a disable or contain beside others: never disabled (the tenant
   * refuses), only signed out (a force logout). */
  signOutOnly: SelectedUser[];
  /** The confirmation question. */
  message: string;
  /** What the dialog says besides (protected accounts only signed out), if anything. */
  note?: string | undefined;
  /** What else to know (consequences). */
  detail: string;
  title: string;
  confirmLabel: string;
};

const accounts = (n: number) => plural(n, "account");
const sessionCount = (users: readonly SelectedUser[]) => users.reduce((n, u) => n + u.sessions, 0);

/** Which users an action applies to and how to say so. */
export function planUserAction(
  kind: UserActionKind,
  selected: Iterable<SelectedSession>,
): UserActionPlan {
  return planForUsers(kind, usersOf(selected));
}

/** What a force logout does in each tenant of these users ("Tenant okta-prod: ends …"),
 * from the connector kinds' own descriptions; tenants without one are left out. */
export function logoutEffects(
  users: readonly SelectedUser[],
  effects: ReadonlyMap<string, string>,
): string {
  const tenants = [...new Set(users.map((u) => u.tenant))];
  return tenants
    .filter((t) => effects.has(t))
    .map((t) => `Tenant ${visible(t)}: force logout ${effects.get(t)}.`)
    .join(" ");
}

const TITLES: Record<UserActionKind, string> = {
  logout: "Force logout",
  disable: "End & Disable",
  contain: "Contain user",
  enable: "Re-enable",
};

/** Which of these users an action applies to and how to say so. `effects`: tenant name →
 * what a force logout does there, said in the confirmation of every action that ends
 * sessions. Protected accounts are never disabled: beside others they are only signed out;
 * alone, the plan offers to sign them out instead. */
export function planForUsers(
  kind: UserActionKind,
  all: readonly SelectedUser[],
  effects: ReadonlyMap<string, string> = new Map(),
): UserActionPlan {
  const disables = kind === "disable" || kind === "contain";
  const users = disables ? all.filter((u) => !u.protected) : [...all];
  const signOutOnly = disables ? all.filter((u) => u.protected) : [];
  if (disables && users.length === 0 && signOutOnly.length > 0) {
    return signOutInstead(kind, signOutOnly, effects);
  }
  const sessions = sessionCount(users);
  const names = namesByTenant(users);
  let message: string;
  let detail: string;
  let confirmLabel: string;
  switch (kind) {
    case "logout":
      message = `Force logout ${plural(users.length, "user")} (${names}) and end their ${plural(sessions, "session")}?`;
      detail =
        "Every session of these users is ended, also ones not selected. They can log in again.";
      confirmLabel = `Force logout ${plural(users.length, "user")}`;
      break;
    case "disable":
      message = `Disable ${accounts(users.length)} (${names}) and end their ${plural(sessions, "session")}?`;
      detail = "Every session of these users is ended and they cannot log in until re-enabled.";
      confirmLabel = `Disable ${accounts(users.length)}`;
      break;
    case "contain":
      message = `Contain ${plural(users.length, "user")} (${names}): end every session, then disable the ${users.length === 1 ? "account" : "accounts"}?`;
      detail =
        "Step 1 force logout, step 2 disable; each step is audited. Refresh tokens end with the sessions where the system ties them together.";
      confirmLabel = `Contain ${plural(users.length, "user")}`;
      break;
    case "enable":
      message = `Re-enable ${accounts(users.length)} (${names})?`;
      detail = "These users can log in again.";
      confirmLabel = `Re-enable ${accounts(users.length)}`;
      break;
  }
  if (kind !== "enable") {
    const said = logoutEffects([...users, ...signOutOnly], effects);
    if (said) detail = `${detail} ${said}`;
  }
  let note: string | undefined;
  if (signOutOnly.length > 0) {
    note = protectedNote(signOutOnly);
    confirmLabel = `${confirmLabel}, sign out ${signOutOnly.length} protected`;
  }
  return {
    kind,
    requested: kind,
    users,
    signOutOnly,
    message,
    note,
    detail,
    title: TITLES[kind],
    confirmLabel,
  };
}

/** End & Disable or Contain of protected accounts only: none can be disabled; offer to end
 * their sessions (a force logout) instead. */
function signOutInstead(
  requested: UserActionKind,
  users: SelectedUser[],
  effects: ReadonlyMap<string, string>,
): UserActionPlan {
  const one = users.length === 1;
  const names = namesByTenant(users);
  const sessions = plural(sessionCount(users), "session");
  const message = one
    ? `${names} is a protected account: it will not be disabled. End its ${sessions} instead?`
    : `${names} are protected accounts: they will not be disabled. End their ${sessions} instead?`;
  let detail = one
    ? "Force logout ends every session of this user, also ones not selected; they can log in again."
    : "Force logout ends every session of these users, also ones not selected; they can log in again.";
  const said = logoutEffects(users, effects);
  if (said) detail = `${detail} ${said}`;
  const first = users[0];
  return {
    kind: "logout",
    requested,
    users,
    signOutOnly: [],
    message,
    detail,
    title: TITLES[requested],
    confirmLabel:
      one && first
        ? `Force logout ${visible(first.username)}`
        : `Force logout ${users.length} users`,
  };
}

/** "Protected account root in tenant demo will not be disabled: it is only signed out." */
export function protectedNote(users: readonly SelectedUser[]): string {
  const who = namesByTenant(users);
  return users.length === 1
    ? `Protected account ${who} will not be disabled: it is only signed out (force logout).`
    : `${users.length} protected accounts (${who}) will not be disabled: they are only signed out (force logout).`;
}

/** After the action: "Not disabled (protected): root in tenant demo." */
export function protectedDoneNote(users: readonly SelectedUser[]): string {
  return `Not disabled (protected): ${namesByTenant(users)}.`;
}

const DONE: Record<UserActionKind, string> = {
  contain: "Contained (signed out everywhere and disabled)",
  logout: "Logged out",
  disable: "Disabled",
  enable: "Re-enabled",
};

export type UserActionOutcome = {
  tone: "success" | "warning" | "error";
  title: string;
  failures: string[];
  /** User keys for which the action was accepted. */
  doneUsers: string[];
};

export function summarizeUserReport(
  kind: UserActionKind,
  report: ActionReport,
  users: readonly SelectedUser[],
): UserActionOutcome {
  const byKey = new Map(users.map((u) => [userKey(u.tenant, u.user_id), u]));
  const failures: string[] = [];
  const failed = new Set<string>();
  const seen: string[] = [];
  // A user is done when every item for them succeeded (contain has one item per step).
  for (const item of report.items) {
    const key = userKey(item.target.tenant, item.target.session_id);
    if (!seen.includes(key)) seen.push(key);
    if (item.ok || item.already_gone) continue;
    failed.add(key);
    const who = visible(byKey.get(key)?.username ?? item.target.session_id);
    failures.push(
      `${who} (tenant ${item.target.tenant}): ${visible(item.error?.message ?? "failed")}`,
    );
  }
  const doneUsers = seen.filter((k) => !failed.has(k));
  const noun = kind === "logout" ? "user" : "account";
  const parts: string[] = [];
  if (doneUsers.length > 0 || failures.length === 0)
    parts.push(`${DONE[kind]} ${plural(doneUsers.length, noun)}`);
  if (failures.length > 0) parts.push(`failed for ${plural(failures.length, noun)}`);
  const tone = failures.length === 0 ? "success" : doneUsers.length > 0 ? "warning" : "error";
  return { tone, title: parts.join(", "), failures, doneUsers };
}

/** The outcome of a plan: its action for `plan.users`, and the force logout of the protected
 * accounts it only signs out, said apart ("Disabled 2 accounts, signed out 1 protected account"). */
export function summarizePlan(plan: UserActionPlan, report: ActionReport): UserActionOutcome {
  if (plan.signOutOnly.length === 0) return summarizeUserReport(plan.kind, report, plan.users);
  const prot = new Set(plan.signOutOnly.map((u) => userKey(u.tenant, u.user_id)));
  const isProt = (i: ActionReport["items"][number]) =>
    prot.has(userKey(i.target.tenant, i.target.session_id));
  const main = summarizeUserReport(
    plan.kind,
    { ...report, items: report.items.filter((i) => !isProt(i)) },
    plan.users,
  );
  const out = summarizeUserReport(
    "logout",
    { ...report, items: report.items.filter(isProt) },
    plan.signOutOnly,
  );
  const parts = [main.title];
  if (out.doneUsers.length > 0)
    parts.push(`signed out ${plural(out.doneUsers.length, "protected account")}`);
  if (out.failures.length > 0)
    parts.push(`sign-out failed for ${plural(out.failures.length, "protected account")}`);
  const tones = [main.tone, out.tone];
  const tone = tones.every((t) => t === "success")
    ? "success"
    : tones.every((t) => t === "error")
      ? "error"
      : "warning";
  return {
    tone,
    title: parts.join(", "),
    failures: [...main.failures, ...out.failures],
    doneUsers: [...main.doneUsers, ...out.doneUsers],
  };
}
