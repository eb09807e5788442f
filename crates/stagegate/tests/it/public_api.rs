//! The public API of the `stagegate` crate is chosen, and listed in `public-api.txt`: this test
//! reads the crate's sources, resolves what `lib.rs` makes public (its `pub mod`s and
//! `pub use`s, the `pub` items, fields, variants and methods they reach), and fails when that
//! differs from the list. A change to the API is then a change to the list, made on purpose:
//! `STAGEGATE_BLESS=1 cargo test -p stagegate --test it public_api` writes it anew.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::{Item, UseTree, Visibility};

/// One module of the crate: where its items are, and the modules declared in it.
struct Module {
    items: Vec<Item>,
    directory: PathBuf,
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn parse(path: &Path) -> Vec<Item> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    syn::parse_file(&text)
        .unwrap_or_else(|error| panic!("{path:?}: {error}"))
        .items
}

/// The module at `segments` below the crate root (`["commands", "deploy"]`).
fn module(segments: &[String]) -> Module {
    let mut module = Module {
        items: parse(&source_root().join("lib.rs")),
        directory: source_root(),
    };
    for segment in segments {
        module = child(&module, segment).unwrap_or_else(|| panic!("no module {segments:?}"));
    }
    module
}

/// The child module `name` of `parent`: inline, or in `name.rs` / `name/mod.rs`.
fn child(parent: &Module, name: &str) -> Option<Module> {
    parent.items.iter().find_map(|item| match item {
        Item::Mod(declared) if declared.ident == name => {
            if let Some((_, items)) = &declared.content {
                return Some(Module {
                    items: items.clone(),
                    directory: parent.directory.join(name),
                });
            }
            let file = parent.directory.join(format!("{name}.rs"));
            let (path, directory) = if file.exists() {
                (file, parent.directory.join(name))
            } else {
                let inner = parent.directory.join(name).join("mod.rs");
                (inner, parent.directory.join(name))
            };
            Some(Module {
                items: parse(&path),
                directory,
            })
        }
        _ => None,
    })
}

fn is_pub(visibility: &Visibility) -> bool {
    matches!(visibility, Visibility::Public(_))
}

/// A definition a public path reaches.
enum Definition {
    Module(Vec<String>),
    Item(Box<Item>),
}

/// Resolve `name` inside the module at `segments`: an item, a child module, or what a `use`
/// of it names.
fn resolve(segments: &[String], name: &str) -> Option<Definition> {
    let module = module(segments);
    if child(&module, name).is_some() {
        let mut path = segments.to_vec();
        path.push(name.to_owned());
        return Some(Definition::Module(path));
    }
    for item in &module.items {
        if item_name(item).as_deref() == Some(name) && !matches!(item, Item::Use(_)) {
            return Some(Definition::Item(Box::new(item.clone())));
        }
    }
    for item in &module.items {
        if let Item::Use(declaration) = item {
            for (alias, target) in use_paths(&declaration.tree, Vec::new()) {
                if alias == name {
                    return resolve_path(segments, &target);
                }
            }
        }
    }
    None
}

/// Resolve a `use` path written in the module at `segments`.
fn resolve_path(segments: &[String], path: &[String]) -> Option<Definition> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => segments.to_vec(),
        "super" => segments[..segments.len().saturating_sub(1)].to_vec(),
        // Another crate: outside this crate's API.
        _ => return None,
    };
    let (last, middle) = rest.split_last()?;
    for segment in middle {
        match segment.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => match resolve(&base, segment)? {
                Definition::Module(path) => base = path,
                Definition::Item(_) => return None,
            },
        }
    }
    resolve(&base, last)
}

/// Every `(name, path)` a use tree brings in.
fn use_paths(tree: &UseTree, prefix: Vec<String>) -> Vec<(String, Vec<String>)> {
    match tree {
        UseTree::Path(path) => {
            let mut prefix = prefix;
            prefix.push(path.ident.to_string());
            use_paths(&path.tree, prefix)
        }
        UseTree::Name(name) => {
            let mut path = prefix;
            path.push(name.ident.to_string());
            vec![(name.ident.to_string(), path)]
        }
        UseTree::Rename(rename) => {
            let mut path = prefix;
            path.push(rename.ident.to_string());
            vec![(rename.rename.to_string(), path)]
        }
        UseTree::Group(group) => group
            .items
            .iter()
            .flat_map(|tree| use_paths(tree, prefix.clone()))
            .collect(),
        UseTree::Glob(_) => Vec::new(),
    }
}

fn item_name(item: &Item) -> Option<String> {
    Some(match item {
        Item::Fn(item) => item.sig.ident.to_string(),
        Item::Struct(item) => item.ident.to_string(),
        Item::Enum(item) => item.ident.to_string(),
        Item::Const(item) => item.ident.to_string(),
        Item::Static(item) => item.ident.to_string(),
        Item::Trait(item) => item.ident.to_string(),
        Item::Type(item) => item.ident.to_string(),
        Item::Mod(item) => item.ident.to_string(),
        _ => return None,
    })
}

/// Every inherent `pub fn` of a type named `name`, anywhere in the crate.
fn methods(impls: &HashMap<String, Vec<String>>, name: &str) -> Vec<String> {
    impls.get(name).cloned().unwrap_or_default()
}

fn collect_impls(directory: &Path, impls: &mut HashMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(directory).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_impls(&path, impls);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            collect_impls_of(&parse(&path), impls);
        }
    }
}

fn collect_impls_of(items: &[Item], impls: &mut HashMap<String, Vec<String>>) {
    for item in items {
        match item {
            Item::Impl(block) if block.trait_.is_none() => {
                let syn::Type::Path(self_type) = &*block.self_ty else {
                    continue;
                };
                let Some(name) = self_type.path.segments.last() else {
                    continue;
                };
                for inner in &block.items {
                    if let syn::ImplItem::Fn(function) = inner
                        && is_pub(&function.vis)
                    {
                        impls
                            .entry(name.ident.to_string())
                            .or_default()
                            .push(function.sig.ident.to_string());
                    }
                }
            }
            Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect_impls_of(items, impls);
                }
            }
            _ => {}
        }
    }
}

/// The lines of the public API below the module at `segments`, named `path`.
fn list_module(
    segments: &[String],
    path: &str,
    impls: &HashMap<String, Vec<String>>,
    lines: &mut BTreeSet<String>,
) {
    lines.insert(format!("mod {path}"));
    let module = module(segments);
    for item in &module.items {
        match item {
            Item::Use(declaration) if is_pub(&declaration.vis) => {
                for (alias, target) in use_paths(&declaration.tree, Vec::new()) {
                    let named = format!("{path}::{alias}");
                    match resolve_path(segments, &target) {
                        Some(Definition::Module(module)) => {
                            list_module(&module, &named, impls, lines);
                        }
                        Some(Definition::Item(item)) => list_item(&item, &named, impls, lines),
                        None => {
                            lines.insert(format!("use {named} = {}", target.join("::")));
                        }
                    }
                }
            }
            Item::Mod(declared) if is_pub(&declared.vis) => {
                let mut child = segments.to_vec();
                child.push(declared.ident.to_string());
                list_module(&child, &format!("{path}::{}", declared.ident), impls, lines);
            }
            item if item_is_pub(item) => {
                let name = item_name(item).unwrap_or_default();
                list_item(item, &format!("{path}::{name}"), impls, lines);
            }
            _ => {}
        }
    }
}

fn item_is_pub(item: &Item) -> bool {
    match item {
        Item::Fn(item) => is_pub(&item.vis),
        Item::Struct(item) => is_pub(&item.vis),
        Item::Enum(item) => is_pub(&item.vis),
        Item::Const(item) => is_pub(&item.vis),
        Item::Static(item) => is_pub(&item.vis),
        Item::Trait(item) => is_pub(&item.vis),
        Item::Type(item) => is_pub(&item.vis),
        _ => false,
    }
}

fn list_item(
    item: &Item,
    path: &str,
    impls: &HashMap<String, Vec<String>>,
    lines: &mut BTreeSet<String>,
) {
    let with_methods = |name: &str, lines: &mut BTreeSet<String>| {
        for method in methods(impls, name) {
            lines.insert(format!("fn {path}::{method}"));
        }
    };
    match item {
        Item::Fn(_) => {
            lines.insert(format!("fn {path}"));
        }
        Item::Struct(item) => {
            lines.insert(format!("struct {path}"));
            for (index, field) in item.fields.iter().enumerate() {
                if is_pub(&field.vis) {
                    let name = field
                        .ident
                        .as_ref()
                        .map_or_else(|| index.to_string(), ToString::to_string);
                    lines.insert(format!("field {path}.{name}"));
                }
            }
            with_methods(&item.ident.to_string(), lines);
        }
        Item::Enum(item) => {
            lines.insert(format!("enum {path}"));
            for variant in &item.variants {
                lines.insert(format!("variant {path}::{}", variant.ident));
            }
            with_methods(&item.ident.to_string(), lines);
        }
        Item::Const(_) | Item::Static(_) => {
            lines.insert(format!("const {path}"));
        }
        Item::Trait(item) => {
            lines.insert(format!("trait {path}"));
            for inner in &item.items {
                if let syn::TraitItem::Fn(function) = inner {
                    lines.insert(format!("fn {path}::{}", function.sig.ident));
                }
            }
        }
        Item::Type(_) => {
            lines.insert(format!("type {path}"));
        }
        _ => {}
    }
}

#[test]
fn public_api_is_the_listed_one() {
    let mut impls = HashMap::new();
    collect_impls(&source_root(), &mut impls);
    let mut lines = BTreeSet::new();
    list_module(&[], "stagegate", &impls, &mut lines);
    let listed = Path::new(env!("CARGO_MANIFEST_DIR")).join("public-api.txt");
    let actual: String = lines.iter().map(|line| format!("{line}\n")).collect();
    if std::env::var_os("STAGEGATE_BLESS").is_some() {
        std::fs::write(&listed, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&listed).unwrap_or_default();
    if actual != expected {
        let expected: BTreeSet<&str> = expected.lines().collect();
        let actual: BTreeSet<&str> = actual.lines().collect();
        let added: Vec<&&str> = actual.difference(&expected).collect();
        let removed: Vec<&&str> = expected.difference(&actual).collect();
        panic!(
            "stagegate's public API changed.\nadded: {added:#?}\nremoved: {removed:#?}\nIf that is meant, write the list anew with `STAGEGATE_BLESS=1 cargo test -p stagegate --test it public_api` and say why in the commit."
        );
    }
}
