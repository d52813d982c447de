# imgsvc: one image for the HTTP service (`imgsvc serve`, the default) and for AWS Lambda
# (`imgsvc lambda`, the Runtime API loop; set the function's image command to ["lambda"]).
# See docs/deploy.md for every setting, the Lambda image config and the allocator choice.
#
#   docker build -t imgsvc .                                   # the host's platform
#   docker buildx build --platform linux/arm64 -t imgsvc .     # e.g. for an arm64 Lambda
#   docker run -p 8080:8080 -e IMGSVC_API_KEYS=... -e IMGSVC_S3_ENDPOINT=... imgsvc
#   docker run imgsvc lambda                                   # what Lambda runs
#
# Both stages are Debian bookworm, and everything native is compiled in the build stage of the
# platform being built, so the binary always matches the libraries next to it.

# Base images: Debian bookworm (pin a digest, e.g. debian:bookworm@sha256:..., for
# reproducible builds).
ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build stage: compilers and the -dev packages of scripts/packages/apt-build.txt ----
FROM ${BUILD_IMAGE} AS build
# 1 also builds and runs the unit tests (ctest -L unit) during the image build.
ARG IMGSVC_UNIT_TESTS=0
COPY scripts/packages/apt-build.txt /tmp/apt-build.txt
RUN apt-get update \
    && sed -e 's/#.*//' /tmp/apt-build.txt | xargs apt-get install -y --no-install-recommends \
    && if [ "$IMGSVC_UNIT_TESTS" = 1 ]; then apt-get install -y --no-install-recommends python3; fi \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
RUN if [ "$IMGSVC_UNIT_TESTS" = 1 ]; then testing=ON; else testing=OFF; fi \
    && cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DIMGSVC_WERROR=ON \
        -DBUILD_TESTING="$testing" \
    && if [ "$testing" = ON ]; then \
        cmake --build /build -j"$(nproc)" \
        && ctest --test-dir /build -L unit --output-on-failure -j"$(nproc)"; \
    else \
        cmake --build /build -j"$(nproc)" --target imgsvc; \
    fi \
    && install -D -m 0755 -s /build/imgsvc /out/imgsvc \
    && /out/imgsvc --version

# ---- runtime stage: only the runtime libraries of scripts/packages/apt-runtime.txt ----
# (tests/deploy checks that they provide every shared library `ldd imgsvc` needs.)
FROM ${RUNTIME_IMAGE} AS runtime
COPY scripts/packages/apt-runtime.txt /tmp/apt-runtime.txt
RUN apt-get update \
    && sed -e 's/#.*//' /tmp/apt-runtime.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/apt-runtime.txt \
    && groupadd --system --gid 10001 imgsvc \
    && useradd --system --uid 10001 --gid imgsvc --home-dir /var/lib/imgsvc \
        --shell /usr/sbin/nologin imgsvc \
    && install -d -o imgsvc -g imgsvc -m 0750 /var/lib/imgsvc /var/lib/imgsvc/data
COPY --from=build /out/imgsvc /usr/local/bin/imgsvc

# Settings (every IMGSVC_* variable is documented in README.md; override with -e).
# The API and the embedded store listen on every interface of the container, so the service
# refuses to start without API authentication (IMGSVC_API_KEYS or IMGSVC_JWT_*) and, when no
# IMGSVC_S3_ENDPOINT is set, without the embedded store's own keys: no dev defaults off loopback.
# Allocator: glibc's malloc, which imgsvc limits to 2 arenas itself (MALLOC_ARENA_MAX
# overrides), chosen by measuring CPU and RSS under the upload and resize loads
# (docs/deploy.md, "Allocator"). jemalloc is installed for those who prefer its RSS under
# resize-heavy loads at 7-34 % more CPU: -e LD_PRELOAD=libjemalloc.so.2 (by soname, so the same
# line works on amd64 and arm64).
ENV IMGSVC_LISTEN_ADDR=0.0.0.0 \
    IMGSVC_PORT=8080 \
    IMGSVC_STORE_LISTEN_ADDR=0.0.0.0 \
    IMGSVC_STORE_PORT=9000 \
    IMGSVC_DATA_DIR=/var/lib/imgsvc/data

# The embedded store's objects (only used when IMGSVC_S3_ENDPOINT is empty).
VOLUME ["/var/lib/imgsvc/data"]
WORKDIR /var/lib/imgsvc
USER 10001:10001
# 8080: the API; 9000: the embedded S3 store (presigned uploads go there when it is used).
EXPOSE 8080 9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/imgsvc", "healthcheck"]
# Lambda runs ENTRYPOINT with the function's command (ImageConfig.Command = ["lambda"]).
ENTRYPOINT ["/usr/local/bin/imgsvc"]
CMD ["serve"]
