#
# Cookbook:: osb
# Recipe:: jdk
#
# JDK 8 from the artifact bucket, verified against its sha256 before extraction.
osb = node['osb']
archive = osb_artifact_path(osb['jdk']['archive'])

osb_artifact archive do
  bucket osb['artifact_bucket']
  key "#{osb['artifact_prefix']}/#{osb['jdk']['archive']}"
  sha256 osb['jdk']['sha256']
end

directory osb['jdk']['home'] do
  recursive true
end

execute "extract #{osb['jdk']['archive']}" do
  command ['tar', '-xzf', archive, '-C', osb['jdk']['home'], '--strip-components=1']
  creates ::File.join(osb['jdk']['home'], 'bin', 'java')
end
