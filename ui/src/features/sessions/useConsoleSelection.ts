import { useCallback, useMemo, useState } from "react";
import type { Notice } from "../../components/ActionResult";
import type { BaseQuery, BaseUserQuery } from "../../hooks/queries";
import type { RowModifiers } from "../../hooks/useGridKeyboard";
import type { Session } from "../../ipc/bindings/Session";
import type { SessionFilter } from "../../ipc/bindings/SessionFilter";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { errorMessage, querySessions, queryUsers, sessionRefs } from "../../ipc/ipc";
import type { Mode } from "../../lib/consoleState";
import { formatCount, plural } from "../../lib/format";
import { fromRef, type SelectedSession, sessionKey, toSelected } from "../../lib/selection";
import { type SelectedUser, toSelectedUser, userKey, usersOf } from "../../lib/userActions";
import { filterOf, SELECT_CAP } from "./console";
import { useRowSelection } from "./useRowSelection";

/** Set by "select all filtered": the filter it stands for (its users are resolved on demand). */
export type Bulk = { filter: SessionFilter; total: number };

const sessionRowKey = (s: Session) => sessionKey(s.tenant, s.id);
const userRowKey = (u: UserRow) => userKey(u.tenant, u.user_id);

export type ConsoleSelectionOptions = {
  mode: Mode;
  base: BaseQuery;
  userBase: BaseUserQuery;
  listKey: string;
  /** Rows in the current view's list. */
  rowsTotal: number;
  setNotice: (notice: Notice) => void;
};

/**
 * What is selected: sessions (Sessions view) or users (Users view), each with its anchor
 * and keyboard row; "select all filtered"; the users rows expanded to their sessions.
 */
export function useConsoleSelection(o: ConsoleSelectionOptions) {
  const { mode, base, userBase, listKey, rowsTotal, setNotice } = o;
  const onRangeError = useCallback(
    (err: unknown) =>
      setNotice({ tone: "error", title: `Could not select range: ${errorMessage(err)}` }),
    [setNotice],
  );
  const sessions = useRowSelection<Session, SelectedSession, BaseQuery>({
    base,
    listKey,
    keyOf: sessionRowKey,
    toItem: toSelected,
    fetchRows: querySessions,
    cap: SELECT_CAP,
    onRangeError,
  });
  const users = useRowSelection<UserRow, SelectedUser, BaseUserQuery>({
    base: userBase,
    listKey,
    keyOf: userRowKey,
    toItem: toSelectedUser,
    fetchRows: queryUsers,
    cap: SELECT_CAP,
    onRangeError,
  });

  const [bulk, setBulk] = useState<Bulk | null>(null);
  const [prevListKey, setPrevListKey] = useState(listKey);
  if (prevListKey !== listKey) {
    setPrevListKey(listKey);
    setBulk(null);
  }
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());

  const onSessionRowClick = sessions.onRowClick;
  const onRowClick = useCallback(
    (index: number, s: Session, mods: RowModifiers) => {
      setBulk(null);
      onSessionRowClick(index, s, mods);
    },
    [onSessionRowClick],
  );

  const [selecting, setSelecting] = useState(false);
  const { setSelection, setAnchor, isCurrent } = sessions;
  const { setSelection: setUserSelection, isCurrent: isCurrentUsers } = users;
  const selectAll = useCallback(async () => {
    setSelecting(true);
    try {
      if (mode === "users") {
        const forBase = userBase;
        const page = await queryUsers({ ...forBase, offset: 0, limit: SELECT_CAP });
        if (!isCurrentUsers(forBase)) return;
        setUserSelection(
          new Map(page.rows.map((r) => [userKey(r.tenant, r.user_id), toSelectedUser(r)])),
        );
        if (page.total > page.rows.length) {
          setNotice({
            tone: "warning",
            title: `Selected the first ${formatCount(page.rows.length)} of ${plural(page.total, "user")}`,
            details: ["One action takes at most that many: narrow the filter to select the rest."],
          });
        }
        return;
      }
      const forBase = base;
      const only = filterOf(forBase);
      // The refs, and the admin's own sessions among them (so ending them still asks).
      const [refs, own] = await Promise.all([
        sessionRefs(only),
        querySessions({ ...forBase, current: true, offset: 0, limit: 100 }),
      ]);
      if (!isCurrent(forBase)) return;
      const next = new Map<string, SelectedSession>();
      for (const r of refs.refs) next.set(sessionKey(r.tenant, r.session_id), fromRef(r));
      for (const s of own.rows) {
        const key = sessionKey(s.tenant, s.id);
        if (next.has(key)) next.set(key, toSelected(s));
      }
      setSelection(next);
      setBulk({ filter: only, total: refs.total });
      setAnchor(null);
      if (refs.total > refs.refs.length) {
        setNotice({
          tone: "warning",
          title: `Selected the first ${formatCount(refs.refs.length)} of ${plural(refs.total, "session")}`,
          details: ["One action takes at most that many: narrow the filter to select the rest."],
        });
      }
    } catch (err) {
      setNotice({ tone: "error", title: `Could not select all: ${errorMessage(err)}` });
    } finally {
      setSelecting(false);
    }
  }, [
    mode,
    base,
    userBase,
    isCurrent,
    isCurrentUsers,
    setSelection,
    setUserSelection,
    setAnchor,
    setNotice,
  ]);

  const clearSessions = sessions.clear;
  const clearUsers = users.clear;
  const clearSelection = useCallback(() => {
    clearSessions();
    clearUsers();
    setBulk(null);
  }, [clearSessions, clearUsers]);

  const selection = sessions.selection;
  const userSelection = users.selection;
  const selectedCount = mode === "sessions" ? selection.size : userSelection.size;
  const allSelected = selectedCount > 0 && selectedCount >= Math.min(rowsTotal, SELECT_CAP);
  const onToggleAll = useCallback(() => {
    if (selectedCount > 0) clearSelection();
    else void selectAll();
  }, [selectedCount, clearSelection, selectAll]);

  const toggleExpand = useCallback((row: UserRow) => {
    const key = userKey(row.tenant, row.user_id);
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);

  const includesOwn = [...selection.values()].some((s) => s.current);
  /** The one user selected, if exactly one (the History button). */
  const onlyUser: SelectedUser | undefined = useMemo(() => {
    const picked =
      mode === "users" ? [...userSelection.values()] : bulk ? [] : usersOf(selection.values());
    return picked.length === 1 ? picked[0] : undefined;
  }, [mode, userSelection, selection, bulk]);

  return {
    /** The Sessions view's rows. */
    sessions: { ...sessions, onRowClick },
    /** The Users view's rows. */
    users,
    bulk,
    setBulk,
    selecting,
    selectAll,
    clearSelection,
    selectedCount,
    allSelected,
    onToggleAll,
    expanded,
    toggleExpand,
    /** The selection holds the admin's own session. */
    includesOwn,
    onlyUser,
  };
}

export type ConsoleSelection = ReturnType<typeof useConsoleSelection>;
