"""`connector demo`: the whole loop on the embedded defaults, narrated."""
