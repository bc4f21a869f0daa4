# The router (`dbproxy serve`) as a container image. Built by users where a Docker engine runs:
#
#     docker build -t localdbproxy .
#     docker compose up          # databases, dev certificates and a router on 127.0.0.1:3080
#
# The build runs the same `swift build` of this package that CI runs (scripts/test), in release
# mode with the Swift standard library and Foundation linked statically, then copies the one
# binary into a slim Debian image.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# zlib's headers for the CZlib system library (MongoDB OP_COMPRESSED); pkg-config as in CI.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package manifest first, so the dependency fetch is cached while sources change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Examples ./Examples
RUN swift build -c release --static-swift-stdlib --product dbproxy \
    && install -s -D "$(swift build -c release --show-bin-path)/dbproxy" /out/dbproxy

FROM ${RUNTIME_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin dbproxy
COPY --from=build /out/dbproxy /usr/local/bin/dbproxy
USER dbproxy
EXPOSE 3080
ENTRYPOINT ["/usr/local/bin/dbproxy"]
CMD ["serve", "--config", "/config/router.yaml", "--http-address", "0.0.0.0:9091"]
