"""The grid (网中有格) and its people (格中定人): versions, cells and duties."""
