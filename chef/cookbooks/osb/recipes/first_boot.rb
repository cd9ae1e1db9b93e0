#
# Cookbook:: osb
# Recipe:: first_boot
#
# Bakes the first-boot scripts. They run on each new instance (osb-first-boot.service),
# never at bake time: secrets, slot claim and server start happen there.
osb = node['osb']

# The base image has none of these directories: it is baked by packer/scripts, not the os_prep recipe.
directory osb['first_boot_dir'] do
  owner 'root'
  group osb['group']
  mode '0755'
  recursive true
end

directory '/var/lib/osb-image' do
  owner 'root'
  group 'root'
  mode '0755'
end

%w(osb_first_boot.sh osb_managed_server.sh osb_slot.py osb_first_boot_offline.py osb_register_machine.py).each do |script|
  cookbook_file ::File.join(osb['first_boot_dir'], script) do
    source script
    owner 'root'
    group osb['group']
    mode '0755'
  end
end

template '/etc/osb-image/first-boot.env' do
  source 'first-boot.env.erb'
  mode '0644'
  variables(
    domain_home: ::File.join(osb['domains_dir'], osb['domain']['name']),
    spec_path: osb['domain']['spec_path'],
    slot_table: format(osb['first_boot']['slot_table'], environment: node.chef_environment),
    health_check_path: osb['first_boot']['health_check_path'],
    health_check_timeout: osb['first_boot']['health_check_timeout_seconds'],
    oracle_home: osb['oracle_home'],
    java_home: osb['jdk']['home']
  )
end
