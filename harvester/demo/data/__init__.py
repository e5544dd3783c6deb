"""Demo partner data: one YAML file per partner institution (read by ``harvester.demo.partners``)."""
