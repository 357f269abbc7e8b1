import { formatCount, plural } from "../../lib/format";
import { endButtonLabel } from "../../lib/selection";
import type { UserActionKind } from "../../lib/userActions";
import { SELECT_CAP } from "./console";

export type ActionToolbarProps = {
  /** What a row is: "session" or "user". */
  noun: "session" | "user";
  /** Rows in the list. */
  rowsTotal: number;
  /** "Select all filtered" is under way. */
  selecting: boolean;
  onSelectAll: () => void;
  selectedCount: number;
  /** A "select all filtered" of more sessions than it took (their total), if any. */
  bulkTotal: number | null;
  onClearSelection: () => void;
  /** The Sessions view: the End button ends the selected sessions. */
  canEnd: boolean;
  ending: boolean;
  onEnd: (skipConfirm: boolean) => void;
  /** An action is under way. */
  busy: boolean;
  onUserAction: (kind: UserActionKind, skipConfirm: boolean) => void;
  /** Exactly one user is selected (History shows their logins). */
  canShowHistory: boolean;
  onHistory: () => void;
};

/** The actions on the selection: select all filtered, end, force logout, disable, … */
export function ActionToolbar(props: ActionToolbarProps) {
  const { noun, rowsTotal, selectedCount, busy } = props;
  return (
    <div className="toolbar action-toolbar">
      <button
        type="button"
        className="button"
        data-testid="select-all-filtered"
        disabled={rowsTotal === 0 || props.selecting}
        aria-keyshortcuts="Control+A Meta+A"
        title={`Select every filtered ${noun} (Ctrl/Cmd+A), at most ${formatCount(SELECT_CAP)}`}
        onClick={props.onSelectAll}
      >
        Select all {rowsTotal > 0 ? formatCount(Math.min(rowsTotal, SELECT_CAP)) : ""} filtered
      </button>
      <span className="selection-info" data-testid="selection-count" aria-live="polite">
        {selectedCount > 0 ? (
          <>
            {plural(selectedCount, noun)} selected
            {props.bulkTotal !== null ? ` (of ${formatCount(props.bulkTotal)} filtered)` : ""}
            <button type="button" className="link-button" onClick={props.onClearSelection}>
              Clear
            </button>
          </>
        ) : (
          <span className="muted">Nothing selected</span>
        )}
      </span>
      <span className="spacer" />
      {props.canEnd && (
        <button
          type="button"
          className="button danger"
          data-testid="end-sessions"
          disabled={selectedCount === 0 || props.ending}
          onClick={(e) => props.onEnd(e.ctrlKey || e.metaKey)}
          title="End the selected sessions (Delete). Ctrl/Cmd+click skips the confirmation."
          aria-keyshortcuts="Delete"
        >
          {endButtonLabel(selectedCount)}
        </button>
      )}
      <button
        type="button"
        className="button danger"
        data-testid="action-logout"
        disabled={selectedCount === 0 || busy}
        onClick={(e) => props.onUserAction("logout", e.ctrlKey || e.metaKey)}
        title="End every session of the selected users. Ctrl/Cmd+click skips the confirmation."
      >
        Force logout
      </button>
      <button
        type="button"
        className="button danger"
        data-testid="action-disable"
        disabled={selectedCount === 0 || busy}
        onClick={(e) => props.onUserAction("disable", e.ctrlKey || e.metaKey)}
        title="End every session of the selected users and disable their accounts (protected accounts are only signed out). Ctrl/Cmd+click skips the confirmation."
      >
        End &amp; Disable
      </button>
      <button
        type="button"
        className="button danger"
        data-testid="action-contain"
        disabled={selectedCount === 0 || busy}
        onClick={(e) => props.onUserAction("contain", e.ctrlKey || e.metaKey)}
        title="Incident playbook: force logout, then disable the selected users (protected accounts are only signed out). Ctrl/Cmd+click skips the confirmation."
      >
        Contain
      </button>
      <button
        type="button"
        className="button"
        data-testid="action-enable"
        disabled={selectedCount === 0 || busy}
        onClick={(e) => props.onUserAction("enable", e.ctrlKey || e.metaKey)}
        title="Re-enable the selected users' accounts. Ctrl/Cmd+click skips the confirmation."
      >
        Re-enable
      </button>
      <button
        type="button"
        className="button"
        data-testid="action-history"
        disabled={!props.canShowHistory}
        onClick={props.onHistory}
        title="Login history of the selected user (select exactly one user)"
      >
        History
      </button>
    </div>
  );
}
