//! Text from tenants made safe for people to read.
//!
//! A user name, a user agent or a server's error code is typed by strangers. Printed raw
//! to a terminal, `\x1b]0;…\x07` retitles the window and `\x1b[2J` clears it; a bidi
//! override (U+202E) makes `exe.txt` read as `txt.exe`. Every human-facing output (CLI
//! tables and messages, notification bodies, log lines a person reads) goes through
//! [`visible`], which shows such characters as visible escapes instead of obeying them.
//! Machine outputs (JSON) keep the text exact.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters a terminal or a text renderer would obey rather than show: C0
/// controls (tab and newline included: one value never spans cells or lines), DEL, C1
/// controls, and the bidi embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), plus the invisible marks that also reorder text (U+061C, U+200E,
/// U+200F).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{200e}'
        | '\u{200f}')
}

/// `text` with every [`is_unsafe`] character written as a visible escape: ESC as `^[`
/// (the caret notation terminals use), other C0 controls and DEL likewise (`^G`, `^?`),
/// everything else as `\u{202e}`. Borrowed when nothing needs escaping.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push('^');
            // '@' + code: ^@ … ^_ ; in range by the arm above.
            out.push(char::from(b'@' + c as u8));
        } else if c == '\u{7f}' {
            out.push_str("^?");
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Markup-free text for notification bodies: [`visible`], then `&`, `<` and `>` as
/// entities, since notification servers that render a subset of HTML would otherwise
/// show a stranger's links and images.
pub fn for_notification(text: &str) -> String {
    let safe = visible(text);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_shown_not_obeyed() {
        assert_eq!(
            visible("mallory\x1b]0;PWNED\x07\x1b[2J"),
            "mallory^[]0;PWNED^G^[[2J"
        );
        assert_eq!(visible("a\tb\nc\r\x7f"), "a^Ib^Jc^M^?");
        assert_eq!(visible("gnp.\u{202e}exe"), "gnp.\\u{202e}exe");
        assert_eq!(visible("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(visible("\u{2066}\u{2069}"), "\\u{2066}\\u{2069}");
        // Ordinary text of every script stays as it is, and is not copied.
        assert!(matches!(visible("Zoë Ørsted 山田 مريم"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_char_is_either_kept_or_escaped_visibly() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = c.to_string();
            let v = visible(&s);
            assert!(!v.chars().any(is_unsafe), "{c:?} -> {v:?}");
            if !is_unsafe(c) {
                assert_eq!(v, s);
            }
        }
    }

    #[test]
    fn notifications_carry_no_markup() {
        assert_eq!(
            for_notification("<a href=\"x\">hi</a> & <img src=y>\x1b"),
            "&lt;a href=\"x\"&gt;hi&lt;/a&gt; &amp; &lt;img src=y&gt;^["
        );
    }
}
