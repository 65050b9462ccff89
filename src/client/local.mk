# The command-line client (see docs/CLI.md). Empty until it lands.
