"""The only module that calls WLST commands.

bind() takes the namespace that contains the commands: the globals of a script
run by Oracle's wlst.sh, or standin.session.namespace(). Every call goes
through _call(), which turns WLSTException (and Java exceptions under real
WLST) into WlstError, so the domain logic imports and runs without WebLogic.
"""

import logging
import re

LOG = logging.getLogger("osb_domain.wlst")

COMMANDS = ("selectTemplate", "loadTemplates", "closeTemplate", "readDomain", "writeDomain", "updateDomain",
            "closeDomain", "setOption", "cd", "ls", "create", "delete", "set", "get", "assign",
            "getDatabaseDefaults")

SECRET_ATTRIBUTE = re.compile(r"(password|secret|credential|encrypted)", re.IGNORECASE)
MASK = "********"


class WlstError(Exception):
    """A WLST command failed; the message names the command, its arguments and WLST's message."""


_namespace = {}
_wlst_exception = None
_open_session = None


def bind(namespace):
    """Use the WLST commands found in namespace; raise WlstError when one is missing."""
    global _namespace, _wlst_exception
    missing = [name for name in COMMANDS if name not in namespace]
    if missing:
        raise WlstError("WLST commands not found: %s. Run the script with wlst.sh, or select the stand-in "
                        "with --wlst-standin" % ", ".join(missing))
    _namespace = namespace
    _wlst_exception = namespace.get("WLSTException", Exception)


def version():
    """Return the version string that WLST publishes as the global 'version'."""
    return str(_namespace.get("version", "unknown"))


def _describe(command, args):
    shown = []
    for index, arg in enumerate(args):
        if command == "set" and index == 1 and SECRET_ATTRIBUTE.search(str(args[0])):
            shown.append(repr(MASK))
        else:
            shown.append(repr(_plain(arg)))
    return "%s(%s)" % (command, ", ".join(shown))


def _plain(value):
    if hasattr(value, "getName"):
        return str(value.getName())
    if isinstance(value, basestring):  # noqa: F821 - Jython 2.7
        return str(value)
    return value


def _call(command, *args):
    function = _namespace.get(command)
    if function is None:
        raise WlstError("WLST is not bound; call wlst_api.bind() first")
    try:
        return function(*args)
    except _wlst_exception as error:
        raise WlstError("%s failed: %s" % (_describe(command, args), error))
    except WlstError:
        raise
    except Exception as error:
        # Real WLST raises some failures as Java exceptions that are not WLSTException.
        raise WlstError("%s failed: %s: %s" % (_describe(command, args), error.__class__.__name__, error))


# --- sessions --------------------------------------------------------------------


def select_templates(names):
    for name in names:
        _call("selectTemplate", name)
    global _open_session
    _open_session = "template"
    _call("loadTemplates")


def read_domain(domain_home):
    global _open_session
    _call("readDomain", domain_home)
    _open_session = "domain"


def write_domain(domain_home):
    _call("writeDomain", domain_home)


def update_domain():
    _call("updateDomain")


def close_session():
    """Close the open template or domain; raise WlstError if closing fails."""
    global _open_session
    session, _open_session = _open_session, None
    if session == "template":
        _call("closeTemplate")
    elif session == "domain":
        _call("closeDomain")


def release_session():
    """Close whatever session is open after a failure, logging instead of raising."""
    try:
        close_session()
    except WlstError as error:
        LOG.error("could not close the WLST session after a failure: %s", error)


def set_option(name, value):
    _call("setOption", name, value)


def get_database_defaults():
    _call("getDatabaseDefaults")


# --- tree ------------------------------------------------------------------------


def cd(path):
    return _call("cd", path)


def exists(path):
    """Return True when path names an MBean or folder. Under real WLST a miss also prints WLST's error."""
    try:
        _call("cd", path)
    except WlstError:
        return False
    return True


def children(path):
    """Return the names of the MBeans in the folder at path ([] when the folder is empty)."""
    names = _call("ls", path, "true")
    if names is None:
        return []
    return sorted([str(name) for name in names])


def create(parent_path, name, mbean_type):
    _call("cd", parent_path)
    return _call("create", name, mbean_type)


def delete(parent_path, name, mbean_type):
    _call("cd", parent_path)
    _call("delete", name, mbean_type)


def get(path, attribute):
    _call("cd", path)
    return _call("get", attribute)


def set(path, attribute, value):  # noqa: A001 - mirrors the WLST command name
    _call("cd", path)
    _call("set", attribute, value)


def assign(source_type, source_name, destination_type, destination_name):
    _call("assign", source_type, source_name, destination_type, destination_name)
