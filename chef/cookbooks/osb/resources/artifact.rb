# Copies one file from the artifact bucket and verifies its sha256 before anything uses it.
unified_mode true
provides :osb_artifact

property :path, String, name_property: true, description: 'Local path of the downloaded file'
property :bucket, String, required: true, description: 'S3 bucket holding the installers, JDK and patches'
property :key, String, required: true, description: 'Object key in the bucket'
property :sha256, String, required: true, regex: /\A\h{64}\z/,
         description: 'Expected sha256 of the file (64 hex digits); a mismatch fails the run'
property :owner, String, default: 'root'
property :group, String, default: 'root'

action :fetch do
  directory ::File.dirname(new_resource.path) do
    recursive true
  end

  execute "download s3://#{new_resource.bucket}/#{new_resource.key}" do
    command ['aws', 's3', 'cp', "s3://#{new_resource.bucket}/#{new_resource.key}", new_resource.path]
    not_if { ::File.exist?(new_resource.path) && Digest::SHA256.file(new_resource.path).hexdigest == new_resource.sha256 }
  end

  ruby_block "verify sha256 of #{new_resource.path}" do
    block do
      actual = Digest::SHA256.file(new_resource.path).hexdigest
      unless actual == new_resource.sha256
        ::File.delete(new_resource.path)
        raise "sha256 of #{new_resource.key} is #{actual}, expected #{new_resource.sha256}; the file was deleted"
      end
    end
  end

  file new_resource.path do
    owner new_resource.owner
    group new_resource.group
    mode '0640'
  end
end
