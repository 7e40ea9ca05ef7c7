"""The stored city: the tag catalogue, readers of OSM/vector/ledger files, ingest, and the H3 grid with its index."""
