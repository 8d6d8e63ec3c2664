"""The population register: households, residents, care tags and visit logs (电子走访日志)."""
