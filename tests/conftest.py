pytest_plugins = ["oai_fixtures", "store_fixtures"]
