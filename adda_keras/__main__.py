"""``python -m adda_keras``: see :mod:`adda_keras.cli`."""

import sys

from adda_keras.cli import main

sys.exit(main())
