"""SMX-Validator workstation tools: the CLI, the offline engine and the SAR packaging helper."""
