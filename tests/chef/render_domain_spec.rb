# Renders the domain spec the way recipes/domain.rb does, without Chef:
# attributes/default.rb is evaluated against an auto-vivifying Hash, the
# environment's attributes are merged over it, and the data bag items the
# recipe reads are passed to OsbCookbook::DomainSpec.build.
#
# Usage: ruby render_domain_spec.rb CHEF_DIR ENVIRONMENT
require 'json'

chef_dir, environment = ARGV
cookbook = File.join(chef_dir, 'cookbooks', 'osb')

class AttributeFile
  attr_reader :default

  def initialize
    @default = Hash.new { |hash, key| hash[key] = Hash.new(&hash.default_proc) }
  end
end

def deep_merge(base, other)
  other.each do |key, value|
    base[key] = value.is_a?(Hash) && base[key].is_a?(Hash) ? deep_merge(base[key], value) : value
  end
  base
end

def plain(value)
  value.is_a?(Hash) ? value.to_h { |k, v| [k, plain(v)] } : value
end

attributes = AttributeFile.new
attributes.instance_eval(File.read(File.join(cookbook, 'attributes', 'default.rb')))
env = JSON.parse(File.read(File.join(chef_dir, 'environments', "#{environment}.json")))
osb = plain(attributes.default)['osb']
osb = deep_merge(osb, env.fetch('default_attributes', {}).fetch('osb', {}))
osb = deep_merge(osb, env.fetch('override_attributes', {}).fetch('osb', {}))

recipe = File.read(File.join(cookbook, 'recipes', 'domain.rb'))
bags = Hash.new { |hash, key| hash[key] = [] }
recipe.scan(/data_bag_item\('([^']+)', '([^']+)'\)/) do |bag, item|
  bags[bag] << JSON.parse(File.read(File.join(chef_dir, 'data_bags', bag, "#{item}.json")))
end

require File.join(cookbook, 'libraries', 'domain_spec.rb')
puts JSON.pretty_generate(OsbCookbook::DomainSpec.build(osb, bags, environment))
