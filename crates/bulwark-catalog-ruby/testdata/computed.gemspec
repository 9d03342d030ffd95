require_relative "lib/demo/version"

Gem::Specification.new do |spec|
  spec.name = "demo"
  spec.version = Demo::VERSION
  spec.authors = ["Demo Author"]
  spec.summary = "A gem whose version is a constant"
  spec.add_dependency "rack", ">= 2"
end
