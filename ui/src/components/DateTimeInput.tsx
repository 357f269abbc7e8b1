import { type InputHTMLAttributes, type SyntheticEvent, useState } from "react";

export type DateTimeInputProps = Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "type" | "value" | "onChange" | "children"
> & {
  /** `YYYY-MM-DDTHH:MM[:SS]`, or "" for no bound. */
  value: string;
  onChange: (value: string) => void;
  /** What an empty input shows instead of the browser's "mm/dd/yyyy --:--" mask. */
  emptyLabel?: string;
};

/**
 * A `datetime-local` input whose empty state looks empty: the browser's date mask reads like
 * a value, so until the input is focused an empty one shows a muted "any" instead. A filled
 * one is marked `active` (accented); one left half typed is marked as incomplete. Escape
 * clears it.
 */
export function DateTimeInput({
  value,
  onChange,
  emptyLabel = "any",
  className,
  onBlur,
  onKeyDown,
  onKeyUp,
  title,
  ...rest
}: DateTimeInputProps) {
  // Fields typed but not yet a whole date (the input's value stays "" until it is one).
  const [partial, setPartial] = useState(false);
  const check = (e: SyntheticEvent<HTMLInputElement>) => {
    const el = e.currentTarget;
    setPartial(el.value === "" && el.validity?.badInput === true);
  };
  const empty = value === "" && !partial;
  const state = value !== "" ? " active" : partial ? " partial" : "";
  return (
    <span className={`date-input${empty ? " empty" : ""}`} data-empty={empty}>
      <input
        {...rest}
        type="datetime-local"
        className={`${className ?? ""} date-input-field${state}`.trim()}
        value={value}
        data-empty={empty}
        title={partial ? "Incomplete: finish the date and time, or press Escape to clear" : title}
        onChange={(e) => {
          check(e);
          onChange(e.currentTarget.value);
        }}
        onBlur={(e) => {
          check(e);
          onBlur?.(e);
        }}
        onKeyUp={(e) => {
          check(e);
          onKeyUp?.(e);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape" && (value !== "" || partial)) {
            e.preventDefault();
            e.stopPropagation();
            // A half-typed value lives only in the input: clearing the value resets it.
            e.currentTarget.value = "";
            setPartial(false);
            onChange("");
            return;
          }
          onKeyDown?.(e);
        }}
      />
      {empty && (
        <span className="date-input-empty" aria-hidden="true">
          {emptyLabel}
        </span>
      )}
    </span>
  );
}
