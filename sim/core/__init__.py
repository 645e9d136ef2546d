"""Foundation: errors, exit codes, signals, strict YAML, the bundled data files. Imports nothing from sim."""
