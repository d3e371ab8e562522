#!/bin/sh
# Writes the secret files docker-compose.yml mounts, once, with fresh random
# passwords: ./secrets/ (or the folder given as $1). Existing files are kept, so a
# second run changes nothing; delete a file (and reset that server's data volume) to
# rotate it. Each URL is built from the same password file it belongs with.
#
# Redis: one password per user of `newsflow acl` (redis_<user>_password), the
# users.acl file redis-server loads (redis_users_acl) and one URL per service with
# its own user (<service>_redis_url). The ACL file is users.acl.template, beside
# this script, with each #@USER@ replaced by the SHA-256 of that user's password:
# the template is `newsflow acl --format template` (tests/unit/test_compose.py fails
# when it differs), so the hosts running compose need no Python environment. The ACL
# file is rewritten on every run, from the kept passwords: after an upgrade, run the
# script again and restart redis to load new rules.
#
#   deploy/compose/init-secrets.sh [FOLDER]
set -eu

dir=${1:-secrets}
template="$(dirname "$0")/users.acl.template"
umask 077
mkdir -p "$dir"
# Containers run as other users than the one running compose: the files must be
# readable by them, the folder by nobody else on the host.
chmod 700 "$dir"

# 32 random bytes, hex: URL-safe, so it can sit inside redis:// and mongodb:// URLs.
password() {
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# The hex SHA-256 of standard input (coreutils, or the BSD/macOS tool).
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d' ' -f1
}

keep_or_write() {  # FILE CONTENT
  if [ ! -s "$dir/$1" ]; then
    printf '%s' "$2" > "$dir/$1"
  fi
  chmod 644 "$dir/$1"
}

for name in mongo_root_password mongo_storage_password \
            mongo_gateway_password grafana_admin_password; do
  keep_or_write "$name" "$(password)"
done

redis_users=$(sed -n 's/^user \([a-z]*\) on .*/\1/p' "$template")
acl=$(cat "$template")
for user in $redis_users; do
  keep_or_write "redis_${user}_password" "$(password)"
  digest=$(printf '%s' "$(cat "$dir/redis_${user}_password")" | sha256)
  acl=$(printf '%s\n' "$acl" | sed "s/ #@${user}@ / #${digest} /")
done
if printf '%s\n' "$acl" | grep -q ' #@'; then
  echo "init-secrets: a user of $template got no password" >&2
  exit 1
fi
printf '%s\n' "$acl" > "$dir/redis_users_acl.new"
chmod 644 "$dir/redis_users_acl.new"
mv "$dir/redis_users_acl.new" "$dir/redis_users_acl"

for service in ingest enrichment storage gateway; do
  keep_or_write "${service}_redis_url" \
    "redis://${service}:$(cat "$dir/redis_${service}_password")@redis:6379/0"
done
for user in storage gateway; do
  keep_or_write "${user}_mongodb_url" \
    "mongodb://newsflow_${user}:$(cat "$dir/mongo_${user}_password")@mongo:27017/?authSource=admin"
done
echo "init-secrets: $dir/ holds $(ls "$dir" | wc -l | tr -d ' ') secret files;" \
  "publishers writing to Redis directly use the user publisher, password in $dir/redis_publisher_password"
