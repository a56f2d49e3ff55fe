"""`python -m procore_xl.cli` is the `procore-xl` command too (as when the CLI was one module)."""
import sys

from . import main

sys.exit(main())
