"""Suggestions: which open problem a new ticket is alike to, and which unlinked tickets share a
cause no problem covers yet. `engine.py` ranks problems, `emerging.py` groups alike tickets;
both are pure numpy over vectors from the text model (`connector.textmodel`)."""
