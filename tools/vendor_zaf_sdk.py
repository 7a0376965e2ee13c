"""Build the browser file of the ZAF SDK from its npm package, for `connector/web/static/zaf/`.

The npm package `zendesk_app_framework_sdk` ships CommonJS sources (`lib/*.js`) and no built
file; Zendesk's own build (browserify) only wraps those modules in a `require` table. This does
the same with no bundler: each module becomes a function in a table, `window.ZAFClient` is the
entry module's export. Run it after `npm pack zendesk_app_framework_sdk@VERSION` and unpacking:

    python tools/vendor_zaf_sdk.py /tmp/zafsdk/package connector/web/static/zaf
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

MODULES = ("index", "client", "utils", "vendor/native-promise-only")


def bundle(package: Path) -> str:
    version = json.loads((package / "package.json").read_text())["version"]
    parts = [
        f"/* zendesk_app_framework_sdk {version} (npm), Apache-2.0, see LICENSE beside this file.",
        "   Built by tools/vendor_zaf_sdk.py: the package's CommonJS modules, unchanged, in a",
        "   require table. */",
        "(function () {",
        "  var defs = {}, cache = {};",
        "  function load(name) {",
        "    if (cache[name]) { return cache[name].exports; }",
        "    var module = (cache[name] = { exports: {} });",
        "    defs[name](module, module.exports, function (path) {",
        "      return load(path.replace(/^\\.\\//, ''));",
        "    });",
        "    return module.exports;",
        "  }",
    ]
    for name in MODULES:
        source = (package / "lib" / f"{name}.js").read_text()
        parts.append(f"  defs[{json.dumps(name)}] = function (module, exports, require) {{")
        parts.append(source)
        parts.append("  };")
    parts.append("  window.ZAFClient = load('index');")
    parts.append("})();")
    return "\n".join(parts) + "\n"


def main(package: str, target: str) -> None:
    src, out = Path(package), Path(target)
    out.mkdir(parents=True, exist_ok=True)
    version = json.loads((src / "package.json").read_text())["version"]
    (out / f"zaf_sdk-{version}.js").write_text(bundle(src))
    shutil.copy(src / "LICENSE", out / "LICENSE")


if __name__ == "__main__":
    main(*sys.argv[1:3])
