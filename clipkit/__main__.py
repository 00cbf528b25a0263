"""`python -m clipkit`."""

from .cli import main

main()
