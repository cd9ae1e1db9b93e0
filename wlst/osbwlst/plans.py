"""Deployment plans for the Oracle JCA resource adapters (DbAdapter, JmsAdapter, FileAdapter).

A plan adds one connection-instance per spec connection to the adapter's
META-INF/weblogic-ra.xml and sets its config properties. The output is
deterministic (sorted properties, no timestamps), so rerunning the build
rewrites nothing when the spec is unchanged.
"""

import os

# Every connection factory of the three Oracle adapters implements this interface.
CONNECTION_FACTORY_INTERFACE = "javax.resource.cci.ConnectionFactory"

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<deployment-plan xmlns="http://xmlns.oracle.com/weblogic/deployment-plan"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://xmlns.oracle.com/weblogic/deployment-plan'
    ' http://xmlns.oracle.com/weblogic/deployment-plan/1.0/deployment-plan.xsd"'
    ' global-variables="false">\n'
)


def _escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _variable_key(jndi_name):
    return jndi_name.replace("/", "_")


def _instance_xpath(jndi_name):
    return ('/weblogic-connector/outbound-resource-adapter/connection-definition-group/'
            '[connection-factory-interface="%s"]/connection-instance/[jndi-name="%s"]'
            % (CONNECTION_FACTORY_INTERFACE, jndi_name))


def render_plan(adapter):
    """Return the deployment plan XML for one adapter entry of the domain spec."""
    name = adapter["name"]
    variables = []
    assignments = []
    for connection in adapter.get("connections", []):
        jndi = connection["jndiName"]
        key = _variable_key(jndi)
        instance = _instance_xpath(jndi)
        variables.append(("ConnectionInstance_%s_JNDIName" % key, jndi))
        assignments.append(("ConnectionInstance_%s_JNDIName" % key, instance + "/jndi-name"))
        properties = connection.get("properties", {})
        for prop in sorted(properties.keys()):
            variable = "ConfigProperty_%s_%s" % (prop, key)
            variables.append((variable, properties[prop]))
            assignments.append((variable, instance + '/connection-properties/properties/property/[name="%s"]/value'
                                % prop))
    out = [HEADER, "  <application-name>%s</application-name>\n" % _escape(name), "  <variable-definition>\n"]
    for variable, value in variables:
        out.append("    <variable>\n      <name>%s</name>\n      <value>%s</value>\n    </variable>\n"
                   % (_escape(variable), _escape(value)))
    out.append("  </variable-definition>\n")
    out.append("  <module-override>\n")
    out.append("    <module-name>%s.rar</module-name>\n    <module-type>rar</module-type>\n" % _escape(name))
    out.append('    <module-descriptor external="false">\n')
    out.append("      <root-element>weblogic-connector</root-element>\n")
    out.append("      <uri>META-INF/weblogic-ra.xml</uri>\n")
    for variable, xpath in assignments:
        out.append("      <variable-assignment>\n        <name>%s</name>\n        <xpath>%s</xpath>\n"
                   % (_escape(variable), _escape(xpath)))
        if variable.startswith("ConnectionInstance_"):
            out.append("        <operation>add</operation>\n")
        out.append("      </variable-assignment>\n")
    out.append("    </module-descriptor>\n  </module-override>\n")
    out.append("  <config-root>%s</config-root>\n" % _escape(os.path.dirname(adapter["planPath"])))
    out.append("</deployment-plan>\n")
    return "".join(out)


def write_plan(adapter):
    """Write the adapter's plan to its planPath; return True when the file changed."""
    path = adapter["planPath"]
    text = render_plan(adapter)
    if os.path.isfile(path):
        handle = open(path)
        try:
            if handle.read() == text:
                return False
        finally:
            handle.close()
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        # An explicit mode, because Jython without its native POSIX library
        # creates directories 0777 whatever the umask.
        os.makedirs(directory, 0o750)
    handle = open(path, "w")
    try:
        handle.write(text)
    finally:
        handle.close()
    return True
