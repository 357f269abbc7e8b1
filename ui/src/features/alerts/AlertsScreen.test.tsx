import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { WrappedIp } from "./AlertsScreen";

describe("the alert centre's IP cell", () => {
  it("may wrap an IPv6 address after each ':', keeping the whole address", () => {
    const ip = "2600:170b:463d:72e3:fa3a:8ce5:f2c5:6563";
    render(<WrappedIp ip={ip} />);
    const cell = screen.getByTestId("alert-ip");
    expect(cell.textContent).toBe(ip);
    expect(cell.getAttribute("title")).toBe(ip);
    expect(cell.querySelectorAll("wbr")).toHaveLength(7);
  });

  it("leaves an IPv4 address in one piece", () => {
    render(<WrappedIp ip="203.0.113.77" />);
    const cell = screen.getByTestId("alert-ip");
    expect(cell.textContent).toBe("203.0.113.77");
    expect(cell.querySelectorAll("wbr")).toHaveLength(0);
  });
});
