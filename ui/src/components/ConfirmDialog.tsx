import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { trapTab } from "../lib/focusTrap";

export type ConfirmDialogProps = {
  title: string;
  message: string;
  detail?: string | undefined;
  confirmLabel: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  /** Test ids of the dialog and of its confirm button. */
  testId?: string;
  confirmTestId?: string;
  /** More content between the text and the buttons (a plan, options). */
  children?: ReactNode;
  /** A wider dialog, for a longer body. */
  wide?: boolean;
};

/** Modal confirmation: focus is trapped inside, Esc cancels, focus returns afterwards. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const descId = useId();

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    cancelRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onCancel();
      return;
    }
    trapTab(e, ref.current);
  };

  return (
    <div className="backdrop">
      <div
        ref={ref}
        className={props.wide ? "dialog dialog-wide" : "dialog"}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descId}
        data-testid={props.testId ?? "confirm-dialog"}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>{props.title}</h2>
        <p id={descId}>{props.message}</p>
        {props.detail && <p className="dialog-detail">{props.detail}</p>}
        {props.children}
        <div className="dialog-actions">
          <button ref={cancelRef} type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className="button danger"
            data-testid={props.confirmTestId ?? "confirm-end"}
            disabled={props.busy}
            onClick={props.onConfirm}
          >
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
