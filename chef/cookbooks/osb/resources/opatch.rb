# Applies one OPatch patch to the ORACLE_HOME and records it in the image's applied-patch list.
unified_mode true
provides :osb_opatch

property :patch_id, String, name_property: true, regex: /\A\d+\z/, description: 'Oracle patch number'
property :archive, String, required: true, description: 'Path of the verified patch zip'
property :oracle_home, String, required: true
property :java_home, String, required: true
property :record_file, String, default: '/etc/osb-image/opatch-applied.json',
         description: 'JSON list of applied patch ids kept in the image for the image tests'
property :user, String, default: 'oracle'

action :apply do
  staging = ::File.join(Chef::Config[:file_cache_path], 'opatch', new_resource.patch_id)
  opatch = ::File.join(new_resource.oracle_home, 'OPatch', 'opatch')

  archive_file new_resource.archive do
    destination staging
    owner new_resource.user
    overwrite :auto
  end

  execute "opatch apply #{new_resource.patch_id}" do
    command [opatch, 'apply', '-silent', '-oh', new_resource.oracle_home, ::File.join(staging, new_resource.patch_id)]
    user new_resource.user
    environment('JAVA_HOME' => new_resource.java_home, 'ORACLE_HOME' => new_resource.oracle_home)
    not_if "#{opatch} lspatches -oh #{new_resource.oracle_home} | grep -q '^#{new_resource.patch_id};'", user: new_resource.user
    timeout 3600
  end

  ruby_block "record patch #{new_resource.patch_id}" do
    block do
      applied = ::File.exist?(new_resource.record_file) ? JSON.parse(::File.read(new_resource.record_file)) : []
      applied |= [new_resource.patch_id]
      ::FileUtils.mkdir_p(::File.dirname(new_resource.record_file))
      ::File.write(new_resource.record_file, JSON.pretty_generate(applied.sort) + "\n")
    end
    not_if do
      ::File.exist?(new_resource.record_file) && JSON.parse(::File.read(new_resource.record_file)).include?(new_resource.patch_id)
    end
  end
end
