#!/bin/sh
# berth's main job in a throwaway BERTH_HOME: register three projects, find
# the port they fight over, fix it, check again. No root, no Docker needed.
# Usage: scripts/demo.sh BINDIR   (make demo builds and passes target/release)
set -eu
bindir=$(cd "${1:-target/release}" && pwd)
export PATH="$bindir:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
cd "$work"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; sh -c "$*" || echo "(exit status $?)"; }

mkdir shop blog api
cat > shop/compose.yaml <<'YAML'
services:
  web:
    image: nginx
    ports: ["${WEB_PORT:-8080}:80"]
  db:
    image: postgres:16
    ports: ["5432:5432"]
YAML
echo "WEB_PORT=8081" > shop/.env
cat > blog/docker-compose.yml <<'YAML'
services:
  wordpress:
    image: wordpress
  db:
    image: mariadb:11
    ports: ["0.0.0.0:5432:3306"]
YAML
cat > api/compose.yaml <<'YAML'
services:
  app:
    image: python:3.12
  db:
    image: postgres:16
    ports: ["127.0.0.1:5432:5432"]
YAML

echo "berth demo in $work (BERTH_HOME=$BERTH_HOME)"
run "registry add shop && registry add blog && registry add api"
run "registry list"
run "registry list --json | ports check"
say "# blog moves its database to another port"
sed -i 's/0.0.0.0:5432:3306/127.0.0.1:3306:3306/' blog/docker-compose.yml
run "registry update blog --yes"
run "registry list --json | ports check"
say "# api still collides with shop: 0.0.0.0 covers 127.0.0.1"
run "registry remove api --yes"
run "registry list --json | ports check"
run "ports usage"
run "ports alloc --count 2"
run "registry show shop --json | jq -c '{name, domain, port, exposed_ports}' 2>/dev/null || registry show shop"
