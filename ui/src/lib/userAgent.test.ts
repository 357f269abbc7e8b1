import { describe, expect, it } from "vitest";
import { visible } from "./format";
import { PARSED_LENGTH, parseUserAgent } from "./userAgent";

const CHROME_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

// Real user agents and what the session tables show for them.
const cases: [string, string][] = [
  [CHROME_WINDOWS, "Chrome · Windows"],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Edge · Windows",
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Edge · macOS",
  ],
  [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 EdgA/124.0.2478.64",
    "Edge · Android",
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
    "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Firefox · Fedora",
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Safari · iOS",
  ],
  [
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
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
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Samsung Internet · Android",
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
  // Apps and command-line clients: the first product token names them.
  ["okhttp/4.12.0", "okhttp"],
  ["MyApp/3.2.1 (Android 14; Pixel 8) okhttp/4.12.0", "MyApp · Android"],
  ["Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)", "Dalvik · Android"],
  ["curl/8.5.0", "curl"],
  ["Wget/1.21.4", "Wget"],
  ["python-requests/2.31.0", "python-requests"],
  ["PostmanRuntime/7.37.3", "PostmanRuntime"],
  ["Go-http-client/2.0", "Go-http-client"],
  ["Apache-HttpClient/4.5.14 (Java/17.0.2)", "Apache-HttpClient"],
];

describe("parseUserAgent", () => {
  it.each(cases)("%s → %s", (ua, label) => {
    expect(parseUserAgent(ua).label).toBe(label);
  });

  it("splits browser and OS", () => {
    expect(parseUserAgent(CHROME_WINDOWS)).toEqual({
      browser: "Chrome",
      os: "Windows",
      label: "Chrome · Windows",
    });
    expect(parseUserAgent("curl/8.5.0")).toEqual({ browser: "curl", os: null, label: "curl" });
    expect(parseUserAgent("MyApp/3.2.1 (Android 14; Pixel 8) okhttp/4.12.0")).toEqual({
      browser: "MyApp",
      os: "Android",
      label: "MyApp · Android",
    });
  });

  it("returns a dash for missing user agents", () => {
    expect(parseUserAgent(null).label).toBe("–");
    expect(parseUserAgent(undefined).label).toBe("–");
    expect(parseUserAgent("   ").label).toBe("–");
  });

  it("falls back to the (shortened) raw string when nothing is recognised", () => {
    expect(parseUserAgent("MyInternalTool").label).toBe("MyInternalTool");
    expect(parseUserAgent("Mozilla/5.0 (compatible)")).toEqual({
      browser: null,
      os: null,
      label: "Mozilla/5.0 (compatible)",
    });
    const long = parseUserAgent("x".repeat(100)).label;
    expect(long).toHaveLength(32);
    expect(long.endsWith("…")).toBe(true);
  });

  it("never takes a name from Object.prototype", () => {
    expect(parseUserAgent("constructor/1.0")).toEqual({
      browser: null,
      os: null,
      label: "constructor/1.0",
    });
    expect(parseUserAgent("__proto__/1.0").browser).toBeNull();
  });

  it("keeps terminal escapes and bidi overrides out of the names", () => {
    const hostile = "\u001b]0;pwned\u0007\u001b[2J\u202egnp.exe\u2066 curl/8.5.0";
    const parsed = parseUserAgent(hostile);
    expect(parsed.browser).toBeNull();
    expect(parsed.os).toBeNull();
    expect(parsed.label).toBe(`${hostile.slice(0, 31)}…`);
    // What the tables render: every control and bidi character written as a visible escape.
    expect(visible(parsed.label)).toBe("^[]0;pwned^G^[[2J\\u{202e}gnp.exe\\u{2066} curl/8.…");

    const spoofed = `${CHROME_WINDOWS} \u001b[31m\u202eEvil/1.0`;
    expect(parseUserAgent(spoofed)).toEqual({
      browser: "Chrome",
      os: "Windows",
      label: "Chrome · Windows",
    });
    expect(parseUserAgent("curl\u202e/8.5.0").browser).toBeNull();
  });

  it("parses very long and backtracking-shaped strings quickly", () => {
    const hostile = [
      "A".repeat(10_000),
      `${CHROME_WINDOWS} ${"x".repeat(10_000)}`,
      `Mozilla/5.0 (${"Windows NT 10.0; ".repeat(600)}`,
      `Mozilla/5.0 (Linux; Android ${"1.".repeat(5_000)}`,
      `${"a/".repeat(5_000)}`,
      `${" ".repeat(5_000)}x${"\u202e".repeat(5_000)}`,
    ];
    for (const ua of hostile) expect(ua.length).toBeGreaterThanOrEqual(10_000);
    const start = performance.now();
    const labels = hostile.map((ua) => parseUserAgent(ua).label);
    const elapsed = performance.now() - start;
    expect(labels[0]).toBe(`${"A".repeat(31)}…`);
    expect(labels[1]).toBe("Chrome · Windows");
    for (const label of labels) expect(label.length).toBeLessThanOrEqual(40);
    expect(elapsed).toBeLessThan(500);
    // The bound behind that: only the head is parsed, whatever follows it.
    for (const ua of hostile) {
      const { browser, os } = parseUserAgent(ua);
      const head = parseUserAgent(ua.slice(0, PARSED_LENGTH));
      expect({ browser, os }).toEqual({ browser: head.browser, os: head.os });
    }
  });
});
