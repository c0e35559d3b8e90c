# Airflow with the dataflow CLI installed, for docker-compose.yml.
#
#   docker compose build airflow
#
# The repo is built inside the image (npm ci && npm run build) and `dataflow` is put on PATH,
# so the DAG's BashOperators call `dataflow ... --date {{ ds }}` directly.
ARG AIRFLOW_IMAGE=apache/airflow:3.1.3-python3.12
FROM ${AIRFLOW_IMAGE}

USER root
# Node.js 20 (the CLI's engine) from NodeSource's signed apt repository.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && mkdir -p /etc/apt/keyrings \
 && curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
    | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg \
 && echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" \
    > /etc/apt/sources.list.d/nodesource.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends nodejs \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/dataflow
# Manifests first so the dependency layer is cached across source edits.
COPY package.json package-lock.json ./
COPY packages/pg/package.json packages/pg/
COPY packages/ingest/package.json packages/ingest/
COPY packages/warehouse/package.json packages/warehouse/
COPY packages/quality/package.json packages/quality/
COPY packages/modeling/package.json packages/modeling/
COPY packages/runlog/package.json packages/runlog/
COPY packages/lineage/package.json packages/lineage/
COPY packages/testkit/package.json packages/testkit/
COPY apps/cli/package.json apps/cli/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && printf '#!/bin/sh\nexec node /opt/dataflow/apps/cli/dist/bin.js "$@"\n' > /usr/local/bin/dataflow \
 && chmod 0755 /usr/local/bin/dataflow \
 && chown -R airflow:0 /opt/dataflow

USER airflow
ENV DATAFLOW_CLI=dataflow \
    DATAFLOW_PROJECT_DIR=/opt/dataflow/examples/shop
