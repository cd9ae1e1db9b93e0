"""WLST offline stand-in: an in-memory MBean tree that emulates the subset of
Oracle's offline WLST commands that osb_domain.py uses.

It is a test double for local runs and CI, not WebLogic: it creates no
WebLogic domain, only config/config.xml and a state file that readDomain
reads back. See mbean_types.py for the MBean types and attributes it accepts.
"""

BANNER = ("WLST STAND-IN: emulating Oracle's wlst.sh offline commands in memory; "
          "this is not WebLogic and creates no runnable domain")
