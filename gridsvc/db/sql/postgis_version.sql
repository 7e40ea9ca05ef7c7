SELECT postgis_lib_version()
