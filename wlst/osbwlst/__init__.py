"""Logic of the OSB domain build, written for Jython 2.7 (WLST) and importable without WebLogic."""
