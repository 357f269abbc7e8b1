import { type KeyboardEvent, useEffect, useId, useRef } from "react";
import { trapTab } from "../lib/focusTrap";

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = isMac ? "⌘" : "Ctrl";

/** Every keyboard shortcut of the window, by area. */
export const SHORTCUTS: readonly { area: string; keys: readonly [string, string][] }[] = [
  {
    area: "Anywhere",
    keys: [
      [`${MOD}+1 … ${MOD}+5`, "Sessions, Tenants, Audit, Alerts, Settings"],
      [`F5 / ${MOD}+R`, "Poll every tenant now (Refresh)"],
      ["?", "Show or hide this help"],
    ],
  },
  {
    area: "Session console",
    keys: [
      ["/", "Focus the search"],
      ["U", "Switch between the Sessions and the Users view"],
      ["F", "Show or hide the column filters"],
      [`${MOD}+Shift+X`, "Clear every filter"],
      [`${MOD}+A`, "Select all filtered rows"],
      ["Escape", "Clear the selection (in a filter: clear that filter)"],
      ["Delete", "End the selected sessions; Users view: force logout (both confirm first)"],
      [`${MOD}+click on an action`, "Act without the confirmation"],
    ],
  },
  {
    area: "In the table",
    keys: [
      ["↑ ↓ PgUp PgDn Home End", "Move"],
      ["Shift+move / Shift+click", "Select a range"],
      [`Space / ${MOD}+click`, "Add or remove a row"],
      ["Enter / click", "Select only this row"],
      ["→ / ←", "Users view: show / hide the user's sessions"],
      ["← → on a header edge", "Resize the column"],
    ],
  },
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape" || e.key === "?") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      return;
    }
    trapTab(e, ref.current);
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the backdrop closes the dialog; Escape does too
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes it (handled in the dialog)
    <div className="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className="dialog help-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="help-overlay"
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>Keyboard shortcuts</h2>
        {SHORTCUTS.map((group) => (
          <section key={group.area} className="help-group">
            <h3>{group.area}</h3>
            <dl>
              {group.keys.map(([keys, what]) => (
                <div key={keys} className="help-row">
                  <dt>
                    <kbd>{keys}</kbd>
                  </dt>
                  <dd>{what}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
        <div className="dialog-actions">
          <button ref={closeRef} type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
