# Builds the domain spec (input of wlst/osb_domain.py) from node['osb'] and the
# data bag items. Plain Ruby with no Chef API, so tests/chef renders the dev spec
# with `ruby` and compares it with wlst/examples/domain-spec.dev.json.
module OsbCookbook
  module DomainSpec
    module_function

    # osb: node['osb'] as a Hash with string keys; bags: data bag name => list of item Hashes;
    # environment: Chef environment name, substituted for %{environment} in secret names.
    def build(osb, bags, environment)
      cluster = osb['cluster']
      domain_home = File.join(osb['domains_dir'], osb['domain']['name'])
      applications_home = File.join(osb['applications_dir'], osb['domain']['name'])
      {
        'specVersion' => 1,
        'environment' => environment,
        'versions' => { 'weblogic' => '12.2.1.3.0', 'osb' => '12.2.1.3.0' },
        'domain' => {
          'name' => osb['domain']['name'],
          'home' => domain_home,
          'applicationsHome' => applications_home,
          'oracleHome' => osb['oracle_home'],
          'javaHome' => osb['jdk']['home'],
          'productionMode' => osb['domain']['production_mode'],
          'templates' => ['Basic WebLogic Server Domain', 'Oracle JRF', 'Oracle Service Bus'],
          'templateManagedServers' => osb['domain']['template_managed_servers'],
        },
        'rcu' => {
          'url' => osb['rcu']['url'],
          'schemaPrefix' => osb['rcu']['schema_prefix'],
          'passwordSecret' => secret_name(osb['rcu']['password_secret'], environment),
        },
        'adminServer' => {
          'name' => osb['admin']['name'],
          'listenAddress' => osb['admin']['listen_address'],
          'listenPort' => osb['admin']['listen_port'],
          'adminUser' => osb['admin']['user'],
          'adminPasswordSecret' => secret_name(osb['admin']['password_secret'], environment),
        },
        'cluster' => {
          'name' => cluster['name'],
          'serverTemplate' => cluster['server_template'],
          'serverNamePrefix' => cluster['server_name_prefix'],
          'dynamicClusterSize' => cluster['dynamic_cluster_size'],
          'asgMaxSize' => cluster['asg_max_size'],
          'listenPort' => cluster['listen_port'],
          'machineNamePrefix' => cluster['machine_name_prefix'],
          'nodeManagerPort' => cluster['node_manager_port'],
          'nodeManagerType' => cluster['node_manager_type'],
          'jvmArguments' => "-Xms#{cluster['heap']} -Xmx#{cluster['heap']} #{cluster['extra_jvm_arguments']}".strip,
        },
        'dataSources' => bags.fetch('datasources', []).map { |item| data_source(item, osb, environment) },
        'transactionLogs' => {
          'dataSource' => osb['transaction_logs']['data_source'],
          'prefixName' => osb['transaction_logs']['prefix_name'],
        },
        'jms' => jms(bags.fetch('jms', [])),
        'adapters' => bags.fetch('adapters', []).map { |item| adapter(item, applications_home) },
        'security' => {
          'groups' => bags.fetch('groups', []).map { |item| without_id(item) },
          'users' => bags.fetch('users', []).map { |item| user(item, environment) },
        },
        'coherence' => {
          'name' => osb['coherence']['name'],
          'clusterListenPort' => osb['coherence']['cluster_listen_port'],
          'wellKnownAddresses' => osb['coherence']['well_known_addresses'].map(&:to_h),
        },
      }
    end

    def secret_name(template, environment)
      format(template, environment: environment)
    end

    def without_id(item)
      item.to_h.reject { |key, _| %w(id chef_type data_bag).include?(key) }
    end

    def data_source(item, osb, environment)
      settings = osb['datasources'].fetch(item['id']) do
        raise ArgumentError, "node['osb']['datasources']['#{item['id']}'] is missing; the environment must set its url and user"
      end
      ds = without_id(item)
      {
        'name' => ds['name'],
        'jndiName' => ds['jndiName'],
        'url' => settings['url'],
        'user' => settings['user'],
        'passwordSecret' => secret_name(ds['passwordSecret'], environment),
        'xa' => ds['xa'],
        'testQuery' => ds['testQuery'],
        'initialCapacity' => ds['initialCapacity'],
        'maxCapacity' => ds['maxCapacity'],
        'targets' => ds['targets'],
      }
    end

    def jms(items)
      {
        'servers' => items.flat_map { |item| item['servers'] || [] },
        'modules' => items.flat_map { |item| item['modules'] || [] },
      }
    end

    def adapter(item, applications_home)
      {
        'name' => item['name'],
        'planPath' => File.join(applications_home, 'plans', item['name'], 'Plan.xml'),
        'connections' => item['connections'],
      }
    end

    def user(item, environment)
      result = without_id(item)
      result['passwordSecret'] = secret_name(result['passwordSecret'], environment)
      result
    end
  end
end
