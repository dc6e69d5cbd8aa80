"""``python -m nbbackprop``: the ``nbbackprop`` command."""

import sys

from .cli import main

sys.exit(main())
