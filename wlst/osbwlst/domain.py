"""Build or reconcile the OSB domain that a domain spec describes.

build_domain() has two phases:
  1. create, only when <domain home>/config/config.xml is missing: load the
     WebLogic, JRF and OSB templates, point the RCU service table data source
     at the database, run getDatabaseDefaults(), writeDomain(), closeTemplate();
  2. reconcile, always: readDomain(), bring every MBean the spec names to the
     spec's values, updateDomain() only when something changed, closeDomain().
A second run against an unchanged spec therefore changes nothing and does
not rewrite the domain.
"""

import binascii
import logging
import os

from osbwlst import plans
from osbwlst import wlst_api as api

LOG = logging.getLogger("osb_domain")

XA_DRIVER = "oracle.jdbc.xa.client.OracleXADataSource"
NON_XA_DRIVER = "oracle.jdbc.OracleDriver"
RCU_PASSWORD_VARIABLE = "OSB_RCU_PASSWORD"


class BuildError(Exception):
    """The domain could not be built for a reason other than a failed WLST command."""


def placeholder_password():
    """Return a random password for users created offline; first boot replaces it from the secret store.

    WLST offline cannot write a domain whose users have no password. The value
    is never logged (see logsetup.mask) and is not stored anywhere else.
    """
    return "Tmp1_" + binascii.hexlify(os.urandom(18)).decode("ascii")


def normalize(value):
    """Return a comparable form of a WLST value: names for MBeans, sorted lists, 'true'/'false'."""
    if value is None:
        return None
    if hasattr(value, "getName"):
        return str(value.getName())
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, basestring)):  # noqa: F821
        names = [normalize(item) for item in value]
        names.sort()
        return names
    text = str(value)
    if text in ("True", "False"):
        return text.lower()
    return text


def _join(*parts):
    return "/" + "/".join([str(part).strip("/") for part in parts if str(part).strip("/")])


class DomainBuilder(object):
    def __init__(self, spec, secrets_env=None, register_secret=None):
        self.spec = spec
        self.env = secrets_env if secrets_env is not None else os.environ
        self.register_secret = register_secret or (lambda value: None)
        self.changes = []
        self.domain = spec["domain"]
        self.admin = spec["adminServer"]
        self.cluster = spec["cluster"]

    # --- helpers ------------------------------------------------------------------

    def changed(self, message):
        self.changes.append(message)
        LOG.info("change: %s", message)

    def ensure_mbean(self, parent_path, mbean_type, name):
        """Create the MBean unless it exists; return its path. Singleton children are NO_NAME_0."""
        path = _join(parent_path, mbean_type, name)
        if not api.exists(path):
            api.create(parent_path, name, mbean_type)
            self.changed("created %s" % path)
        return path

    def ensure_attribute(self, path, attribute, value):
        current = api.get(path, attribute)
        if normalize(current) == normalize(value):
            return
        shown = value
        if api.SECRET_ATTRIBUTE.search(attribute):
            shown = api.MASK
        api.set(path, attribute, value)
        self.changed("set %s %s = %s" % (path, attribute, shown))

    def ensure_targets(self, path, targets):
        current = normalize(api.get(path, "Target")) or []
        wanted = sorted(targets)
        if current == wanted:
            return
        api.set(path, "Target", ",".join(wanted))
        self.changed("set %s Target = %s" % (path, ",".join(wanted)))

    def delete_extra(self, parent_path, mbean_type, wanted, prefix=""):
        folder = _join(parent_path, mbean_type)
        if not api.exists(folder):
            return
        for name in api.children(folder):
            if name.startswith(prefix) and name not in wanted:
                api.delete(parent_path, name, mbean_type)
                self.changed("deleted %s/%s" % (folder, name))

    def domain_name(self):
        return str(api.get("/", "Name"))

    def machine_names(self):
        size = self.cluster["dynamicClusterSize"]
        width = len(str(size))
        prefix = self.cluster["machineNamePrefix"]
        return [prefix + str(index).zfill(width) for index in range(1, size + 1)]

    # --- phase 1: create ------------------------------------------------------------

    def domain_exists(self):
        return os.path.isfile(os.path.join(self.domain["home"], "config", "config.xml"))

    def create(self):
        password = self.env.get(RCU_PASSWORD_VARIABLE)
        if not password:
            raise BuildError("environment variable %s is not set; the domain recipe reads it from %s "
                             "before running this script" % (RCU_PASSWORD_VARIABLE, self.spec["rcu"]["passwordSecret"]))
        self.register_secret(password)
        LOG.info("domain %s not found; creating it from templates: %s", self.domain["home"],
                 ", ".join(self.domain["templates"]))
        api.select_templates(self.domain["templates"])
        api.set_option("ServerStartMode", self.domain.get("productionMode", True) and "prod" or "dev")
        api.set_option("JavaHome", self.domain["javaHome"])
        api.set_option("AppDir", self.domain["applicationsHome"])
        api.set_option("NodeManagerType", "PerDomainNodeManager")
        api.set_option("OverwriteDomain", "false")

        self.configure_service_table(password)
        api.get_database_defaults()
        self.clear_data_source_passwords()

        admin_placeholder = placeholder_password()
        self.register_secret(admin_placeholder)
        security = _join("Security", self.domain_name())
        api.set(_join(security, "User", "weblogic"), "Password", admin_placeholder)
        if self.admin["adminUser"] != "weblogic":
            api.set(_join(security, "User", "weblogic"), "Name", self.admin["adminUser"])

        api.write_domain(self.domain["home"])
        api.close_session()
        self.changed("wrote domain %s" % self.domain["home"])

    def configure_service_table(self, password):
        rcu = self.spec["rcu"]
        driver = "/JDBCSystemResource/LocalSvcTblDataSource/JdbcResource/LocalSvcTblDataSource/JDBCDriverParams/NO_NAME_0"
        api.set(driver, "DriverName", NON_XA_DRIVER)
        api.set(driver, "URL", rcu["url"])
        api.set(driver, "PasswordEncrypted", password)
        api.set(driver + "/Properties/NO_NAME_0/Property/user", "Value", rcu["schemaPrefix"] + "_STB")

    def clear_data_source_passwords(self):
        """Drop the RCU password that getDatabaseDefaults() copied into every data source.

        The image must not carry it; first boot sets each data source's password
        from the secret store before any server starts.
        """
        for name in api.children("/JDBCSystemResource"):
            driver = _join("JDBCSystemResource", name, "JdbcResource", name, "JDBCDriverParams", "NO_NAME_0")
            if api.exists(driver):
                api.set(driver, "PasswordEncrypted", "")

    # --- phase 2: reconcile -----------------------------------------------------------

    def reconcile(self):
        api.read_domain(self.domain["home"])
        self.reconcile_domain()
        self.reconcile_machines()
        self.reconcile_coherence()
        self.reconcile_cluster()
        self.reconcile_data_sources()
        self.retarget_template_servers()
        self.reconcile_transaction_logs()
        self.reconcile_jms()
        self.reconcile_adapters()
        self.reconcile_security()
        if self.changes:
            api.update_domain()
        api.close_session()

    def reconcile_domain(self):
        self.ensure_attribute("/", "ProductionModeEnabled", bool(self.domain.get("productionMode", True)))
        server = _join("Server", self.admin["name"])
        if not api.exists(server):
            raise BuildError("admin server %s not found in the domain; the Basic WebLogic Server Domain "
                             "template names it AdminServer" % server)
        self.ensure_attribute(server, "ListenAddress", self.admin["listenAddress"])
        self.ensure_attribute(server, "ListenPort", self.admin["listenPort"])

    def reconcile_machines(self):
        names = self.machine_names()
        for name in names:
            path = self.ensure_mbean("/", "Machine", name)
            manager = _join(path, "NodeManager", name)
            # First boot replaces localhost with the instance's private address.
            self.ensure_attribute(manager, "ListenAddress", "localhost")
            self.ensure_attribute(manager, "ListenPort", self.cluster["nodeManagerPort"])
            self.ensure_attribute(manager, "NMType", self.cluster.get("nodeManagerType", "SSL"))
        self.delete_extra("/", "Machine", names, prefix=self.cluster["machineNamePrefix"])

    def reconcile_cluster(self):
        name = self.cluster["name"]
        cluster = self.ensure_mbean("/", "Cluster", name)
        self.ensure_attribute(cluster, "ClusterMessagingMode", "unicast")

        template = self.ensure_mbean("/", "ServerTemplate", self.cluster["serverTemplate"])
        self.ensure_attribute(template, "ListenPort", self.cluster["listenPort"])
        self.ensure_attribute(template, "Cluster", name)
        if self.spec.get("coherence"):
            self.ensure_attribute(template, "CoherenceClusterSystemResource", self.spec["coherence"]["name"])
        start = self.ensure_mbean(template, "ServerStart", self.cluster["serverTemplate"])
        self.ensure_attribute(start, "Arguments", self.cluster.get("jvmArguments", ""))
        self.ensure_attribute(start, "JavaHome", self.domain["javaHome"])

        dynamic = self.ensure_mbean(cluster, "DynamicServers", name)
        size = self.cluster["dynamicClusterSize"]
        self.ensure_attribute(dynamic, "ServerTemplate", self.cluster["serverTemplate"])
        self.ensure_attribute(dynamic, "ServerNamePrefix", self.cluster["serverNamePrefix"])
        self.ensure_attribute(dynamic, "DynamicClusterSize", size)
        self.ensure_attribute(dynamic, "MaxDynamicClusterSize", size)
        self.ensure_attribute(dynamic, "CalculatedListenPorts", True)
        self.ensure_attribute(dynamic, "CalculatedMachineNames", True)
        self.ensure_attribute(dynamic, "MachineNameMatchExpression", self.cluster["machineNamePrefix"] + "*")

    def retarget_template_servers(self):
        """Move resources from the OSB template's managed server to the cluster, then delete that server.

        NOTE: only the MBean folders below are covered. Other resources that a
        real OSB template targets to its managed server must be added here once
        a bake on WebLogic shows them.
        """
        template_servers = self.domain.get("templateManagedServers", [])
        existing = [s for s in template_servers if api.exists(_join("Server", s))]
        if not existing:
            return
        cluster = self.cluster["name"]
        for folder in ("AppDeployment", "JDBCSystemResource", "JMSSystemResource", "JMSServer", "JDBCStore"):
            if not api.exists(_join(folder)):
                continue
            for name in api.children(_join(folder)):
                path = _join(folder, name)
                targets = normalize(api.get(path, "Target")) or []
                if not [t for t in targets if t in existing]:
                    continue
                new_targets = [t for t in targets if t not in existing]
                if cluster not in new_targets:
                    new_targets.append(cluster)
                self.ensure_targets(path, new_targets)
        for server in existing:
            api.delete("/", server, "Server")
            self.changed("deleted template managed server /Server/%s" % server)

    def reconcile_data_sources(self):
        for ds in self.spec.get("dataSources", []):
            name = ds["name"]
            path = self.ensure_mbean("/", "JDBCSystemResource", name)
            resource = _join(path, "JdbcResource", name)
            params = self.ensure_mbean(resource, "JDBCDataSourceParams", "NO_NAME_0")
            self.ensure_attribute(params, "JNDIName", ds["jndiName"])
            self.ensure_attribute(params, "GlobalTransactionsProtocol", ds.get("xa") and "TwoPhaseCommit" or "None")

            driver = self.ensure_mbean(resource, "JDBCDriverParams", "NO_NAME_0")
            self.ensure_attribute(driver, "DriverName", ds.get("driver") or (ds.get("xa") and XA_DRIVER or NON_XA_DRIVER))
            self.ensure_attribute(driver, "URL", ds["url"])
            properties = self.ensure_mbean(driver, "Properties", "NO_NAME_0")
            user = self.ensure_mbean(properties, "Property", "user")
            self.ensure_attribute(user, "Value", ds["user"])

            pool = self.ensure_mbean(resource, "JDBCConnectionPoolParams", "NO_NAME_0")
            self.ensure_attribute(pool, "TestTableName", ds.get("testQuery", "SQL ISVALID"))
            self.ensure_attribute(pool, "TestConnectionsOnReserve", True)
            self.ensure_attribute(pool, "InitialCapacity", ds.get("initialCapacity", 1))
            self.ensure_attribute(pool, "MinCapacity", ds.get("initialCapacity", 1))
            self.ensure_attribute(pool, "MaxCapacity", ds.get("maxCapacity", 15))
            if ds.get("xa"):
                xa_params = self.ensure_mbean(resource, "JDBCXAParams", "NO_NAME_0")
                self.ensure_attribute(xa_params, "KeepXaConnTillTxComplete", True)
                self.ensure_attribute(xa_params, "XaSetTransactionTimeout", True)
            self.ensure_targets(path, ds["targets"])

    def reconcile_transaction_logs(self):
        """Keep every server's transaction log in the database, because instances are disposable."""
        tlog = self.spec.get("transactionLogs")
        if not tlog:
            return
        prefix = tlog["prefixName"]
        stores = (
            (_join("Server", self.admin["name"]), self.admin["name"], prefix.replace("${serverName}", self.admin["name"])),
            (_join("ServerTemplate", self.cluster["serverTemplate"]), self.cluster["serverTemplate"], prefix),
        )
        for parent, name, store_prefix in stores:
            store = self.ensure_mbean(parent, "TransactionLogJDBCStore", name)
            self.ensure_attribute(store, "Enabled", True)
            self.ensure_attribute(store, "DataSource", tlog["dataSource"])
            self.ensure_attribute(store, "PrefixName", store_prefix)

    def reconcile_jms(self):
        jms = self.spec.get("jms", {})
        for server in jms.get("servers", []):
            store = server["store"]
            store_path = self.ensure_mbean("/", "JDBCStore", store["name"])
            self.ensure_attribute(store_path, "DataSource", store["dataSource"])
            self.ensure_attribute(store_path, "PrefixName", store["prefixName"])
            self.ensure_targets(store_path, server["targets"])
            server_path = self.ensure_mbean("/", "JMSServer", server["name"])
            self.ensure_attribute(server_path, "PersistentStore", store["name"])
            self.ensure_targets(server_path, server["targets"])
        for module in jms.get("modules", []):
            module_path = self.ensure_mbean("/", "JMSSystemResource", module["name"])
            self.ensure_targets(module_path, module["targets"])
            for sub in module.get("subdeployments", []):
                sub_path = self.ensure_mbean(module_path, "SubDeployment", sub["name"])
                self.ensure_targets(sub_path, sub["targets"])
            resource = _join(module_path, "JmsResource", "NO_NAME_0")
            for factory in module.get("connectionFactories", []):
                path = self.ensure_mbean(resource, "ConnectionFactory", factory["name"])
                self.ensure_attribute(path, "JNDIName", factory["jndiName"])
                self.ensure_attribute(path, "SubDeploymentName", factory["subdeployment"])
                self.ensure_attribute(path, "DefaultTargetingEnabled", False)
                params = self.ensure_mbean(path, "TransactionParams", "NO_NAME_0")
                self.ensure_attribute(params, "XAConnectionFactoryEnabled", bool(factory.get("xaEnabled", False)))
            for queue in module.get("queues", []):
                path = self.ensure_mbean(resource, queue.get("type", "UniformDistributedQueue"), queue["name"])
                self.ensure_attribute(path, "JNDIName", queue["jndiName"])
                self.ensure_attribute(path, "SubDeploymentName", queue["subdeployment"])

    def reconcile_adapters(self):
        for adapter in self.spec.get("adapters", []):
            path = _join("AppDeployment", adapter["name"])
            if not api.exists(path):
                raise BuildError("resource adapter %s is not deployed in the domain; the Oracle Service Bus "
                                 "template deploys DbAdapter, JmsAdapter and FileAdapter" % path)
            if plans.write_plan(adapter):
                self.changed("wrote deployment plan %s" % adapter["planPath"])
            self.ensure_attribute(path, "PlanPath", adapter["planPath"])
            self.ensure_attribute(path, "PlanDir", os.path.dirname(adapter["planPath"]))

    def reconcile_security(self):
        security = _join("Security", self.domain_name())
        spec = self.spec.get("security", {})
        for group in spec.get("groups", []):
            path = self.ensure_mbean(security, "Group", group["name"])
            self.ensure_attribute(path, "Description", group.get("description", ""))
        for user in spec.get("users", []):
            path = _join(security, "User", user["name"])
            if not api.exists(path):
                api.create(security, user["name"], "User")
                placeholder = placeholder_password()
                self.register_secret(placeholder)
                api.set(path, "Password", placeholder)
                self.changed("created %s with a placeholder password that first boot replaces" % path)
            self.ensure_attribute(path, "Description", user.get("description", ""))
            current = normalize(api.get(path, "GroupMemberOf")) or []
            for group in user.get("groups", []):
                if group not in current:
                    api.assign("User", user["name"], "Group", group)
                    self.changed("added user %s to group %s" % (user["name"], group))

    def reconcile_coherence(self):
        coherence = self.spec.get("coherence")
        if not coherence:
            return
        name = coherence["name"]
        path = self.ensure_mbean("/", "CoherenceClusterSystemResource", name)
        params = _join(path, "CoherenceResource", name, "CoherenceClusterParams", "NO_NAME_0")
        self.ensure_attribute(params, "ClusteringMode", "unicast")
        self.ensure_attribute(params, "ClusterListenPort", coherence["clusterListenPort"])
        addresses = _join(params, "CoherenceClusterWellKnownAddresses", "NO_NAME_0")
        wanted = []
        for address in coherence["wellKnownAddresses"]:
            wanted.append(address["name"])
            wka = self.ensure_mbean(addresses, "CoherenceClusterWellKnownAddress", address["name"])
            self.ensure_attribute(wka, "ListenAddress", address["address"])
            self.ensure_attribute(wka, "ListenPort", address["port"])
        self.delete_extra(addresses, "CoherenceClusterWellKnownAddress", wanted)


def build_domain(spec, register_secret=None):
    """Create the domain if needed, then reconcile it; return the list of changes made.

    Any open template or domain session is closed before an error propagates.
    """
    builder = DomainBuilder(spec, register_secret=register_secret)
    try:
        if not builder.domain_exists():
            builder.create()
        builder.reconcile()
    except Exception:
        api.release_session()
        raise
    return builder.changes
