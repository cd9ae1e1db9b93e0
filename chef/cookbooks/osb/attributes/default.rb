# Defaults of the osb cookbook. Environments (chef/environments/*.json) override
# the sizes, heap and database URLs; roles set nothing environment-specific.
# Secrets never appear here: only names of SSM parameters (ssm:/...) or
# Secrets Manager secrets (secretsmanager:...), with %{environment} replaced
# by the Chef environment name.

# OS account and directory layout, the same that packer/scripts/10-os-prep.sh and
# 40-oracle-installers.sh create in the base image. ORACLE_HOME contains the
# binaries; the domain lives outside it, so a patched ORACLE_HOME can be baked
# without it.
default['osb']['user'] = 'oracle'
default['osb']['uid'] = 1100
default['osb']['group'] = 'oinstall'
default['osb']['gid'] = 1100
default['osb']['oracle_base'] = '/u01/app/oracle'
default['osb']['oracle_home'] = '/u01/app/oracle/product/12.2.1.3/osb'
default['osb']['inventory_dir'] = '/u01/app/oraInventory'
default['osb']['domains_dir'] = '/u01/app/oracle/config/domains'
default['osb']['applications_dir'] = '/u01/app/oracle/config/applications'
default['osb']['wlst_dir'] = '/opt/osb-image/wlst'
default['osb']['first_boot_dir'] = '/opt/osb-image/first-boot'

# Artifact bucket: installers, JDK and patches are copied from here and checked
# against the sha256 below before use. Set by the environment.
default['osb']['artifact_bucket'] = nil
default['osb']['artifact_prefix'] = 'osb/12.2.1.3'

# Every sha256 is nil here on purpose: the osb-base role must pin the checksum
# of the exact file in the artifact bucket, and osb_artifact fails without one.

# JDK 8 (FMW 12.2.1.3 is certified on JDK 8 only).
default['osb']['jdk']['archive'] = 'jdk-8u202-linux-x64.tar.gz'
default['osb']['jdk']['sha256'] = nil
# packer/scripts/30-jdk.sh points ORACLE_BASE/jdk/current at the installed JDK.
default['osb']['jdk']['home'] = '/u01/app/oracle/jdk/current'

# Installers (generic FMW Infrastructure jar first, then the OSB jar into the same ORACLE_HOME).
default['osb']['installers']['infrastructure']['file'] = 'fmw_12.2.1.3.0_infrastructure.jar'
default['osb']['installers']['infrastructure']['sha256'] = nil
default['osb']['installers']['infrastructure']['install_type'] = 'Fusion Middleware Infrastructure'
default['osb']['installers']['osb']['file'] = 'fmw_12.2.1.3.0_osb.jar'
default['osb']['installers']['osb']['sha256'] = nil
default['osb']['installers']['osb']['install_type'] = 'Service Bus'

# OPatch patches applied in order; each entry: id, file, sha256. The applied
# list is written to /etc/osb-image/opatch-applied.json inside the image.
default['osb']['opatch']['patches'] = []

# Domain. The spec JSON is rendered to spec_path and passed to wlst/osb_domain.py.
default['osb']['domain']['name'] = 'osb_domain'
default['osb']['domain']['spec_path'] = '/etc/osb-image/domain-spec.json'
default['osb']['domain']['production_mode'] = true
default['osb']['domain']['template_managed_servers'] = ['osb_server1']
# MaxSize of the environment's Auto Scaling group, passed to osb_domain.py as
# --asg-max. The bake sets it from pipeline.yaml (packer/scripts/50-domain.sh
# passes it as a JSON attribute); nil falls back to cluster.asg_max_size.
default['osb']['domain']['asg_max'] = nil
default['osb']['rcu']['url'] = nil
default['osb']['rcu']['schema_prefix'] = nil
default['osb']['rcu']['password_secret'] = 'ssm:/osb/%{environment}/rcu/stb-password'

default['osb']['admin']['name'] = 'AdminServer'
default['osb']['admin']['listen_address'] = nil # Route53 name that first boot updates
default['osb']['admin']['listen_port'] = 7001
default['osb']['admin']['user'] = 'weblogic'
default['osb']['admin']['password_secret'] = 'secretsmanager:osb/%{environment}/weblogic-admin'

# Dynamic cluster. dynamic_cluster_size must be >= asg_max_size: every instance
# claims one dynamic server slot (see files/default/osb_slot.py).
default['osb']['cluster']['name'] = 'osb_cluster'
default['osb']['cluster']['server_template'] = 'osb_server_template'
default['osb']['cluster']['server_name_prefix'] = 'osb_server_'
default['osb']['cluster']['dynamic_cluster_size'] = 2
default['osb']['cluster']['asg_max_size'] = 2
default['osb']['cluster']['listen_port'] = 8011
default['osb']['cluster']['machine_name_prefix'] = 'osb_machine_'
default['osb']['cluster']['node_manager_port'] = 5556
default['osb']['cluster']['node_manager_type'] = 'SSL'
default['osb']['cluster']['heap'] = '2g' # -Xms and -Xmx of every managed server
default['osb']['cluster']['extra_jvm_arguments'] = '-XX:+UseG1GC'

# Data sources: structure in data bag 'datasources', per-environment URL and user here,
# keyed by data bag item id.
default['osb']['datasources'] = {}

default['osb']['transaction_logs']['data_source'] = 'OsbTLogDS'
default['osb']['transaction_logs']['prefix_name'] = 'TLOG_${serverName}_'

default['osb']['coherence']['name'] = 'osb_coherence'
default['osb']['coherence']['cluster_listen_port'] = 7574
# Unicast only: each entry is {name, address, port}. The admin server's Route53
# name is the stable member; managed servers join through it.
default['osb']['coherence']['well_known_addresses'] = []

# First boot (systemd unit osb-first-boot.service).
default['osb']['first_boot']['slot_table'] = 'osb-%{environment}-dynamic-server-slots'
default['osb']['first_boot']['health_check_path'] = '/sbinspection.wsil'
default['osb']['first_boot']['health_check_timeout_seconds'] = 900
