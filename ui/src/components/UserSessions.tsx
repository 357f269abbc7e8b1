import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type BaseQuery, userSessionsQueryOptions } from "../hooks/queries";
import type { Session } from "../ipc/bindings/Session";
import type { UserRow } from "../ipc/bindings/UserRow";
import { errorMessage } from "../ipc/ipc";
import { formatCount } from "../lib/format";
import { SESSION_COLUMNS } from "./sessionColumns";

const SUB_COLUMNS = ["ip", "user_agent", "session_type", "login_type", "created_at"] as const;
const SUB_EXTRA = ["last_activity_at", "time_left", "server_name", "current"] as const;

/** The expanded part of a user row: that user's sessions (same filter and sort). */
export function UserSessions(props: {
  user: UserRow;
  base: BaseQuery;
  stale: ReadonlyMap<string, string>;
  onEndSession: (s: Session, skipConfirm: boolean) => void;
}) {
  const { user } = props;
  const q = useQuery({
    ...userSessionsQueryOptions(user.tenant, user.user_id, props.base),
    placeholderData: keepPreviousData,
  });
  const cols = [...SUB_COLUMNS, ...SUB_EXTRA]
    .map((id) => SESSION_COLUMNS.find((c) => c.id === id))
    .filter((c) => c !== undefined);
  const ctx = { stale: props.stale };
  return (
    <div className="user-sessions" data-testid="user-sessions">
      {q.isPending ? (
        <span className="muted">Loading sessions…</span>
      ) : q.isError ? (
        <span className="inline-error" role="alert">
          Could not load the sessions: {errorMessage(q.error)}
        </span>
      ) : (
        <table aria-label={`Sessions of ${user.username} (tenant ${user.tenant})`}>
          <thead>
            <tr>
              {cols.map((c) => (
                <th key={c.id} scope="col" className="sub-cell">
                  {c.label}
                </th>
              ))}
              <th scope="col" className="sub-cell">
                <span className="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.rows.map((s) => (
              <tr key={s.id} data-testid="user-session-row" data-session-id={s.id}>
                {cols.map((c) => (
                  <td key={c.id} className={`sub-cell cell-${c.id}`}>
                    {c.cell(s, ctx)}
                  </td>
                ))}
                <td className="sub-cell">
                  <button
                    type="button"
                    className="button danger small"
                    data-testid="user-session-end"
                    title="End this session. Ctrl/Cmd+click skips the confirmation."
                    onClick={(e) => props.onEndSession(s, e.ctrlKey || e.metaKey)}
                  >
                    End
                  </button>
                </td>
              </tr>
            ))}
            {q.data.total > q.data.rows.length && (
              <tr>
                <td colSpan={cols.length + 1} className="muted">
                  Showing {formatCount(q.data.rows.length)} of {formatCount(q.data.total)}: the
                  Sessions view filtered to this user shows all.
                </td>
              </tr>
            )}
            {q.data.rows.length === 0 && (
              <tr>
                <td colSpan={cols.length + 1} className="muted">
                  No sessions left.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
