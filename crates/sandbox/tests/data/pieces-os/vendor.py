"""Vendors the conversation paths of PiecesOS's own OpenAPI spec, with every schema and parameter
they reference, into one self-contained document: `conversations.openapi.json`.

Source: github.com/pieces-app/pieces-os-client-openapi-spec at COMMIT (its newest commit),
files `spec/modules/core/isomorphic.openapi.yaml` (paths) and
`spec/common/runtime_common_library.yaml` (schemas, parameters). Nothing is edited except that
cross-file `$ref`s become local ones (`../../common/runtime_common_library.yaml#/components/schemas/X/`
-> `#/components/schemas/X`). Run: python3 vendor.py <checkout of that repository>.
"""
import json
import re
import subprocess
import sys

import yaml

REPO = "pieces-app/pieces-os-client-openapi-spec"
COMMIT = "6cd453d708ca87df2a547c2817535ef9108d82d3"
PATHS_FILE = "spec/modules/core/isomorphic.openapi.yaml"
LIBRARY_FILE = "spec/common/runtime_common_library.yaml"
# Every path the sandbox serves for Pieces: the Conversations tag's paths it implements, the one
# Conversation read the SDK's WebSocket wrapper uses, and the health probe of port discovery.
PATHS = [
    "/.well-known/health",
    "/conversation/{conversation}",
    "/conversations",
    "/conversations/create",
    "/conversations/create/from_asset/{asset}",
    "/conversations/identifiers",
    "/conversations/stream/identifiers",
    "/conversations/{conversation}/delete",
]
REF = re.compile(r"^(?:\.\./\.\./common/runtime_common_library\.yaml)?#/components/(schemas|parameters)/([^/]+)/?$")


def show(checkout, path):
    return yaml.safe_load(subprocess.check_output(["git", "-C", checkout, "show", f"{COMMIT}:{path}"]))


def main(checkout):
    paths_doc, library = show(checkout, PATHS_FILE), show(checkout, LIBRARY_FILE)
    wanted, queue = {"schemas": set(), "parameters": set()}, []

    def localise(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    match = REF.match(value)
                    if not match:
                        raise SystemExit(f"unexpected $ref {value}")
                    kind, name = match.groups()
                    if name not in wanted[kind]:
                        wanted[kind].add(name)
                        queue.append((kind, name))
                    out[key] = f"#/components/{kind}/{name}"
                else:
                    out[key] = localise(value)
            return out
        if isinstance(node, list):
            return [localise(v) for v in node]
        return node

    paths = {p: localise(paths_doc["paths"][p]) for p in PATHS}
    components = {"schemas": {}, "parameters": {}}
    while queue:
        kind, name = queue.pop()
        components[kind][name] = localise(library["components"][kind][name])
    doc = {
        "openapi": paths_doc["openapi"],
        "info": {
            **paths_doc["info"],
            "x-vendored-from": {"repository": REPO, "commit": COMMIT, "files": [PATHS_FILE, LIBRARY_FILE]},
        },
        "servers": [{"url": "http://localhost:39300"}],
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in components.items()},
    }
    with open("conversations.openapi.json", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"{len(paths)} paths, {len(components['schemas'])} schemas, {len(components['parameters'])} parameters")


if __name__ == "__main__":
    main(sys.argv[1])
