"""Orosanmälan: a concern report about a child or adult to socialtjänsten."""
