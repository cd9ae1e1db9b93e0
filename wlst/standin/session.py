"""In-memory MBean tree and the offline WLST commands of the stand-in.

namespace() returns a dict shaped like the globals that Oracle's wlst.sh
gives a script: the command functions, cmo, version and WLSTException.
"""

import hashlib
import json
import os
import re

from standin import BANNER
from standin import mbean_types
from standin import templates


class WLSTException(Exception):
    """Raised by every stand-in command that fails, like weblogic.management.scripting.WLSTException."""


def _kebab(name):
    step = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", name)
    step = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", step)
    return step.lower()


def _hash_secret(value):
    if value is None or str(value) == "":
        return ""
    digest = hashlib.sha256(str(value).encode("utf-8")).hexdigest()
    return "{AES-standin}" + digest[:24]


class Node(object):
    """One MBean: its type, name, attribute values and child folders."""

    def __init__(self, mbean_type, name, parent=None):
        if mbean_type not in mbean_types.TYPES:
            raise WLSTException("unknown MBean type '%s'" % mbean_type)
        self.type = mbean_type
        self.name = name
        self.parent = parent
        self.attributes = {}
        self.children = {}

    def spec(self):
        return mbean_types.TYPES[self.type]

    def path(self):
        if self.parent is None:
            return "/"
        parent_path = self.parent.path().rstrip("/")
        return "%s/%s/%s" % (parent_path, self.type, self.name)

    def folder(self, child_type):
        return self.children.setdefault(child_type, [])

    def find(self, child_type, name):
        for node in self.children.get(child_type, []):
            if node.name == name:
                return node
        return None

    def to_state(self):
        children = {}
        for child_type in sorted(self.children.keys()):
            nodes = sorted(self.children[child_type], key=lambda n: n.name)
            children[child_type] = [node.to_state() for node in nodes]
        return {"type": self.type, "name": self.name, "attributes": self.attributes, "children": children}

    @classmethod
    def from_state(cls, state, parent=None):
        node = cls(state["type"], state["name"], parent)
        node.attributes = dict(state["attributes"])
        for child_type, nodes in state["children"].items():
            node.children[child_type] = [cls.from_state(item, node) for item in nodes]
        return node


class MBeanProxy(object):
    """Handle on one stand-in MBean, as returned by cd(), create() and cmo."""

    def __init__(self, node):
        self._node = node

    def getName(self):
        return self._node.name

    def getType(self):
        return self._node.type

    def __repr__(self):
        return "[MBeanProxy %s]" % self._node.path()


class Session(object):
    """The stand-in's WLST offline session: at most one template or domain open at a time."""

    OPTIONS = ("OverwriteDomain", "ServerStartMode", "JavaHome", "DomainName", "AppDir", "NodeManagerType")

    def __init__(self):
        self.root = None
        self.mode = None
        self.domain_dir = None
        self.location = None
        self.folder = None
        self.selected = []
        self.options = {}
        self.namespace = None

    # --- session -----------------------------------------------------------------

    def _require_session(self, command):
        if self.root is None:
            raise WLSTException("%s() failed: no domain or template is open; call loadTemplates() or "
                                "readDomain() first" % command)

    def _open(self, root, mode, domain_dir):
        self.root = root
        self.mode = mode
        self.domain_dir = domain_dir
        self.location = root
        self.folder = None
        self._update_cmo()

    def _close(self):
        self.root = None
        self.mode = None
        self.domain_dir = None
        self.location = None
        self.folder = None
        self.selected = []
        self.options = {}
        self._update_cmo()

    def _update_cmo(self):
        if self.namespace is not None:
            if self.location is None or self.folder is not None:
                self.namespace["cmo"] = None
            else:
                self.namespace["cmo"] = MBeanProxy(self.location)

    def selectTemplate(self, name, version=None):
        if self.root is not None and self.mode != "domain":
            raise WLSTException("selectTemplate() failed: templates are already loaded")
        if name not in templates.DEPENDENCIES:
            raise WLSTException("selectTemplate() failed: no template named '%s'; known: %s"
                                % (name, ", ".join(sorted(templates.DEPENDENCIES.keys()))))
        if name not in self.selected:
            self.selected.append(name)

    def loadTemplates(self):
        if not self.selected:
            raise WLSTException("loadTemplates() failed: no template selected; call selectTemplate() first")
        for name in self.selected:
            for needed in templates.DEPENDENCIES[name]:
                if needed not in self.selected:
                    raise WLSTException("loadTemplates() failed: template '%s' needs '%s'" % (name, needed))
        root = self.root
        if root is None:
            root = Node("Domain", "base_domain")
        for name in self.selected:
            _apply_template(root, name)
        selected = self.selected
        self._open(root, self.mode or "template", self.domain_dir)
        self.selected = []
        return selected

    def closeTemplate(self):
        if self.mode != "template":
            raise WLSTException("closeTemplate() failed: no template is open")
        self._close()

    def readDomain(self, domain_dir):
        if self.root is not None:
            raise WLSTException("readDomain() failed: a %s is already open; close it first" % self.mode)
        state_file = os.path.join(domain_dir, ".wlst-standin", "state.json")
        if not os.path.isfile(state_file):
            raise WLSTException("readDomain() failed: %s is not a domain written by the stand-in "
                                "(missing %s)" % (domain_dir, state_file))
        handle = open(state_file)
        try:
            state = json.load(handle)
        finally:
            handle.close()
        self._open(Node.from_state(state), "domain", os.path.abspath(domain_dir))

    def writeDomain(self, domain_dir):
        self._require_session("writeDomain")
        if self.mode != "template":
            raise WLSTException("writeDomain() failed: only a template session can be written; "
                                "use updateDomain() for a domain opened with readDomain()")
        config = os.path.join(domain_dir, "config", "config.xml")
        overwrite = str(self.options.get("OverwriteDomain", "false")).lower() == "true"
        if os.path.exists(config) and not overwrite:
            raise WLSTException("writeDomain() failed: %s already exists and OverwriteDomain is false" % config)
        for user in self._users():
            if "Password" not in user.attributes:
                raise WLSTException("writeDomain() failed: user '%s' has no password; set Password on %s"
                                    % (user.name, user.path()))
        self._rename_root(os.path.basename(os.path.normpath(domain_dir)))
        self._persist(domain_dir)
        self.domain_dir = os.path.abspath(domain_dir)

    def updateDomain(self):
        if self.mode != "domain":
            raise WLSTException("updateDomain() failed: no domain is open; call readDomain() first")
        self._persist(self.domain_dir)

    def closeDomain(self):
        if self.mode != "domain":
            raise WLSTException("closeDomain() failed: no domain is open")
        self._close()

    def setOption(self, name, value):
        if name not in self.OPTIONS:
            raise WLSTException("setOption() failed: unknown option '%s'" % name)
        self.options[name] = value

    def _users(self):
        security = self.root.find("Security", self.root.name)
        if security is None:
            return []
        return list(security.children.get("User", []))

    def _rename_root(self, name):
        """Rename the domain and the folders named after it (/Security/<domain>, /JTA/<domain>, ...)."""
        for child_type, child_spec in self.root.spec()["children"].items():
            if child_spec["mode"] == mbean_types.PARENT:
                for node in self.root.children.get(child_type, []):
                    node.name = name
        self.root.name = name
        self.root.attributes["Name"] = name

    def _persist(self, domain_dir):
        state_dir = os.path.join(domain_dir, ".wlst-standin")
        config_dir = os.path.join(domain_dir, "config")
        for directory in (state_dir, config_dir):
            if not os.path.isdir(directory):
                # An explicit mode, because Jython without its native POSIX
                # library creates directories 0777 whatever the umask.
                os.makedirs(directory, 0o750)
        _write_text(os.path.join(state_dir, "state.json"),
                    json.dumps(self.root.to_state(), indent=1, sort_keys=True) + "\n")
        _write_text(os.path.join(config_dir, "config.xml"), _config_xml(self.root))

    # --- navigation --------------------------------------------------------------

    def _resolve(self, path, command):
        """Return (node, folder) for a WLST path; folder is set when the path ends at a type folder."""
        self._require_session(command)
        if path.startswith("/"):
            node, folder = self.root, None
        else:
            node, folder = self.location, self.folder
        for part in [p for p in path.split("/") if p not in ("", ".")]:
            if part == "..":
                if folder is not None:
                    folder = None
                elif node.parent is not None:
                    node, folder = node.parent, node.type
                continue
            if folder is None:
                if part not in node.spec()["children"]:
                    raise WLSTException("%s() failed: no folder '%s' below %s (type %s); "
                                        "valid folders: %s" % (command, part, node.path(), node.type,
                                                               ", ".join(sorted(node.spec()["children"]))))
                folder = part
            else:
                found = node.find(folder, part)
                if found is None:
                    raise WLSTException("%s() failed: no %s named '%s' below %s"
                                        % (command, folder, part, node.path()))
                node, folder = found, None
        return node, folder

    def cd(self, path):
        node, folder = self._resolve(path, "cd")
        self.location, self.folder = node, folder
        self._update_cmo()
        if folder is None:
            return MBeanProxy(node)
        return None

    def pwd(self):
        self._require_session("pwd")
        if self.folder is None:
            return self.location.path()
        return self.location.path().rstrip("/") + "/" + self.folder

    def ls(self, path=".", returnMap="false"):
        node, folder = self._resolve(path, "ls")
        if folder is not None:
            names = sorted([child.name for child in node.children.get(folder, [])])
        else:
            names = sorted(node.spec()["children"].keys())
        if str(returnMap).lower() == "true":
            return names
        for name in names:
            print("dr--   %s" % name)
        return None

    def _here(self, command):
        self._require_session(command)
        if self.folder is not None:
            raise WLSTException("%s() failed: %s is a folder, not an MBean; cd into one of its MBeans"
                                % (command, self.pwd()))
        return self.location

    # --- create and delete -------------------------------------------------------

    def create(self, name, mbean_type):
        node = self._here("create")
        if mbean_type not in mbean_types.TYPES:
            raise WLSTException("create() failed: unknown MBean type '%s'" % mbean_type)
        child_spec = node.spec()["children"].get(mbean_type)
        if child_spec is None:
            raise WLSTException("create() failed: MBean type %s cannot be created below %s (type %s)"
                                % (mbean_type, node.path(), node.type))
        child = _create_child(node, mbean_type, name)
        return MBeanProxy(child)

    def delete(self, name, mbean_type):
        node = self._here("delete")
        found = node.find(mbean_type, name)
        if found is None:
            raise WLSTException("delete() failed: no %s named '%s' below %s" % (mbean_type, name, node.path()))
        node.children[mbean_type].remove(found)
        _remove_references(self.root, found)

    # --- attributes --------------------------------------------------------------

    def _attribute_kind(self, node, attribute, command):
        kind = node.spec()["attributes"].get(attribute)
        if kind is None:
            raise WLSTException("%s() failed: attribute '%s' is not defined for MBean type %s at %s; "
                                "valid attributes: %s" % (command, attribute, node.type, node.path(),
                                                         ", ".join(sorted(node.spec()["attributes"]))))
        return kind

    def set(self, attribute, value):
        node = self._here("set")
        kind = self._attribute_kind(node, attribute, "set")
        converted = self._convert(node, attribute, kind, value)
        if attribute == "Name" and node.type == "User":
            # Offline WLST renames the Basic template's administrator this way.
            if node.parent.find("User", converted) not in (None, node):
                raise WLSTException("set() failed: user '%s' already exists" % converted)
            node.name = converted
            return
        node.attributes[attribute] = converted

    def get(self, attribute):
        node = self._here("get")
        kind = self._attribute_kind(node, attribute, "get")
        value = node.attributes.get(attribute)
        if value is None:
            return None
        if kind == "ref":
            return MBeanProxy(self._find_referenced(attribute, value))
        if kind == "refs":
            return [_NamedProxy(name) for name in value]
        return value

    def _convert(self, node, attribute, kind, value):
        if kind == "str":
            return str(value)
        if kind == "encrypted":
            return _hash_secret(value)
        if kind == "int":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise WLSTException("set() failed: attribute %s of %s needs an integer, got '%s'"
                                    % (attribute, node.path(), value))
        if kind == "bool":
            text = str(value).lower()
            if text not in ("true", "false", "1", "0"):
                raise WLSTException("set() failed: attribute %s of %s needs true or false, got '%s'"
                                    % (attribute, node.path(), value))
            return text in ("true", "1")
        if kind == "ref":
            name = _name_of(value)
            self._find_referenced(attribute, name)
            return name
        names = _names_of(value)
        for name in names:
            self._find_target(attribute, name)
        return names

    def _find_referenced(self, attribute, name):
        folder = {"DataSource": "JDBCSystemResource", "PersistentStore": "JDBCStore"}.get(attribute, attribute)
        found = self.root.find(folder, name)
        if found is None:
            raise WLSTException("set() failed: no %s named '%s' for attribute %s" % (folder, name, attribute))
        return found

    def _find_target(self, attribute, name):
        if attribute == "GroupMemberOf":
            folders = (("Security", "Group"),)
        else:
            folders = (("Server",), ("Cluster",), ("JMSServer",))
        for folder in folders:
            found = _find_in(self.root, folder, name)
            if found is not None:
                return found
        raise WLSTException("no %s named '%s'" % (" or ".join(["/".join(f) for f in folders]), name))

    def assign(self, source_type, source_name, destination_type, destination_name):
        self._require_session("assign")
        folders = mbean_types.ASSIGN_SOURCES.get(source_type)
        if folders is None:
            raise WLSTException("assign() failed: cannot assign MBeans of type '%s'" % source_type)
        for source in [s.strip() for s in str(source_name).split(",") if s.strip()]:
            node = _find_in(self.root, folders, source)
            if node is None:
                raise WLSTException("assign() failed: no %s named '%s'" % (source_type, source))
            if destination_type == "Target":
                attribute = "Target"
            elif destination_type == "Group" and source_type == "User":
                attribute = "GroupMemberOf"
            elif destination_type in ("Cluster", "Machine") and source_type == "Server":
                self._find_referenced(destination_type, destination_name)
                node.attributes[destination_type] = str(destination_name)
                continue
            else:
                raise WLSTException("assign() failed: cannot assign %s to %s" % (source_type, destination_type))
            current = list(node.attributes.get(attribute, []))
            for name in _names_of(destination_name):
                try:
                    self._find_target(attribute, name)
                except WLSTException:
                    raise WLSTException("assign() failed: no %s named '%s'" % (destination_type, name))
                if name not in current:
                    current.append(name)
            node.attributes[attribute] = current

    # --- RCU ---------------------------------------------------------------------

    def getDatabaseDefaults(self):
        self._require_session("getDatabaseDefaults")
        stb = self.root.find("JDBCSystemResource", templates.STB_DATA_SOURCE)
        if stb is None:
            raise WLSTException("getDatabaseDefaults() failed: the domain has no %s; select the Oracle JRF "
                                "template" % templates.STB_DATA_SOURCE)
        driver = _find_in(stb, ("JdbcResource", "JDBCDriverParams"), None)
        missing = [a for a in ("URL", "PasswordEncrypted") if driver is None or a not in driver.attributes]
        user = driver is not None and _find_in(driver, ("Properties", "Property"), "user")
        if not user or "Value" not in user.attributes:
            missing.append("Properties/Property/user")
        if missing:
            raise WLSTException("getDatabaseDefaults() failed: %s has no %s" % (
                templates.STB_DATA_SOURCE, ", ".join(missing)))
        stb_user = user.attributes["Value"]
        if not stb_user.upper().endswith("_STB"):
            raise WLSTException("getDatabaseDefaults() failed: service table user '%s' does not end in _STB"
                                % stb_user)
        prefix = stb_user[:-len("_STB")]
        for template_rows in templates.RCU_DATA_SOURCES.values():
            for ds_name, schema in template_rows:
                ds = self.root.find("JDBCSystemResource", ds_name)
                if ds is None:
                    continue
                params = _find_in(ds, ("JdbcResource", "JDBCDriverParams"), None)
                params.attributes["URL"] = driver.attributes["URL"]
                params.attributes["PasswordEncrypted"] = driver.attributes["PasswordEncrypted"]
                ds_user = _find_in(params, ("Properties", "Property"), "user")
                ds_user.attributes["Value"] = "%s_%s" % (prefix, schema)


class _NamedProxy(object):
    """Element of a reference list returned by get('Target')."""

    def __init__(self, name):
        self._name = name

    def getName(self):
        return self._name

    def __repr__(self):
        return "[MBeanProxy %s]" % self._name


def _name_of(value):
    if hasattr(value, "getName"):
        return value.getName()
    return str(value)


def _names_of(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [_name_of(item) for item in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _find_in(node, folders, name):
    """Walk child folders below node; the last folder is searched for name (None: its only child)."""
    current = node
    for index, folder in enumerate(folders):
        nodes = current.children.get(folder, [])
        last = index == len(folders) - 1
        if last and name is not None:
            for candidate in nodes:
                if candidate.name == name:
                    return candidate
            return None
        if not nodes:
            return None
        if len(nodes) == 1 and not last:
            current = nodes[0]
        elif not last:
            current = current.find(folder, current.name) or nodes[0]
        else:
            current = nodes[0]
    return current


def _create_child(parent, mbean_type, name):
    child_spec = parent.spec()["children"][mbean_type]
    mode = child_spec["mode"]
    if mode == mbean_types.SINGLETON:
        name = "NO_NAME_0"
    elif mode == mbean_types.PARENT:
        name = parent.name
    if parent.find(mbean_type, name) is not None:
        raise WLSTException("create() failed: %s '%s' already exists below %s" % (mbean_type, name, parent.path()))
    child = Node(mbean_type, name, parent)
    parent.folder(mbean_type).append(child)
    for grandchild_type, grandchild_spec in child.spec()["children"].items():
        if grandchild_spec["auto"]:
            _create_child(child, grandchild_type, name)
    return child


def _remove_references(root, removed):
    """Drop references to a deleted MBean, as offline WLST does when a server or cluster is deleted."""
    stack = [root]
    while stack:
        node = stack.pop()
        for attribute, kind in node.spec()["attributes"].items():
            value = node.attributes.get(attribute)
            if kind == "refs" and value and removed.name in value:
                node.attributes[attribute] = [name for name in value if name != removed.name]
            elif kind == "ref" and value == removed.name and attribute in (removed.type, "DataSource"):
                del node.attributes[attribute]
        for nodes in node.children.values():
            stack.extend(nodes)


def _apply_template(root, name):
    if name == templates.BASIC:
        root.attributes["Name"] = root.name
        root.attributes["AdminServerName"] = "AdminServer"
        root.attributes["DomainVersion"] = "12.2.1.3.0"
        for child_type in ("Security", "SecurityConfiguration", "JTA"):
            if root.find(child_type, root.name) is None:
                _create_child(root, child_type, root.name)
        admin = _create_child(root, "Server", "AdminServer")
        admin.attributes["ListenPort"] = 7001
        security = root.find("Security", root.name)
        _create_child(security, "User", "weblogic")
        for group in ("Administrators", "Deployers", "Operators", "Monitors", "AppTesters",
                      "CrossDomainConnectors", "AdminChannelUsers", "OracleSystemGroup"):
            _create_child(security, "Group", group)
        return
    data_sources = list(templates.RCU_DATA_SOURCES.get(name, ()))
    if name == templates.JRF:
        data_sources.insert(0, (templates.STB_DATA_SOURCE, "STB"))
    targets = ["AdminServer"]
    if name == templates.OSB:
        server = _create_child(root, "Server", templates.OSB_TEMPLATE_SERVER)
        server.attributes["ListenPort"] = 8011
        targets = ["AdminServer", templates.OSB_TEMPLATE_SERVER]
        for app_name, source, module_type in templates.OSB_APPLICATIONS:
            app = _create_child(root, "AppDeployment", app_name)
            app.attributes["SourcePath"] = "@ORACLE_HOME@/" + source
            app.attributes["ModuleType"] = module_type
            app.attributes["Target"] = list(targets)
    for ds_name, schema in data_sources:
        ds = _create_child(root, "JDBCSystemResource", ds_name)
        ds.attributes["Target"] = list(targets)
        resource = ds.find("JdbcResource", ds_name)
        _create_child(resource, "JDBCDataSourceParams", "").attributes["JNDIName"] = "jdbc/" + ds_name
        driver = _create_child(resource, "JDBCDriverParams", "")
        driver.attributes["DriverName"] = "oracle.jdbc.OracleDriver"
        properties = _create_child(driver, "Properties", "")
        _create_child(properties, "Property", "user").attributes["Value"] = "DEV_" + schema


def _write_text(path, text):
    handle = open(path, "w")
    try:
        handle.write(text)
    finally:
        handle.close()


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _config_xml(root):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- Written by the WLST stand-in, not by WebLogic: same element names as config.xml, "
             "all modules inline. -->",
             '<domain xmlns="http://xmlns.oracle.com/weblogic/domain">']
    _node_xml(root, 1, lines)
    lines.append("</domain>")
    return "\n".join(lines) + "\n"


def _node_xml(node, depth, lines):
    indent = "  " * depth
    lines.append("%s<name>%s</name>" % (indent, _escape(node.name)))
    for attribute in sorted(node.attributes.keys()):
        if attribute == "Name":
            continue
        value = node.attributes[attribute]
        tag = _kebab(attribute)
        if isinstance(value, list):
            lines.append("%s<%s>%s</%s>" % (indent, tag, _escape(",".join(value)), tag))
        elif isinstance(value, bool):
            lines.append("%s<%s>%s</%s>" % (indent, tag, str(value).lower(), tag))
        else:
            lines.append("%s<%s>%s</%s>" % (indent, tag, _escape(value), tag))
    for child_type in sorted(node.children.keys()):
        for child in sorted(node.children[child_type], key=lambda n: n.name):
            tag = _kebab(child_type)
            lines.append("%s<%s>" % (indent, tag))
            _node_xml(child, depth + 1, lines)
            lines.append("%s</%s>" % (indent, tag))


COMMANDS = ("selectTemplate", "loadTemplates", "closeTemplate", "readDomain", "writeDomain", "updateDomain",
            "closeDomain", "setOption", "cd", "pwd", "ls", "create", "delete", "set", "get", "assign",
            "getDatabaseDefaults")


def namespace():
    """Return a fresh session's commands as a dict shaped like wlst.sh's globals."""
    session = Session()
    names = {"WLSTException": WLSTException, "cmo": None, "version": "WLST stand-in (not WebLogic)",
             "WLST_STANDIN_BANNER": BANNER}
    for command in COMMANDS:
        names[command] = getattr(session, command)
    session.namespace = names
    return names
