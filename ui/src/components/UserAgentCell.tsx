import { visible } from "../lib/format";
import { parseUserAgent } from "../lib/userAgent";

// Small inline marks (no remote assets): a tinted glyph per browser family and OS.
const BROWSER_MARK: Record<string, { glyph: string; color: string }> = {
  Chrome: { glyph: "C", color: "#1a73e8" },
  Firefox: { glyph: "F", color: "#e66000" },
  Safari: { glyph: "S", color: "#0fb5ee" },
  Edge: { glyph: "E", color: "#0c8f76" },
  Opera: { glyph: "O", color: "#d1202f" },
  Vivaldi: { glyph: "V", color: "#ef3939" },
  Yandex: { glyph: "Y", color: "#e61400" },
  "Samsung Internet": { glyph: "S", color: "#6f4bd8" },
  "Internet Explorer": { glyph: "e", color: "#1e6fc2" },
};

function BrowserIcon({ browser }: { browser: string | null }) {
  const mark = browser ? BROWSER_MARK[browser] : undefined;
  if (!mark) {
    // Command-line and library clients: a terminal prompt.
    return (
      <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <rect x="1" y="2" width="14" height="12" rx="2" fill="none" stroke="currentColor" />
        <path d="M4 6l2.5 2L4 10M8 10.5h4" fill="none" stroke="currentColor" strokeWidth="1.4" />
      </svg>
    );
  }
  return (
    <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <circle cx="8" cy="8" r="7.5" fill={mark.color} />
      <text x="8" y="11.6" textAnchor="middle" fontSize="10" fontWeight="700" fill="#fff">
        {mark.glyph}
      </text>
    </svg>
  );
}

function OsIcon({ os }: { os: string | null }) {
  switch (os) {
    case "Windows":
    case "Windows Phone":
      return (
        <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path
            d="M1 3l6-1v5.5H1zM8 1.9 15 1v6.5H8zM1 8.5h6V14l-6-1zM8 8.5h7V15l-7-1z"
            fill="#0078d4"
          />
        </svg>
      );
    case "macOS":
    case "iOS":
      return (
        <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path
            d="M11 8.6c0-1.6 1.3-2.3 1.4-2.4-.8-1.1-2-1.3-2.4-1.3-1-.1-2 .6-2.5.6s-1.3-.6-2.2-.6C4.2 5 3 5.7 2.4 6.8c-1.2 2.1-.3 5.2.9 6.9.6.8 1.2 1.7 2.1 1.7.8 0 1.2-.5 2.2-.5s1.3.5 2.2.5 1.5-.8 2-1.7c.7-1 .9-1.9.9-2-.1 0-1.7-.6-1.7-2.6zM9.5 3.9c.4-.5.8-1.3.7-2-.7 0-1.5.5-1.9 1-.4.5-.8 1.2-.7 2 .7 0 1.4-.4 1.9-1z"
            fill="currentColor"
          />
        </svg>
      );
    case "Android":
      return (
        <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path
            d="M3 7.5a5 5 0 0 1 10 0zM3 8.5h10V13a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z"
            fill="#3ddc84"
          />
        </svg>
      );
    case "Linux":
    case "Ubuntu":
    case "Kubuntu":
    case "Fedora":
    case "Debian":
    case "Arch":
    case "Mint":
    case "CentOS":
    case "RedHat":
    case "SUSE":
    case "Gentoo":
    case "Manjaro":
    case "FreeBSD":
    case "ChromeOS":
      return (
        <svg className="ua-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <ellipse cx="8" cy="9" rx="5" ry="6.5" fill="currentColor" />
          <ellipse cx="8" cy="10.5" rx="3" ry="4" fill="#fff" />
          <path d="M6 15h4l-2-1.4z" fill="#f4b400" />
        </svg>
      );
    default:
      return null;
  }
}

/** The user agent as browser + OS with small icons; the raw string in the tooltip. */
export function UserAgentCell({ userAgent }: { userAgent: string | null }) {
  const ua = parseUserAgent(userAgent);
  return (
    <span className="ua-cell" title={userAgent ? visible(userAgent) : undefined}>
      {(ua.browser || ua.os) && (
        <span className="ua-icons">
          <BrowserIcon browser={ua.browser} />
          <OsIcon os={ua.os} />
        </span>
      )}
      <span className="ua-label">{visible(ua.label)}</span>
    </span>
  );
}
