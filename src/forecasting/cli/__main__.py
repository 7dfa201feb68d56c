"""``python -m forecasting.cli``: the ``forecasting`` command."""

import sys

from forecasting.cli import main

sys.exit(main())
