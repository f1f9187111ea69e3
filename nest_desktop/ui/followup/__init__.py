"""Today's follow-ups, the guided outbound call and the satisfaction surveys."""
