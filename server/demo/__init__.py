"""Demo district of Xinhua subdistrict (新华路街道)."""
