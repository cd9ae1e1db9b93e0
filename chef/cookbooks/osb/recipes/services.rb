#
# Cookbook:: osb
# Recipe:: services
#
# systemd units for Node Manager, the admin server, the managed server and first boot.
osb = node['osb']

osb_systemd_units 'osb' do
  domain_home ::File.join(osb['domains_dir'], osb['domain']['name'])
  java_home osb['jdk']['home']
  first_boot_dir osb['first_boot_dir']
  user osb['user']
  group osb['group']
end
