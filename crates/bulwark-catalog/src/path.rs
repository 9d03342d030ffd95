//! Lexical path arithmetic on target-relative, `/`-separated paths.

/// Joins `relative` onto the directory `base` (both target-relative) and normalizes `.` and
/// `..` lexically. Returns `None` when the result would leave the target, or when `relative`
/// is absolute: an include must never read outside what the user asked to scan.
pub fn join_relative(base: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains('\\') && relative.starts_with("\\\\") {
        return None;
    }
    let mut parts: Vec<&str> = base
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_normalizes() {
        assert_eq!(join_relative("a/b", "c.txt").as_deref(), Some("a/b/c.txt"));
        assert_eq!(join_relative("a/b", "../c.txt").as_deref(), Some("a/c.txt"));
        assert_eq!(join_relative("", "./c.txt").as_deref(), Some("c.txt"));
    }

    #[test]
    fn refuses_to_leave_the_target() {
        assert_eq!(join_relative("a", "../../etc/passwd"), None);
        assert_eq!(join_relative("a", "/etc/passwd"), None);
    }
}
