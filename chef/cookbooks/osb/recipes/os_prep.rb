#
# Cookbook:: osb
# Recipe:: os_prep
#
# OS account, directories, packages and kernel limits that the FMW 12.2.1.3 installers check.
osb = node['osb']

# Same ids and home as packer/scripts/10-os-prep.sh, so files keep their owner
# whichever of the two prepared the host.
group osb['group'] do
  gid osb['gid']
end

user osb['user'] do
  uid osb['uid']
  gid osb['group']
  home '/home/oracle'
  shell '/bin/bash'
  manage_home true
end

[osb['oracle_base'], osb['inventory_dir'], osb['domains_dir'], osb['applications_dir'],
 osb['wlst_dir'], osb['first_boot_dir'], '/etc/osb-image', '/var/lib/osb-image'].each do |dir|
  directory dir do
    owner osb['user']
    group osb['group']
    mode '0750'
    recursive true
  end
end

package %w(unzip tar libaio python3 python3-pip awscli)

execute 'install boto3 for the first-boot scripts' do
  command %w(python3 -m pip install --quiet boto3)
  not_if 'python3 -c "import boto3"'
end

file '/etc/security/limits.d/90-osb.conf' do
  content <<~LIMITS
    #{osb['user']} soft nofile 65536
    #{osb['user']} hard nofile 65536
    #{osb['user']} soft nproc 16384
    #{osb['user']} hard nproc 16384
  LIMITS
  mode '0644'
end
