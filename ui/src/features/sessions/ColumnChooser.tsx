import { Popover } from "../../components/Popover";
import { columnById } from "../../components/sessionColumns";
import type { TableLayout } from "../../lib/layout";

export type ColumnChooserProps = {
  layout: TableLayout;
  onLayout: (layout: TableLayout) => void;
  onReset: () => void;
};

function move(order: readonly string[], id: string, by: number): string[] {
  const next = [...order];
  const from = next.indexOf(id);
  const to = from + by;
  if (from < 0 || to < 0 || to >= next.length) return next;
  next.splice(from, 1);
  next.splice(to, 0, id);
  return next;
}

/** Which columns show, in which order; the layout (with widths and sort) is remembered. */
export function ColumnChooser({ layout, onLayout, onReset }: ColumnChooserProps) {
  const hidden = new Set(layout.hidden);
  const shown = layout.order.length - layout.hidden.length;
  return (
    <Popover
      label="Columns ▾"
      testId="column-chooser"
      title="Choose, order and reset the table's columns"
    >
      <div className="column-chooser" data-testid="column-chooser-panel">
        <ul className="column-list" aria-label="Columns">
          {layout.order.map((id, i) => {
            const spec = columnById(id);
            if (!spec) return null;
            const visible = !hidden.has(id);
            return (
              <li key={id} className="column-item">
                <label>
                  <input
                    type="checkbox"
                    data-testid={`column-toggle-${id}`}
                    checked={visible}
                    // The last visible column stays: an empty table helps no one.
                    disabled={visible && shown <= 1}
                    onChange={(e) =>
                      onLayout({
                        ...layout,
                        hidden: e.target.checked
                          ? layout.hidden.filter((h) => h !== id)
                          : [...layout.hidden, id],
                      })
                    }
                  />
                  {spec.label}
                </label>
                <span className="column-move">
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Move ${spec.label} earlier`}
                    disabled={i === 0}
                    onClick={() => onLayout({ ...layout, order: move(layout.order, id, -1) })}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Move ${spec.label} later`}
                    disabled={i === layout.order.length - 1}
                    onClick={() => onLayout({ ...layout, order: move(layout.order, id, 1) })}
                  >
                    ↓
                  </button>
                </span>
              </li>
            );
          })}
        </ul>
        <p className="muted column-hint">
          Drag a header's edge to resize (or focus it and use ←/→); double-click it for the default
          width.
        </p>
        <button type="button" className="button" data-testid="reset-layout" onClick={onReset}>
          Reset layout
        </button>
      </div>
    </Popover>
  );
}
