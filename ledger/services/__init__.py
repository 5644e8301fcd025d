"""The fund's events, one module per capability, each booked through the posting engine."""
