"""Settings, the desk's accounts and sites, this workstation's database."""
