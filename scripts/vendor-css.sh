#!/usr/bin/env bash
# Refresh the vendored NL Design System CSS and the font in static/vendor/ from the npm registry.
# Only a maintainer runs this (it needs npm); the app, CI and scripts/run.sh use the committed files.
#
#   bash scripts/vendor-css.sh          # then check the pages, update static/vendor/README.md, commit
#
# Change a version below to move to another release.
set -euo pipefail
cd "$(dirname "$0")/.."

UTRECHT_CSS="@utrecht/component-library-css@9.0.4"
THEME="@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1"
FONT="@fontsource/fira-sans@5.3.0"

out=static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack <package@version> <dir>: the published tarball only, no dependencies, no scripts
  mkdir -p "$work/$2"
  (cd "$work" && npm pack --silent "$1" >"$2.name")
  tar -xzf "$work/$(cat "$work/$2.name")" -C "$work/$2" --strip-components=1
}

unpack "$UTRECHT_CSS" utrecht
unpack "$THEME" theme
unpack "$FONT" font

rm -rf "$out/utrecht-component-library-css" "$out/voorbeeld-design-tokens" "$out/fira-sans"
mkdir -p "$out/utrecht-component-library-css" "$out/voorbeeld-design-tokens" "$out/fira-sans/files"

# The whole component library (every utrecht-* class), its styles for plain HTML inside .utrecht-html
# (headings, paragraphs, tables and buttons that carry no class of their own), and its licence.
cp "$work/utrecht/dist/index.css" "$out/utrecht-component-library-css/index.css"
cp "$work/utrecht/dist/html.css" "$out/utrecht-component-library-css/html.css"
cp "$work/utrecht/LICENSE.md" "$out/utrecht-component-library-css/LICENSE.md"

# The example theme's tokens (class .voorbeeld-theme on <html>) and its licence.
cp "$work/theme/dist/theme.css" "$out/voorbeeld-design-tokens/theme.css"
cp "$work/theme/LICENSE.md" "$out/voorbeeld-design-tokens/LICENSE.md"

# Fira Sans: Latin and Latin Extended (Dutch, and names like Ç, Ł, Ş), regular, italic and bold, woff2
# only (every browser the service supports reads it).
cp "$work/font/LICENSE" "$out/fira-sans/LICENSE"
: >"$out/fira-sans/fira-sans.css"
for weight in 400 400-italic 700; do
  # Each weight's file lists one @font-face per subset, with its unicode-range; keep the two Latin ones.
  awk '/^\/\* fira-sans-latin(-ext)?-/ {keep=1} keep {print} /^}/ {keep=0}' "$work/font/$weight.css" |
    sed -E "s#, url\(\./files/[^)]*\.woff\) format\('woff'\)##" >>"$out/fira-sans/fira-sans.css"
done
grep -o 'fira-sans-[a-z0-9-]*\.woff2' "$out/fira-sans/fira-sans.css" | while read -r file; do
  cp "$work/font/files/$file" "$out/fira-sans/files/$file"
done

echo "Vendored into $out:"
echo "  $UTRECHT_CSS ($(node -p "require('$work/utrecht/package.json').license"))"
echo "  $THEME ($(node -p "require('$work/theme/package.json').license"))"
echo "  $FONT ($(node -p "require('$work/font/package.json').license"))"
echo "Update the versions in static/vendor/README.md when they changed."
