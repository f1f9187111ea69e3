"""The clinic's rules in pure Python: no Qt, no database, nothing else of ours."""
