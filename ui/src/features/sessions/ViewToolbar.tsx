import type { ExportFormat } from "../../ipc/bindings/ExportFormat";
import type { Mode } from "../../lib/consoleState";
import type { TableLayout } from "../../lib/layout";
import { ColumnChooser } from "./ColumnChooser";

export type ViewToolbarProps = {
  mode: Mode;
  onMode: (mode: Mode) => void;
  /** The Users view groups the loaded users by person. */
  groupByPerson: boolean;
  onGroupByPerson: (group: boolean) => void;
  countText: string;
  /** The last load failed; the rows shown are the last known (why). */
  staleError: string | null;
  /** A filter error that belongs to no field. */
  filterError: string | null;
  /** Column filters set in the panel. */
  panelCount: number;
  filtersOpen: boolean;
  onToggleFilters: () => void;
  /** A filter is typed (Clear filters can clear it). */
  canClearFilters: boolean;
  onClearFilters: () => void;
  layout: TableLayout;
  onLayout: (layout: TableLayout) => void;
  onResetLayout: () => void;
  exporting: boolean;
  onExport: (format: ExportFormat) => void;
};

/** The view's toolbar: Sessions/Users, the row count, the filter panel, columns, export. */
export function ViewToolbar(props: ViewToolbarProps) {
  const { mode, panelCount } = props;
  return (
    <div className="toolbar view-toolbar">
      <fieldset className="segmented" aria-label="Rows">
        <button
          type="button"
          data-testid="mode-sessions"
          aria-pressed={mode === "sessions"}
          aria-keyshortcuts="U"
          title="One row per session (U)"
          onClick={() => props.onMode("sessions")}
        >
          Sessions
        </button>
        <button
          type="button"
          data-testid="mode-users"
          aria-pressed={mode === "users"}
          aria-keyshortcuts="U"
          title="One row per user, grouped (U)"
          onClick={() => props.onMode("users")}
        >
          Users
        </button>
      </fieldset>
      {mode === "users" && (
        <label className="toggle" title="Group the loaded users by person (e-mail address)">
          <input
            type="checkbox"
            data-testid="group-by-person"
            checked={props.groupByPerson}
            onChange={(e) => props.onGroupByPerson(e.target.checked)}
          />
          <span>Group by person</span>
        </label>
      )}
      <span className="row-count" data-testid="row-count" aria-live="polite">
        {props.countText}
      </span>
      {props.staleError !== null && (
        <span className="inline-error" role="alert">
          Showing last known data: {props.staleError}
        </span>
      )}
      {props.filterError !== null && (
        <span className="inline-error" role="alert" data-testid="filter-error">
          {props.filterError}
        </span>
      )}
      <span className="spacer" />
      <button
        type="button"
        className={`button${panelCount > 0 ? " has-filters" : ""}`}
        data-testid="toggle-filters"
        aria-expanded={props.filtersOpen}
        aria-keyshortcuts="F"
        title="Show or hide the column filters (F)"
        onClick={props.onToggleFilters}
      >
        Filters{panelCount > 0 ? ` (${panelCount})` : ""}
      </button>
      <button
        type="button"
        className="button"
        data-testid="clear-filters"
        disabled={!props.canClearFilters}
        aria-keyshortcuts="Control+Shift+X Meta+Shift+X"
        title="Clear every filter (Ctrl/Cmd+Shift+X)"
        onClick={props.onClearFilters}
      >
        Clear filters
      </button>
      {mode === "sessions" && (
        <ColumnChooser
          layout={props.layout}
          onLayout={props.onLayout}
          onReset={props.onResetLayout}
        />
      )}
      <button
        type="button"
        className="button"
        data-testid="export-csv"
        disabled={props.exporting}
        title="Write every filtered session, in this order, to a CSV file in Downloads"
        onClick={() => props.onExport("csv")}
      >
        Export CSV
      </button>
      <button
        type="button"
        className="button"
        data-testid="export-json"
        disabled={props.exporting}
        title="Write every filtered session, in this order, to a JSON file in Downloads"
        onClick={() => props.onExport("json")}
      >
        Export JSON
      </button>
    </div>
  );
}
