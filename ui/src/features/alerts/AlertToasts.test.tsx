import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Alert } from "../../ipc/bindings/Alert";
import { AlertToasts, MAX_TOASTS, pushToast, TOAST_MS, type Toast } from "./AlertToasts";

const alert = (message: string): Alert => ({
  rule: "new_ip",
  rules: ["new_ip"],
  severity: "low",
  tenant: "demo",
  username: "alice",
  session_id: null,
  ip: "10.1.1.1",
  user_agent: null,
  at: "2025-01-01T09:00:00Z",
  message,
  count: 1,
  suppressed_by: null,
});

afterEach(() => {
  vi.useRealTimers();
});

describe("AlertToasts", () => {
  it("keeps the newest three", () => {
    let list: Toast[] = [];
    for (let i = 1; i <= 5; i++) list = pushToast(list, { key: i, alert: alert(`a${i}`) });
    expect(list.map((t) => t.key)).toEqual([3, 4, 5]);
    expect(list).toHaveLength(MAX_TOASTS);
  });

  it("dismisses a toast after 6 s, and opens the centre on click", () => {
    vi.useFakeTimers();
    const onDismiss = vi.fn();
    const onOpen = vi.fn();
    render(
      <AlertToasts
        toasts={[{ key: 7, alert: alert("hello") }]}
        onOpen={onOpen}
        onDismiss={onDismiss}
      />,
    );
    expect(screen.getByTestId("alert-toast").textContent).toContain("hello");
    act(() => vi.advanceTimersByTime(TOAST_MS - 100));
    expect(onDismiss).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(200));
    expect(onDismiss).toHaveBeenCalledWith(7);
    fireEvent.click(screen.getByText("hello"));
    expect(onOpen).toHaveBeenCalledTimes(1);
  });
});
