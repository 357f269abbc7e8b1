import type { ReactNode } from "react";
import { errorCode, errorMessage } from "../../ipc/ipc";
import type { Mode } from "../../lib/consoleState";
import { hintFor } from "./console";

export type ListStatesProps = {
  mode: Mode;
  /** The first page of the list. */
  head: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: unknown;
    refetch: () => unknown;
  };
  /** The back end rejected the filter (its message). */
  serverError: string | null;
  rowsTotal: number;
  filtersActive: boolean;
  onClearFilters: () => void;
  /** The list itself, shown when there is something to show. */
  children: ReactNode;
};

/** The list, or what stands in for it: loading, could not load, an invalid filter, empty. */
export function ListStates(props: ListStatesProps) {
  const { mode, head, serverError } = props;
  if (head.isPending) {
    return (
      <div className="state" data-testid="loading-state" role="status">
        <span className="spinner" aria-hidden="true" />{" "}
        {mode === "sessions" ? "Loading sessions…" : "Loading users…"}
      </div>
    );
  }
  if (head.isError && !head.data) {
    return serverError !== null ? (
      <div className="state error" data-testid="filter-error-state" role="alert">
        <strong>This filter is not valid</strong>
        <p className="error-message">{serverError}</p>
        <p className="muted">Correct the highlighted filter, or clear the filters.</p>
        <button type="button" className="button" onClick={props.onClearFilters}>
          Clear filters
        </button>
      </div>
    ) : (
      <div className="state error" data-testid="error-state" role="alert">
        <strong>Could not load {mode === "sessions" ? "sessions" : "users"}</strong>
        <p className="error-message">{errorMessage(head.error)}</p>
        <p className="muted">{hintFor(errorCode(head.error))}</p>
        <button type="button" className="button" onClick={() => void head.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  if (props.rowsTotal === 0) {
    return (
      <div className="state" data-testid="empty-state">
        {props.filtersActive ? (
          <>
            <strong>No {mode === "sessions" ? "sessions" : "users"} match your filters</strong>
            <p className="muted">Loosen or clear the filters to see more.</p>
            <button type="button" className="button" onClick={props.onClearFilters}>
              Clear filters
            </button>
          </>
        ) : (
          <>
            <strong>No active sessions</strong>
            <p className="muted">
              Vigil polls every tenant continuously; new sessions appear here. Add tenants on the
              Tenants screen (Ctrl/Cmd+2).
            </p>
          </>
        )}
      </div>
    );
  }
  return props.children;
}
