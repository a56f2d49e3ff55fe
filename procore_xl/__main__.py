"""`python -m procore_xl` is the `procore-xl` command."""
import sys

from .cli import main

sys.exit(main())
