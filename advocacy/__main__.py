"""``python -m advocacy`` is the ``advocacy`` command."""

from advocacy.cli import main

main()
