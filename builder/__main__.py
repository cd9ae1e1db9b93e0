"""Allow ``python -m builder`` as well as the ``osb-image`` console script."""

from builder.cli import main

main()
