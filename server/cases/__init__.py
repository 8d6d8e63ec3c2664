"""Cases (matters to handle), their timelines and photos: 一口受理、协同处置."""
