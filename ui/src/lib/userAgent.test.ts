import { describe, expect, it } from "vitest";
import { parseUserAgent } from "./userAgent";

const cases: [string, string][] = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Chrome · Windows",
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Edge · Windows",
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Safari · macOS",
  ],
  [
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Firefox · Ubuntu",
  ],
  ["Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox · Linux"],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Safari · iOS",
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    "Chrome · iOS",
  ],
  [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Chrome · Android",
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
    "Opera · Windows",
  ],
  [
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Chrome · ChromeOS",
  ],
  ["Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer · Windows"],
  ["curl/8.5.0", "curl"],
  ["python-requests/2.31.0", "Python"],
  ["PostmanRuntime/7.37.3", "Postman"],
];

describe("parseUserAgent", () => {
  it.each(cases)("%s → %s", (ua, label) => {
    expect(parseUserAgent(ua).label).toBe(label);
  });

  it("splits browser and OS", () => {
    expect(parseUserAgent(cases[0]?.[0])).toEqual({
      browser: "Chrome",
      os: "Windows",
      label: "Chrome · Windows",
    });
  });

  it("returns a dash for missing user agents", () => {
    expect(parseUserAgent(null).label).toBe("–");
    expect(parseUserAgent("   ").label).toBe("–");
  });

  it("falls back to the (shortened) raw string when nothing is recognised", () => {
    expect(parseUserAgent("MyInternalTool").label).toBe("MyInternalTool");
    const long = parseUserAgent("x".repeat(100)).label;
    expect(long).toHaveLength(32);
    expect(long.endsWith("…")).toBe(true);
  });
});
