import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { useTauriEvent } from "./useTauriEvent";

/** A subscription whose unsubscribe arrives when the test says so. */
function deferredSubscription() {
  let emit: ((n: number) => void) | null = null;
  let resolve: (() => void) | null = null;
  const unlisten = vi.fn();
  const subscribe = vi.fn(
    (cb: (n: number) => void) =>
      new Promise<() => void>((r) => {
        emit = cb;
        resolve = () => r(unlisten);
      }),
  );
  return {
    subscribe,
    unlisten,
    emit: (n: number) => emit?.(n),
    resolve: () => resolve?.(),
  };
}

describe("useTauriEvent", () => {
  it("hands events to the latest handler and unsubscribes on unmount", async () => {
    const sub = deferredSubscription();
    const seen: string[] = [];
    const { rerender, unmount } = renderHook(
      ({ tag }) => useTauriEvent(sub.subscribe, (n: number) => seen.push(`${tag}${n}`)),
      { initialProps: { tag: "a" } },
    );
    await act(async () => sub.resolve());
    sub.emit(1);
    rerender({ tag: "b" });
    sub.emit(2);
    expect(seen).toEqual(["a1", "b2"]);
    expect(sub.subscribe).toHaveBeenCalledTimes(1);
    unmount();
    expect(sub.unlisten).toHaveBeenCalledTimes(1);
    sub.emit(3);
    expect(seen).toEqual(["a1", "b2"]);
  });

  it("unsubscribes once the subscription arrives after unmounting", async () => {
    const sub = deferredSubscription();
    const handler = vi.fn();
    const { unmount } = renderHook(() => useTauriEvent(sub.subscribe, handler));
    unmount();
    expect(sub.unlisten).not.toHaveBeenCalled();
    await act(async () => sub.resolve());
    expect(sub.unlisten).toHaveBeenCalledTimes(1);
    sub.emit(1);
    expect(handler).not.toHaveBeenCalled();
  });

  it("stays quiet outside Tauri (the subscription fails)", async () => {
    const subscribe = vi.fn(() => Promise.reject(new Error("no Tauri")));
    const { unmount } = renderHook(() => useTauriEvent(subscribe, () => {}));
    await act(async () => {});
    unmount();
  });
});
