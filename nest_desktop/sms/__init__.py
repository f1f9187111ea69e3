"""Sending SMS: the transports (provider APIs, GSM modem). The outbox is `services.sms`."""
