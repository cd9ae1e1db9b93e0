# Installs the systemd units of an OSB instance. Units are enabled but not started:
# at bake time nothing runs, and osb-first-boot.service starts them on the instance.
unified_mode true
provides :osb_systemd_units

property :domain_home, String, required: true
property :java_home, String, required: true
property :first_boot_dir, String, required: true, description: 'Directory of the first-boot scripts'
property :environment_file, String, default: '/etc/osb-image/first-boot.env',
         description: 'Environment of the first-boot unit (names only, no secret values)'
property :user, String, default: 'oracle'
property :group, String, default: 'oinstall'

UNITS = {
  'osb-nodemanager.service' => 'osb-nodemanager.service.erb',
  'osb-admin-server.service' => 'osb-admin-server.service.erb',
  'osb-managed-server.service' => 'osb-managed-server.service.erb',
  'osb-first-boot.service' => 'osb-first-boot.service.erb',
}.freeze

action :create do
  UNITS.each do |unit, source|
    template "/etc/systemd/system/#{unit}" do
      source source
      cookbook 'osb'
      mode '0644'
      variables(
        domain_home: new_resource.domain_home,
        java_home: new_resource.java_home,
        first_boot_dir: new_resource.first_boot_dir,
        environment_file: new_resource.environment_file,
        user: new_resource.user,
        group: new_resource.group
      )
      notifies :run, 'execute[osb systemctl daemon-reload]', :immediately
    end
  end

  execute 'osb systemctl daemon-reload' do
    command %w(systemctl daemon-reload)
    action :nothing
  end

  # Only the first-boot unit is enabled; it starts the others in the order first boot needs.
  service 'osb-first-boot' do
    action :enable
  end
end
