# -*- encoding: utf-8 -*-
# stub: racc 1.7.3 ruby lib
# stub: ext/racc/cparse/extconf.rb

Gem::Specification.new do |s|
  s.name = "racc".freeze
  s.version = "1.7.3".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Minero Aoki".freeze, "Aaron Patterson".freeze]
  s.date = "2023-11-07"
  s.extensions = ["ext/racc/cparse/extconf.rb".freeze]
  s.licenses = ["Ruby".freeze, "BSD-2-Clause".freeze]
  s.summary = "Racc is a LALR(1) parser generator".freeze

  s.installed_by_version = "3.4.19" if s.respond_to? :installed_by_version
end
