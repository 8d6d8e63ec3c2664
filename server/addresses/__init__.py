"""The standard-address layer (标准地址): doors with a point, matched to building groups."""
