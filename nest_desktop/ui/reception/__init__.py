"""Answering the phone: the call window, the register and messages, the agenda."""
