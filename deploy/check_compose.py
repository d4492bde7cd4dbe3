"""Checks deploy/compose.yaml without docker compose (not on CI's machine):
YAML that parses (anchors and merge keys resolved), every reference resolves,
and it brings up PostgreSQL, the simulator and two `enrol serve` processes."""
import os
import sys

import yaml

path = sys.argv[1]
base = os.path.dirname(os.path.abspath(path))
with open(path) as f:
    doc = yaml.safe_load(f)

errors = []
services = doc.get("services", {})
secrets = doc.get("secrets", {})
configs = doc.get("configs", {})
for required in ("db", "registries"):
    if required not in services:
        errors.append(f"no `{required}` service")
serving = [n for n, s in services.items() if s.get("command", [])[:1] == ["serve"]]
if len(serving) != 2:
    errors.append(f"expected two `enrol serve` services, found {serving}")
ports = []
for name, service in services.items():
    build = service.get("build")
    if build:
        dockerfile = os.path.join(base, build["context"], build["dockerfile"])
        if not os.path.isfile(dockerfile):
            errors.append(f"{name}: no Dockerfile at {dockerfile}")
    if "image" not in service and not build:
        errors.append(f"{name}: neither image nor build")
    for dep in service.get("depends_on", {}):
        if dep not in services:
            errors.append(f"{name}: depends on unknown service {dep}")
    for secret in service.get("secrets", []):
        key = secret if isinstance(secret, str) else secret["source"]
        if key not in secrets:
            errors.append(f"{name}: undeclared secret {key}")
    for config in service.get("configs", []):
        if config["source"] not in configs:
            errors.append(f"{name}: undeclared config {config['source']}")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            if not os.path.exists(os.path.join(base, source)):
                errors.append(f"{name}: no {source}")
        elif source not in doc.get("volumes", {}):
            errors.append(f"{name}: undeclared volume {source}")
    ports += [p.rsplit(":", 1)[0] for p in service.get("ports", [])]
for name, config in configs.items():
    if not os.path.isfile(os.path.join(base, config["file"])):
        errors.append(f"config {name}: no file {config['file']}")
if len(ports) != len(set(ports)):
    errors.append(f"a host port is published twice: {ports}")
if errors:
    print("\n".join(f"{path}: {e}" for e in errors))
    sys.exit(1)
print(f"{path}: {len(services)} services ({', '.join(services)}) check out")
