import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { type RangeQuery, useRowSelection } from "./useRowSelection";

type Row = { id: string };
type Base = { q: string };

const row = (i: number): Row => ({ id: `r${i}` });
const rows: Row[] = Array.from({ length: 20 }, (_, i) => row(i));

function setup(base: Base = { q: "" }) {
  const fetchRows = vi.fn(async (q: Base & RangeQuery) => ({
    rows: rows.slice(q.offset, q.offset + q.limit),
  }));
  const onRangeError = vi.fn();
  const hook = renderHook(
    ({ base, listKey }) =>
      useRowSelection<Row, string, Base>({
        base,
        listKey,
        keyOf: (r) => r.id,
        toItem: (r) => r.id.toUpperCase(),
        fetchRows,
        cap: 5,
        onRangeError,
      }),
    { initialProps: { base, listKey: "a" } },
  );
  const keys = () => [...hook.result.current.selection.keys()];
  return { ...hook, fetchRows, onRangeError, keys };
}

describe("useRowSelection", () => {
  it("selects a row alone, toggles with Ctrl/Cmd and remembers the anchor", () => {
    const { result, keys } = setup();
    act(() => result.current.onRowClick(2, row(2), { toggle: false, range: false }));
    act(() => result.current.onRowClick(4, row(4), { toggle: true, range: false }));
    expect(keys()).toEqual(["r2", "r4"]);
    expect(result.current.selection.get("r4")).toBe("R4");
    expect(result.current.anchor).toBe(4);
    expect(result.current.focusIndex).toBe(4);
    act(() => result.current.onRowClick(2, row(2), { toggle: true, range: false }));
    expect(keys()).toEqual(["r4"]);
  });

  it("fetches a Shift range from the anchor, at most `cap` rows", async () => {
    const { result, keys, fetchRows } = setup();
    act(() => result.current.onRowClick(3, row(3), { toggle: false, range: false }));
    await act(async () => result.current.onRowClick(12, row(12), { toggle: false, range: true }));
    expect(fetchRows).toHaveBeenCalledWith({ q: "", offset: 3, limit: 5 });
    expect(keys()).toEqual(["r3", "r4", "r5", "r6", "r7"]);
    expect(result.current.anchor).toBe(3);
  });

  it("drops a range that arrives for an older list, and starts over on a new list", async () => {
    const { result, keys, rerender } = setup();
    act(() => result.current.onRowClick(1, row(1), { toggle: false, range: false }));
    act(() => result.current.onRowClick(2, row(2), { toggle: false, range: true }));
    rerender({ base: { q: "x" }, listKey: "a" });
    await act(async () => {});
    expect(keys()).toEqual(["r1"]);
    rerender({ base: { q: "x" }, listKey: "b" });
    expect(keys()).toEqual([]);
    expect(result.current.anchor).toBeNull();
    expect(result.current.focusIndex).toBe(-1);
  });
});
