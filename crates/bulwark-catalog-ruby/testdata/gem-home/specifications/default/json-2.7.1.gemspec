# -*- encoding: utf-8 -*-
# stub: json 2.7.1 ruby lib

Gem::Specification.new do |s|
  s.name = "json".freeze
  s.version = "2.7.1".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Florian Frank".freeze]
  s.date = "2023-12-25"
  s.files = ["json.rb".freeze, "json/add/bigdecimal.rb".freeze]
  s.licenses = ["Ruby".freeze]
  s.summary = "JSON Implementation for Ruby".freeze
end
