//! GGUF chat templates are Jinja programs run by the serving stack on every request. A
//! template that formats messages uses loops, conditionals and `namespace()`; one that
//! reaches for Python internals (`__globals__`, `__subclasses__`) or the helper objects
//! that expose them (`cycler`, `joiner`, `lipsum`) is a sandbox escape (server-side
//! template injection, e.g. CVE-2024-34359 in llama-cpp-python).

use std::collections::BTreeSet;

/// Names that plain text formatting never needs.
const SUSPICIOUS: &[&str] = &[
    "cycler",
    "joiner",
    "lipsum",
    "os",
    "popen",
    "import",
    "subprocess",
    "eval",
    "exec",
    "getattr",
    "self",
    "config",
    "request",
    "builtins",
    "globals",
    "system",
];

/// The suspicious names a template's code uses, sorted: any dunder (`__class__`,
/// `__init__`, `__globals__`) and the names above. Only code is looked at (`{{ … }}` and
/// `{% … %}`, string literals removed), so message text that mentions `import` is not flagged.
pub fn suspicious_names(template: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for code in code_blocks(template) {
        let code = strip_strings(code);
        for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let dunder = word.len() > 4 && word.starts_with("__") && word.ends_with("__");
            if dunder || SUSPICIOUS.contains(&word) {
                found.insert(word.to_owned());
            }
        }
    }
    found
}

/// The insides of `{{ … }}` and `{% … %}` (an unclosed block runs to the end).
fn code_blocks(template: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{']) {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        match body.find(close) {
            Some(end) => {
                blocks.push(&body[..end]);
                rest = &body[end + 2..];
            }
            None => {
                blocks.push(body);
                break;
            }
        }
    }
    blocks
}

/// Replaces the contents of quoted literals with nothing (`'os'` becomes `''`).
fn strip_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut quote = None;
    let mut escaped = false;
    for c in code.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(c);
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_templates_are_clean() {
        let chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        assert!(suspicious_names(chatml).is_empty());
        let with_ns = "{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}{% endfor %}import os is just text here";
        assert!(suspicious_names(with_ns).is_empty());
        assert!(suspicious_names("{{ 'please import os' }}").is_empty());
    }

    #[test]
    fn escapes_are_found() {
        let names = suspicious_names("{{ cycler.__init__.__globals__.os.popen('id').read() }}");
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["__globals__", "__init__", "cycler", "os", "popen"]
        );
        let names =
            suspicious_names("{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% endfor %}");
        assert!(names.contains("__subclasses__"));
        assert!(suspicious_names("{{ lipsum").contains("lipsum"));
    }
}
