"""``python -m lightship.cli`` (what torchrun and Lightning's DDP launcher run)."""

import sys

from lightship.cli import main

sys.exit(main())
