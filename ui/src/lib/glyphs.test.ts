import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// Icons are drawn (components/icons.tsx), not taken from a font: these ranges have no glyph
// in the DejaVu fonts most Linux desktops fall back to (⏸ ⧩ ⟳ …), or are drawn as colour
// emoji (▶ 🔔 👤). ⌘ (U+2318) is allowed: DejaVu has it, and it is only shown on macOS.
const FORBIDDEN: readonly [number, number, string][] = [
  [0x2300, 0x23ff, "Miscellaneous Technical"],
  [0x25b6, 0x25b6, "play triangle (emoji presentation)"],
  [0x25c0, 0x25c0, "reverse triangle (emoji presentation)"],
  [0x27f0, 0x27ff, "Supplemental Arrows-A"],
  [0x2980, 0x29ff, "Miscellaneous Mathematical Symbols-B"],
  [0x2b00, 0x2bff, "Miscellaneous Symbols and Arrows"],
  [0xfe0f, 0xfe0f, "emoji variation selector"],
  [0x1f000, 0x10ffff, "outside the Basic Multilingual Plane (emoji)"],
];
const ALLOWED = new Set([0x2318]);

// Vitest runs from ui/.
const SRC = join(process.cwd(), "src");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "bindings" && name !== "test") out.push(...sources(path));
    } else if (/\.(tsx?|css)$/.test(name) && !/\.test\.tsx?$/.test(name)) {
      out.push(path);
    }
  }
  return out;
}

describe("no icon glyphs a Linux desktop may lack", () => {
  it("appear in the UI's sources", () => {
    const found: string[] = [];
    for (const file of sources(SRC)) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const ch of line) {
          const cp = ch.codePointAt(0) ?? 0;
          if (ALLOWED.has(cp)) continue;
          const range = FORBIDDEN.find(([lo, hi]) => cp >= lo && cp <= hi);
          if (range) {
            const hex = cp.toString(16).toUpperCase().padStart(4, "0");
            found.push(`${relative(SRC, file)}:${i + 1}: U+${hex} (${range[2]})`);
          }
        }
      });
    }
    expect(found).toEqual([]);
  });
});
