# The sloreco operator image: `make docker-build`, deployed by deploy/ (kubectl apply -k deploy/).
#
# Two stages so that the runtime image carries no build tooling or pip caches: the package and its
# dependencies are installed into a virtualenv in the first stage and only that virtualenv is
# copied. The same base image in both stages keeps the virtualenv's interpreter path valid.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/sloreco
WORKDIR /src
# Metadata first: a change to the code alone does not invalidate the layer above.
COPY pyproject.toml README.md ./
COPY operator ./operator
# The test harness (sloreco.testing: real servers for tests and the demo) is not part of the
# operator; nothing outside it imports it (an import-linter contract), so the image leaves it out.
RUN /opt/sloreco/bin/pip install . \
    && rm -r /opt/sloreco/lib/python3.11/site-packages/sloreco/testing

FROM python:3.11-slim

# A fixed numeric user, so that Kubernetes can verify runAsNonRoot without a passwd lookup; the
# Deployment runs with the same uid/gid.
RUN groupadd --system --gid 10001 sloreco \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin sloreco
COPY --from=build /opt/sloreco /opt/sloreco

# No .pyc writes: the root filesystem is read-only in the Deployment.
ENV PATH=/opt/sloreco/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# 8080: kopf's liveness endpoint; 8081: the operator's Prometheus metrics.
EXPOSE 8080 8081
ENTRYPOINT ["kopf", "run", "--all-namespaces", "-m", "sloreco.runtime.handlers", "--liveness=http://0.0.0.0:8080/healthz"]
