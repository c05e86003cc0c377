#!/usr/bin/env bash
# Vendor the third-party JavaScript that the book's pages serve themselves (no CDN at run time).
#
# Today that is MathJax 3, from the npm package `mathjax` pinned (with its integrity hash) in
# package-lock.json. `npm ci` installs it into node_modules/ (skipped when the installed version
# already matches the lock file, so an offline rebuild works), and the parts a page can load are
# copied to _build/vendor/mathjax/, which _config.yml lists in html_static_path: the build copies
# it to _build/html/_static/mathjax/.
#
# Copied: the combined component the pages load (tex-mml-chtml.js) and everything it loads on
# demand, all from the same folder: TeX extensions (input/), the CHTML fonts (output/), the
# context menu (ui/), the accessibility components and the speech rule engine's maps (a11y/, sre/).
# Not copied: the other combined components (SVG output, MathML-only, node), which no page loads.
#
# Needs Node.js and npm (the npm registry, the first time only). Needs no standard input.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-js: npm not found; the book needs Node.js and npm to vendor MathJax" >&2
    echo "vendor-js: (Debian/Ubuntu: apt-get install nodejs npm)" >&2
    exit 1
fi

want="$(node -p "require('./package-lock.json').packages['node_modules/mathjax'].version")"
have="$(node -p "try { require('./node_modules/mathjax/package.json').version } catch (e) { '' }")"
if [[ "$want" != "$have" ]]; then
    echo "vendor-js: npm ci (mathjax $want)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

SRC="$ROOT/node_modules/mathjax"
DEST="$ROOT/_build/vendor/mathjax"
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$SRC/es5/tex-mml-chtml.js" "$DEST/"
cp -r "$SRC/es5/input" "$SRC/es5/output" "$SRC/es5/ui" "$SRC/es5/a11y" "$SRC/es5/sre" "$DEST/"
cp "$SRC/LICENSE" "$DEST/LICENSE"
echo "vendor-js: MathJax $want in ${DEST#"$ROOT"/}"
