"""The operations rules as data (geodata/ops/*.toml): reading and validating the files, and the pure rules they hold."""
