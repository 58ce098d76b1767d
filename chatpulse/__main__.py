"""``python -m chatpulse`` runs the CLI."""

from chatpulse.cli import main

main()
