import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { EMPTY_FILTER } from "../../lib/consoleState";
import { manyTenants } from "../../test/fixtures";
import { CARDS_SHOWN, Cards, cardsShown } from "./Cards";
import { FIND_FROM, FilterPanel, OPTIONS_SHOWN } from "./FilterPanel";

const names = (n: number) => manyTenants(n).map((t) => t.health.tenant);

function openTenantFilter(tenantNames: string[], values: string[] = []) {
  const onChange = vi.fn();
  render(
    <FilterPanel
      filter={{ ...EMPTY_FILTER, tenants: values }}
      onChange={onChange}
      errors={{}}
      facets={undefined}
      tenantNames={tenantNames}
    />,
  );
  fireEvent.click(screen.getByTestId("filter-tenants"));
  const options = () =>
    screen.queryAllByTestId("filter-tenants-option").map((o) => o.dataset.value ?? "");
  return { onChange, options };
}

describe("the tenant filter with a thousand tenants", () => {
  it("offers a short list as it is, with no search box", () => {
    const { options } = openTenantFilter(names(FIND_FROM));
    expect(options()).toHaveLength(FIND_FROM);
    expect(screen.queryByTestId("filter-tenants-find")).toBeNull();
  });

  it("shows a hundred at a time, and typing finds any of them", () => {
    const { options, onChange } = openTenantFilter(names(1000));
    expect(options()).toHaveLength(OPTIONS_SHOWN);
    expect(screen.getByTestId("filter-tenants-more").textContent).toBe("900 more: type to narrow");
    const find = screen.getByTestId("filter-tenants-find");
    expect(find.getAttribute("placeholder")).toBe("Find among 1,000…");
    fireEvent.change(find, { target: { value: "T099" } });
    expect(options()).toEqual([
      "t0990",
      "t0991",
      "t0992",
      "t0993",
      "t0994",
      "t0995",
      "t0996",
      "t0997",
      "t0998",
      "t0999",
    ]);
    expect(screen.queryByTestId("filter-tenants-more")).toBeNull();
    const box = screen
      .getAllByTestId("filter-tenants-option")
      .find((o) => o.dataset.value === "t0995");
    if (box) fireEvent.click(box);
    expect(onChange).toHaveBeenCalledWith({ tenants: ["t0995"] });
    fireEvent.change(find, { target: { value: "nothing like it" } });
    expect(options()).toEqual([]);
    expect(screen.getByText("No tenants match")).toBeTruthy();
  });

  it("keeps chosen tenants at the top, ticked, whatever else is shown", () => {
    const { options } = openTenantFilter(names(1000), ["t0777", "t0003"]);
    expect(options().slice(0, 2)).toEqual(["t0003", "t0777"]);
    const ticked = screen
      .getAllByTestId("filter-tenants-option")
      .filter((o) => (o as HTMLInputElement).checked)
      .map((o) => o.dataset.value);
    expect(ticked).toEqual(["t0003", "t0777"]);
  });
});

describe("per-tenant cards with a thousand tenants", () => {
  it("shows every card while they fit", () => {
    expect(cardsShown(manyTenants(CARDS_SHOWN), [], undefined)).toHaveLength(CARDS_SHOWN);
  });

  it("shows the chosen tenant, then those with alerts, SuperUsers or stale sessions", () => {
    const tenants = manyTenants(90, [], [50]);
    const shown = cardsShown(tenants, ["t0060"], { t0042: 3, t0043: 1 }).map(
      (t) => t.health.tenant,
    );
    expect(shown).toHaveLength(CARDS_SHOWN);
    // manyTenants puts a SuperUser online in t0001 (every 97th); the rest are alike.
    expect(shown.slice(0, 7)).toEqual([
      "t0060",
      "t0042",
      "t0043",
      "t0001",
      "t0050",
      "t0002",
      "t0003",
    ]);
  });

  it("renders twelve cards and says how many more there are", () => {
    render(
      <Cards
        counts={undefined}
        superuserOnly={false}
        onToggleSuperusers={() => {}}
        tenants={manyTenants(1000)}
      />,
    );
    const section = screen.getByRole("region", { name: "Per tenant" });
    expect(within(section).getAllByTestId("tenant-card")).toHaveLength(CARDS_SHOWN);
    expect(screen.getByTestId("tenant-cards-more").textContent).toContain("988 more tenants");
  });
});
