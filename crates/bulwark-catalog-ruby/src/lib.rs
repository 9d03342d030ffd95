//! Ruby catalogers: Bundler lockfiles (`Gemfile.lock`, `gems.locked`) and installed gems
//! (the `specifications/*.gemspec` files of a gem home).
//!
//! Every gem is a [`RubyGems`](bulwark_inventory::Ecosystem::RubyGems) component with a
//! `pkg:gem/<name>@<version>` purl; a gem built for one platform (`nokogiri
//! 1.15.4-x86_64-linux`) keeps its plain version and carries the platform as the purl's
//! `platform` qualifier, as the purl specification prescribes, because advisories are written
//! against the version alone.
//!
//! Trap: an installed gem's own files (`<gem home>/gems/rack-3.0.8/…`) include its source
//! tree, with its own `Gemfile.lock` and `rack.gemspec`. Those describe how the gem is
//! developed, not what is installed, and are never reported (unless named on the command
//! line).

mod gemfile_lock;
mod gemspec;
mod ruby_literal;
#[cfg(test)]
mod test_support;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(gemfile_lock::GemfileLockCataloger),
        Box::new(gemspec::GemspecCataloger),
    ]
}

/// Whether `dir` (target-relative, no trailing slash) lies inside an installed gem's own files:
/// below `gems/<name>-<version>/` of a gem home, or below `bundler/gems/<name>-<revision>/`
/// where Bundler checks out git gems.
///
/// An installed gem's directory is named `<name>-<version>` and versions start with a digit,
/// which is what tells it from a monorepo's `gems/billing/` folder of projects.
pub(crate) fn is_installed_gem_content(dir: &str) -> bool {
    let segments: Vec<&str> = dir.split('/').collect();
    segments.windows(2).enumerate().any(|(index, pair)| {
        let [parent, entry] = pair else {
            return false;
        };
        if *parent != "gems" {
            return false;
        }
        let under_bundler = index > 0 && segments[index - 1] == "bundler";
        (under_bundler && entry.contains('-')) || is_versioned(entry)
    })
}

/// `rack-3.0.8`, `nokogiri-1.15.4-x86_64-linux`: some `-`-separated part after the first
/// starts with a digit (the version; a platform may follow it).
fn is_versioned(entry: &str) -> bool {
    entry
        .split('-')
        .skip(1)
        .any(|part| part.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_gem_content() {
        for (dir, inside) in [
            ("vendor/bundle/ruby/3.2.0/gems/rack-3.0.8", true),
            (
                "usr/local/bundle/gems/nokogiri-1.15.4-x86_64-linux/lib",
                true,
            ),
            (
                "vendor/bundle/ruby/3.2.0/bundler/gems/rails-0123abcd4567",
                true,
            ),
            ("vendor/bundle/ruby/3.2.0/gems", false),
            ("vendor/bundle/ruby/3.2.0/specifications", false),
            ("gems/billing", false),
            ("gems/billing-api", false),
            ("src", false),
        ] {
            assert_eq!(is_installed_gem_content(dir), inside, "{dir}");
        }
    }
}
