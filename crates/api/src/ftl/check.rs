//! Build-time checks of the `.ftl` language files, for the build scripts of
//! the page and of the desk (feature `check`: the `fluent-syntax` crate is
//! never linked into the page or the desk).
//!
//! A file is accepted when Fluent itself reads it without error and every
//! message stays inside the subset [`super::parse`] reads: plain text, `#`
//! comments, `{ "text" }` string literals (without escapes) and `{ $name }`
//! variables written with one space inside each brace. Attributes,
//! selectors, functions, references to other messages or terms and number
//! literals are refused.

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

/// A line of a language file that the reader would not read as Fluent does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line, counted from 1.
    pub line: usize,
    /// The message or term id, if the line is in one.
    pub id: Option<String>,
    /// What is wrong, in words.
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "line {}: `{id}`: {}", self.line, self.what),
            None => write!(f, "line {}: {}", self.line, self.what),
        }
    }
}

/// What in `source` the reader does not support; empty when all is well.
pub fn check(source: &str) -> Vec<Problem> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(resource) => resource,
        Err((_, errors)) => {
            return errors
                .into_iter()
                .map(|error| Problem {
                    line: line_at(source, error.pos.start),
                    id: None,
                    what: format!("not Fluent: {}", error.kind),
                })
                .collect();
        }
    };
    let mut problems = Vec::new();
    for entry in &resource.body {
        let (id, value, attributes) = match entry {
            Entry::Message(message) => (
                message.id.name,
                message.value.as_ref(),
                !message.attributes.is_empty(),
            ),
            Entry::Term(term) => (term.id.name, Some(&term.value), !term.attributes.is_empty()),
            _ => continue,
        };
        let id = if matches!(entry, Entry::Term(_)) {
            format!("-{id}")
        } else {
            id.to_string()
        };
        let mut refuse = |what: &str| {
            problems.push(Problem {
                line: line_of(source, &id),
                id: Some(id.clone()),
                what: what.to_string(),
            })
        };
        if attributes {
            refuse("attributes (`.name = …`) are not read");
        }
        match value {
            Some(pattern) => {
                for what in unsupported(source, &id, pattern) {
                    refuse(&what);
                }
            }
            None => refuse("a message without a value is not read"),
        }
    }
    problems
}

/// [`check`] for a build script: the problems of the file at `path` whose
/// text is `source`, a line each naming the file, as the build prints them.
pub fn check_file(path: &std::path::Path, source: &str) -> Result<(), Refused> {
    let problems = check(source);
    if problems.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = problems
        .iter()
        .map(|problem| format!("{}: {problem}", path.display()))
        .collect();
    Err(Refused(lines.join("\n")))
}

/// The message ids with `prefix` that the code at `path`, whose text is
/// `code`, names and `english` (a parsed `en.ftl`) lacks, a line each
/// naming the file and line, as the build prints them.
pub fn check_code(
    path: &std::path::Path,
    code: &str,
    prefix: &str,
    english: &std::collections::BTreeMap<String, String>,
) -> Result<(), Refused> {
    let unknown: Vec<String> = ids_in_code(code, prefix)
        .into_iter()
        .filter(|(_, id)| !english.contains_key(id))
        .map(|(line, id)| format!("{}:{line}: `{id}` is not in en.ftl", path.display()))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Refused(unknown.join("\n")))
    }
}

/// A language file's problems, or code's unknown ids, a line each; printed as they are (also by
/// `Debug`, which a build script's `main` prints when it fails).
pub struct Refused(String);

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// What in a message's value the reader does not read as Fluent does.
fn unsupported(source: &str, id: &str, pattern: &Pattern<&str>) -> Vec<String> {
    let mut found = Vec::new();
    for element in &pattern.elements {
        let PatternElement::Placeable { expression } = element else {
            continue;
        };
        match expression {
            Expression::Select { .. } => found.push("selectors are not read".to_string()),
            Expression::Inline(InlineExpression::StringLiteral { value }) => {
                if value.contains('\\') {
                    found.push(format!("escapes in `{{ \"{value}\" }}` are not read"));
                }
            }
            Expression::Inline(InlineExpression::VariableReference { id: name }) => {
                let written = format!("{{ ${} }}", name.name);
                if !message_source(source, id).contains(&written) {
                    found.push(format!(
                        "the variable `{}` must be written `{written}`",
                        name.name
                    ));
                }
            }
            Expression::Inline(other) => {
                let what = match other {
                    InlineExpression::NumberLiteral { .. } => "number literals",
                    InlineExpression::FunctionReference { .. } => "functions",
                    InlineExpression::MessageReference { .. } => "message references",
                    InlineExpression::TermReference { .. } => "term references",
                    _ => "nested placeables",
                };
                found.push(format!("{what} are not read"));
            }
        }
    }
    found
}

/// The line (from 1) of byte `offset`.
fn line_at(source: &str, offset: usize) -> usize {
    let offset = offset.min(source.len());
    source.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line (from 1) where the message or term `id` starts.
fn line_of(source: &str, id: &str) -> usize {
    source
        .lines()
        .position(|line| {
            line.strip_prefix(id)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |index| index + 1)
}

/// The lines of the message `id`: its first line and those continuing it.
fn message_source(source: &str, id: &str) -> String {
    let start = line_of(source, id) - 1;
    let mut lines = source.lines().skip(start);
    let mut text: String = lines.next().unwrap_or_default().to_string();
    for line in lines.take_while(|line| line.starts_with(' ')) {
        text.push('\n');
        text.push_str(line);
    }
    text
}

/// Rust constants for message ids, one per id (`send-button` is
/// `SEND_BUTTON`), for a build script to write into a module the code
/// includes: a message the code names and the file lacks fails the build.
pub fn constants<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for id in ids {
        let name: String = id
            .chars()
            .map(|c| match c {
                '-' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        out.push_str(&format!("/// `{id}`\npub const {name}: &str = {id:?};\n"));
    }
    out
}

/// The message ids `code` names as string literals starting with `prefix`
/// (`"desk-inbox"`), with their lines (from 1), for a build script that
/// checks them against English; a literal that only starts an id
/// (`"desk-"`) is not one.
pub fn ids_in_code(code: &str, prefix: &str) -> Vec<(usize, String)> {
    let opening = format!("\"{prefix}");
    let mut found = Vec::new();
    for (index, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find(&opening) {
            let after = &rest[start + 1..];
            let end = after
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                .unwrap_or(after.len());
            let id = &after[..end];
            if after[end..].starts_with('"') && !id.ends_with('-') {
                found.push((index + 1, id.to_string()));
            }
            rest = &after[end..];
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_subset_is_accepted() {
        let source = "# c\n-language-name = English\na = one\n  two { $name }\nsep = { \", \" }\n";
        assert_eq!(check(source), Vec::new());
    }

    #[test]
    fn what_the_reader_does_not_read_is_refused_with_its_line() {
        let problems = check(
            "a = ok\nb = { $count ->\n    [one] one\n   *[other] many\n}\nc = { $name}\nd = x\n    .title = y\ne = { -brand }\n",
        );
        let lines: Vec<(usize, Option<&str>)> =
            problems.iter().map(|p| (p.line, p.id.as_deref())).collect();
        assert_eq!(
            lines,
            [
                (2, Some("b")),
                (6, Some("c")),
                (7, Some("d")),
                (9, Some("e"))
            ]
        );
        assert!(
            problems[1].to_string().contains("{ $name }"),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn text_that_is_not_fluent_is_refused_with_its_line() {
        let problems = check("a = ok\nthis is not fluent\n");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].id.as_deref()), (2, None));
    }

    #[test]
    fn ids_named_in_code_are_found_with_their_lines() {
        let code = "let a = w.get(\"desk-inbox\");\nif k.starts_with(\"desk-\") {}\n  (\"desk-a-1\", \"x\", \"desk-b\")\nformat!(\"desk-{x}\")\n";
        assert_eq!(
            ids_in_code(code, "desk-"),
            [
                (1, "desk-inbox".to_string()),
                (3, "desk-a-1".to_string()),
                (3, "desk-b".to_string())
            ]
        );
    }

    #[test]
    fn ids_become_constants() {
        let out = constants(["send-button", "a"]);
        assert!(out.contains("pub const SEND_BUTTON: &str = \"send-button\";"));
        assert!(out.contains("pub const A: &str = \"a\";"));
    }
}
