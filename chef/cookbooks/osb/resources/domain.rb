# Renders the domain spec and runs wlst/osb_domain.py, which creates or reconciles the domain offline.
unified_mode true
provides :osb_domain

property :domain_name, String, name_property: true
property :spec, Hash, required: true, description: 'Domain spec (see wlst/README.md); secrets only as names'
property :spec_path, String, required: true, description: 'Where the spec JSON is written inside the image'
property :wlst_dir, String, required: true, description: 'Directory holding osb_domain.py'
property :oracle_home, String, required: true
property :java_home, String, required: true
property :asg_max_size, Integer, required: true, callbacks: {
  'must be a positive integer' => ->(max) { max.positive? },
}, description: "MaxSize of the managed servers' Auto Scaling group, passed as --asg-max"
property :rcu_password_secret, String, required: true, regex: OsbCookbook::Secrets::REFERENCE,
         description: 'Secret reference of the RCU schema password, read only for getDatabaseDefaults()'
property :user, String, default: 'oracle'
property :group, String, default: 'oinstall'

action :create do
  entry_point = ::File.join(new_resource.wlst_dir, 'osb_domain.py')
  raise "#{entry_point} not found; the bake must upload the repository's wlst/ directory first" unless ::File.exist?(entry_point)

  directory ::File.dirname(new_resource.spec_path) do
    recursive true
  end

  file new_resource.spec_path do
    content JSON.pretty_generate(new_resource.spec) + "\n"
    owner new_resource.user
    group new_resource.group
    mode '0640'
  end

  # The script compares the domain with the spec and reports "0 change(s)" when
  # nothing differs, so a rerun leaves the domain untouched.
  execute "wlst osb_domain.py for #{new_resource.domain_name}" do
    command [::File.join(new_resource.oracle_home, 'oracle_common', 'common', 'bin', 'wlst.sh'), entry_point,
             '--spec', new_resource.spec_path, '--asg-max', new_resource.asg_max_size.to_s]
    user new_resource.user
    group new_resource.group
    cwd new_resource.wlst_dir
    environment lazy {
      { 'JAVA_HOME' => new_resource.java_home,
        'OSB_RCU_PASSWORD' => OsbCookbook::Secrets.fetch(new_resource.rcu_password_secret) }
    }
    sensitive true
    timeout 3600
  end
end
