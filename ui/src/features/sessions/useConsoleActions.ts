import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import type { Notice } from "../../components/ActionResult";
import { invalidateAll, kindsQueryOptions, tenantsQueryOptions } from "../../hooks/queries";
import type { ActionReport } from "../../ipc/bindings/ActionReport";
import type { Session } from "../../ipc/bindings/Session";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { act, endSessions, errorMessage, queryUsers } from "../../ipc/ipc";
import type { Mode } from "../../lib/consoleState";
import { plural } from "../../lib/format";
import {
  type Selection,
  sessionKey,
  summarizeReport,
  toRefs,
  toSelected,
} from "../../lib/selection";
import {
  planForUsers,
  protectedDoneNote,
  type SelectedUser,
  summarizePlan,
  toSelectedUser,
  type UserActionKind,
  type UserActionPlan,
  userKey,
  userRefs,
  usersOf,
} from "../../lib/userActions";
import { leftOutNote, lifecycleOf, type PendingEnd, SELECT_CAP } from "./console";
import type { ConsoleSelection } from "./useConsoleSelection";

export type ConsoleActionsOptions = {
  mode: Mode;
  selection: ConsoleSelection;
  /** Tenants whose API cannot end one session (Entra ID, Google): only force logout. */
  cannotEnd: ReadonlySet<string>;
  setNotice: (notice: Notice) => void;
};

/**
 * The actions on the selection: end sessions, and force logout / disable / contain /
 * re-enable its users; each asks first (Ctrl/Cmd+click skips that), then reports.
 */
export function useConsoleActions(o: ConsoleActionsOptions) {
  const { mode, cannotEnd, setNotice } = o;
  const { bulk, setBulk, selectedCount } = o.selection;
  const { selection, setSelection } = o.selection.sessions;
  const { selection: userSelection, setSelection: setUserSelection } = o.selection.users;
  const qc = useQueryClient();
  const [pendingEnd, setPendingEnd] = useState<PendingEnd | null>(null);
  const [pendingPlan, setPendingPlan] = useState<UserActionPlan | null>(null);

  // ---- end sessions ----------------------------------------------------------------------
  const endMutation = useMutation({
    mutationFn: ({ sel }: { sel: Selection }) => endSessions(toRefs(sel)),
    onSuccess: (report, { sel }) => {
      const outcome = summarizeReport(report, sel);
      setSelection((prev) => {
        const next = new Map(prev);
        for (const k of outcome.doneKeys) next.delete(k);
        return next;
      });
      setNotice({
        tone: outcome.tone,
        title: outcome.title,
        details: outcome.failures,
        ...lifecycleOf(report),
      });
    },
    onError: (err) => {
      setNotice({ tone: "error", title: `Could not end sessions: ${errorMessage(err)}` });
    },
    onSettled: () => {
      void invalidateAll(qc);
    },
  });

  const runEnd = useCallback(
    (sel: Selection) => {
      setPendingEnd(null);
      if (sel.size === 0) return;
      setNotice({ tone: "info", title: `Ending ${plural(sel.size, "session")}…` });
      endMutation.mutate({ sel });
    },
    [endMutation, setNotice],
  );

  const requestEndOf = useCallback(
    (sel: Selection, skipConfirm: boolean) => {
      if (sel.size === 0 || endMutation.isPending) return;
      const allowed = new Map([...sel].filter(([, s]) => !cannotEnd.has(s.tenant)));
      const skipped = [...new Set([...sel.values()].map((s) => s.tenant))].filter((t) =>
        cannotEnd.has(t),
      );
      const left = skipped.length > 0 ? leftOutNote(sel.size - allowed.size, skipped) : undefined;
      if (allowed.size === 0) {
        setNotice({ tone: "error", title: left ?? "Nothing to end" });
        return;
      }
      // Keep the selection itself when nothing is left out (the dialog checks identity).
      const target = skipped.length === 0 ? sel : allowed;
      if (skipConfirm) {
        runEnd(target);
        if (left) setNotice({ tone: "info", title: left });
      } else setPendingEnd({ sel: target, left });
    },
    [endMutation.isPending, runEnd, cannotEnd, setNotice],
  );

  // ---- user actions ----------------------------------------------------------------------
  const userMutation = useMutation({
    mutationFn: async ({ plan }: { plan: UserActionPlan }): Promise<ActionReport> => {
      const refs = userRefs(plan.users);
      // Protected accounts beside others: signed out, never disabled.
      const signOut = userRefs(plan.signOutOnly);
      const merged = (first: ActionReport, second: ActionReport): ActionReport => ({
        action_id: first.action_id,
        items: [...first.items, ...second.items],
      });
      switch (plan.kind) {
        case "contain": {
          // The playbook: force logout first, then disable; both steps are audited.
          const logout = await act("logout", [...refs, ...signOut]);
          const disable = await act("disable_only", refs);
          return merged(logout, disable);
        }
        case "disable": {
          const disable = await act("disable", refs);
          if (signOut.length === 0) return disable;
          return merged(disable, await act("logout", signOut));
        }
        default:
          return act(plan.kind, refs);
      }
    },
    onSuccess: (report, { plan }) => {
      const outcome = summarizePlan(plan, report);
      if (plan.kind !== "enable") {
        // Their sessions are being ended: they no longer need to stay selected.
        const done = new Set(outcome.doneUsers);
        setSelection((prev) => {
          const next = new Map(prev);
          for (const [k, s] of prev) {
            if (s.user_id === null || done.has(userKey(s.tenant, s.user_id))) next.delete(k);
          }
          return next;
        });
        setBulk(null);
        setUserSelection((prev) => {
          const next = new Map(prev);
          for (const k of done) next.delete(k);
          return next;
        });
      }
      const details = [...outcome.failures];
      // Protected accounts were signed out, not disabled: say so.
      const notDisabled = plan.requested === plan.kind ? plan.signOutOnly : plan.users;
      if (notDisabled.length > 0) details.push(protectedDoneNote(notDisabled));
      setNotice({
        tone: outcome.tone,
        title: outcome.title,
        details,
        ...lifecycleOf(report),
      });
    },
    onError: (err, { plan }) => {
      const what = plan.kind === plan.requested ? plan.title : "Force logout";
      setNotice({ tone: "error", title: `${what} failed: ${errorMessage(err)}` });
    },
    onSettled: () => {
      void invalidateAll(qc);
    },
  });

  const runUserAction = useCallback(
    (plan: UserActionPlan) => {
      setPendingPlan(null);
      if (plan.users.length === 0 && plan.signOutOnly.length === 0) {
        setNotice({ tone: "error", title: "No user to act on" });
        return;
      }
      // A plan offering a force logout instead says what it sends.
      const what = plan.kind === plan.requested ? plan.title : "Force logout";
      setNotice({ tone: "info", title: `${what}: sending…` });
      userMutation.mutate({ plan });
    },
    [userMutation, setNotice],
  );

  // What a force logout does in each tenant, said in the confirmation.
  const tenantsQ = useQuery(tenantsQueryOptions());
  const kindsQ = useQuery(kindsQueryOptions());
  const logoutEffects = useMemo(() => {
    const byKind = new Map((kindsQ.data ?? []).map((k) => [k.kind, k.logout_effect]));
    const out = new Map<string, string>();
    for (const t of tenantsQ.data ?? []) {
      const effect = byKind.get(t.config.kind);
      if (effect) out.set(t.config.name, effect);
    }
    return out;
  }, [tenantsQ.data, kindsQ.data]);

  const planFor = useCallback(
    (kind: UserActionKind, users: readonly SelectedUser[], skipConfirm: boolean) => {
      const plan = planForUsers(kind, users, logoutEffects);
      // A plan offering another action than the one asked for always asks first.
      if (skipConfirm && plan.requested === plan.kind) runUserAction(plan);
      else setPendingPlan(plan);
    },
    [runUserAction, logoutEffects],
  );

  /** The users the selection stands for (a "select all filtered" selection asks the back end). */
  const selectedUsers = useCallback(async (): Promise<SelectedUser[]> => {
    if (mode === "users") return [...userSelection.values()];
    if (!bulk) return usersOf(selection.values());
    const page = await queryUsers({
      ...bulk.filter,
      sort: "username",
      descending: false,
      offset: 0,
      limit: SELECT_CAP,
    });
    return page.rows.map(toSelectedUser);
  }, [mode, userSelection, bulk, selection]);

  const busy = endMutation.isPending || userMutation.isPending;
  const requestUserAction = useCallback(
    (kind: UserActionKind, skipConfirm: boolean) => {
      if (selectedCount === 0 || busy) return;
      // Known at once unless the selection is "all filtered" (then the back end knows them).
      if (mode === "users" || !bulk) {
        planFor(
          kind,
          mode === "users" ? [...userSelection.values()] : usersOf(selection.values()),
          skipConfirm,
        );
        return;
      }
      selectedUsers().then(
        (users) => planFor(kind, users, skipConfirm),
        (err: unknown) =>
          setNotice({ tone: "error", title: `Could not resolve the users: ${errorMessage(err)}` }),
      );
    },
    [selectedCount, busy, mode, bulk, userSelection, selection, selectedUsers, planFor, setNotice],
  );

  /** Delete and the End button: end the selected sessions (the Users view: force logout). */
  const requestEnd = useCallback(
    (skipConfirm: boolean) => {
      if (mode === "users") requestUserAction("logout", skipConfirm);
      else requestEndOf(selection, skipConfirm);
    },
    [mode, requestUserAction, requestEndOf, selection],
  );

  const cancelEnd = useCallback(() => setPendingEnd(null), []);
  const cancelPlan = useCallback(() => setPendingPlan(null), []);
  /** A user row's Force logout button. */
  const forceLogout = useCallback(
    (row: UserRow, skipConfirm: boolean) => planFor("logout", [toSelectedUser(row)], skipConfirm),
    [planFor],
  );
  /** An expanded user row's End button: that one session. */
  const endOne = useCallback(
    (s: Session, skipConfirm: boolean) =>
      requestEndOf(new Map([[sessionKey(s.tenant, s.id), toSelected(s)]]), skipConfirm),
    [requestEndOf],
  );

  return {
    endPending: endMutation.isPending,
    userActionPending: userMutation.isPending,
    /** An action is under way. */
    busy,
    pendingEnd,
    cancelEnd,
    runEnd,
    pendingPlan,
    cancelPlan,
    runUserAction,
    requestEnd,
    requestEndOf,
    requestUserAction,
    forceLogout,
    endOne,
  };
}
