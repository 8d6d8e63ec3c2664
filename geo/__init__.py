"""Framework-free geometry for Wangge: datums, grid import and validation, locate, export, diff.

Nothing here imports Flask or touches a database; the server calls these functions with
plain values (bytes, floats, shapely geometries) and gets plain values back.
"""
