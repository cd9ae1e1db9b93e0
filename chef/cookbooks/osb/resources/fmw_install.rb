# Silent install of one Fusion Middleware 12.2.1.3 installer jar into an ORACLE_HOME.
unified_mode true
provides :osb_fmw_install

property :install_type, String, name_property: true, equal_to: ['Fusion Middleware Infrastructure', 'Service Bus'],
         description: 'INSTALL_TYPE of the response file'
property :installer, String, required: true, description: 'Path of the verified installer jar'
property :oracle_home, String, required: true, description: 'ORACLE_HOME to install into'
property :inventory_dir, String, required: true, description: 'Central inventory directory (oraInst.loc)'
property :java_home, String, required: true, description: 'JDK 8 used to run the installer'
property :marker, String, required: true,
         description: 'File or directory that exists once this product is installed; the install is skipped then'
property :user, String, default: 'oracle'
property :group, String, default: 'oinstall'

action :install do
  response_file = ::File.join(Chef::Config[:file_cache_path], "#{new_resource.install_type.tr(' ', '_')}.rsp")
  inventory_pointer = ::File.join(new_resource.oracle_home, '..', 'oraInst.loc')

  template inventory_pointer do
    source 'oraInst.loc.erb'
    cookbook 'osb'
    owner new_resource.user
    group new_resource.group
    variables(inventory_dir: new_resource.inventory_dir, group: new_resource.group)
  end

  template response_file do
    source 'fmw_install.rsp.erb'
    cookbook 'osb'
    owner new_resource.user
    group new_resource.group
    mode '0600'
    variables(oracle_home: new_resource.oracle_home, install_type: new_resource.install_type)
  end

  execute "install #{new_resource.install_type}" do
    command [::File.join(new_resource.java_home, 'bin', 'java'), '-jar', new_resource.installer, '-silent',
             '-responseFile', response_file, '-invPtrLoc', inventory_pointer]
    user new_resource.user
    group new_resource.group
    environment('JAVA_HOME' => new_resource.java_home)
    creates new_resource.marker
    timeout 3600
  end
end
