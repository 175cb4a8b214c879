"""Maps agents/, verifiers/ and leaderboards/ under the `arenas` namespace (never top-level imports)."""

from setuptools import find_packages, setup

MAPPED = {"arenas.agents": "agents", "arenas.verifiers": "verifiers", "arenas.leaderboards": "leaderboards"}

packages = find_packages(include=["arenas", "arenas.*"])
for name, folder in MAPPED.items():
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(where=folder)]

setup(
    packages=packages,
    package_dir={"arenas": "arenas", **MAPPED},
    package_data={"": ["*.json", "*.json.gz", "*.txt", "*.sql", "*.csv", "*.md", "*.yaml", "*.sh",
                      "workloads/*", "teams/*", "server/package*.json", "server/*.js"]},
    include_package_data=True,
)
