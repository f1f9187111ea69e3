"""What every feature of the window shares: the desk's context, lazy table models,
background work, widgets, the PDF preview and the dialogs two features open."""
