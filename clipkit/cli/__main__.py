"""`python -m clipkit.cli`."""

from .base import main

main()
