"""MBean types, attributes and child folders that the stand-in accepts.

Each entry maps an MBean type to its attributes and to the child folders
that may appear below it. A child folder is named after the MBean type it
holds, as in offline WLST (e.g. /JDBCSystemResource/<name>/JdbcResource/<name>).

Child naming modes follow offline WLST:
  NAMED      - create(name, type) makes a child called name
  SINGLETON  - the child is always called NO_NAME_0, whatever name create() gets
  PARENT     - the child carries its parent's name
A child marked auto=True exists as soon as its parent is created.

Attribute kinds: str, int, bool, ref (name of another MBean), refs (list of
names, e.g. Target), encrypted (stored as a one-way hash, never in clear).
"""

NAMED = "named"
SINGLETON = "singleton"
PARENT = "parent"


def child(mode, auto=False):
    return {"mode": mode, "auto": auto}


TYPES = {
    "Domain": {
        "attributes": {
            "Name": "str", "ProductionModeEnabled": "bool", "AdminServerName": "str",
            "DomainVersion": "str",
        },
        "children": {
            "Server": child(NAMED), "Cluster": child(NAMED), "ServerTemplate": child(NAMED),
            "Machine": child(NAMED), "JDBCSystemResource": child(NAMED), "JDBCStore": child(NAMED),
            "JMSServer": child(NAMED), "JMSSystemResource": child(NAMED), "AppDeployment": child(NAMED),
            "CoherenceClusterSystemResource": child(NAMED), "Security": child(PARENT, auto=True),
            "SecurityConfiguration": child(PARENT, auto=True), "JTA": child(PARENT, auto=True),
        },
    },
    "Server": {
        "attributes": {
            "ListenAddress": "str", "ListenPort": "int", "Machine": "ref", "Cluster": "ref",
        },
        "children": {
            "ServerStart": child(PARENT, auto=True), "TransactionLogJDBCStore": child(PARENT),
        },
    },
    "ServerTemplate": {
        "attributes": {
            "ListenAddress": "str", "ListenPort": "int", "Cluster": "ref", "Machine": "ref",
            "CoherenceClusterSystemResource": "ref",
        },
        "children": {
            "ServerStart": child(PARENT, auto=True), "TransactionLogJDBCStore": child(PARENT),
        },
    },
    "ServerStart": {"attributes": {"Arguments": "str", "JavaHome": "str"}, "children": {}},
    "TransactionLogJDBCStore": {
        "attributes": {"Enabled": "bool", "DataSource": "ref", "PrefixName": "str"},
        "children": {},
    },
    "Cluster": {
        "attributes": {"ClusterMessagingMode": "str", "WeblogicPluginEnabled": "bool"},
        "children": {"DynamicServers": child(PARENT)},
    },
    "DynamicServers": {
        "attributes": {
            "ServerTemplate": "ref", "ServerNamePrefix": "str", "DynamicClusterSize": "int",
            "MaxDynamicClusterSize": "int", "CalculatedListenPorts": "bool",
            "CalculatedMachineNames": "bool", "MachineNameMatchExpression": "str",
        },
        "children": {},
    },
    "Machine": {"attributes": {}, "children": {"NodeManager": child(PARENT, auto=True)}},
    "NodeManager": {
        "attributes": {"ListenAddress": "str", "ListenPort": "int", "NMType": "str"},
        "children": {},
    },
    "JDBCSystemResource": {
        "attributes": {"Target": "refs", "DescriptorFileName": "str"},
        "children": {"JdbcResource": child(PARENT, auto=True)},
    },
    "JdbcResource": {
        "attributes": {"Name": "str"},
        "children": {
            "JDBCDataSourceParams": child(SINGLETON), "JDBCDriverParams": child(SINGLETON),
            "JDBCConnectionPoolParams": child(SINGLETON), "JDBCXAParams": child(SINGLETON),
        },
    },
    "JDBCDataSourceParams": {
        "attributes": {"JNDIName": "str", "GlobalTransactionsProtocol": "str"},
        "children": {},
    },
    "JDBCDriverParams": {
        "attributes": {"DriverName": "str", "URL": "str", "PasswordEncrypted": "encrypted",
                       "UseXaDataSourceInterface": "bool"},
        "children": {"Properties": child(SINGLETON)},
    },
    "Properties": {"attributes": {}, "children": {"Property": child(NAMED)}},
    "Property": {"attributes": {"Value": "str"}, "children": {}},
    "JDBCConnectionPoolParams": {
        "attributes": {"TestTableName": "str", "TestConnectionsOnReserve": "bool", "InitialCapacity": "int",
                       "MinCapacity": "int", "MaxCapacity": "int"},
        "children": {},
    },
    "JDBCXAParams": {
        "attributes": {"KeepXaConnTillTxComplete": "bool", "XaTransactionTimeout": "int",
                       "XaSetTransactionTimeout": "bool"},
        "children": {},
    },
    "JDBCStore": {
        "attributes": {"DataSource": "ref", "PrefixName": "str", "Target": "refs"},
        "children": {},
    },
    "JMSServer": {"attributes": {"PersistentStore": "ref", "Target": "refs"}, "children": {}},
    "JMSSystemResource": {
        "attributes": {"Target": "refs"},
        "children": {"SubDeployment": child(NAMED), "JmsResource": child(SINGLETON, auto=True)},
    },
    "SubDeployment": {"attributes": {"Target": "refs"}, "children": {}},
    "JmsResource": {
        "attributes": {},
        "children": {"ConnectionFactory": child(NAMED), "UniformDistributedQueue": child(NAMED),
                     "Queue": child(NAMED)},
    },
    "ConnectionFactory": {
        "attributes": {"JNDIName": "str", "SubDeploymentName": "str", "DefaultTargetingEnabled": "bool"},
        "children": {"TransactionParams": child(SINGLETON, auto=True)},
    },
    "TransactionParams": {
        "attributes": {"XAConnectionFactoryEnabled": "bool", "TransactionTimeout": "int"},
        "children": {},
    },
    "UniformDistributedQueue": {
        "attributes": {"JNDIName": "str", "SubDeploymentName": "str"},
        "children": {},
    },
    "Queue": {"attributes": {"JNDIName": "str", "SubDeploymentName": "str"}, "children": {}},
    "AppDeployment": {
        "attributes": {"SourcePath": "str", "PlanPath": "str", "PlanDir": "str", "StagingMode": "str",
                       "ModuleType": "str", "Target": "refs"},
        "children": {},
    },
    "CoherenceClusterSystemResource": {
        "attributes": {"Target": "refs"},
        "children": {"CoherenceResource": child(PARENT, auto=True)},
    },
    "CoherenceResource": {
        "attributes": {},
        "children": {"CoherenceClusterParams": child(SINGLETON, auto=True)},
    },
    "CoherenceClusterParams": {
        "attributes": {"ClusteringMode": "str", "ClusterListenPort": "int", "TimeToLive": "int"},
        "children": {"CoherenceClusterWellKnownAddresses": child(SINGLETON, auto=True)},
    },
    "CoherenceClusterWellKnownAddresses": {
        "attributes": {},
        "children": {"CoherenceClusterWellKnownAddress": child(NAMED)},
    },
    "CoherenceClusterWellKnownAddress": {
        "attributes": {"ListenAddress": "str", "ListenPort": "int"},
        "children": {},
    },
    "Security": {"attributes": {}, "children": {"User": child(NAMED), "Group": child(NAMED)}},
    "User": {"attributes": {"Name": "str", "Password": "encrypted", "Description": "str", "GroupMemberOf": "refs"},
             "children": {}},
    "Group": {"attributes": {"Description": "str", "GroupMemberOf": "refs"}, "children": {}},
    "SecurityConfiguration": {
        "attributes": {"NodeManagerUsername": "str", "NodeManagerPasswordEncrypted": "encrypted"},
        "children": {},
    },
    "JTA": {"attributes": {"TimeoutSeconds": "int"}, "children": {}},
}

# Source MBean types that assign() accepts, with the folder that contains them.
ASSIGN_SOURCES = {
    "JDBCSystemResource": ("JDBCSystemResource",),
    "JDBCStore": ("JDBCStore",),
    "JMSServer": ("JMSServer",),
    "JMSSystemResource": ("JMSSystemResource",),
    "JMSSystemResource.SubDeployment": ("JMSSystemResource", "SubDeployment"),
    "AppDeployment": ("AppDeployment",),
    "CoherenceClusterSystemResource": ("CoherenceClusterSystemResource",),
    "Server": ("Server",),
    "User": ("Security", "User"),
}
