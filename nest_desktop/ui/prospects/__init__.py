"""Prospects: the list, a prospect's file, the lead import and the report."""
