"""Medborgardialoger: citizen dialogues held by the police and the municipality."""
