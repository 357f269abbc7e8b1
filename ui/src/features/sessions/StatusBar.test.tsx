import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { manyTenants } from "../../test/fixtures";
import { LISTED_TENANTS, StatusBar } from "./StatusBar";

const shownTenants = () =>
  screen.queryAllByTestId("tenant-status").map((b) => b.dataset.tenant ?? "");

describe("StatusBar", () => {
  it("lists every tenant while there are few", () => {
    render(<StatusBar tenants={manyTenants(LISTED_TENANTS, [3])} />);
    expect(shownTenants()).toHaveLength(LISTED_TENANTS);
    expect(screen.queryByTestId("tenant-status-summary")).toBeNull();
  });

  it("counts a thousand tenants and lists the failing ones first, without the healthy", () => {
    const failing = [17, 404, 999];
    const stale = [5];
    render(<StatusBar tenants={manyTenants(1000, failing, stale)} />);
    const summary = screen.getByTestId("tenant-status-summary").textContent;
    expect(summary).toContain("1,000 tenants");
    expect(summary).toContain("996 ok");
    expect(summary).toContain("3 failing");
    expect(summary).toContain("1 stale");
    expect(shownTenants()).toEqual(["t0017", "t0404", "t0999", "t0005"]);
    expect(screen.getAllByTestId("tenant-status")[0]?.textContent).toContain("401 from t0017");
    expect(screen.queryByTestId("tenant-status-more")).toBeNull();
  });

  it("shows the first failing tenants and the rest on demand", () => {
    const failing = Array.from({ length: 40 }, (_, i) => 900 - i * 3);
    render(<StatusBar tenants={manyTenants(1000, failing)} />);
    expect(shownTenants()).toHaveLength(LISTED_TENANTS);
    expect(shownTenants()[0]).toBe("t0783"); // failing ones in name order
    const more = screen.getByTestId("tenant-status-more");
    expect(more.textContent).toBe("28 more");
    fireEvent.click(more);
    expect(shownTenants()).toHaveLength(40);
    fireEvent.click(screen.getByTestId("tenant-status-more"));
    expect(shownTenants()).toHaveLength(LISTED_TENANTS);
  });

  it("keeps the selected tenant in view, healthy or not, and reports clicks", () => {
    const onSelect = vi.fn();
    render(<StatusBar tenants={manyTenants(1000, [2])} selected="t0500" onSelect={onSelect} />);
    expect(shownTenants()).toEqual(["t0002", "t0500"]);
    const selected = screen.getAllByTestId("tenant-status")[1];
    expect(selected?.getAttribute("aria-pressed")).toBe("true");
    if (selected) fireEvent.click(selected);
    expect(onSelect).toHaveBeenCalledWith("t0500");
  });

  it("puts a handful of elements in the window for a thousand tenants, not one per tenant", () => {
    const { container } = render(<StatusBar tenants={manyTenants(1000, [1, 2, 3])} />);
    expect(container.querySelectorAll("button")).toHaveLength(3);
    expect(container.querySelectorAll("*").length).toBeLessThan(40);
  });
});
