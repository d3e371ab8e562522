#!/bin/sh
# Writes the secret files docker-compose.yml mounts, once, with fresh random
# passwords: ./secrets/ (or the folder given as $1). Existing files are kept, so a
# second run changes nothing; delete a file (and reset that server's data volume) to
# rotate it. Each URL is built from the same password file it belongs with.
#
#   deploy/compose/init-secrets.sh [FOLDER]
set -eu

dir=${1:-secrets}
umask 077
mkdir -p "$dir"
# Containers run as other users than the one running compose: the files must be
# readable by them, the folder by nobody else on the host.
chmod 700 "$dir"

# 32 random bytes, hex: URL-safe, so it can sit inside redis:// and mongodb:// URLs.
password() {
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

keep_or_write() {  # FILE CONTENT
  if [ ! -s "$dir/$1" ]; then
    printf '%s' "$2" > "$dir/$1"
  fi
  chmod 644 "$dir/$1"
}

for name in redis_password mongo_root_password mongo_storage_password \
            mongo_gateway_password grafana_admin_password; do
  keep_or_write "$name" "$(password)"
done

keep_or_write redis_url "redis://:$(cat "$dir/redis_password")@redis:6379/0"
for user in storage gateway; do
  keep_or_write "${user}_mongodb_url" \
    "mongodb://newsflow_${user}:$(cat "$dir/mongo_${user}_password")@mongo:27017/?authSource=admin"
done
echo "init-secrets: $dir/ holds $(ls "$dir" | wc -l | tr -d ' ') secret files"
