"""Demo district of Xinhua subdistrict: real OSM boundary and roads, invented cells and people."""
