# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{legacy}
  s.version = "0.9.0"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = [%q{Jane Doe}]
  s.license = %q{Apache 2.0}
  s.summary = %q{An old gem installed by RubyGems 1.8}

  if s.respond_to? :specification_version then
    s.specification_version = 3

    if Gem::Version.new(Gem::VERSION) >= Gem::Version.new('1.2.0') then
      s.add_runtime_dependency(%q<json>, [">= 1.5"])
      s.add_development_dependency(%q<rspec>, ["~> 2.0"])
    else
      s.add_dependency(%q<json>, [">= 1.5"])
      s.add_dependency(%q<rspec>, ["~> 2.0"])
    end
  else
    s.add_dependency(%q<json>, [">= 1.5"])
  end
end
