"""Contents that the stand-in's domain templates add to the MBean tree.

Only the parts that osb_domain.py reads or changes are modelled: the admin
server and user, the RCU data sources that getDatabaseDefaults() fills, the
managed server that the Oracle Service Bus template creates, and the
resource adapters the OSB template deploys.
"""

BASIC = "Basic WebLogic Server Domain"
JRF = "Oracle JRF"
OSB = "Oracle Service Bus"

# Template name -> names of templates that must be selected with it.
DEPENDENCIES = {BASIC: (), JRF: (BASIC,), OSB: (BASIC, JRF)}

# RCU data source -> schema suffix that getDatabaseDefaults() reads from the service table.
RCU_DATA_SOURCES = {
    JRF: (("opss-data-source", "OPSS"), ("opss-audit-DBDS", "IAU_APPEND"), ("opss-audit-viewDS", "IAU_VIEWER")),
    OSB: (("SOADataSource", "SOAINFRA"), ("wlsbjmsrpDataSource", "SOAINFRA"), ("mds-owsm", "MDS")),
}
STB_DATA_SOURCE = "LocalSvcTblDataSource"

OSB_TEMPLATE_SERVER = "osb_server1"
OSB_APPLICATIONS = (
    ("DbAdapter", "soa/soa/connectors/DbAdapter.rar", "rar"),
    ("JmsAdapter", "soa/soa/connectors/JmsAdapter.rar", "rar"),
    ("FileAdapter", "soa/soa/connectors/FileAdapter.rar", "rar"),
    ("Service Bus Routing", "osb/lib/sb-kernel-wls.ear", "ear"),
)
