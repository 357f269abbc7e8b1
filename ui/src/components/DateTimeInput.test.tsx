import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { DateTimeInput } from "./DateTimeInput";

function Controlled({
  initial = "",
  onChange,
}: {
  initial?: string;
  onChange?: (v: string) => void;
}) {
  const [value, setValue] = useState(initial);
  return (
    <DateTimeInput
      className="filter-input"
      data-testid="date"
      aria-label="Login time from"
      value={value}
      onChange={(v) => {
        setValue(v);
        onChange?.(v);
      }}
    />
  );
}

describe("DateTimeInput", () => {
  it("shows a muted 'any' instead of the date mask while empty", () => {
    const { container } = render(<Controlled />);
    const input = screen.getByTestId("date") as HTMLInputElement;
    expect(input.type).toBe("datetime-local");
    expect(input.dataset.empty).toBe("true");
    expect(input.classList.contains("active")).toBe(false);
    const wrapper = container.querySelector(".date-input");
    expect(wrapper?.classList.contains("empty")).toBe(true);
    const label = container.querySelector(".date-input-empty");
    expect(label?.textContent).toBe("any");
    expect(label?.getAttribute("aria-hidden")).toBe("true");
    // The accessible name stays the input's own label.
    expect(screen.getByLabelText("Login time from")).toBe(input);
  });

  it("marks a filled input active and drops the 'any'", () => {
    const { container } = render(<Controlled />);
    const input = screen.getByTestId("date") as HTMLInputElement;
    fireEvent.change(input, { target: { value: "2025-01-01T07:30" } });
    expect(input.value).toBe("2025-01-01T07:30");
    expect(input.dataset.empty).toBe("false");
    expect(input.classList.contains("active")).toBe(true);
    expect(input.classList.contains("filter-input")).toBe(true);
    expect(container.querySelector(".date-input-empty")).toBeNull();
  });

  it("clears on Escape", () => {
    const onChange = vi.fn();
    const { container } = render(<Controlled initial="2025-01-01T07:30" onChange={onChange} />);
    const input = screen.getByTestId("date") as HTMLInputElement;
    fireEvent.keyDown(input, { key: "Escape" });
    expect(onChange).toHaveBeenCalledWith("");
    expect(input.dataset.empty).toBe("true");
    expect(container.querySelector(".date-input-empty")?.textContent).toBe("any");
  });
});
