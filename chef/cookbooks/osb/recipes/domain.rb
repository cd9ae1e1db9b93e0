#
# Cookbook:: osb
# Recipe:: domain
#
# Renders the domain spec from attributes and data bags, then builds the domain
# offline with wlst/osb_domain.py, at bake time only. The RCU password is read
# from the secret store into the WLST process environment and is written nowhere,
# because the script clears it from the data sources before writing the domain.

datasources = [
  data_bag_item('datasources', 'osb_app_xa'),
  data_bag_item('datasources', 'osb_jms_store'),
  data_bag_item('datasources', 'osb_tlog'),
]
jms = [data_bag_item('jms', 'osb_jms')]
adapters = [
  data_bag_item('adapters', 'db_adapter'),
  data_bag_item('adapters', 'jms_adapter'),
  data_bag_item('adapters', 'file_adapter'),
]
users = [
  data_bag_item('users', 'osb_deployer'),
  data_bag_item('users', 'osb_monitor'),
]
groups = [
  data_bag_item('groups', 'osb_deployers'),
  data_bag_item('groups', 'osb_monitors'),
]

spec = OsbCookbook::DomainSpec.build(
  node['osb'].to_hash,
  {
    'datasources' => datasources.map(&:to_hash),
    'jms' => jms.map(&:to_hash),
    'adapters' => adapters.map(&:to_hash),
    'users' => users.map(&:to_hash),
    'groups' => groups.map(&:to_hash),
  },
  node.chef_environment
)

# The bake uploads the repository's wlst/ directory to node['osb']['wlst_dir'] before Chef runs.
asg_max = node['osb']['domain']['asg_max'] || node['osb']['cluster']['asg_max_size']

osb_domain spec['domain']['name'] do
  spec spec
  spec_path node['osb']['domain']['spec_path']
  wlst_dir node['osb']['wlst_dir']
  oracle_home node['osb']['oracle_home']
  java_home node['osb']['jdk']['home']
  asg_max_size asg_max
  rcu_password_secret spec['rcu']['passwordSecret']
  user node['osb']['user']
  group node['osb']['group']
end
