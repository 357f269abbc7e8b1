export type SaveBarProps = {
  /** The submit button's text when not busy. */
  label: string;
  /** The status text shown after a save. */
  savedText: string;
  /** Prefix of the test ids: `<prefix>-save`, `<prefix>-revert`, `<prefix>-saved`. */
  testIdPrefix: string;
  /** Whether the form differs from what is stored. */
  dirty: boolean;
  /** Whether a save is under way. */
  busy: boolean;
  /** Whether the last save succeeded (shows the status text). */
  saved: boolean;
  onRevert: () => void;
};

/** A form's submit and Revert buttons, with its saved status and unsaved-changes note. */
export function SaveBar({
  label,
  savedText,
  testIdPrefix,
  dirty,
  busy,
  saved,
  onRevert,
}: SaveBarProps) {
  return (
    <div className="settings-actions settings-save">
      <button
        type="submit"
        className="button primary"
        data-testid={`${testIdPrefix}-save`}
        disabled={!dirty || busy}
      >
        {busy ? "Saving…" : label}
      </button>
      <button
        type="button"
        className="button"
        data-testid={`${testIdPrefix}-revert`}
        disabled={!dirty || busy}
        onClick={onRevert}
      >
        Revert
      </button>
      {saved && (
        <span className="settings-ok" role="status" data-testid={`${testIdPrefix}-saved`}>
          {savedText}
        </span>
      )}
      {dirty && !busy && <span className="muted">Unsaved changes</span>}
    </div>
  );
}
