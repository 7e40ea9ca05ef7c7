"""Self-contained HTML maps (vendored Leaflet, no network) and a headless-browser checker."""
