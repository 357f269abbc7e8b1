import type { ReactNode } from "react";
import { useTicker } from "../hooks/useTicker";
import type { Session } from "../ipc/bindings/Session";
import type { SortColumn } from "../ipc/bindings/SortColumn";
import type { ConsoleFilter } from "../lib/consoleState";
import {
  DASH,
  effectiveExpiry,
  formatDateTime,
  formatDuration,
  formatTimeLeft,
  parseTime,
  personName,
  visible,
} from "../lib/format";
import { UserAgentCell } from "./UserAgentCell";

/** What a cell may need besides its session. */
export type CellContext = {
  /** Tenants whose last poll failed → why; their rows are shown as stale. */
  stale: ReadonlyMap<string, string>;
  /** Tenants whose sessions are derived from a sign-in log, not a live session list. */
  signInLog?: ReadonlySet<string>;
};

/** One column of the session table (every one except the selection checkbox). */
export type SessionColumn = {
  id: string;
  label: string;
  /** The server-side sort behind this column, if it sorts. */
  sort?: SortColumn;
  /** The column grows as the sort column falls (session age is created_at reversed). */
  invert?: boolean;
  /** The first click sorts descending (newest/largest first). */
  descFirst?: boolean;
  /** Default width in px. */
  width: number;
  /** Shown by default. */
  visible: boolean;
  /** Filters that narrow this column (marks the header as filtered). */
  filters?: readonly (keyof ConsoleFilter)[];
  cell: (s: Session, ctx: CellContext) => ReactNode;
};

function text(value: string | null | undefined): ReactNode {
  const v = value?.trim() ? visible(value) : null;
  return v === null ? DASH : <span title={v}>{v}</span>;
}

function time(iso: string | null): ReactNode {
  return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : DASH;
}

/** Time left until the session ends (hard or idle expiry), counting down every second. */
function TimeLeft({ session }: { session: Session }) {
  const now = useTicker();
  const at = effectiveExpiry(session);
  if (at === null) return DASH;
  const left = formatTimeLeft(at, now);
  const iso = new Date(at).toISOString();
  return (
    <time
      dateTime={iso}
      title={`Ends ${formatDateTime(iso)}`}
      className={left === "expired" ? "expired" : undefined}
    >
      {left}
    </time>
  );
}

function SessionAge({ created }: { created: string | null }) {
  const now = useTicker();
  const t = parseTime(created);
  return t === null ? DASH : <span>{formatDuration(now - t)}</span>;
}

export function UserBadges(props: {
  superuser: boolean;
  protected: boolean;
  disabled: boolean;
  current: boolean;
}) {
  return (
    <>
      {props.superuser && (
        <span className="badge badge-super" title="SuperUser">
          SUPER
        </span>
      )}
      {props.protected && (
        <span className="badge badge-protected" title="Protected: can be ended, not disabled">
          protected
        </span>
      )}
      {props.disabled && <span className="badge badge-disabled">disabled</span>}
      {props.current && (
        <span className="badge badge-you" title="This is your own session">
          you
        </span>
      )}
    </>
  );
}

export const SESSION_COLUMNS: readonly SessionColumn[] = [
  {
    id: "tenant",
    label: "Tenant",
    sort: "tenant",
    width: 110,
    visible: true,
    filters: ["tenants"],
    cell: (s, ctx) => {
      const why = ctx.stale.get(s.tenant);
      return (
        <span className="tenant-cell">
          <span title={s.tenant}>{s.tenant}</span>
          {why !== undefined && (
            <span
              className="badge badge-stale"
              data-testid="stale-marker"
              title={`Stale: the last poll of ${s.tenant} failed (${why})`}
            >
              stale
            </span>
          )}
          {ctx.signInLog?.has(s.tenant) && (
            <span
              className="badge badge-log"
              data-testid="log-marker"
              title={`${s.tenant} has no live session list: its sessions are derived from the sign-in log, so they may lag or have ended already. Its sign-in time is its age.`}
            >
              log
            </span>
          )}
        </span>
      );
    },
  },
  {
    id: "username",
    label: "User",
    sort: "username",
    width: 220,
    visible: true,
    filters: ["username", "user", "user_id", "superuser_only", "protected", "disabled"],
    cell: (s) => (
      <span className="user-cell">
        <span className="username" title={visible(s.username)}>
          {visible(s.username)}
        </span>
        <UserBadges
          superuser={s.superuser}
          protected={s.protected}
          disabled={s.disabled}
          current={s.current}
        />
      </span>
    ),
  },
  {
    id: "name",
    label: "Name",
    sort: "display_name",
    width: 160,
    visible: true,
    filters: ["name"],
    cell: (s) => text(personName(s)),
  },
  {
    id: "first_name",
    label: "First name",
    width: 110,
    visible: false,
    filters: ["name"],
    cell: (s) => text(s.first_name),
  },
  {
    id: "last_name",
    label: "Last name",
    width: 110,
    visible: false,
    filters: ["name"],
    cell: (s) => text(s.last_name),
  },
  {
    id: "department",
    label: "Department",
    sort: "department",
    width: 110,
    visible: true,
    filters: ["department"],
    cell: (s) => text(s.department),
  },
  {
    id: "organisation",
    label: "Organisation",
    sort: "organisation",
    width: 110,
    visible: true,
    filters: ["organisation"],
    cell: (s) => text(s.organisation),
  },
  {
    id: "superuser",
    label: "Super",
    sort: "superuser",
    descFirst: true,
    width: 64,
    visible: false,
    filters: ["superuser_only"],
    cell: (s) => (s.superuser ? <span className="badge badge-super">SUPER</span> : null),
  },
  {
    id: "session_type",
    label: "Session type",
    sort: "session_type",
    width: 106,
    visible: true,
    filters: ["session_types"],
    cell: (s) => text(s.session_type),
  },
  {
    id: "login_type",
    label: "Login type",
    sort: "login_type",
    width: 96,
    visible: true,
    filters: ["login_types"],
    cell: (s) => text(s.login_type),
  },
  {
    id: "ip",
    label: "IP",
    sort: "ip",
    width: 120,
    visible: true,
    filters: ["ip"],
    cell: (s) => text(s.ip),
  },
  {
    id: "location",
    label: "Location",
    width: 140,
    visible: false,
    cell: (s) => text(s.location),
  },
  {
    id: "user_agent",
    label: "Browser / OS",
    sort: "user_agent",
    width: 170,
    visible: true,
    filters: ["user_agent"],
    cell: (s) => <UserAgentCell userAgent={s.user_agent} />,
  },
  {
    id: "server_name",
    label: "Server",
    sort: "server_name",
    width: 96,
    visible: false,
    filters: ["server_name"],
    cell: (s) => text(s.server_name),
  },
  {
    id: "created_at",
    label: "Login time",
    sort: "created_at",
    descFirst: true,
    width: 164,
    visible: true,
    filters: ["created_from", "created_to"],
    cell: (s) => time(s.created_at),
  },
  {
    id: "last_activity_at",
    label: "Last activity",
    sort: "last_activity_at",
    descFirst: true,
    width: 164,
    visible: true,
    filters: ["last_activity_from", "last_activity_to"],
    cell: (s) => time(s.last_activity_at),
  },
  {
    id: "expires_at",
    label: "Expires at",
    sort: "expires_at",
    width: 164,
    visible: false,
    filters: ["expires_from", "expires_to"],
    cell: (s) => time(s.expires_at),
  },
  {
    id: "time_left",
    label: "Time left",
    sort: "expires_at",
    width: 96,
    visible: true,
    filters: ["expires_from", "expires_to"],
    cell: (s) => <TimeLeft session={s} />,
  },
  {
    id: "idle_timeout",
    label: "Idle timeout",
    sort: "idle_timeout",
    width: 90,
    visible: false,
    cell: (s) =>
      s.idle_timeout_seconds === null ? DASH : formatDuration(s.idle_timeout_seconds * 1000),
  },
  {
    id: "session_age",
    label: "Session age",
    sort: "created_at",
    invert: true,
    width: 90,
    visible: false,
    filters: ["created_from", "created_to"],
    cell: (s) => <SessionAge created={s.created_at} />,
  },
  {
    id: "current",
    label: "Current",
    width: 70,
    visible: true,
    filters: ["current"],
    cell: (s) =>
      s.current ? (
        <span className="current-mark" title="Your own session (the credential Vigil uses)">
          ✓ <span className="sr-only">your session</span>
        </span>
      ) : null,
  },
  {
    id: "id",
    label: "Session ID",
    sort: "id",
    width: 140,
    visible: false,
    filters: ["session_id"],
    cell: (s) => <span className="mono">{text(s.id)}</span>,
  },
];

export function columnById(id: string): SessionColumn | undefined {
  return SESSION_COLUMNS.find((c) => c.id === id);
}
