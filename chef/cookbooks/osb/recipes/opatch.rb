#
# Cookbook:: osb
# Recipe:: opatch
#
# Applies node['osb']['opatch']['patches'] in order; the applied ids are kept in
# /etc/osb-image/opatch-applied.json for the image tests.
osb = node['osb']

osb['opatch']['patches'].each do |patch|
  archive = osb_artifact_path(patch['file'])

  osb_artifact archive do
    bucket osb['artifact_bucket']
    key "#{osb['artifact_prefix']}/patches/#{patch['file']}"
    sha256 patch['sha256']
    owner osb['user']
    group osb['group']
  end

  osb_opatch patch['id'].to_s do
    archive archive
    oracle_home osb['oracle_home']
    java_home osb['jdk']['home']
    user osb['user']
  end
end

file '/etc/osb-image/opatch-applied.json' do
  content "[]\n"
  mode '0644'
  action :create_if_missing
end
