"""Pregnancies: the calendar tab of the file and the list of pregnancies."""
