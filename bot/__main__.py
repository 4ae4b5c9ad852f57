"""`python -m bot` runs the `nkru` command."""

from bot.cli import main

main()
