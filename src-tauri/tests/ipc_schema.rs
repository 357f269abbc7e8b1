//! The window's side of the IPC contract, written from the one place commands are
//! defined: every `#[tauri::command]` of `src/commands.rs` with its arguments (as the
//! window passes them: camelCase keys) and its answer, as TypeScript, into
//! `ui/src/ipc/bindings/Commands.ts` beside the types ts-rs writes. `ui/src/ipc/ipc.ts`
//! calls commands through it, so a wrapper that disagrees with Rust does not compile, and
//! the test command fails when the committed file differs from what this writes.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// Arguments Tauri fills in itself: not passed by the window.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "WebviewWindow", "Webview"];

fn last_ident(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn generic_args(seg: &syn::PathSegment) -> Vec<&syn::Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The TypeScript of a Rust type, and the binding types it names.
fn ts(ty: &syn::Type, uses: &mut BTreeSet<String>) -> String {
    match ty {
        syn::Type::Tuple(t) if t.elems.is_empty() => "null".into(),
        syn::Type::Reference(r) => ts(&r.elem, uses),
        syn::Type::Path(p) => {
            let seg = p.path.segments.last().unwrap();
            let name = seg.ident.to_string();
            let args = generic_args(seg);
            match name.as_str() {
                "String" | "str" => "string".into(),
                "bool" => "boolean".into(),
                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize"
                | "f32" | "f64" => "number".into(),
                "Option" => format!("{} | null", ts(args[0], uses)),
                "Vec" => format!("Array<{}>", ts(args[0], uses)),
                "Reply" | "Result" | "Box" | "Arc" => ts(args[0], uses),
                _ => {
                    assert!(args.is_empty(), "no TypeScript for the generic type {name}");
                    uses.insert(name.clone());
                    name
                }
            }
        }
        other => panic!("no TypeScript for {}", quote::quote!(#other)),
    }
}

/// `previous_name` → `previousName`, as Tauri names command arguments by default.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn is_command(f: &syn::ItemFn) -> bool {
    f.attrs.iter().any(|a| {
        let p = a.path();
        p.segments.len() == 2 && p.segments[0].ident == "tauri" && p.segments[1].ident == "command"
    })
}

fn render(source: &str) -> String {
    let file = syn::parse_file(source).unwrap();
    let mut uses = BTreeSet::new();
    let mut body = String::new();
    for item in &file.items {
        let syn::Item::Fn(f) = item else { continue };
        if !is_command(f) {
            continue;
        }
        let mut args = Vec::new();
        for input in &f.sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            if let syn::Type::Path(p) = &*pt.ty
                && INJECTED.contains(&last_ident(&p.path).as_str())
            {
                continue;
            }
            let syn::Pat::Ident(name) = &*pt.pat else {
                panic!("{}: an argument that is not a plain name", f.sig.ident)
            };
            args.push(format!(
                "{}: {}",
                camel(&name.ident.to_string()),
                ts(&pt.ty, &mut uses)
            ));
        }
        let result = match &f.sig.output {
            syn::ReturnType::Default => "null".to_owned(),
            syn::ReturnType::Type(_, t) => ts(t, &mut uses),
        };
        let args = if args.is_empty() {
            "Record<string, never>".to_owned()
        } else {
            format!("{{ {} }}", args.join("; "))
        };
        let _ = writeln!(
            body,
            "  {}: {{ args: {args}; result: {result} }};",
            f.sig.ident
        );
    }
    let mut out = String::from(
        "// Written by src-tauri/tests/ipc_schema.rs from src-tauri/src/commands.rs. Do not edit.\n",
    );
    for u in &uses {
        let _ = writeln!(out, "import type {{ {u} }} from \"./{u}\";");
    }
    out.push_str("\n/** Every command the window may call: its arguments and its answer. */\nexport type Commands = {\n");
    out.push_str(&body);
    out.push_str("};\n");
    out
}

#[test]
fn the_window_s_command_types_are_written_from_the_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("src/commands.rs")).unwrap();
    let text = render(&source);
    let bindings = root.join("../ui/src/ipc/bindings");
    // Every type named has a binding (ts-rs writes them when the core's tests run).
    for line in text.lines().filter(|l| l.starts_with("import type")) {
        let name = line.split('"').nth(1).unwrap().trim_start_matches("./");
        assert!(
            bindings.join(format!("{name}.ts")).exists(),
            "{name} has no TypeScript binding: derive ts_rs::TS with #[ts(export)] on it"
        );
    }
    std::fs::write(bindings.join("Commands.ts"), text).unwrap();
}

#[test]
fn types_map_as_the_window_sees_them() {
    let src = r#"
        #[tauri::command]
        pub async fn f(state: State<'_, AppState>, app: tauri::AppHandle, previous_name: Option<String>, ids: Vec<i64>) -> Reply<Vec<vigil_core::x::Thing>> { todo!() }
        pub fn not_a_command() {}
        #[tauri::command]
        pub async fn g() -> Reply<()> { todo!() }
    "#;
    let text = render(src);
    assert!(
        text.contains("import type { Thing } from \"./Thing\";"),
        "{text}"
    );
    assert!(
        text.contains("  f: { args: { previousName: string | null; ids: Array<number> }; result: Array<Thing> };"),
        "{text}"
    );
    assert!(
        text.contains("  g: { args: Record<string, never>; result: null };"),
        "{text}"
    );
    assert!(!text.contains("not_a_command"));
}
