import type { ReactNode } from "react";

/** The attributes that tie a field's control to its label, hint and error. */
export type FieldControlProps = {
  id: string;
  "data-field": string | undefined;
  "data-testid": string | undefined;
  "aria-invalid": boolean;
  "aria-describedby": string | undefined;
};

export type FormFieldProps = {
  /** The control's id; the hint's and the error's ids are derived from it. */
  id: string;
  label: ReactNode;
  /** Shown under the control and read as its description. */
  hint?: ReactNode;
  /** The mistake shown under the control; undefined marks the control as valid. */
  error?: string | undefined;
  /** The control's `data-field`, by which a form finds and focuses its first mistake. */
  field?: string;
  /** The control's `data-testid`. */
  testId?: string;
  /** The error message's `data-testid`. */
  errorTestId?: string;
  /** Whether the error is announced at once (`role="alert"`); true unless told. */
  announceError?: boolean;
  /** A checkbox: the control sits inside its label, before the text. */
  check?: boolean;
  /** Draws the control; spread the given attributes on it. */
  children: (control: FieldControlProps) => ReactNode;
};

/** A labelled field with its hint and error, tied to its control by id and aria-describedby. */
export function FormField({
  id,
  label,
  hint,
  error,
  field,
  testId,
  errorTestId,
  announceError = true,
  check = false,
  children,
}: FormFieldProps) {
  const describedBy = [hint ? `${id}-help` : "", error ? `${id}-err` : ""].filter(Boolean);
  const control = children({
    id,
    "data-field": field,
    "data-testid": testId,
    "aria-invalid": error !== undefined,
    "aria-describedby": describedBy.length > 0 ? describedBy.join(" ") : undefined,
  });
  return (
    <div className={check ? "form-field check-field" : "form-field"}>
      {check ? (
        <label htmlFor={id} className="toggle">
          {control}
          <span>{label}</span>
        </label>
      ) : (
        <>
          <label htmlFor={id}>{label}</label>
          {control}
        </>
      )}
      {hint && (
        <span className="field-help" id={`${id}-help`}>
          {hint}
        </span>
      )}
      {error && (
        <span
          className="field-error"
          id={`${id}-err`}
          role={announceError ? "alert" : undefined}
          data-testid={errorTestId}
        >
          {error}
        </span>
      )}
    </div>
  );
}
