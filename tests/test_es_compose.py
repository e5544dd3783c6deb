"""docker-compose.yml, Dockerfile and .dockerignore, checked as data (Docker cannot run here).

These tests prove the files' structure and the version pairing, not that the stack starts.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text("utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
APPS = ("ichlinks-scheduler", "ichlinks-web")


def test_the_four_services_exist():
    assert set(SERVICES) == {"elasticsearch", "postgres", *APPS}


def test_elasticsearch_image_major_matches_the_installed_client():
    image = SERVICES["elasticsearch"]["image"]
    m = re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:(\d+)\.(\d+)\.(\d+)", image)
    assert m, f"official image with a full version tag expected, got {image}"
    assert int(m.group(1)) == int(version("elasticsearch").split(".")[0])


def test_elasticsearch_is_a_single_node_with_documented_security():
    env = SERVICES["elasticsearch"]["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] in ("false", "true")
    assert "ports" not in SERVICES["elasticsearch"], "an unsecured cluster must not be published"
    # the comment says how to turn security on and pass the API key
    assert re.search(r"#.*xpack\.security\.enabled.*true", COMPOSE_TEXT)
    assert re.search(r"#.*ES_API_KEY", COMPOSE_TEXT)


def test_postgres_is_version_16():
    assert SERVICES["postgres"]["image"].split(":")[1].split(".")[0] == "16"


@pytest.mark.parametrize(("service", "needle"), [
    ("elasticsearch", "_cluster/health"),
    ("postgres", "pg_isready"),
    ("ichlinks-web", "/healthz"),
    ("ichlinks-scheduler", "ichlinks"),
])
def test_every_service_has_a_healthcheck(service, needle):
    check = SERVICES[service]["healthcheck"]
    assert needle in " ".join(check["test"])
    assert check["interval"] and check["retries"] >= 1


def test_app_services_run_the_ichlinks_commands_from_the_project_image():
    assert SERVICES["ichlinks-scheduler"]["command"] == ["ichlinks", "schedule"]
    assert SERVICES["ichlinks-web"]["command"] == ["ichlinks", "serve", "--host", "0.0.0.0",
                                                  "--port", "8000"]
    assert "8000:8000" in SERVICES["ichlinks-web"]["ports"]
    for name in APPS:
        service = SERVICES[name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["ICHLINKS_STORE"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["ICHLINKS_STORE"]
        assert env["ICHLINKS_ES_URL"] == "http://elasticsearch:9200"
        assert "./config:/app/config:ro" in service["volumes"]
        assert env["ICHLINKS_CONFIG"].startswith("/app/config/")
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                         "elasticsearch": {"condition": "service_healthy"}}


def test_named_volumes_are_declared():
    used = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", [])
            if not v.startswith((".", "/"))}
    assert used and used <= set(COMPOSE["volumes"])


def test_dockerfile_installs_the_project_on_python_311_slim():
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^RUN pip install \.", text, re.MULTILINE)
    assert re.search(r"^USER (?!root)", text, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".git", ".venv", "var", ".env"} <= set(ignored)
