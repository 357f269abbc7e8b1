import { keepPreviousData, useQueries } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { UserBadges } from "../../components/sessionColumns";
import { type BaseUserQuery, PAGE_SIZE, userPageQueryOptions } from "../../hooks/queries";
import type { RowModifiers } from "../../hooks/useGridKeyboard";
import type { UserRow } from "../../ipc/bindings/UserRow";
import { errorMessage } from "../../ipc/ipc";
import { DASH, formatCount, formatDateTime, plural, visible } from "../../lib/format";
import { type SelectedUser, userKey } from "../../lib/userActions";
import { PersonButton } from "./PersonButton";
import { groupByPerson, personQueryOf } from "./people";

/** Pages the grouped view loads at most (it groups only what is loaded). */
export const MAX_GROUP_PAGES = 10;

export type PersonGroupsProps = {
  base: BaseUserQuery;
  total: number;
  selection: ReadonlyMap<string, SelectedUser>;
  stale: ReadonlyMap<string, string>;
  onRowClick: (index: number, row: UserRow, mods: RowModifiers) => void;
  onForceLogout: (row: UserRow, skipConfirm: boolean) => void;
  /** Opens the person panel: for a row's user, or for a group's person key. */
  onOpenPerson: (query: string) => void;
};

/**
 * The Users view grouped by person: the loaded rows (a page at a time) grouped by the
 * address, else the user name, each group headed by its person and tenants.
 */
export function PersonGroups(props: PersonGroupsProps) {
  const { base, total, selection } = props;
  const [pages, setPages] = useState(1);
  const queries = useQueries({
    queries: Array.from({ length: pages }, (_, p) => ({
      ...userPageQueryOptions(base, p),
      placeholderData: keepPreviousData,
    })),
  });
  // Only whole pages in order: a page still loading ends the list for now.
  const rows = useMemo(() => {
    const out: UserRow[] = [];
    for (const q of queries) {
      if (!q.data) break;
      out.push(...q.data.rows);
    }
    return out;
  }, [queries]);
  const groups = useMemo(() => groupByPerson(rows), [rows]);
  const error = queries.find((q) => q.isError)?.error;
  const loading = queries.some((q) => q.isPending);
  const shared = groups.filter((g) => g.tenants.length > 1).length;

  return (
    <div className="grid-scroll person-groups" data-testid="person-groups">
      <p className="person-groups-note muted">
        {plural(groups.length, "person", "people")} among the first {plural(rows.length, "user")} of{" "}
        {formatCount(total)}
        {shared > 0 ? `; ${plural(shared, "person", "people")} in more than one tenant` : ""}.
        Grouped by e-mail address, else user name; links made by hand in the config file show in the
        person panel.
      </p>
      {error !== undefined && (
        <p className="inline-error" role="alert">
          Could not load the users: {errorMessage(error)}
        </p>
      )}
      <table className="data-table person-group-table" aria-label="Users grouped by person">
        <thead>
          <tr>
            <th>
              <span className="sr-only">Select</span>
            </th>
            <th>Tenant</th>
            <th>User</th>
            <th>E-mail</th>
            <th>Name</th>
            <th>Active sessions</th>
            <th>Last login</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.key} data-testid="person-group" data-person={g.key}>
            <tr className="person-group-head">
              <th colSpan={8} scope="rowgroup">
                <span className="person-group-key">{visible(g.key)}</span>{" "}
                <span className="muted" data-testid="person-group-tenants">
                  {plural(g.rows.length, "account")} in {g.tenants.join(", ")}
                </span>
                {g.tenants.length > 1 && (
                  <span className="badge badge-log">{g.tenants.length} tenants</span>
                )}{" "}
                <button
                  type="button"
                  className="link-button"
                  data-testid="open-person-group"
                  onClick={() => props.onOpenPerson(g.key)}
                >
                  Person…
                </button>
              </th>
            </tr>
            {g.rows.map(({ index, row }) => {
              const key = userKey(row.tenant, row.user_id);
              const selected = selection.has(key);
              const stale = props.stale.get(row.tenant);
              return (
                <tr
                  key={key}
                  className={`person-group-row${selected ? " selected" : ""}`}
                  data-testid="user-row"
                  data-tenant={row.tenant}
                  data-user-id={row.user_id}
                  data-username={row.username}
                  aria-selected={selected}
                  onClick={(e) =>
                    props.onRowClick(index, row, {
                      toggle: e.ctrlKey || e.metaKey,
                      range: e.shiftKey,
                    })
                  }
                >
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select user ${row.username} (tenant ${row.tenant})`}
                      checked={selected}
                      onClick={(e) => e.stopPropagation()}
                      onChange={() => props.onRowClick(index, row, { toggle: true, range: false })}
                    />
                  </td>
                  <td>
                    {row.tenant}
                    {stale !== undefined && (
                      <span className="badge badge-stale" title={`Stale: ${stale}`}>
                        stale
                      </span>
                    )}
                  </td>
                  <td>
                    <span className="user-cell">
                      <span className="username">{visible(row.username)}</span>
                      <UserBadges
                        superuser={row.superuser}
                        protected={row.protected}
                        disabled={row.disabled}
                        current={row.current}
                      />
                    </span>
                  </td>
                  <td>{row.email ? visible(row.email) : DASH}</td>
                  <td>{row.display_name ? visible(row.display_name) : DASH}</td>
                  <td>{formatCount(row.sessions)}</td>
                  <td className="nowrap">{formatDateTime(row.last_login)}</td>
                  <td className="nowrap">
                    <PersonButton
                      user={row}
                      onOpen={() => props.onOpenPerson(personQueryOf(row))}
                    />
                    <button
                      type="button"
                      className="button danger small"
                      data-testid="user-force-logout"
                      title={`End every session of ${row.username}. Ctrl/Cmd+click skips the confirmation.`}
                      onClick={(e) => {
                        e.stopPropagation();
                        props.onForceLogout(row, e.ctrlKey || e.metaKey);
                      }}
                    >
                      Force logout
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        ))}
      </table>
      {loading && (
        <p className="muted" role="status">
          Loading users…
        </p>
      )}
      {!loading && rows.length < total && (
        <div className="person-groups-more">
          {pages < MAX_GROUP_PAGES ? (
            <button
              type="button"
              className="button"
              data-testid="group-load-more"
              onClick={() => setPages((p) => p + 1)}
            >
              Group {formatCount(Math.min(PAGE_SIZE, total - rows.length))} more users
            </button>
          ) : (
            <span className="muted">
              Grouping stops at {formatCount(MAX_GROUP_PAGES * PAGE_SIZE)} users: narrow the filter
              to see the rest grouped.
            </span>
          )}
        </div>
      )}
    </div>
  );
}
