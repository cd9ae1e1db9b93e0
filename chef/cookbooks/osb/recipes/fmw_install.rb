#
# Cookbook:: osb
# Recipe:: fmw_install
#
# FMW Infrastructure, then Oracle Service Bus, into one ORACLE_HOME (silent installs).
osb = node['osb']

directory osb['oracle_home'] do
  owner osb['user']
  group osb['group']
  recursive true
end

# Marker paths: oracle_common appears with Infrastructure, osb/ with Service Bus.
{ 'infrastructure' => 'oracle_common', 'osb' => 'osb' }.each do |product, marker|
  installer = osb['installers'][product]
  path = osb_artifact_path(installer['file'])

  osb_artifact path do
    bucket osb['artifact_bucket']
    key "#{osb['artifact_prefix']}/#{installer['file']}"
    sha256 installer['sha256']
    owner osb['user']
    group osb['group']
  end

  osb_fmw_install installer['install_type'] do
    installer path
    oracle_home osb['oracle_home']
    inventory_dir osb['inventory_dir']
    java_home osb['jdk']['home']
    marker ::File.join(osb['oracle_home'], marker)
    user osb['user']
    group osb['group']
  end
end
