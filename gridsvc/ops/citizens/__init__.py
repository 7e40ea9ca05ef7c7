"""Citizens' reports: 随手拍 with photos, and Open311 GeoReport v2 service requests."""
