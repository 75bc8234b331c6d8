//! The UI's TypeScript bindings, generated from the Rust types: every
//! record a command takes or returns and every event payload (by `ts-rs`),
//! plus `commands.ts` (a typed function per command of
//! [`crate::commands`]) and `events.ts` (event names to payload types).
//! `cargo test -p lodge-app` fails when the files in `ui/src/bindings`
//! differ from what the Rust types say; `LODGE_WRITE_BINDINGS=1` rewrites
//! them.

use std::collections::BTreeMap;
use std::path::Path;

use ts_rs::{Config, TS, TypeVisitor};

/// One argument of a command.
pub struct Arg {
    name: &'static str,
    ts: String,
    export: fn(&Config, &mut BTreeMap<String, String>),
}

impl Arg {
    /// An argument named `name` of type `T`.
    pub fn new<T: TS + 'static>(name: &'static str) -> Self {
        Self { name, ts: T::name(&config()), export: export_type::<T> }
    }
}

/// One command: its name, arguments and answer.
pub struct Signature {
    name: &'static str,
    args: Vec<Arg>,
    answer: String,
    export: fn(&Config, &mut BTreeMap<String, String>),
}

impl Signature {
    /// A command answering `T`.
    pub fn new<T: TS + 'static>(name: &'static str, args: Vec<Arg>) -> Self {
        Self { name, args, answer: T::name(&config()), export: export_type::<T> }
    }
}

fn config() -> Config {
    // Timestamps and counts fit in a JavaScript number.
    Config::new().with_large_int("number")
}

/// Collect `T` and everything it refers to as `file name -> contents`.
fn export_type<T: TS + 'static + ?Sized>(cfg: &Config, files: &mut BTreeMap<String, String>) {
    struct Visit<'a>(&'a Config, &'a mut BTreeMap<String, String>);
    impl TypeVisitor for Visit<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            export_type::<U>(self.0, self.1);
        }
    }
    if let Some(path) = T::output_path() {
        let key = path.to_string_lossy().into_owned();
        if files.contains_key(&key) {
            return;
        }
        match T::export_to_string(cfg) {
            Ok(text) => {
                files.insert(key, text);
            }
            Err(e) => panic!("{} cannot be exported to TypeScript: {e}", std::any::type_name::<T>()),
        }
    }
    T::visit_dependencies(&mut Visit(cfg, files));
    T::visit_generics(&mut Visit(cfg, files));
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
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

const HEADER: &str = "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.\n";

/// Every generated file, by name.
pub fn generate() -> BTreeMap<String, String> {
    let cfg = config();
    let mut files = BTreeMap::new();
    let signatures = crate::commands::signatures();
    for s in &signatures {
        (s.export)(&cfg, &mut files);
        for a in &s.args {
            (a.export)(&cfg, &mut files);
        }
    }
    export_type::<crate::events::StoreChanged>(&cfg, &mut files);
    export_type::<crate::events::CardRead>(&cfg, &mut files);
    export_type::<lodge_core::sync::SyncStatus>(&cfg, &mut files);
    export_type::<crate::error::Refusal>(&cfg, &mut files);
    export_type::<crate::error::Reason>(&cfg, &mut files);
    export_type::<crate::error::Remedy>(&cfg, &mut files);

    let types: Vec<String> = files.keys().map(|f| f.trim_end_matches(".ts").to_owned()).collect();
    let import = |what: &[String]| format!("import type {{ {} }} from \"./index\";\n", what.join(", "));

    let mut commands = String::from(HEADER);
    commands.push_str("import { invoke } from \"@tauri-apps/api/core\";\n");
    commands.push_str(&import(&types));
    for s in &signatures {
        let params: Vec<String> = s.args.iter().map(|a| format!("{}: {}", a.name, a.ts)).collect();
        let names: Vec<&str> = s.args.iter().map(|a| a.name).collect();
        commands.push_str(&format!(
            "\nexport function {}({}): Promise<{}> {{\n  return invoke(\"{}\", {{{}}});\n}}\n",
            camel(s.name),
            params.join(", "),
            s.answer,
            s.name,
            if names.is_empty() { String::new() } else { format!(" {} ", names.join(", ")) }
        ));
    }

    let mut events = String::from(HEADER);
    events.push_str(&import(&["CardRead".into(), "StoreChanged".into(), "SyncStatus".into()]));
    events.push_str(&format!(
        "\n/** Every event the shell sends, by name, with its payload. */\nexport type Events = {{\n  \"{}\": StoreChanged;\n  \"{}\": CardRead;\n  \"{}\": SyncStatus;\n}};\n",
        crate::events::STORE_CHANGED,
        crate::events::CARD_READ,
        crate::events::SYNC_STATUS
    ));

    let mut index = String::from(HEADER);
    for t in &types {
        index.push_str(&format!("export type {{ {t} }} from \"./{t}\";\n"));
    }
    files = files.into_iter().map(|(k, v)| (k, format!("{HEADER}{v}"))).collect();
    files.insert("commands.ts".into(), commands);
    files.insert("events.ts".into(), events);
    files.insert("index.ts".into(), index);
    files
}

/// Compare the generated files with those in `dir`: the names of the files
/// that differ, are missing, or should not be there.
pub fn stale(dir: &Path) -> Vec<String> {
    let files = generate();
    let mut stale: Vec<String> =
        files.iter().filter(|(name, text)| std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str())).map(|(n, _)| n.clone()).collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !files.contains_key(&name) {
                stale.push(name);
            }
        }
    }
    stale
}

/// Write the generated files into `dir`, replacing what was there.
pub fn write(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    for (name, text) in generate() {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_bindings_match_the_rust_types() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        if std::env::var_os("LODGE_WRITE_BINDINGS").is_some() {
            write(&dir).unwrap();
        }
        let stale = stale(&dir);
        assert!(stale.is_empty(), "ui/src/bindings is out of date ({stale:?}); run `LODGE_WRITE_BINDINGS=1 cargo test -p lodge-app bindings`");
    }

    #[test]
    fn every_command_has_a_typed_function() {
        let files = generate();
        let commands = &files["commands.ts"];
        assert!(commands.contains("export function registerGuest(form: GuestForm): Promise<null>"), "{commands}");
        assert!(commands.contains("export function admit(request: AdmitRequest): Promise<null>"), "{commands}");
        assert!(files.contains_key("Visit.ts") && files.contains_key("CardRead.ts"));
        assert!(files["Timestamp.ts"].contains("number"), "{}", files["Timestamp.ts"]);
    }
}
