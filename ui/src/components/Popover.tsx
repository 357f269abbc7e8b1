import { type ReactNode, useEffect, useId, useRef, useState } from "react";

export type PopoverProps = {
  /** The button's content. */
  label: ReactNode;
  /** The button's accessible name when `label` is not text enough. */
  ariaLabel?: string;
  buttonClass?: string;
  testId?: string;
  title?: string;
  children: ReactNode;
};

/** A button that opens a small panel below it; Escape or a click outside closes it. */
export function Popover(props: PopoverProps) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Escape anywhere inside closes the panel
    <div
      className="popover"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.preventDefault();
          e.stopPropagation();
          setOpen(false);
          buttonRef.current?.focus();
        }
      }}
    >
      <button
        ref={buttonRef}
        type="button"
        className={props.buttonClass ?? "button"}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-label={props.ariaLabel}
        data-testid={props.testId}
        title={props.title}
        onClick={() => setOpen((o) => !o)}
      >
        {props.label}
      </button>
      {open && (
        <div className="popover-panel" id={panelId}>
          {props.children}
        </div>
      )}
    </div>
  );
}
