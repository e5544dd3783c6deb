"""Bundled crosswalk definitions (one YAML file each); see mappings.catalogue."""
