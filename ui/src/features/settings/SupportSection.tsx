import { useEffect, useId, useRef, useState } from "react";
import { diagnostics, errorMessage, openLogFolder } from "../../ipc/ipc";

type CopyState =
  | { status: "idle" }
  | { status: "busy" }
  | { status: "copied" }
  | { status: "manual"; text: string }
  | { status: "failed"; error: unknown };

/** The diagnostics text, selected for copying by hand when the clipboard is unavailable. */
function ManualCopy({ text, id }: { text: string; id: string }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  return (
    <div className="form-field settings-diagnostics">
      <label htmlFor={id}>Diagnostics</label>
      <textarea
        ref={ref}
        id={id}
        data-testid="settings-diagnostics-text"
        readOnly
        value={text}
        rows={Math.min(14, text.split("\n").length + 1)}
        aria-describedby={`${id}-help`}
        spellCheck={false}
        onFocus={(e) => e.currentTarget.select()}
      />
      <span className="field-help" id={`${id}-help`}>
        The clipboard is not available: copy the selected text (Ctrl+C or ⌘C) into your support
        request.
      </span>
    </div>
  );
}

/** Diagnostics to copy and the log folder. */
export function Support({ logDir }: { logDir: string | undefined }) {
  const ids = useId();
  const [copy, setCopy] = useState<CopyState>({ status: "idle" });
  const [openError, setOpenError] = useState<unknown>(null);
  const [opening, setOpening] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (copy.status !== "copied") return;
    const t = setTimeout(() => setCopy((c) => (c === copy ? { status: "idle" } : c)), 5_000);
    return () => clearTimeout(t);
  }, [copy]);

  const onCopy = async () => {
    setCopy({ status: "busy" });
    let text: string;
    try {
      text = await diagnostics();
    } catch (error) {
      if (alive.current) setCopy({ status: "failed", error });
      return;
    }
    try {
      if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      if (alive.current) setCopy({ status: "copied" });
    } catch {
      if (alive.current) setCopy({ status: "manual", text });
    }
  };

  const onOpenLogs = async () => {
    setOpenError(null);
    setOpening(true);
    try {
      await openLogFolder();
    } catch (err) {
      if (alive.current) setOpenError(err);
    } finally {
      if (alive.current) setOpening(false);
    }
  };

  return (
    <section className="settings-section" aria-labelledby={`${ids}-support`}>
      <h3 id={`${ids}-support`}>Support</h3>
      <p className="field-help">
        Diagnostics list versions, the platform, the settings and each tenant's kind and health: no
        secrets, URLs or user data.
      </p>
      <div className="settings-actions">
        <button
          type="button"
          className="button"
          data-testid="settings-copy-diagnostics"
          onClick={() => void onCopy()}
          disabled={copy.status === "busy"}
        >
          {copy.status === "busy" ? "Copying…" : "Copy diagnostics"}
        </button>
        {copy.status === "copied" && (
          <span className="settings-ok" role="status" data-testid="settings-diagnostics-copied">
            Copied
          </span>
        )}
        {copy.status === "failed" && (
          <span className="field-error" role="alert" data-testid="settings-diagnostics-error">
            Could not collect the diagnostics: {errorMessage(copy.error)}
          </span>
        )}
      </div>
      {copy.status === "manual" && <ManualCopy text={copy.text} id={`${ids}-diag`} />}
      <div className="settings-actions">
        <button
          type="button"
          className="button"
          data-testid="settings-open-logs"
          onClick={() => void onOpenLogs()}
          disabled={opening}
          aria-describedby={logDir ? `${ids}-logdir` : undefined}
        >
          Open log folder
        </button>
        {logDir && (
          <span className="muted" id={`${ids}-logdir`}>
            Logs: <code data-testid="settings-log-dir">{logDir}</code>
          </span>
        )}
      </div>
      {openError !== null && (
        <div className="field-error" role="alert" data-testid="settings-open-logs-error">
          Could not open the log folder: {errorMessage(openError)}
        </div>
      )}
    </section>
  );
}
