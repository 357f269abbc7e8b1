// People across tenants: the client-side helpers (grouping, labels, summaries).
import type { ActionKind } from "../../ipc/bindings/ActionKind";
import type { ContainItem } from "../../ipc/bindings/ContainItem";
import type { ContainOptions } from "../../ipc/bindings/ContainOptions";
import type { ContainReport } from "../../ipc/bindings/ContainReport";
import type { LinkedBy } from "../../ipc/bindings/LinkedBy";
import type { Outcome } from "../../ipc/bindings/Outcome";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { plural } from "../../lib/format";

/** Every step: what "Contain everywhere" starts from. */
export const ALL_STEPS: ContainOptions = {
  disable: true,
  end_sessions: true,
  revoke_grants: true,
  require_password_change: true,
};

/** Lower-cased and trimmed, as the core compares keys and names. */
export function fold(s: string): string {
  return s.trim().toLowerCase();
}

/** `local@domain.tld`: the core's test for an address. */
function looksLikeAddress(s: string): boolean {
  const t = s.trim();
  const at = t.indexOf("@");
  return at > 0 && t.slice(at + 1).includes(".");
}

/**
 * The person a user row belongs to, as far as the window can tell without the links made
 * by hand in the config file: its e-mail address, else a user name that is an address,
 * else its user name (all lower-cased).
 */
export function personKeyOf(row: Pick<UserRow, "email" | "username">): string {
  if (row.email && looksLikeAddress(row.email)) return fold(row.email);
  return fold(row.username);
}

/** What the person panel is opened with: the account's address, else its user name. */
export function personQueryOf(row: Pick<UserRow, "email" | "username">): string {
  return row.email?.trim() ? row.email.trim() : row.username;
}

export type PersonGroup = {
  key: string;
  /** The rows of this person with their index in the loaded list, in list order. */
  rows: { index: number; row: UserRow }[];
  /** Distinct tenants, in order of appearance. */
  tenants: string[];
};

/** Groups user rows by person key; groups in order of their first row. */
export function groupByPerson(rows: readonly UserRow[]): PersonGroup[] {
  const groups = new Map<string, PersonGroup>();
  rows.forEach((row, index) => {
    const key = personKeyOf(row);
    let g = groups.get(key);
    if (!g) {
      g = { key, rows: [], tenants: [] };
      groups.set(key, g);
    }
    g.rows.push({ index, row });
    if (!g.tenants.includes(row.tenant)) g.tenants.push(row.tenant);
  });
  return [...groups.values()];
}

const LINKED_BY: Record<LinkedBy, string> = {
  manual: "linked by hand (config file)",
  email: "same e-mail address",
  username: "same user name",
  unlinked: "unlinked by hand: its own person",
};

export function linkedByLabel(l: LinkedBy): string {
  return LINKED_BY[l] ?? l;
}

const STEP_LABELS: Partial<Record<ActionKind, string>> = {
  disable_only: "Disable the account",
  disable: "End sessions & disable",
  logout: "End every session",
  revoke_grants: "Revoke tokens & grants",
  require_password_change: "Require new password",
  enable: "Re-enable the account",
  end_session: "End session",
};

export function stepLabel(step: ActionKind): string {
  return STEP_LABELS[step] ?? step.replaceAll("_", " ");
}

const STATE_LABELS: Record<Outcome["state"], string> = {
  planned: "will be sent",
  not_offered: "not offered",
  refused: "refused",
  accepted: "accepted",
  confirmed: "confirmed",
  not_confirmed: "not confirmed",
  failed: "failed",
};

export function outcomeLabel(o: Outcome): string {
  return STATE_LABELS[o.state] ?? o.state;
}

/** Why: the reason of a not offered / refused / not confirmed step, the error of a failed one. */
export function outcomeReason(o: Outcome): string | null {
  switch (o.state) {
    case "not_offered":
    case "refused":
    case "not_confirmed":
      return o.reason;
    case "failed":
      return o.error.message;
    default:
      return null;
  }
}

/** The items grouped by tenant, tenants in order of their first item. */
export function itemsByTenant(items: readonly ContainItem[]): [string, ContainItem[]][] {
  const out = new Map<string, ContainItem[]>();
  for (const i of items) {
    const list = out.get(i.tenant) ?? [];
    list.push(i);
    out.set(i.tenant, list);
  }
  return [...out];
}

export type ContainSummary = {
  tone: "success" | "warning" | "error";
  title: string;
};

/**
 * "All confirmed" when every step that was sent is confirmed (or accepted where nothing
 * can observe it) and every tenant was checked; else how many items are not.
 */
export function summarizeContain(report: ContainReport, verb = "Contained"): ContainSummary {
  const count = (state: Outcome["state"]) =>
    report.items.filter((i) => i.outcome.state === state).length;
  const sent = report.items.length - count("not_offered") - count("refused");
  const failed = count("failed");
  const notConfirmed = count("not_confirmed");
  const unchecked = report.unchecked_tenants.length;
  if (sent === 0) return { tone: "error", title: "Nothing was sent: no step could be taken" };
  if (failed === 0 && notConfirmed === 0 && unchecked === 0) {
    const accepted = count("accepted");
    if (accepted === 0) return { tone: "success", title: `${verb}: all confirmed` };
    // Accepted: the tenant took it, and nothing Vigil can read would show it (a
    // revocation, a password, a re-enable).
    const confirmed = sent - accepted;
    const done = `${plural(accepted, "item")} accepted by the tenant`;
    return {
      tone: "success",
      title:
        confirmed === 0
          ? `${verb}: done (${done})`
          : `${verb}: done (${plural(confirmed, "item")} confirmed, ${done})`,
    };
  }
  const parts: string[] = [];
  if (notConfirmed > 0) parts.push(`${plural(notConfirmed, "item")} not confirmed`);
  if (failed > 0) parts.push(`${plural(failed, "item")} failed`);
  if (unchecked > 0) parts.push(`${plural(unchecked, "tenant")} not checked`);
  return { tone: failed > 0 ? "error" : "warning", title: `${verb}: ${parts.join(", ")}` };
}
