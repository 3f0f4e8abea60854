"""complaints service: GB/T 19012 handling from receipt to closure, comment
cards, the handlers' list and the period's figures (9.1.1, 9.4)."""
