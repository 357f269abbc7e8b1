// Small drawn icons for buttons and headers: a font glyph for them (pause U+23F8, play
// U+25B6, filter U+29E9 …) is missing on many Linux desktops, or drawn as a colour emoji. All are decorative (aria-hidden);
// the control they sit in carries the text.

type IconProps = {
  /** Edge length in CSS pixels. */
  size?: number;
  className?: string;
};

const base = (p: IconProps, name: string) => ({
  className: p.className ? `icon ${name} ${p.className}` : `icon ${name}`,
  viewBox: "0 0 16 16",
  width: p.size ?? 14,
  height: p.size ?? 14,
  focusable: false as const,
});

/** Two upright bars: pause. */
export function PauseIcon(p: IconProps) {
  return (
    <svg {...base(p, "icon-pause")} data-icon="pause" aria-hidden="true">
      <rect x="3.5" y="2.5" width="3" height="11" rx="0.8" fill="currentColor" />
      <rect x="9.5" y="2.5" width="3" height="11" rx="0.8" fill="currentColor" />
    </svg>
  );
}

/** A triangle pointing right: play / resume. */
export function PlayIcon(p: IconProps) {
  return (
    <svg {...base(p, "icon-play")} data-icon="play" aria-hidden="true">
      <path d="M4.5 2.5v11l9-5.5z" fill="currentColor" strokeLinejoin="round" />
    </svg>
  );
}

/** A circular arrow: refresh. */
export function RefreshIcon(p: IconProps) {
  return (
    <svg {...base(p, "icon-refresh")} data-icon="refresh" aria-hidden="true">
      <path
        d="M13 8a5 5 0 1 1-1.6-3.7"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.7"
        strokeLinecap="round"
      />
      <path d="M13.6 1.8v4.3H9.3z" fill="currentColor" />
    </svg>
  );
}

/** A funnel: the column is filtered. */
export function FilterIcon(p: IconProps) {
  return (
    <svg {...base(p, "icon-filter")} data-icon="filter" aria-hidden="true">
      <path d="M1.5 2.5h13L9.5 8.5v5l-3-1.5V8.5z" fill="currentColor" strokeLinejoin="round" />
    </svg>
  );
}
