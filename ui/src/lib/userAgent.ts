// Parsing by ua-parser-js 1.0.41: MIT-licensed (2.x is AGPL-3.0), with maintained browser/OS rules.
import UAParser from "ua-parser-js";

export type ParsedUserAgent = { browser: string | null; os: string | null; label: string };

// The library's names for what the icons in UserAgentCell know under another name.
const BROWSER_NAMES = new Map([
  ["Mobile Safari", "Safari"],
  ["IE", "Internet Explorer"],
  ["IEMobile", "Internet Explorer"],
]);
const OS_NAMES = new Map([
  ["Mac OS", "macOS"],
  ["Chromium OS", "ChromeOS"],
]);

// A client that is no browser (curl, okhttp, python-requests) names itself in the first product
// token, `name/version` (RFC 9110 §10.1.5); ASCII token characters only, so nothing a terminal
// or a bidi algorithm would act on.
const PRODUCT = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32})\//;

/** How much of a user agent is parsed. */
export const PARSED_LENGTH = 500;

/** Short browser + OS description of a user agent ("Chrome · Windows"). */
export function parseUserAgent(ua: string | null | undefined): ParsedUserAgent {
  const raw = (ua ?? "").trim();
  if (raw === "") return { browser: null, os: null, label: "–" };
  // Only the head is parsed (the library itself stops at 500 characters too), so a long
  // string costs no more than a short one.
  const head = raw.slice(0, PARSED_LENGTH);
  const parser = new UAParser(head);
  const browserName = name(parser.getBrowser().name);
  const browser = browserName
    ? (BROWSER_NAMES.get(browserName) ?? browserName)
    : name(productToken(head));
  const osName = name(parser.getOS().name);
  const os = osName ? (OS_NAMES.get(osName) ?? osName) : null;
  const parts = [browser, os].filter((p): p is string => p !== null);
  const label = parts.length > 0 ? parts.join(" · ") : truncate(raw, 32);
  return { browser, os, label };
}

function productToken(ua: string): string | undefined {
  const token = PRODUCT.exec(ua)?.[1];
  // "Mozilla/5.0" is what every browser and many bots send for compatibility: it names nobody.
  return token === "Mozilla" ? undefined : token;
}

/** A usable name, or null; never one that a lookup table would find on Object.prototype. */
function name(s: string | undefined): string | null {
  if (!s || s in Object.prototype) return null;
  return truncate(s, 32);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
