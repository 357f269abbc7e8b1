import { describe, expect, it } from "vitest";
import { defaultLayout, readLayout } from "./layout";

const COLUMNS = [
  { id: "tenant", visible: true },
  { id: "username", visible: true },
  { id: "server_name", visible: false },
];

describe("saved table layout", () => {
  it("falls back to the default for nothing or garbage", () => {
    const fallback = defaultLayout(COLUMNS);
    expect(fallback).toEqual({
      order: ["tenant", "username", "server_name"],
      hidden: ["server_name"],
      sizing: {},
      sort: null,
    });
    expect(readLayout(null, COLUMNS)).toEqual(fallback);
    expect(readLayout("{not json", COLUMNS)).toEqual(fallback);
    expect(readLayout("42", COLUMNS)).toEqual(fallback);
  });

  it("keeps order, hidden columns, clamped widths and sort; drops unknown columns", () => {
    const raw = JSON.stringify({
      order: ["username", "gone", "tenant", "server_name"],
      hidden: ["tenant", "gone"],
      sizing: { username: 5000, tenant: 12, gone: 100, server_name: "wide" },
      sort: { sort: "ip", descending: true },
    });
    expect(readLayout(raw, COLUMNS)).toEqual({
      order: ["username", "tenant", "server_name"],
      hidden: ["tenant"],
      sizing: { username: 800, tenant: 40 },
      sort: { sort: "ip", descending: true },
    });
  });

  it("appends columns a newer build added, with their default visibility", () => {
    const raw = JSON.stringify({ order: ["username", "tenant"], hidden: [], sizing: {} });
    const layout = readLayout(raw, COLUMNS);
    expect(layout.order).toEqual(["username", "tenant", "server_name"]);
    expect(layout.hidden).toEqual(["server_name"]);
    expect(layout.sort).toBeNull();
  });
});
