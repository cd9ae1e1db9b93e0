"""Semantic rules of the domain spec that a JSON Schema cannot express.

This module is shared: the WLST entry point imports it under Jython 2.7 before
its first WLST call, and builder/domain_spec.py loads it under CPython 3 to
report the same problems before a bake. Keep it in the common subset of both
languages (no f-strings, no annotations, standard library only).

check_spec() returns a list of (json_pointer, message) tuples; the pointer
names the field to fix, e.g. "/jms/modules/0/subdeployments/1/targets/0".
"""

import re

XA_DRIVER = "oracle.jdbc.xa.client.OracleXADataSource"
NON_XA_DRIVER = "oracle.jdbc.OracleDriver"
ORACLE_TEST_QUERIES = ("SQL ISVALID", "SELECT 1 FROM DUAL")

# Groups that every WebLogic security realm contains after the Basic template.
BUILTIN_GROUPS = (
    "Administrators", "Deployers", "Operators", "Monitors", "AppTesters",
    "CrossDomainConnectors", "AdminChannelUsers", "OracleSystemGroup",
)

SECRET_REFERENCE = re.compile(r"^(ssm:/[A-Za-z0-9_./-]+|secretsmanager:[A-Za-z0-9/_+=.@-]+)$")

# Adapter property that names another resource, with the kind of resource it must name.
ADAPTER_REFERENCES = {
    ("DbAdapter", "xADataSourceName"): "xa-datasource",
    ("DbAdapter", "dataSourceName"): "datasource",
    ("JmsAdapter", "ConnectionFactoryLocation"): "connection-factory",
    ("FileAdapter", "inboundDataSource"): "datasource",
    ("FileAdapter", "outboundDataSource"): "datasource",
}


def _pointer(*parts):
    return "/" + "/".join([str(part) for part in parts])


def _list(value):
    if isinstance(value, list):
        return value
    return []


def _dict(value):
    if isinstance(value, dict):
        return value
    return {}


def _duplicates(names):
    seen = {}
    duplicates = []
    for index, name in enumerate(names):
        if name in seen:
            duplicates.append((index, name))
        else:
            seen[name] = index
    return duplicates


class _Checker(object):
    def __init__(self, spec, asg_max):
        self.spec = _dict(spec)
        self.asg_max = asg_max
        self.problems = []
        self.admin_name = _dict(self.spec.get("adminServer")).get("name", "AdminServer")
        self.cluster_name = _dict(self.spec.get("cluster")).get("name")
        self.data_sources = {}
        for ds in _list(self.spec.get("dataSources")):
            ds = _dict(ds)
            if "name" in ds:
                self.data_sources[ds["name"]] = ds
        self.jms_servers = {}
        for server in _list(_dict(self.spec.get("jms")).get("servers")):
            server = _dict(server)
            if "name" in server:
                self.jms_servers[server["name"]] = server

    def add(self, pointer, message):
        self.problems.append((pointer, message))

    def server_targets(self):
        """Return the names a resource may be targeted to: the admin server and the cluster."""
        targets = [self.admin_name]
        if self.cluster_name:
            targets.append(self.cluster_name)
        return targets

    def run(self):
        self.check_required()
        self.check_cluster()
        self.check_data_sources()
        self.check_transaction_logs()
        self.check_jms_servers()
        self.check_jms_modules()
        self.check_adapters()
        self.check_security()
        self.check_coherence()
        return self.problems

    def check_required(self):
        for key in ("domain", "rcu", "adminServer", "cluster"):
            if not isinstance(self.spec.get(key), dict):
                self.add(_pointer(key), "missing required object '%s'" % key)

    def check_cluster(self):
        cluster = _dict(self.spec.get("cluster"))
        size = cluster.get("dynamicClusterSize")
        asg_max = cluster.get("asgMaxSize")
        if not isinstance(size, int):
            self.add("/cluster/dynamicClusterSize", "missing or not an integer")
            return
        limits = []
        if isinstance(asg_max, int):
            limits.append(("the spec's cluster.asgMaxSize", asg_max))
        if self.asg_max is not None:
            limits.append(("the Auto Scaling group's MaxSize", self.asg_max))
        for label, limit in limits:
            if size < limit:
                self.add(
                    "/cluster/dynamicClusterSize",
                    "dynamic cluster size %d is smaller than %s (%d); instances beyond %d would find "
                    "no free dynamic server slot. Raise dynamicClusterSize to at least %d."
                    % (size, label, limit, size, limit),
                )
        if self.cluster_name == self.admin_name:
            self.add("/cluster/name", "cluster name '%s' is also the admin server name" % self.cluster_name)

    def check_targets(self, pointer, targets, allowed, what):
        for index, target in enumerate(_list(targets)):
            if target not in allowed:
                self.add(
                    _pointer(pointer, index),
                    "%s target '%s' is not defined; expected one of: %s"
                    % (what, target, ", ".join(allowed)),
                )

    def check_data_sources(self):
        data_sources = _list(self.spec.get("dataSources"))
        for index, name in _duplicates([_dict(ds).get("name") for ds in data_sources]):
            self.add(_pointer("dataSources", index, "name"), "data source name '%s' is used twice" % name)
        for index, jndi in _duplicates([_dict(ds).get("jndiName") for ds in data_sources]):
            self.add(_pointer("dataSources", index, "jndiName"), "JNDI name '%s' is used twice" % jndi)
        for index, ds in enumerate(data_sources):
            ds = _dict(ds)
            base = _pointer("dataSources", index)
            self.check_targets(base + "/targets", ds.get("targets"), self.server_targets(),
                               "data source '%s'" % ds.get("name"))
            driver = ds.get("driver")
            if driver is not None:
                expected = ds.get("xa") and XA_DRIVER or NON_XA_DRIVER
                if driver != expected:
                    self.add(base + "/driver",
                             "driver '%s' does not match xa=%s; use '%s'" % (driver, ds.get("xa"), expected))
            url = ds.get("url", "")
            query = ds.get("testQuery")
            if url.startswith("jdbc:oracle:") and query is not None and query not in ORACLE_TEST_QUERIES:
                self.add(base + "/testQuery",
                         "test query '%s' is not recommended for Oracle Database; use one of: %s"
                         % (query, ", ".join(ORACLE_TEST_QUERIES)))

    def check_transaction_logs(self):
        tlog = self.spec.get("transactionLogs")
        if tlog is None:
            return
        tlog = _dict(tlog)
        name = tlog.get("dataSource")
        ds = self.data_sources.get(name)
        if ds is None:
            self.add("/transactionLogs/dataSource", "data source '%s' is not defined in dataSources" % name)
            return
        if ds.get("xa"):
            self.add("/transactionLogs/dataSource",
                     "data source '%s' is XA; a JDBC transaction log store needs a non-XA data source" % name)
        for target in self.server_targets():
            if target not in _list(ds.get("targets")):
                self.add("/transactionLogs/dataSource",
                         "data source '%s' is not targeted to '%s', which keeps its transaction log in it"
                         % (name, target))

    def check_jms_servers(self):
        servers = _list(_dict(self.spec.get("jms")).get("servers"))
        for index, name in _duplicates([_dict(s).get("name") for s in servers]):
            self.add(_pointer("jms", "servers", index, "name"), "JMS server name '%s' is used twice" % name)
        for index, server in enumerate(servers):
            server = _dict(server)
            base = _pointer("jms", "servers", index)
            targets = _list(server.get("targets"))
            if len(targets) != 1:
                self.add(base + "/targets",
                         "JMS server '%s' has %d targets; a JMS server needs exactly one target "
                         "(the cluster, or one server)" % (server.get("name"), len(targets)))
            self.check_targets(base + "/targets", targets, self.server_targets(),
                               "JMS server '%s'" % server.get("name"))
            store = _dict(server.get("store"))
            ds_name = store.get("dataSource")
            ds = self.data_sources.get(ds_name)
            if ds is None:
                self.add(base + "/store/dataSource",
                         "data source '%s' of JMS store '%s' is not defined in dataSources"
                         % (ds_name, store.get("name")))
                continue
            if ds.get("xa"):
                self.add(base + "/store/dataSource",
                         "data source '%s' is XA; a JDBC store needs a non-XA data source" % ds_name)
            for target in targets:
                if target not in _list(ds.get("targets")):
                    self.add(base + "/store/dataSource",
                             "data source '%s' is not targeted to '%s', where JMS store '%s' runs"
                             % (ds_name, target, store.get("name")))

    def check_jms_modules(self):
        modules = _list(_dict(self.spec.get("jms")).get("modules"))
        for index, name in _duplicates([_dict(m).get("name") for m in modules]):
            self.add(_pointer("jms", "modules", index, "name"), "JMS module name '%s' is used twice" % name)
        for index, module in enumerate(modules):
            self.check_jms_module(index, _dict(module))

    def check_jms_module(self, index, module):
        base = _pointer("jms", "modules", index)
        module_name = module.get("name")
        module_targets = _list(module.get("targets"))
        if not module_targets:
            self.add(base + "/targets", "JMS module '%s' has no targets" % module_name)
        self.check_targets(base + "/targets", module_targets, self.server_targets(),
                           "JMS module '%s'" % module_name)
        subdeployments = _list(module.get("subdeployments"))
        names = [_dict(sub).get("name") for sub in subdeployments]
        for sub_index, name in _duplicates(names):
            self.add(_pointer("jms", "modules", index, "subdeployments", sub_index, "name"),
                     "subdeployment name '%s' is used twice in JMS module '%s'" % (name, module_name))
        for sub_index, sub in enumerate(subdeployments):
            sub = _dict(sub)
            sub_base = _pointer("jms", "modules", index, "subdeployments", sub_index)
            targets = _list(sub.get("targets"))
            if not targets:
                self.add(sub_base + "/targets", "subdeployment '%s' has no targets" % sub.get("name"))
            for target_index, target in enumerate(targets):
                message = self.subdeployment_target_problem(module_name, module_targets, sub.get("name"), target)
                if message:
                    self.add(_pointer("jms", "modules", index, "subdeployments", sub_index, "targets", target_index),
                             message)
        for kind, label in (("connectionFactories", "connection factory"), ("queues", "queue")):
            for item_index, item in enumerate(_list(module.get(kind))):
                item = _dict(item)
                sub_name = item.get("subdeployment")
                if sub_name not in names:
                    self.add(_pointer("jms", "modules", index, kind, item_index, "subdeployment"),
                             "%s '%s' names subdeployment '%s', which JMS module '%s' does not define"
                             % (label, item.get("name"), sub_name, module_name))
        for kind in ("connectionFactories", "queues"):
            items = _list(module.get(kind))
            for item_index, name in _duplicates([_dict(item).get("name") for item in items]):
                self.add(_pointer("jms", "modules", index, kind, item_index, "name"),
                         "name '%s' is used twice in JMS module '%s'" % (name, module_name))

    def subdeployment_target_problem(self, module_name, module_targets, sub_name, target):
        """Return why a subdeployment target lies outside its module's targets, or None."""
        if target in self.jms_servers:
            server_targets = _list(self.jms_servers[target].get("targets"))
            outside = [t for t in server_targets if t not in module_targets]
            if outside:
                return ("subdeployment '%s' of JMS module '%s' targets JMS server '%s', which runs on '%s'; "
                        "the module is targeted to [%s]. Target the subdeployment to a JMS server on one of "
                        "the module's targets, or add '%s' to the module's targets."
                        % (sub_name, module_name, target, "', '".join(outside), ", ".join(module_targets),
                           outside[0]))
            return None
        if target in self.server_targets():
            if target not in module_targets:
                return ("subdeployment '%s' of JMS module '%s' targets '%s', which is not among the module's "
                        "targets [%s]" % (sub_name, module_name, target, ", ".join(module_targets)))
            return None
        return ("subdeployment '%s' of JMS module '%s' targets '%s', which is neither a JMS server nor a "
                "server or cluster of the domain" % (sub_name, module_name, target))

    def check_adapters(self):
        ds_jndi = {}
        for ds in self.data_sources.values():
            ds_jndi[ds.get("jndiName")] = ds
        cf_jndi = []
        for module in _list(_dict(self.spec.get("jms")).get("modules")):
            for cf in _list(_dict(module).get("connectionFactories")):
                cf_jndi.append(_dict(cf).get("jndiName"))
        adapters = _list(self.spec.get("adapters"))
        for index, name in _duplicates([_dict(a).get("name") for a in adapters]):
            self.add(_pointer("adapters", index, "name"), "adapter '%s' is listed twice" % name)
        for index, adapter in enumerate(adapters):
            adapter = _dict(adapter)
            connections = _list(adapter.get("connections"))
            for conn_index, jndi in _duplicates([_dict(c).get("jndiName") for c in connections]):
                self.add(_pointer("adapters", index, "connections", conn_index, "jndiName"),
                         "connection instance '%s' is listed twice" % jndi)
            for conn_index, connection in enumerate(connections):
                connection = _dict(connection)
                jndi = connection.get("jndiName", "")
                if not jndi.startswith("eis/"):
                    self.add(_pointer("adapters", index, "connections", conn_index, "jndiName"),
                             "connection instance JNDI name '%s' must start with 'eis/'" % jndi)
                properties = _dict(connection.get("properties"))
                for prop in sorted(properties.keys()):
                    kind = ADAPTER_REFERENCES.get((adapter.get("name"), prop))
                    value = properties[prop]
                    if kind is None or value == "":
                        continue
                    pointer = _pointer("adapters", index, "connections", conn_index, "properties", prop)
                    if kind == "connection-factory":
                        if value not in cf_jndi:
                            self.add(pointer, "'%s' is not the JNDI name of a connection factory in jms.modules"
                                     % value)
                    elif value not in ds_jndi:
                        self.add(pointer, "'%s' is not the JNDI name of a data source in dataSources" % value)
                    elif kind == "xa-datasource" and not ds_jndi[value].get("xa"):
                        self.add(pointer, "data source '%s' is not XA; %s needs an XA data source" % (value, prop))

    def check_security(self):
        security = _dict(self.spec.get("security"))
        groups = _list(security.get("groups"))
        users = _list(security.get("users"))
        group_names = [_dict(g).get("name") for g in groups]
        for index, name in _duplicates(group_names):
            self.add(_pointer("security", "groups", index, "name"), "group '%s' is listed twice" % name)
        for index, name in _duplicates([_dict(u).get("name") for u in users]):
            self.add(_pointer("security", "users", index, "name"), "user '%s' is listed twice" % name)
        admin_user = _dict(self.spec.get("adminServer")).get("adminUser")
        for index, user in enumerate(users):
            user = _dict(user)
            if user.get("name") == admin_user:
                self.add(_pointer("security", "users", index, "name"),
                         "user '%s' is the admin user, which adminServer configures" % admin_user)
            for group_index, group in enumerate(_list(user.get("groups"))):
                if group not in group_names and group not in BUILTIN_GROUPS:
                    self.add(_pointer("security", "users", index, "groups", group_index),
                             "group '%s' is neither in security.groups nor a built-in WebLogic group" % group)
        self.check_secret_reference("/rcu/passwordSecret", _dict(self.spec.get("rcu")).get("passwordSecret"))
        self.check_secret_reference("/adminServer/adminPasswordSecret",
                                    _dict(self.spec.get("adminServer")).get("adminPasswordSecret"))
        for index, user in enumerate(users):
            self.check_secret_reference(_pointer("security", "users", index, "passwordSecret"),
                                        _dict(user).get("passwordSecret"))
        for index, ds in enumerate(_list(self.spec.get("dataSources"))):
            self.check_secret_reference(_pointer("dataSources", index, "passwordSecret"),
                                        _dict(ds).get("passwordSecret"))

    def check_secret_reference(self, pointer, value):
        if value is None:
            return
        if not SECRET_REFERENCE.match(str(value)):
            self.add(pointer, "must name a secret as 'ssm:/<parameter name>' or 'secretsmanager:<secret id>', "
                              "never hold the secret itself")

    def check_coherence(self):
        coherence = self.spec.get("coherence")
        if coherence is None:
            return
        addresses = _list(_dict(coherence).get("wellKnownAddresses"))
        if not addresses:
            self.add("/coherence/wellKnownAddresses",
                     "at least one well-known address is needed, because the cluster uses unicast discovery")
        for index, name in _duplicates([_dict(a).get("name") for a in addresses]):
            self.add(_pointer("coherence", "wellKnownAddresses", index, "name"),
                     "well-known address '%s' is listed twice" % name)


def check_spec(spec, asg_max=None):
    """Check a parsed domain spec; return a list of (json_pointer, message), empty when valid.

    asg_max is the MaxSize of the Auto Scaling group that runs the managed
    servers, or None when unknown. The spec's own cluster.asgMaxSize is
    always checked.
    """
    return _Checker(spec, asg_max).run()
