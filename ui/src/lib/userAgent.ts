export type ParsedUserAgent = { browser: string | null; os: string | null; label: string };

type Rule = readonly [RegExp, string];

// Order matters: the first match wins (Edge/Opera UAs also contain "Chrome", Chrome UAs "Safari").
const BROWSERS: readonly Rule[] = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\b(?:OPR|Opera|OPiOS)\//, "Opera"],
  [/\bVivaldi\//, "Vivaldi"],
  [/\bYaBrowser\//, "Yandex"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\b(?:Chrome|CriOS|Chromium)\//, "Chrome"],
  [/\bMSIE |\bTrident\//, "Internet Explorer"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\b(?:iPhone|iPad).*AppleWebKit\//, "Safari"],
  [/\bcurl\//i, "curl"],
  [/\bWget\//i, "Wget"],
  [/\bPostmanRuntime\//, "Postman"],
  [/\bpython-requests\/|\bPython-urllib\/|\bpython-httpx\//i, "Python"],
  [/\bokhttp\//i, "OkHttp"],
  [/\bJava\/|\bApache-HttpClient\//, "Java"],
  [/\bGo-http-client\//, "Go"],
  [/\bnode-fetch\/|\baxios\/|\bundici\b/i, "Node.js"],
  [/\bPowerShell\//i, "PowerShell"],
];

const SYSTEMS: readonly Rule[] = [
  [/\bWindows Phone\b/, "Windows Phone"],
  [/\bWindows\b|\bWin(?:32|64|NT)\b/, "Windows"],
  [/\b(?:iPhone|iPad|iPod)\b|\biOS\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b|\bmacOS\b|\bDarwin\b/, "macOS"],
  [/\bUbuntu\b/, "Ubuntu"],
  [/\bFedora\b/, "Fedora"],
  [/\bFreeBSD\b/, "FreeBSD"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

function firstMatch(ua: string, rules: readonly Rule[]): string | null {
  for (const [re, name] of rules) {
    if (re.test(ua)) return name;
  }
  return null;
}

/** Short browser + OS description of a user agent ("Chrome · Windows"). */
export function parseUserAgent(ua: string | null | undefined): ParsedUserAgent {
  const raw = (ua ?? "").trim();
  if (raw === "") return { browser: null, os: null, label: "–" };
  const browser = firstMatch(raw, BROWSERS);
  const os = firstMatch(raw, SYSTEMS);
  const parts = [browser, os].filter((p): p is string => p !== null);
  const label = parts.length > 0 ? parts.join(" · ") : truncate(raw, 32);
  return { browser, os, label };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
