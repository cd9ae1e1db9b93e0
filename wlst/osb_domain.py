"""Create or update the Oracle Service Bus 12.2.1.3 domain described by a domain spec (JSON).

Usage:
  wlst.sh osb_domain.py --spec /path/domain-spec.json [--asg-max N] [--check-only]
  jython osb_domain.py --spec /path/domain-spec.json --wlst-standin

--wlst-standin (or OSB_WLST_STANDIN=1 in the environment) runs the offline
commands against the in-memory stand-in in standin/ instead of Oracle's WLST.
The RCU service table password is read from the environment variable
OSB_RCU_PASSWORD, and only when the domain does not exist yet.

Exit status: 0 success, 1 a WLST command or the build failed, 2 the spec or
the arguments are invalid (no WLST command was run).
"""

import os
import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID_INPUT = 2


def _script_dir():
    # wlst.sh does not always set __file__; sys.argv[0] is the script path in both runners.
    return os.path.dirname(os.path.abspath(sys.argv[0]))


def _parse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="osb_domain.py", description="Create or update the OSB domain.")
    parser.add_argument("--spec", required=True, help="path of the domain spec JSON file")
    parser.add_argument("--asg-max", type=int, default=None,
                        help="MaxSize of the managed servers' Auto Scaling group; the dynamic cluster size "
                             "must be at least this")
    parser.add_argument("--wlst-standin", action="store_true",
                        help="use the in-memory WLST stand-in instead of Oracle's WLST (also OSB_WLST_STANDIN=1)")
    parser.add_argument("--check-only", action="store_true", help="check the spec and exit without WLST")
    return parser.parse_args(argv)


def run(argv, wlst_globals):
    """Run the build; return the exit status. wlst_globals is the namespace of the script under wlst.sh."""
    sys.path.insert(0, _script_dir())
    import json
    import logging

    from osbwlst import domain
    from osbwlst import logsetup
    from osbwlst import spec_rules
    from osbwlst import wlst_api

    logsetup.configure()
    log = logging.getLogger("osb_domain")
    try:
        args = _parse_args(argv)
    except SystemExit as error:
        return error.code and EXIT_INVALID_INPUT or EXIT_OK

    try:
        handle = open(args.spec)
        try:
            spec = json.load(handle)
        finally:
            handle.close()
    except (IOError, ValueError) as error:
        log.error("cannot read domain spec %s: %s", args.spec, error)
        return EXIT_INVALID_INPUT

    problems = spec_rules.check_spec(spec, args.asg_max)
    if problems:
        for pointer, message in problems:
            log.error("invalid domain spec %s: %s: %s", args.spec, pointer, message)
        log.error("%d problem(s) in %s; no WLST command was run", len(problems), args.spec)
        return EXIT_INVALID_INPUT
    if args.check_only:
        log.info("domain spec %s is valid", args.spec)
        return EXIT_OK

    use_standin = args.wlst_standin or os.environ.get("OSB_WLST_STANDIN") == "1"
    if use_standin:
        from standin import BANNER
        from standin import session

        print(BANNER)
        namespace = session.namespace()
    else:
        namespace = wlst_globals
    try:
        wlst_api.bind(namespace)
    except wlst_api.WlstError as error:
        log.error("%s", error)
        return EXIT_INVALID_INPUT

    versions = spec.get("versions", {})
    log.info("versions: WLST %s; Jython %s; spec expects WebLogic %s, OSB %s",
             wlst_api.version(), sys.version.split()[0], versions.get("weblogic", "?"), versions.get("osb", "?"))
    try:
        changes = domain.build_domain(spec, register_secret=logsetup.register_secret)
    except (wlst_api.WlstError, domain.BuildError) as error:
        log.error("domain build failed: %s", error)
        return EXIT_FAILED
    except Exception as error:
        log.exception("domain build failed with an unexpected error: %s", error)
        return EXIT_FAILED
    log.info("domain %s is up to date: %d change(s)", spec["domain"]["home"], len(changes))
    return EXIT_OK


def _exit(status, wlst_globals):
    # Under wlst.sh, WLST's own exit() shuts WLST down cleanly and sets the process status.
    wlst_exit = wlst_globals.get("exit")
    if wlst_globals.get("readDomain") is not None and callable(wlst_exit) and not _standin_selected():
        wlst_exit(exitcode=status)
    sys.exit(status)


def _standin_selected():
    return "--wlst-standin" in sys.argv or os.environ.get("OSB_WLST_STANDIN") == "1"


if __name__ in ("__main__", "main"):
    _exit(run(sys.argv[1:], globals()), globals())
