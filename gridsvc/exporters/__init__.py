"""Exports for field teams, each for one scope (a grid, a community, a street or a bounding box; scope.py).

Layer files in WGS84 (layers: GeoJSON, GeoPackage, Shapefile, KML); the self-contained offline map (offline_map,
with map_data's compact layer encoding and generalize's per-zoom simplification); the walk-through pack (pack:
walk_order, checklist_pdf, the boards and the layers, with a manifest); and the 责任牌 boards (unit_boards reads
the units, board_pdf draws them; pdf_fonts embeds Noto CJK). The CLI (`gridsvc export …`) and the API
(`/exports/…`) both call these.
"""
