//! The project's structure limits, checked on the source files themselves: file and function
//! sizes in src/, the layering (the op set below the network and training code), no import circle
//! between Rust files, and function sizes in the page's JavaScript. Each check prints every
//! offender when it fails. The scanners blank out comments and string and character literals (and,
//! in JavaScript, template literals and regular expressions) before they look at braces or paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 60;
const MAX_JS_FN_LINES: usize = 50;
const MAX_APP_JS_LINES: usize = 250;
/// Files allowed past `MAX_FILE_LINES` (none: the lessons' data is in lessons/*.json).
const LONG_FILES: [&str; 0] = [];
/// The op set (and the data readers) sit below these modules and must not reach up into them.
const LOWER: [&str; 4] = ["gpu", "ops", "reference", "data"];
const UPPER: [&str; 5] = ["nn", "train", "lessons", "web", "inspect"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (relative to the crate root) whose name ends with `ext`, sorted.
fn files(dir: &str, ext: &str, recursive: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if recursive {
                    stack.push(path);
                }
            } else if path.to_string_lossy().ends_with(ext) {
                out.push(path.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

fn read(file: &str) -> String {
    fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn report(what: &str, offenders: &[String]) {
    assert!(offenders.is_empty(), "{what}: {} offender(s)\n  {}\n", offenders.len(), offenders.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Blanking: the code with every comment and literal replaced by spaces (newlines kept), so that
// braces, `fn` and paths found in the result are code.

/// Replaces `code[from..to]` with spaces, keeping newlines.
fn blank(code: &mut [char], from: usize, to: usize) {
    let to = to.min(code.len());
    for ch in code[from..to].iter_mut().filter(|ch| **ch != '\n') {
        *ch = ' ';
    }
}

/// The end of a `//` or `/* */` comment starting at `i` (block comments nest in Rust), if one does.
fn comment_end(c: &[char], i: usize, nested: bool) -> Option<usize> {
    match (c[i], c.get(i + 1)) {
        ('/', Some('/')) => Some((i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())),
        ('/', Some('*')) => {
            let (mut depth, mut j) = (1, i + 2);
            while j < c.len() && depth > 0 {
                if nested && c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            Some(j.min(c.len()))
        }
        _ => None,
    }
}

/// Rust: `//` and nested `/* */` comments, strings (plain, byte, raw with any number of `#`) and
/// character literals (told apart from lifetimes).
fn blank_rust(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = c.clone();
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if let Some(end) = comment_end(&c, i, true) {
            blank(&mut out, i, end);
            i = end;
        } else if let Some(end) = raw_string_end(&c, i) {
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c[i] == '\'' && !(i > 0 && is_ident(c[i - 1]) && !is_byte_prefix(&c, i - 1)) {
            // A character literal closes within a few characters; a lifetime does not close.
            let close = if next == Some('\\') { (i + 3..(i + 12).min(c.len())).find(|&j| c[j] == '\'') } else { (c.get(i + 2) == Some(&'\'')).then_some(i + 2) };
            match close {
                Some(j) => {
                    blank(&mut out, i, j + 1);
                    i = j + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// The end (one past the closing quote and hashes) of a raw string starting at `i`, if one does.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let start = if c[i] == 'b' && c.get(i + 1) == Some(&'r') { i + 2 } else if c[i] == 'r' { i + 1 } else { return None };
    if i > 0 && is_ident(c[i - 1]) {
        return None;
    }
    let hashes = c[start..].iter().take_while(|&&ch| ch == '#').count();
    if c.get(start + hashes) != Some(&'"') {
        return None;
    }
    let mut j = start + hashes + 1;
    while j < c.len() {
        if c[j] == '"' && c[j + 1..].iter().take(hashes).filter(|&&ch| ch == '#').count() == hashes && j + hashes < c.len() {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Whether `c[i]` is the `b` of a byte literal (`b'x'`) rather than the end of an identifier.
fn is_byte_prefix(c: &[char], i: usize) -> bool {
    c[i] == 'b' && (i == 0 || !is_ident(c[i - 1]))
}

/// JavaScript: `//` and `/* */` comments, '…' and "…" strings, template literals (their `${…}`
/// code kept, nested templates included) and regular-expression literals (a `/` where an operand
/// is expected).
fn blank_js(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = c.clone();
    let mut i = 0;
    // Brace depths at which a template literal resumes after its `${…}` closes.
    let mut templates: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    while i < c.len() {
        if let Some(end) = comment_end(&c, i, false) {
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '\'' || c[i] == '"' || (c[i] == '/' && regex_allowed(&out, i)) {
            let quote = c[i];
            let (mut j, mut in_class) = (i + 1, false);
            while j < c.len() && (c[j] != quote || in_class) && c[j] != '\n' {
                if quote == '/' && (c[j] == '[' || c[j] == ']') {
                    in_class = c[j] == '[';
                }
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c[i] == '`' || (c[i] == '}' && templates.last() == Some(&depth)) {
            // Template text up to the closing backquote or the next `${`.
            if c[i] == '}' {
                templates.pop();
            }
            let mut j = i + 1;
            while j < c.len() && c[j] != '`' && !(c[j] == '$' && c.get(j + 1) == Some(&'{')) {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            if j < c.len() && c[j] == '$' {
                blank(&mut out, i, j);
                templates.push(depth);
                i = j + 2; // the `${` itself is blanked: its `{` is not a code brace
                out[j] = ' ';
                out[j + 1] = ' ';
            } else {
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
        } else {
            match c[i] {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Whether a `/` at `i` starts a regular expression: the code before it ends in an operator or
/// an opening bracket, or in a keyword after which an operand comes.
fn regex_allowed(code: &[char], i: usize) -> bool {
    let before: String = code[..i].iter().collect();
    let trimmed = before.trim_end();
    match trimmed.chars().last() {
        None => true,
        Some(ch) if "(,=:[!&|?{};+-*%<>~^".contains(ch) => true,
        Some(ch) if is_ident(ch) => {
            let word: String = trimmed.chars().rev().take_while(|&c| is_ident(c)).collect::<Vec<_>>().into_iter().rev().collect();
            matches!(word.as_str(), "return" | "typeof" | "case" | "in" | "of" | "delete" | "void" | "throw" | "new")
        }
        _ => false,
    }
}

/// The 1-based line of byte-free char index `i`.
fn line_of(code: &[char], i: usize) -> usize {
    code[..i].iter().filter(|&&c| c == '\n').count() + 1
}

/// The index of the brace that closes the one at `open`.
fn closing_brace(code: &[char], open: usize) -> Option<usize> {
    matching(code, open, ('{', '}'), true)
}

/// The index of the bracket that matches the one at `at`: searching forward from an opening
/// bracket of `pair`, or backward from a closing one.
fn matching(code: &[char], at: usize, (open, close): (char, char), forward: bool) -> Option<usize> {
    let (deeper, shallower) = if forward { (open, close) } else { (close, open) };
    let order: Box<dyn Iterator<Item = usize>> = if forward { Box::new(at..code.len()) } else { Box::new((0..=at).rev()) };
    let mut depth = 0;
    for j in order {
        if code[j] == deeper {
            depth += 1;
        } else if code[j] == shallower {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Rust functions.

/// Every function with a body in blanked Rust code: (name, first line, last line).
fn rust_functions(code: &str) -> Vec<(String, usize, usize)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < c.len() {
        let starts_fn = c[i] == 'f' && c[i + 1] == 'n' && c[i + 2].is_whitespace() && (i == 0 || !is_ident(c[i - 1]));
        if !starts_fn {
            i += 1;
            continue;
        }
        let name: String = c[i + 2..].iter().skip_while(|ch| ch.is_whitespace()).take_while(|&&ch| is_ident(ch)).collect();
        // The signature ends at the body's `{`, or at `;` for a declaration without one; `;` and
        // braces inside brackets (array lengths) do not count.
        let mut depth = 0i32;
        let mut j = i + 2;
        while j < c.len() {
            match c[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '{' | ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        if j < c.len() && c[j] == '{' {
            if let Some(end) = closing_brace(&c, j) {
                out.push((name, line_of(&c, i), line_of(&c, end)));
            }
        }
        i += 2;
    }
    out
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut offenders = Vec::new();
    for file in files("src", ".rs", true) {
        let text = read(&file);
        let generated = text.lines().take(5).any(|l| l.contains("@generated") || l.contains("DO NOT EDIT"));
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES && !LONG_FILES.contains(&file.as_str()) && !generated {
            offenders.push(format!("{file}: {lines} lines"));
        }
    }
    report(&format!("files in src/ over {MAX_FILE_LINES} lines"), &offenders);
}

/// Functions of `files` (found by `functions` in the text `blank` leaves) longer than `max` lines.
fn long_functions(files: Vec<String>, blank: fn(&str) -> String, functions: fn(&str) -> Vec<(String, usize, usize)>, max: usize) -> Vec<String> {
    let mut offenders = Vec::new();
    for file in files {
        for (name, first, last) in functions(&blank(&read(&file))) {
            let lines = last - first + 1;
            if lines > max {
                offenders.push(format!("{file}:{first} fn {name}: {lines} lines"));
            }
        }
    }
    offenders
}

#[test]
fn no_rust_function_is_over_60_lines() {
    let offenders = long_functions(files("src", ".rs", true), blank_rust, rust_functions, MAX_FN_LINES);
    report(&format!("Rust functions in src/ over {MAX_FN_LINES} lines"), &offenders);
}

#[test]
fn the_scanners_see_code_only() {
    let rust = "fn a() {\n    let s = \"}\";\n    let c = '}';\n    let r = r#\"}\"#;\n    // }\n    /* } /* } */ */\n    let l: &'static str = s;\n}\nfn b(x: [u8; 2]) -> u8 { x[0] }\ntrait T { fn c(&self); }\n";
    let fns: Vec<(String, usize, usize)> = rust_functions(&blank_rust(rust));
    assert_eq!(fns, vec![("a".to_string(), 1, 8), ("b".to_string(), 9, 9)]);
    let js = "function f(a) {\n  const s = '}', t = `x${a ? `}` : '{'}}`;\n  const r = /[}/]/g; // }\n  return s + t + r;\n}\nclass C {\n  m() {\n    if (x) { y(); }\n  }\n}\nconst g = async (p) => {\n  return p / 2;\n};\n";
    let fns = js_functions(&blank_js(js));
    assert_eq!(fns, vec![("f".to_string(), 1, 5), ("m".to_string(), 7, 9), ("=>".to_string(), 11, 13)]);
}

// ---------------------------------------------------------------------------------------------
// Rust imports: every `use` and every `crate::`, `super::`, `self::` path, resolved to the file
// that defines what it names.

/// A module tree of one crate: module path → file.
struct Crate {
    modules: BTreeMap<Vec<String>, String>,
}

impl Crate {
    /// The crate rooted at `root_file`; its modules are the .rs files below the root's folder
    /// (`a/b.rs` or `a/b/mod.rs` is module `a::b`), leaving out `skip` folders.
    fn new(root_file: &str, skip: &[&str]) -> Crate {
        let dir = Path::new(root_file).parent().unwrap().to_string_lossy().to_string();
        let mut modules = BTreeMap::new();
        for file in files(&dir, ".rs", true) {
            let rel = file[dir.len() + 1..].trim_end_matches(".rs").to_string();
            if skip.iter().any(|s| rel.starts_with(&format!("{s}/"))) {
                continue;
            }
            let mut path: Vec<String> = rel.split('/').map(String::from).collect();
            if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            if file == root_file {
                path.clear();
            } else if path == ["lib"] || path == ["main"] {
                continue;
            }
            modules.insert(path, file);
        }
        Crate { modules }
    }

    /// The file of the deepest module on `path`, and the path's segments after that module.
    fn file_of<'a>(&self, path: &'a [String]) -> (&str, &'a [String]) {
        (0..=path.len()).rev().find_map(|n| self.modules.get(&path[..n]).map(|f| (f.as_str(), &path[n..]))).unwrap()
    }
}

/// Every path a file's code mentions, as written: the leaves of its `use` trees (with the
/// inline-module nesting at that point, and whether the `use` is `pub`), and the other paths that
/// start with `crate`, `super` or `self`.
fn mentioned_paths(code: &str) -> Vec<(Vec<String>, Vec<String>, bool)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new(); // (module, brace depth inside it)
    let (mut depth, mut i) = (0usize, 0usize);
    let word_at = |i: usize| -> String { c[i..].iter().take_while(|&&ch| is_ident(ch)).collect() };
    while i < c.len() {
        let boundary = i == 0 || !(is_ident(c[i - 1]) || c[i - 1] == ':');
        let word = if boundary && is_ident(c[i]) { word_at(i) } else { String::new() };
        let nesting: Vec<String> = inline.iter().map(|(m, _)| m.clone()).collect();
        if c[i] == '{' {
            depth += 1;
        } else if c[i] == '}' {
            depth -= 1;
            if inline.last().is_some_and(|&(_, d)| d == depth + 1) {
                inline.pop();
            }
        } else if word == "mod" {
            let rest: String = c[i + 3..].iter().take_while(|&&ch| ch != ';' && ch != '{').collect();
            let end = i + 3 + rest.chars().count();
            if end < c.len() && c[end] == '{' {
                inline.push((rest.trim().to_string(), depth + 1));
            }
        } else if word == "use" {
            let end = (i..c.len()).find(|&j| c[j] == ';').unwrap_or(c.len());
            let tree = strip_renames(&c[i + 3..end].iter().collect::<String>());
            let before: String = c[i.saturating_sub(12)..i].iter().collect();
            let public = before.trim_end().ends_with("pub") || before.trim_end().ends_with(')');
            for leaf in use_leaves(&tree) {
                out.push((nesting.clone(), leaf, public));
            }
            i = end;
            continue;
        } else if matches!(word.as_str(), "crate" | "super" | "self") && c.get(i + word.len()) == Some(&':') {
            let path: String = c[i..].iter().take_while(|&&ch| is_ident(ch) || ch == ':').collect();
            out.push((nesting, path.split("::").filter(|s| !s.is_empty()).map(String::from).collect(), false));
            i += path.chars().count();
            continue;
        }
        i += word.len().max(1);
    }
    out
}

/// A `use` tree without whitespace and without its renames (`a as b` → `a`).
fn strip_renames(tree: &str) -> String {
    let mut out = String::new();
    let mut tokens = tree.split_whitespace();
    while let Some(t) = tokens.next() {
        if t == "as" {
            out.push_str(tokens.next().unwrap_or("").trim_start_matches(is_ident));
        } else {
            out.push_str(t);
        }
    }
    out
}

/// The full paths a `use` tree (from `strip_renames`) names: `a::{b, c::{d, self}}` → a::b,
/// a::c::d, a::c. A glob keeps the path before it.
fn use_leaves(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim_start_matches("::");
    let Some(open) = tree.find('{') else {
        return vec![tree.split("::").filter(|s| !s.is_empty() && *s != "*").map(String::from).collect()];
    };
    let prefix: Vec<String> = tree[..open].split("::").filter(|s| !s.is_empty()).map(String::from).collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (j, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        for leaf in use_leaves(part) {
            let leaf: Vec<String> = leaf.into_iter().filter(|s| s != "self").collect();
            out.push([prefix.clone(), leaf].concat());
        }
    }
    out
}

/// An import: the importing file, the module path it names (from the crate root), and whether it
/// is a `pub use`.
struct Import {
    from: String,
    path: Vec<String>,
    public: bool,
}

/// Every path in the crate's files that stays inside the crate, made absolute.
fn crate_imports(krate: &Crate) -> Vec<Import> {
    let mut out = Vec::new();
    for (module, file) in &krate.modules {
        for (nesting, path, public) in mentioned_paths(&blank_rust(&read(file))) {
            let here: Vec<String> = [module.clone(), nesting].concat();
            let Some(first) = path.first() else { continue };
            let absolute: Vec<String> = match first.as_str() {
                "crate" => path[1..].to_vec(),
                "super" | "self" => {
                    let ups = path.iter().take_while(|s| *s == "super").count();
                    let base = &here[..here.len().saturating_sub(ups)];
                    let rest = path.iter().skip(ups).filter(|s| *s != "self").cloned().collect::<Vec<_>>();
                    [base.to_vec(), rest].concat()
                }
                // A path through a child module of this one (`use context::grid` in a mod.rs).
                name if krate.modules.contains_key(&[module.clone(), vec![name.to_string()]].concat()) => [module.clone(), path.clone()].concat(),
                _ => continue,
            };
            out.push(Import { from: file.clone(), path: absolute, public });
        }
    }
    out
}

/// Which file each import leads to: the module file it names, or, where that file only re-exports
/// the item (`pub use child::Item` in a mod.rs), the file it comes from.
fn import_edges(krate: &Crate) -> BTreeSet<(String, String)> {
    let imports = crate_imports(krate);
    let mut reexports: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for im in imports.iter().filter(|im| im.public) {
        if let Some(name) = im.path.last() {
            reexports.insert((im.from.clone(), name.clone()), im.path.clone());
        }
    }
    let resolve = |path: &[String]| -> String {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let (file, rest) = krate.file_of(&path);
            match rest.first().and_then(|name| reexports.get(&(file.to_string(), name.clone()))) {
                Some(target) if target != &path => path = [target.clone(), rest[1..].to_vec()].concat(),
                _ => return file.to_string(),
            }
        }
        krate.file_of(&path).0.to_string()
    };
    let mut edges = BTreeSet::new();
    for im in &imports {
        let to = resolve(&im.path);
        let from_module = krate.modules.iter().find(|(_, f)| **f == im.from).map(|(m, _)| m.clone()).unwrap_or_default();
        // A module root's re-exports of its own children are its declaration, not a dependency.
        let own_child = im.public && im.path.starts_with(&from_module) && im.path.len() > from_module.len();
        if to != im.from && !own_child {
            edges.insert((im.from.clone(), to));
        }
    }
    edges
}

/// The circles in `edges`: each strongly connected set of more than one file, as one line.
fn circles(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for (_, b) in edges.iter().filter(|(a, _)| *a == n) {
                if seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for n in &nodes {
        let group: Vec<String> = nodes.iter().filter(|m| reachable[*n].contains(**m) && reachable[**m].contains(*n)).map(|m| (*m).clone()).collect();
        if group.len() > 1 {
            groups.insert(group);
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let inside: Vec<String> = edges.iter().filter(|(a, b)| g.contains(a) && g.contains(b)).map(|(a, b)| format!("{a} -> {b}")).collect();
            format!("{{{}}}: {}", g.join(", "), inside.join("; "))
        })
        .collect()
}

fn lib_crate() -> Crate {
    Crate::new("src/lib.rs", &["bin"])
}

#[test]
fn no_rust_files_import_each_other_in_a_circle() {
    let mut offenders = circles(&import_edges(&lib_crate()));
    for main in files("src/bin", "main.rs", true) {
        offenders.extend(circles(&import_edges(&Crate::new(&main, &[]))));
    }
    report("import circles between .rs files in src/", &offenders);
}

#[test]
fn the_op_set_does_not_import_the_layers_above_it() {
    let krate = lib_crate();
    let mut offenders = Vec::new();
    for im in crate_imports(&krate) {
        let lower = LOWER.iter().any(|l| im.from.starts_with(&format!("src/{l}/")) || im.from == format!("src/{l}.rs"));
        if lower && im.path.first().is_some_and(|top| UPPER.contains(&top.as_str())) {
            offenders.push(format!("{} uses crate::{}", im.from, im.path.join("::")));
        }
    }
    offenders.dedup();
    report("src/{gpu,ops,reference,data} importing nn, train, lessons, web or inspect", &offenders);
}

#[test]
fn the_import_scanner_resolves_paths_and_finds_circles() {
    assert_eq!(use_leaves(&strip_renames("super::{a, b::{c, self},\n d as e, Dataset}")), vec![vec!["super", "a"], vec!["super", "b", "c"], vec!["super", "b"], vec!["super", "d"], vec!["super", "Dataset"]]);
    let code = blank_rust("use crate::gpu::{self, Tensor};\nfn f() { super::x::y(); let s = \"crate::nn\"; }\nmod tests { use super::*; }\n");
    let paths: Vec<(Vec<String>, Vec<String>, bool)> = mentioned_paths(&code);
    let written: Vec<String> = paths.iter().map(|(n, p, _)| format!("{}|{}", n.join("::"), p.join("::"))).collect();
    assert_eq!(written, ["|crate::gpu", "|crate::gpu::Tensor", "|super::x::y", "tests|super"]);
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(circles(&edges), vec!["{a, b, c}: a -> b; b -> c; c -> a"]);
    // The real crate's graph holds the edges it should: a kernel wrapper uses the context.
    let edges = import_edges(&lib_crate());
    assert!(edges.contains(&("src/gpu/conv2d.rs".to_string(), "src/gpu/context.rs".to_string())), "{edges:?}");
}

// ---------------------------------------------------------------------------------------------
// JavaScript functions: declarations, methods and arrow functions with a block body.

const CONTROL: [&str; 6] = ["if", "for", "while", "switch", "catch", "with"];

/// Every function body in blanked JavaScript: (name, first line, last line); arrow functions are
/// named "=>".
fn js_functions(code: &str) -> Vec<(String, usize, usize)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    for open in (0..c.len()).filter(|&i| c[i] == '{') {
        let before = c[..open].iter().rposition(|ch| !ch.is_whitespace());
        let Some(b) = before else { continue };
        let start = if c[b] == '>' && b > 0 && c[b - 1] == '=' {
            arrow_start(&c, b - 1).map(|s| ("=>".to_string(), s))
        } else if c[b] == ')' {
            matching_paren(&c, b).and_then(|p| {
                let name_end = c[..p].iter().rposition(|ch| !ch.is_whitespace())?;
                let name: String = c[..=name_end].iter().rev().take_while(|&&ch| is_ident(ch) || ch == '$').collect::<Vec<_>>().into_iter().rev().collect();
                (!name.is_empty() && !CONTROL.contains(&name.as_str())).then(|| (name.clone(), name_end + 1 - name.chars().count()))
            })
        } else {
            None
        };
        if let (Some((name, s)), Some(end)) = (start, closing_brace(&c, open)) {
            out.push((name, line_of(&c, s), line_of(&c, end)));
        }
    }
    out.sort_by_key(|(_, first, _)| *first);
    out
}

/// The `(` that opens the parenthesis closed at `close`.
fn matching_paren(c: &[char], close: usize) -> Option<usize> {
    matching(c, close, ('(', ')'), false)
}

/// Where the parameters of the arrow whose `=>` is at `arrow` start.
fn arrow_start(c: &[char], arrow: usize) -> Option<usize> {
    let p = c[..arrow].iter().rposition(|ch| !ch.is_whitespace())?;
    if c[p] == ')' {
        matching_paren(c, p)
    } else {
        Some(p + 1 - c[..=p].iter().rev().take_while(|&&ch| is_ident(ch) || ch == '$').count())
    }
}

/// The page's own scripts: www/*.js and www/views/*.js (tests and node_modules live elsewhere).
fn page_scripts() -> Vec<String> {
    let mut all = files("www", ".js", false);
    all.extend(files("www/views", ".js", false));
    all.retain(|f| !f.ends_with(".test.js") && !f.contains("node_modules"));
    all
}

#[test]
fn no_page_function_is_over_50_lines() {
    let offenders = long_functions(page_scripts(), blank_js, js_functions, MAX_JS_FN_LINES);
    report(&format!("functions in www/*.js and www/views/*.js over {MAX_JS_FN_LINES} lines"), &offenders);
}

#[test]
fn the_page_entry_module_stays_small() {
    let lines = read("www/app.js").lines().count();
    report(&format!("www/app.js over {MAX_APP_JS_LINES} lines"), &if lines > MAX_APP_JS_LINES { vec![format!("www/app.js: {lines} lines")] } else { vec![] });
}
