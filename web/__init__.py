"""The web site and the influence API: server-rendered pages and JSON over the serving snapshot.

Reads only the published snapshot (`web.snapshot`), never the live warehouse, so a run never
blocks the site and the site never blocks a run.
"""
