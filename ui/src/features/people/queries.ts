import { type QueryClient, queryOptions } from "@tanstack/react-query";
import type { AuditEntry } from "../../ipc/bindings/AuditEntry";
import type { ContainOptions } from "../../ipc/bindings/ContainOptions";
import { auditEntries, containPlan, findPerson } from "../../ipc/ipc";
import { fold } from "./people";

/** Audit entries shown for a person. */
export const PERSON_AUDIT_SHOWN = 10;
/** User names the audit log is searched by (one call each). */
const AUDIT_NAMES = 4;

export const peopleKeys = {
  people: ["people"] as const,
  find: (query: string) => ["people", "find", query] as const,
  plan: (key: string, options: ContainOptions) => ["people", "plan", key, options] as const,
  // Under "audit": every action refreshes it with the rest of the audit log.
  audit: (accounts: readonly (readonly [string, string])[]) =>
    ["audit", "person", accounts] as const,
};

/**
 * The person a query names. Asking may reach every tenant's directory, so it is not
 * re-asked on every poll: only when the panel opens or after an action.
 */
export function findPersonQueryOptions(query: string) {
  return queryOptions({
    queryKey: peopleKeys.find(query),
    queryFn: () => findPerson(query),
    staleTime: 0,
  });
}

/** What containing the person with these steps would do (nothing is sent). */
export function containPlanQueryOptions(key: string, options: ContainOptions) {
  return queryOptions({
    queryKey: peopleKeys.plan(key, options),
    queryFn: () => containPlan(key, options),
    staleTime: 0,
    gcTime: 0,
  });
}

/**
 * The latest audit entries of a person's accounts (tenant + user name pairs): the log
 * searched by each user name, kept only where tenant and user match, newest first.
 */
export function personAuditQueryOptions(accounts: readonly (readonly [string, string])[]) {
  return queryOptions({
    queryKey: peopleKeys.audit(accounts),
    queryFn: async (): Promise<AuditEntry[]> => {
      const names = [...new Set(accounts.map(([, user]) => user))].slice(0, AUDIT_NAMES);
      const wanted = new Set(accounts.map(([tenant, user]) => `${tenant}\u0000${fold(user)}`));
      const lists = await Promise.all(
        names.map((search) =>
          auditEntries({ since: null, tenant: null, search, action_id: null, limit: 50 }),
        ),
      );
      const byId = new Map<number, AuditEntry>();
      for (const e of lists.flat()) {
        if (e.target_user !== null && wanted.has(`${e.tenant}\u0000${fold(e.target_user)}`)) {
          byId.set(e.id, e);
        }
      }
      return [...byId.values()]
        .sort((a, b) => b.requested_at.localeCompare(a.requested_at) || b.id - a.id)
        .slice(0, PERSON_AUDIT_SHOWN);
    },
  });
}

/** After containing or re-enabling: the person, their plan and their audit entries. */
export function invalidatePeople(qc: QueryClient): Promise<void> {
  return qc.invalidateQueries({ queryKey: peopleKeys.people });
}
