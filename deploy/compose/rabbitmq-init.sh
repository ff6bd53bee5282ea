#!/bin/sh
# One-shot: loads the RabbitMQ definitions into the demo's three nodes and sets
# the passwords of the users they create (definitions carry no passwords).
set -eu
api() { # node method path [json]
  curl -fsS -u "admin:${RABBITMQ_ADMIN_PASSWORD}" -X "$2" -H 'content-type: application/json' \
    "http://$1:15672$3" ${4:+-d "$4"} >/dev/null
}
password() { api "$1" PUT "/api/users/$2" "{\"password\":\"$3\",\"tags\":\"$4\"}"; }

api rabbitmq-central POST /api/definitions "$(cat /definitions/central.definitions.json)"
password rabbitmq-central correlator "$CORRELATOR_AMQP_PASSWORD" ""
password rabbitmq-central site-site-a "$SITE_A_CENTRAL_PASSWORD" ""
password rabbitmq-central site-site-b "$SITE_B_CENTRAL_PASSWORD" ""
for site in a b; do
  api "rabbitmq-site-$site" POST /api/definitions "$(cat /definitions/site.definitions.json)"
done
password rabbitmq-site-a relay "$SITE_A_BROKER_PASSWORD" "policymaker,monitoring"
password rabbitmq-site-b relay "$SITE_B_BROKER_PASSWORD" "policymaker,monitoring"
echo "rabbitmq-init: definitions loaded, passwords set"
