"""PySide6 windows: they show and ask; the services do the work."""
