"""Uppföljning: the citizens' promise, its commitments, activities and yearly progress."""
