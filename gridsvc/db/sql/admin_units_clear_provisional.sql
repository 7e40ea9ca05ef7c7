DELETE FROM admin_units WHERE provisional
